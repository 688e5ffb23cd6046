//! Announcing events to the developer's backend: events, webhook endpoints, deliveries and
//! where they may go.

pub mod delivery;
pub mod destinations;
pub mod dispatch;
pub mod endpoints;
pub mod events;
pub mod relay;
pub mod webhooks;
