//! `unifipay-sim`: a local Unifi Pay for development and tests.

use std::net::TcpListener;

use clap::Parser;
use escrow_unifipay::simulator::{
    Behavior, CallbackMode, EndpointMode, Simulator, SimulatorConfig,
};

/// A local Unifi Pay: `POST /api/v1/payment`, `GET /api/v1/payment/{id}` with the real HMAC and
/// 5-minute timestamp checks, a start page with approve/decline buttons, the browser redirect and the
/// callback. The switches below set how it misbehaves; `PUT /_sim/behavior` changes them at run time.
#[derive(Parser, Debug)]
#[command(name = "unifipay-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8090", env = "UNIFIPAY_SIM_LISTEN")]
    listen: String,
    /// App id the clients must send (X-AppId).
    #[arg(long, default_value = "sandbox-app", env = "UNIFIPAY_SIM_APP_ID")]
    app_id: String,
    /// API key the clients must send (X-Api-Key).
    #[arg(long, default_value = "sandbox-api-key", env = "UNIFIPAY_SIM_API_KEY")]
    api_key: String,
    /// HMAC secret shared with the clients.
    #[arg(
        long,
        default_value = "sandbox-app-secret",
        env = "UNIFIPAY_SIM_APP_SECRET",
        hide_env_values = true
    )]
    app_secret: String,
    /// Merchant (store) id.
    #[arg(long, default_value = "sandbox-store", env = "UNIFIPAY_SIM_STORE_ID")]
    store_id: String,
    /// The one currency accepted (Unifi Pay fixes USD).
    #[arg(long, default_value = "USD")]
    currency: String,
    /// Decline every payment, even on the approve button.
    #[arg(long)]
    decline_all: bool,
    /// How the create endpoint answers: normal, server-error (500) or hang.
    #[arg(long, value_parser = ["normal", "server-error", "hang"], default_value = "normal")]
    create: String,
    /// How the status endpoint answers: normal, server-error (500) or hang.
    #[arg(long, value_parser = ["normal", "server-error", "hang"], default_value = "normal")]
    status: String,
    /// How long "hang" waits before answering, in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    hang_ms: u64,
    /// Report one more unit than was ordered (a forged amount).
    #[arg(long)]
    wrong_amount: bool,
    /// Report another currency than was ordered.
    #[arg(long)]
    wrong_currency: bool,
    /// The callback: once (racing the redirect), before-redirect, twice, never.
    #[arg(long, value_parser = ["once", "before-redirect", "twice", "never"], default_value = "once")]
    callback: String,
}

fn mode(s: &str) -> EndpointMode {
    match s {
        "server-error" => EndpointMode::ServerError,
        "hang" => EndpointMode::Hang,
        _ => EndpointMode::Normal,
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let listener = TcpListener::bind(&args.listen)?;
    let handle = Simulator::start(
        SimulatorConfig {
            app_id: args.app_id,
            api_key: args.api_key,
            app_secret: args.app_secret,
            store_id: args.store_id,
            currency: args.currency,
        },
        listener,
    )?;
    handle.set_behavior(Behavior {
        create: mode(&args.create),
        status: mode(&args.status),
        decline_all: args.decline_all,
        wrong_amount: args.wrong_amount,
        wrong_currency: args.wrong_currency,
        callback: match args.callback.as_str() {
            "before-redirect" => CallbackMode::BeforeRedirect,
            "twice" => CallbackMode::Twice,
            "never" => CallbackMode::Never,
            _ => CallbackMode::Once,
        },
        hang_ms: Some(args.hang_ms),
    });
    tracing::info!(url = %handle.base_url, "Unifi Pay simulator listening");
    tokio::signal::ctrl_c().await?;
    handle.stop().await;
    Ok(())
}
