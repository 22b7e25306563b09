//! `alimtalk-sim`: a local AlimTalk provider.

use std::net::TcpListener;

use clap::Parser;
use escrow_alimtalk::simulator::{AlimTalkSimulator, Behavior};

/// A local NHN Cloud AlimTalk (v2.3): records messages, honours X-NC-API-IDEMPOTENCY-KEY, and can fail,
/// hang or reject templates. `PUT /_sim/behavior` changes the switches at run time.
#[derive(Parser)]
#[command(name = "alimtalk-sim", version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8091")]
    listen: String,
    /// The X-Secret-Key clients must send.
    #[arg(long, default_value = "sandbox-alimtalk-secret")]
    secret_key: String,
    /// Answer every message with 500.
    #[arg(long)]
    fail: bool,
    /// Wait this many milliseconds before answering.
    #[arg(long)]
    hang_ms: Option<u64>,
    /// Template codes to answer as unknown (repeat for several).
    #[arg(long = "reject-template")]
    rejected_templates: Vec<String>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let sim = AlimTalkSimulator::start(TcpListener::bind(&args.listen)?, &args.secret_key)?;
    sim.set_behavior(Behavior {
        fail: args.fail,
        hang_ms: args.hang_ms,
        rejected_templates: args.rejected_templates,
    });
    tracing::info!(url = %sim.base_url, "AlimTalk simulator listening");
    tokio::signal::ctrl_c().await?;
    sim.stop().await;
    Ok(())
}
