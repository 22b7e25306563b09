//! `inicis-sim`: a local KG Inicis (standard payment, payAuth/netCancel, INIAPI, deposit notices).

use std::net::TcpListener;

use clap::Parser;
use escrow_inicis::simulator::{SimMerchant, Simulator};

/// A local KG Inicis for the public test MID; `PUT /_sim/behavior` changes its switches, `POST
/// /_sim/deposit/{tid}` pays a virtual account, `GET /_sim/state` shows what happened.
#[derive(Parser)]
#[command(name = "inicis-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8093")]
    listen: String,
    /// The MID it serves.
    #[arg(long, default_value = escrow_inicis::TEST_MID)]
    mid: String,
    /// Its signKey.
    #[arg(long, default_value = escrow_inicis::TEST_SIGN_KEY)]
    sign_key: String,
    /// Its INIAPI key (16 bytes).
    #[arg(long, default_value = "sandboxiniapikey")]
    iniapi_key: String,
    /// Its INIAPI IV (16 bytes).
    #[arg(long, default_value = "sandboxiniapi-iv")]
    iniapi_iv: String,
    /// Where deposit notices are posted (the service's `/pg/inicis/callback`).
    #[arg(long)]
    notice_url: Option<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let sim = Simulator::start(
        vec![SimMerchant {
            mid: args.mid,
            sign_key: args.sign_key,
            iniapi_key: args.iniapi_key,
            iniapi_iv: args.iniapi_iv,
        }],
        TcpListener::bind(&args.listen)?,
        args.notice_url,
    )?;
    tracing::info!(url = %sim.base_url, "Inicis simulator listening");
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}
