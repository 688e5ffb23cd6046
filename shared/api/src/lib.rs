//! VitaSync's HTTP API. Handlers are written once against `http` types as axum routers; the
//! Lambda functions serve a router each through `lambda_http`, the local host serves them all.

mod docs;
mod dto;
mod extract;
mod health_dto;
mod openapi_errors;
mod pages;
mod problem;
mod routers;
mod routes;
mod state;
mod webhook_dto;

pub use problem::{PROBLEM_TYPES, ProblemType};
pub use routers::{Function, lambda_routes, openapi, router, router_for};
pub use state::{
    AdminApi, ApiState, AuthorizeApi, CallbackApi, ConnectionsApi, LocalApi, MobileApi, QueryApi,
    SyncTriggerApi, UsersApi, WebhookApi,
};
