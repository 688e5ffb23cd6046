//! The VitaSync domain. It knows nothing of AWS, Lambda or HTTP: it holds the types, their
//! validation, the services (use cases over required ports) and the ports adapters implement.
//!
//! Areas, from the bottom (`tests/http/layering.rs` holds them to it, listing the upward
//! references that remain): kernel (ids, time, errors, paging, secrets, the queue port),
//! tenancy (keys, workspaces, users), announce (events, endpoints, deliveries), providers
//! (registry, client port, budgets, OAuth state, redirects), connections (tokens), sync
//! (starting, scheduling, running jobs), inbound (providers' pushes, webhook subscriptions),
//! connect (connect links and the OAuth browser leg), health (schema, chunks, records,
//! reads), mobile (sessions, phone ingest). `worker` (the job queue's dispatch) and
//! `services` (every service wired over one set of ports) sit above them all.

pub mod announce;
pub mod connect;
pub mod connections;
pub mod health;
pub mod inbound;
pub mod kernel;
pub mod mobile;
pub mod ports;
pub mod providers;
pub mod services;
pub mod sync;
pub mod tenancy;
pub mod worker;

pub use kernel::error::{DomainError, StoreError};
