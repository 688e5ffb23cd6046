//! What every area builds on: ids, time, errors, paging, secrets, scopes and the queue port.

pub mod error;
pub mod ids;
pub mod outbox;
pub mod page;
pub mod provider;
pub mod queue;
pub mod scope;
pub mod secrets;
pub mod time;
