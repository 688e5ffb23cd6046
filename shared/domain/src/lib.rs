//! The VitaSync domain. It knows nothing of AWS, Lambda or HTTP: it holds the types, their
//! validation, the use cases, and the ports (small async traits) that adapters implement.

pub mod api_key;
pub mod chunk;
pub mod connect;
pub mod connection;
pub mod delivery;
pub mod demo;
pub mod demo_data;
pub mod destinations;
pub mod error;
pub mod events;
pub mod health;
pub mod health_query;
pub mod health_records;
pub mod ids;
pub mod ingest;
pub mod jobs;
pub mod mobile_types;
pub mod oauth_state;
pub mod page;
pub mod ports;
pub mod provider;
pub mod provider_client;
pub mod push;
pub mod push_subscriptions;
pub mod queue;
pub mod rate_budget;
pub mod redirects;
pub mod scope;
pub mod secrets;
pub mod services;
pub mod sports;
pub mod sync;
pub mod tenancy;
pub mod time;
pub mod timeseries;
pub mod tokens;
pub mod user;
pub mod user_sessions;
pub mod webhook_endpoints;
pub mod webhooks;
pub mod worker;
pub mod workspace;

pub use error::{DomainError, StoreError};
