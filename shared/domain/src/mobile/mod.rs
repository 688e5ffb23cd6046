//! The developer's app on the user's phone: sign-in and sessions, and what the phone pushes.

pub mod ingest;
pub mod sessions;
pub mod types;
