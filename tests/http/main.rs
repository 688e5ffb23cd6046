//! VitaSync over a real socket: every route, its errors, isolation and persistence.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_keys;
mod browser;
mod connect_security;
mod connections;
mod demo_provider;
mod errors;
mod harness;
mod health;
mod health_query;
mod lambda_events;
mod lambda_runtime;
mod meta;
mod oauth_flow;
mod persistence;
mod provider_data;
mod providers;
mod sync;
mod sync_engine;
mod template;
mod token_service;
mod users;
mod webhooks_api;
mod webhooks_in;
mod webhooks_out;
mod workspaces;
