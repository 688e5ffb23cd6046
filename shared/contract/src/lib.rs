//! The contract every adapter of a port must honour, written once and run against each adapter
//! (see `tests/contract.rs`), plus the harness that runs the AWS adapters against a real AWS API
//! emulator over the wire.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod apps;
pub mod connections;
pub mod emulator;
pub mod fixtures;
pub mod health;
pub mod jobs;
pub mod outbox;
pub mod queue;
pub mod sessions;
pub mod states;
pub mod stores;
pub mod vault;
pub mod webhooks;
