//! `account-sim`: a local bank-account holder lookup.

use std::net::TcpListener;

use clap::Parser;
use escrow_accountcheck::simulator::{AccountSimulator, Behavior};

/// A local holder lookup (예금주 조회) speaking the INIAPI envelope; `PUT /_sim/behavior` and `PUT
/// /_sim/accounts` change it at run time.
#[derive(Parser)]
#[command(name = "account-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8092")]
    listen: String,
    /// The account-verification MID clients must send.
    #[arg(long, default_value = "INIaccount")]
    mid: String,
    /// The INIAPI key requests are hashed with.
    #[arg(long, default_value = "sandbox-iniapi-key")]
    api_key: String,
    /// Answer every lookup with 500.
    #[arg(long)]
    fail: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let sim = AccountSimulator::start(TcpListener::bind(&args.listen)?, &args.mid, &args.api_key)?;
    sim.set_behavior(Behavior {
        fail: args.fail,
        hang_ms: None,
    });
    tracing::info!(url = %sim.base_url, "account holder lookup simulator listening");
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}
