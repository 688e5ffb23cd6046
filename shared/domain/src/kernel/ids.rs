//! Identifiers. Every id is a ULID in its canonical 26-character form, so ids sort by creation
//! time, which the stores rely on for stable pagination.

use std::sync::Mutex;
use ulid::{Generator, Ulid};

/// Ids made in this process sort in the order they were made, even within one millisecond
/// (a plain ULID's random part would not), so listings by id are creation order.
pub(crate) fn next_ulid() -> Ulid {
    static GENERATOR: Mutex<Generator> = Mutex::new(Generator::new());
    let mut generator = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh id.
            pub fn generate() -> Self {
                Self($crate::kernel::ids::next_ulid().to_string())
            }

            /// Parses an id from outside (a path segment, a stored item). `None` when it is not a
            /// ULID, which callers answer as "not found": a malformed id names nothing.
            pub fn parse(raw: &str) -> Option<Self> {
                ulid::Ulid::from_string(raw).ok().map(|id| Self(id.to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use ulid_id;

ulid_id!(
    /// A tenant: every other item belongs to exactly one workspace.
    WorkspaceId
);
ulid_id!(
    /// An end user of a developer's app, as VitaSync knows them.
    UserId
);
ulid_id!(
    /// An API key's public id (never its secret).
    ApiKeyId
);
ulid_id!(
    /// A provider account linked to a user.
    ConnectionId
);
ulid_id!(
    /// A workspace's own app at a provider (its client id and secrets); named in the URL the
    /// provider pushes to for it.
    AppId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_only_ulids_and_normalises_case() {
        let id = UserId::generate();
        assert_eq!(UserId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(UserId::parse(&id.as_str().to_lowercase()), Some(id));
        assert_eq!(UserId::parse("not-an-id"), None);
        assert_eq!(UserId::parse(""), None);
    }

    #[test]
    fn ids_sort_in_the_order_they_were_made() {
        let ids: Vec<_> = (0..1000).map(|_| UserId::generate()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
