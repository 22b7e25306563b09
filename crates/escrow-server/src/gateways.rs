//! The payment gateways of one deployment, built from configuration: one adapter per configured
//! gateway (its kind names the adapter crate), the simulators of those in `simulator` mode, which
//! partners may pay through each (test partners only through simulators; live partners never
//! through a simulator while any gateway is real), and what the payment setup starts with — each
//! gateway's methods as connections, Unifi Pay's store id and the Inicis simulator's test MID as
//! merchants. Adding a PG is an adapter crate, a `GatewayKind` variant and configuration.

use std::net::TcpListener;
use std::sync::Arc;

use escrow_domain::payment::PaymentGateway;
use escrow_domain::payment_setup::GatewayRoute;
use escrow_domain::payment_setup::{GatewayProfile, MerchantKeys, NewMerchant};
use escrow_domain::people::PartnerMode;
use escrow_unifipay::simulator::{Simulator, SimulatorConfig};
use escrow_unifipay::{UnifiPayClient, UnifiPayConfig};
use secrecy::ExposeSecret;

use crate::config::{GatewayKind, GatewaySettings, PeerMode};

/// A running simulator of a gateway (it stops when dropped).
pub enum GatewaySimulator {
    /// Unifi Pay's.
    UnifiPay(escrow_unifipay::simulator::SimulatorHandle),
    /// KG Inicis'.
    Inicis(escrow_inicis::simulator::SimulatorHandle),
    /// PortOne's.
    PortOne(escrow_portone::simulator::SimulatorHandle),
}

/// The gateways in force.
pub struct Gateways {
    /// One adapter per configured gateway.
    pub adapters: Vec<Arc<dyn PaymentGateway>>,
    /// Which partners may pay through each, and the keys its merchants need.
    pub profiles: Vec<GatewayProfile>,
    /// The connections configuration names (kept unless storage has them already).
    pub routes: Vec<GatewayRoute>,
    /// The merchants configuration names (likewise).
    pub merchants: Vec<NewMerchant>,
    /// The simulators started for gateways in `simulator` mode.
    pub simulators: Vec<GatewaySimulator>,
}

/// The sandbox Inicis simulator's INIAPI key (a simulator-only value).
const SANDBOX_INIAPI_KEY: &str = "sandboxiniapikey";

/// The sandbox Inicis simulator's INIAPI IV.
const SANDBOX_INIAPI_IV: &str = "sandboxiniapi-iv";

/// Builds every configured gateway (starting a simulator for those in `simulator` mode; deposit
/// notices of an Inicis simulator go to `public_base_url`). Fails with a message naming the
/// gateway when one cannot be built.
pub fn build(settings: &[GatewaySettings], public_base_url: &str) -> std::io::Result<Gateways> {
    let mut gateways = Gateways {
        adapters: Vec::new(),
        profiles: Vec::new(),
        routes: Vec::new(),
        merchants: Vec::new(),
        simulators: Vec::new(),
    };
    let any_real = settings.iter().any(|g| !g.is_simulator());
    for (index, g) in settings.iter().enumerate() {
        let live = !g.test_partners && (!g.is_simulator() || !any_real);
        let test = g.is_simulator();
        let modes: Vec<PartnerMode> = [(live, PartnerMode::Live), (test, PartnerMode::Test)]
            .into_iter()
            .filter_map(|(on, m)| on.then_some(m))
            .collect();
        let adapter: Arc<dyn PaymentGateway> = match g.kind {
            GatewayKind::Unifipay => {
                for mode in &modes {
                    gateways.merchants.push(NewMerchant {
                        gateway: g.name.clone(),
                        partner_id: None,
                        mode: *mode,
                        mid: g.store_id.clone(),
                        keys: MerchantKeys::new(),
                    });
                }
                unifipay(g, &mut gateways)?
            }
            GatewayKind::Inicis => inicis(g, public_base_url, &modes, &mut gateways)?,
            GatewayKind::Portone => portone(g, public_base_url, &modes, &mut gateways)?,
        };
        gateways.profiles.push(GatewayProfile {
            name: g.name.clone(),
            merchant_keys: adapter.merchant_keys(),
            live,
            test,
        });
        let priority = i32::try_from(index * 10).unwrap_or(1000).min(1000);
        for method in g.served_methods() {
            gateways.routes.push(GatewayRoute {
                method,
                gateway: g.name.clone(),
                connected: true,
                enabled: true,
                priority,
            });
        }
        gateways.adapters.push(adapter);
    }
    Ok(gateways)
}

fn unifipay(
    g: &GatewaySettings,
    gateways: &mut Gateways,
) -> std::io::Result<Arc<dyn PaymentGateway>> {
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
            gateways.simulators.push(GatewaySimulator::UnifiPay(sim));
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
    config.currency = g
        .currency
        .parse()
        .map_err(|_| std::io::Error::other(format!("gateways[{:?}].currency", g.name)))?;
    config.request_timeout_ms = g.request_timeout_ms;
    Ok(Arc::new(UnifiPayClient::new(config).map_err(|e| {
        std::io::Error::other(format!("gateways[{:?}]: {e}", g.name))
    })?))
}

