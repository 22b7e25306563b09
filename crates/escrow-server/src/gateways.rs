//! The payment gateways of one deployment, built from configuration: one adapter per configured
//! gateway (its kind names the adapter crate), the simulators of those in `simulator` mode, and the
//! routing of each method to the first gateway that lists it. Test partners are routed only to the
//! simulators; live partners never to a simulator while any gateway is remote. Adding a PG is an adapter crate, a
//! `GatewayKind` variant and configuration; nothing else in the wiring changes.

use std::net::TcpListener;
use std::sync::Arc;

use escrow_domain::payment::{PaymentGateway, PaymentRouting};
use escrow_unifipay::simulator::{Simulator, SimulatorConfig, SimulatorHandle};
use escrow_unifipay::{UnifiPayClient, UnifiPayConfig};
use secrecy::ExposeSecret;

use crate::config::{GatewayKind, GatewaySettings, PeerMode};

/// The gateways in force.
pub struct Gateways {
    /// One adapter per configured gateway.
    pub adapters: Vec<Arc<dyn PaymentGateway>>,
    /// Method → gateway for live partners, in configuration order: the remote gateways (every
    /// gateway when all are simulators, as in the sandbox).
    pub routing: PaymentRouting,
    /// Method → gateway for test partners (SPEC §16): the simulators only.
    pub test_routing: PaymentRouting,
    /// The simulators started for gateways in `simulator` mode (they stop when dropped).
    pub simulators: Vec<SimulatorHandle>,
}

/// Builds every configured gateway (starting a simulator for those in `simulator` mode) and the
/// routing. Fails with a message naming the gateway when one cannot be built.
pub fn build(settings: &[GatewaySettings]) -> std::io::Result<Gateways> {
    let mut gateways = Gateways {
        adapters: Vec::new(),
        routing: PaymentRouting::default(),
        test_routing: PaymentRouting::default(),
        simulators: Vec::new(),
    };
    // Live partners never reach a simulator while a real PG is configured.
    let any_real = settings.iter().any(|g| !g.is_simulator());
    for g in settings {
        let adapter: Arc<dyn PaymentGateway> =
            match g.kind {
                GatewayKind::Unifipay => {
                    let base_url = match g.mode {
                        PeerMode::Simulator => {
                            let sim = Simulator::start(
                                SimulatorConfig {
                                    app_id: g.app_id.clone(),
                                    api_key: g.api_key.expose_secret().to_owned(),
                                    app_secret: g.app_secret.expose_secret().to_owned(),
                                    store_id: g.store_id.clone(),
                                    currency: g.currency.clone(),
                                },
                                TcpListener::bind("127.0.0.1:0")?,
                            )?;
                            let url = sim.base_url.clone();
                            gateways.simulators.push(sim);
                            url
                        }
                        PeerMode::Remote => g.base_url.clone().unwrap_or_default(),
                    };
                    let mut config = UnifiPayConfig::new(
                        base_url,
                        &g.app_id,
                        g.api_key.expose_secret(),
                        g.app_secret.expose_secret(),
                        &g.store_id,
                    );
                    config.name = g.name.clone();
                    config.currency = g.currency.parse().map_err(|_| {
                        std::io::Error::other(format!("gateways[{:?}].currency", g.name))
                    })?;
                    config.request_timeout_ms = g.request_timeout_ms;
                    Arc::new(UnifiPayClient::new(config).map_err(|e| {
                        std::io::Error::other(format!("gateways[{:?}]: {e}", g.name))
                    })?)
                }
            };
        gateways.adapters.push(adapter);
        if g.is_simulator() {
            gateways.test_routing.add(&g.name, &g.served_methods());
        }
        if !g.test_partners && (!g.is_simulator() || !any_real) {
            gateways.routing.add(&g.name, &g.served_methods());
        }
    }
    Ok(gateways)
}
