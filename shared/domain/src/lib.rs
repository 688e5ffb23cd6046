//! The VitaSync domain. It knows nothing of AWS, Lambda or HTTP: it holds the types, their
//! validation, the services (use cases over required ports) and the ports adapters implement.
//!
//! Areas, from the bottom, each using only those below it (`tests/http/layering.rs` holds
//! them to it): kernel (ids, provider names, time, errors, paging, secrets, the queue port),
//! tenancy (keys, workspaces, the user record and its lookup), announce (events, endpoints,
//! deliveries), health (schema, chunks, records, reads), providers (registry, client port and
//! its push vocabulary, budgets, OAuth state, redirects), connections (records, tokens), users
//! (the directory and its changes), sync (starting, scheduling, running jobs), inbound
//! (providers' pushes, webhook subscriptions), connect (connect links and the OAuth browser
//! leg), mobile (sessions, phone ingest). `ports` names what adapters implement; `worker`
//! (the job queue's dispatch) and `services` (every service wired over one set of ports) sit
//! above them all.

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
pub mod users;
pub mod worker;

pub use kernel::error::{DomainError, StoreError};
