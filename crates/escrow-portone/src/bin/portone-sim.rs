//! `portone-sim`: a local PortOne V1 REST (tokens, payments, cancels, certifications, a pay page).

use std::net::TcpListener;

use clap::Parser;
use escrow_portone::simulator::Simulator;

/// A local PortOne; `PUT /_sim/behavior` changes its switches, `POST /_sim/certifications` makes an
/// identity verification, `GET /_sim/state` shows what happened.
#[derive(Parser)]
#[command(name = "portone-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8094")]
    listen: String,
    /// The REST API key it accepts.
    #[arg(long, default_value = "sandbox_imp_key")]
    imp_key: String,
    /// The REST API secret it accepts.
    #[arg(
        long,
        env = "PORTONE_SIM_IMP_SECRET",
        default_value = "sandbox_imp_secret"
    )]
    imp_secret: String,
    /// Where webhooks are posted (the service's `/pg/portone/webhook`).
    #[arg(long)]
    webhook_url: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let sim = Simulator::start(
        &args.imp_key,
        &args.imp_secret,
        TcpListener::bind(&args.listen)?,
        args.webhook_url,
    )?;
    tracing::info!(url = %sim.base_url, "PortOne simulator listening");
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}
