//! # escrow-portone
//!
//! PortOne (formerly I'mport, 아임포트) V1 REST (SPEC §13): [`PortOneClient`] gets an access token
//! (`POST /users/getToken`, cached until shortly before `expired_at`), looks payments up (`GET
//! /payments/{imp_uid}`), cancels them with the `checksum` rule (`POST /payments/cancel`) and reads
//! identity verifications (`GET /certifications/{imp_uid}`), all inside PortOne's `{code, message,
//! response}` envelope. PortOne's webhook is unsigned: it only ever triggers a lookup.
//!
//! `simulator` (feature `simulator`) is a local PortOne for tests and the sandbox (`cargo run -p
//! escrow-portone --features simulator --bin portone-sim -- --help`).

mod client;
mod fees;
mod gateway;
mod identity;
#[cfg(feature = "simulator")]
pub mod simulator;
pub mod wire;

pub use client::{is_uid, PortOneClient, PortOneConfig, PortOneError, TOKEN_MARGIN};
pub use gateway::{PortOneGateway, PortOneGatewayConfig, MERCHANT_KEYS};
pub use identity::PortOneIdentityVerifier;

/// The gateway's default name in routing and in `/pg/{name}/…` URLs.
pub const GATEWAY_NAME: &str = "portone";
