//! The embedded adapters: everything the local host needs, in one file on disk.
//!
//! The store is a redb database (ACID, copy-on-write B-trees). Writes are serialised by redb's
//! single writer, so uniqueness checks and the writes that depend on them happen in one
//! transaction, which is what the DynamoDB adapter gets from condition expressions.

mod api_keys;
mod calls;
mod connections;
mod health;
mod jobs;
mod keys;
mod outbox;
mod provider_apps;
mod queue;
mod sessions;
mod states;
mod store;
mod tables;
mod users;
mod webhooks;
mod workspaces;

pub use keys::{LocalKeyManager, MASTER_KEY_FILE};
pub use queue::EmbeddedQueue;
pub use store::EmbeddedStore;