fn inicis(
    g: &GatewaySettings,
    public_base_url: &str,
    modes: &[PartnerMode],
    gateways: &mut Gateways,
) -> std::io::Result<Arc<dyn PaymentGateway>> {
    use escrow_inicis::wire::AuthUrlWhitelist;
    let (form_action, auth_urls, iniapi_url) = match g.mode {
        PeerMode::Simulator => {
            let sim = escrow_inicis::simulator::Simulator::start(
                vec![escrow_inicis::simulator::SimMerchant {
                    mid: escrow_inicis::TEST_MID.into(),
                    sign_key: escrow_inicis::TEST_SIGN_KEY.into(),
                    iniapi_key: SANDBOX_INIAPI_KEY.into(),
                    iniapi_iv: SANDBOX_INIAPI_IV.into(),
                }],
                TcpListener::bind("127.0.0.1:0")?,
                Some(format!(
                    "{}/pg/{}/callback",
                    public_base_url.trim_end_matches('/'),
                    g.name
                )),
            )?;
            // The simulator's test MID, for the partners that may pay through it.
            for mode in modes {
                gateways.merchants.push(NewMerchant {
                    gateway: g.name.clone(),
                    partner_id: None,
                    mode: *mode,
                    mid: escrow_inicis::TEST_MID.into(),
                    keys: MerchantKeys::new()
                        .with("signKey", escrow_inicis::TEST_SIGN_KEY)
                        .with("iniapiKey", SANDBOX_INIAPI_KEY)
                        .with("iniapiIv", SANDBOX_INIAPI_IV),
                });
            }
            let urls = (
                sim.form_action(),
                AuthUrlWhitelist::new(&sim.auth_url_template()),
                sim.base_url.clone(),
            );
            gateways.simulators.push(GatewaySimulator::Inicis(sim));
            urls
        }
        PeerMode::Remote => (
            g.form_action.clone().unwrap_or_default(),
            AuthUrlWhitelist::new(g.auth_url_template.as_deref().unwrap_or_default()),
            g.iniapi_url.clone().unwrap_or_default(),
        ),
    };
    let gateway = escrow_inicis::InicisGateway::new(escrow_inicis::InicisConfig {
        name: g.name.clone(),
        form_action,
        auth_urls,
        iniapi_url,
        client_ip: g.client_ip.clone().unwrap_or_else(|| "127.0.0.1".into()),
        vbank_hours: 24,
        request_timeout_ms: g.request_timeout_ms,
    })
    .map_err(|e| std::io::Error::other(format!("gateways[{:?}]: {e}", g.name)))?;
    Ok(Arc::new(gateway))
}

/// The sandbox PortOne gateway simulator's REST key and secret (simulator-only values).
const SANDBOX_IMP_KEY: &str = "sandbox_imp_key";
const SANDBOX_IMP_SECRET: &str = "sandbox_imp_secret";

fn portone(
    g: &GatewaySettings,
    public_base_url: &str,
    modes: &[PartnerMode],
    gateways: &mut Gateways,
) -> std::io::Result<Arc<dyn PaymentGateway>> {
    let (api_url, pay_url) = match g.mode {
        PeerMode::Simulator => {
            let sim = escrow_portone::simulator::Simulator::start(
                SANDBOX_IMP_KEY,
                SANDBOX_IMP_SECRET,
                TcpListener::bind("127.0.0.1:0")?,
                Some(format!(
                    "{}/pg/portone/webhook",
                    public_base_url.trim_end_matches('/')
                )),
            )?;
            for mode in modes {
                gateways.merchants.push(NewMerchant {
                    gateway: g.name.clone(),
                    partner_id: None,
                    mode: *mode,
                    mid: SANDBOX_IMP_KEY.into(),
                    keys: MerchantKeys::new().with("impSecret", SANDBOX_IMP_SECRET),
                });
            }
            let urls = (sim.base_url.clone(), format!("{}/pay", sim.base_url));
            gateways.simulators.push(GatewaySimulator::PortOne(sim));
            urls
        }
        PeerMode::Remote => (
            g.base_url.clone().unwrap_or_default(),
            g.pay_url.clone().unwrap_or_default(),
        ),
    };
    Ok(Arc::new(escrow_portone::PortOneGateway::new(
        escrow_portone::PortOneGatewayConfig {
            name: g.name.clone(),
            api_url,
            pay_url,
            timeout: std::time::Duration::from_millis(g.request_timeout_ms),
        },
    )))
}

impl GatewaySimulator {
    /// Where it listens.
    pub fn base_url(&self) -> &str {
        match self {
            GatewaySimulator::UnifiPay(s) => &s.base_url,
            GatewaySimulator::Inicis(s) => &s.base_url,
            GatewaySimulator::PortOne(s) => &s.base_url,
        }
    }

    /// Stops it.
    pub async fn stop(&self) {
        match self {
            GatewaySimulator::UnifiPay(s) => s.stop().await,
            GatewaySimulator::Inicis(s) => s.stop().await,
            GatewaySimulator::PortOne(s) => s.stop().await,
        }
    }
}
