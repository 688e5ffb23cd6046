//! API key scopes. `admin` implies `write`, which implies `read`.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == raw)
    }

    /// Whether holding `self` grants `required`.
    pub fn grants(self, required: Scope) -> bool {
        match self {
            Scope::Admin => true,
            Scope::Write => matches!(required, Scope::Write | Scope::Read),
            Scope::Read => required == Scope::Read,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether any of `held` grants `required`.
pub fn any_grants(held: &[Scope], required: Scope) -> bool {
    held.iter().any(|scope| scope.grants(required))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_implies_write_implies_read() {
        assert!(any_grants(&[Scope::Admin], Scope::Read));
        assert!(any_grants(&[Scope::Admin], Scope::Write));
        assert!(any_grants(&[Scope::Write], Scope::Read));
        assert!(!any_grants(&[Scope::Write], Scope::Admin));
        assert!(!any_grants(&[Scope::Read], Scope::Write));
        assert!(!any_grants(&[], Scope::Read));
    }
}
