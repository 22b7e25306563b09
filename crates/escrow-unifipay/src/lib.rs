//! # escrow-unifipay
//!
//! The Unifi Pay adapter (seed 001): [`UnifiPayClient`] implements the domain's
//! [`PaymentGateway`](escrow_domain::payment::PaymentGateway) port over HMAC-signed HTTP, and
//! `simulator` (feature `simulator`) is a local Unifi Pay that tests and the sandbox run use in its place
//! (`cargo run -p escrow-unifipay --bin unifipay-sim -- --help`).
//!
//! Signatures are `BASE64(HMAC-SHA256(appSecret, METHOD + URI + X-Api-Key + X-Timestamp + BODY))` over
//! the exact bytes sent; the signer and its independent test vectors live in `escrow-signature`.

mod client;
mod config;
#[cfg(feature = "simulator")]
pub mod simulator;
mod wire;

pub use client::UnifiPayClient;
pub use config::UnifiPayConfig;
pub use wire::{CallbackBody, CreatePaymentBody, CreatePaymentResponse, PaymentStatusResponse};

/// The gateway's default name in payment-method routing (a configuration may name it otherwise).
pub const GATEWAY_NAME: &str = "unifipay";
