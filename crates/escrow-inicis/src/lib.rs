//! # escrow-inicis
//!
//! KG Inicis' standard payment (INIStdPay, PC web; SPEC §12) as the domain's
//! [`PaymentGateway`](escrow_domain::payment::PaymentGateway): [`InicisGateway`] builds the payment
//! form with its `signature`, `verification` and `mKey`, approves the buyer's authentication at the
//! whitelisted `authUrl` and checks the answer's `authSignature` by the timestamp's last digit,
//! cancels an approval it cannot use through `netCancelUrl` (망취소), refunds and re-queries through
//! INIAPI v2 (`hashData` SHA-512), and reads deposit notices (입금통보). `simulator` (feature
//! `simulator`) is a local Inicis for tests and the sandbox (`cargo run -p escrow-inicis --features
//! simulator --bin inicis-sim -- --help`).
//!
//! SPEC gives the form, the hashes, the auth result, the approval and the refund. It does not give
//! the INIAPI inquiry or the deposit notice's fields: this adapter assumes `POST /v2/pg/inquiry`
//! (`type = "Inquiry"`, `data = {tid}`, answer `data.status` `PAID`/`WAITING`/`CANCELLED`) and the
//! notice's `no_tid`/`no_oid`/`amt_input` fields answered with `OK`; check them against Inicis'
//! manual before going live. The simulator speaks exactly this.

mod client;
pub mod hashes;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod wire;

pub use client::{InicisConfig, InicisGateway, MERCHANT_KEYS};

/// The gateway's default name in routing (a configuration may name it otherwise).
pub const GATEWAY_NAME: &str = "inicis";

/// Inicis' public test MID.
pub const TEST_MID: &str = "INIpayTest";

/// The public test MID's signKey (Inicis' manual; SPEC §12's test vectors).
pub const TEST_SIGN_KEY: &str = "SU5JTElURV9UUklQTEVERVNfS0VZU1RS";
