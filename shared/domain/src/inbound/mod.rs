//! Providers pushing to VitaSync: their webhook requests, and the subscriptions that ask them to.

pub mod push;
pub mod subscriptions;
