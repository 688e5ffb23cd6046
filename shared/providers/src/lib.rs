//! The provider adapter: VitaSync's `ProviderClient` over HTTPS. OAuth goes through the `oauth2`
//! crate with a small reqwest adapter (`wire`) for providers that bend RFC 6749; account lookup,
//! Polar's user registration and revocation follow each provider's documentation (`accounts`).
//! Only the consent URL (`OAuthAuthorizer`) is built without the `http` feature.

mod oauth;

pub use oauth::OAuthAuthorizer;
#[cfg(feature = "http")]
mod accounts;
#[cfg(feature = "http")]
mod client;
#[cfg(feature = "http")]
mod dexcom;
#[cfg(feature = "http")]
mod garmin;
#[cfg(feature = "http")]
mod google_health;
#[cfg(feature = "http")]
mod oura;
#[cfg(feature = "http")]
mod polar;
#[cfg(feature = "http")]
mod push;
#[cfg(feature = "http")]
mod rest;
#[cfg(feature = "http")]
mod strava;
#[cfg(feature = "http")]
mod subscriptions;
#[cfg(feature = "http")]
mod suunto;
#[cfg(feature = "http")]
mod ultrahuman;
#[cfg(feature = "http")]
mod wahoo;
#[cfg(feature = "http")]
mod webhook_sender;
#[cfg(feature = "http")]
mod whoop;
#[cfg(feature = "http")]
mod wire;
#[cfg(feature = "http")]
mod withings;

#[cfg(feature = "http")]
pub use client::{ClientBuildError, HttpProviderClient};
#[cfg(feature = "http")]
pub use webhook_sender::HttpWebhookSender;
