//! Short-lived, server-side tokens for the browser legs of connecting a wearable: connect links,
//! widget sessions, and the OAuth `state` of an authorization in flight. The browser only ever
//! holds a random token; the store keys each record by the token's SHA-256, so reading the
//! store does not yield usable tokens.

use crate::kernel::ids::{UserId, WorkspaceId};
use crate::kernel::time::Timestamp;
use crate::providers::ProviderId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    /// Minted by `POST /v1/users/{userId}/connect-links`. Opening it is harmless (link
    /// previews and mail scanners open links): it is spent when a connection made from it
    /// completes.
    ConnectLink,
    /// A hosted widget session; used for as many provider choices as its lifetime allows.
    WidgetSession,
    /// The OAuth `state` of an authorization in flight; used once by the callback.
    Authorization,
    /// A user's sign-in token for the developer's app; used once at `POST /v1/auth/token`.
    SignIn,
    /// Proof, for VitaSync's own landing page, that a connection was made (the page trusts
    /// no query parameter).
    ConnectResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthState {
    pub kind: StateKind,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    /// The provider it is bound to (a widget session may allow several: `allowed`).
    pub provider: Option<ProviderId>,
    pub allowed: Vec<ProviderId>,
    pub redirect_url: Option<String>,
    pub failure_redirect_url: Option<String>,
    /// The PKCE verifier of an authorization in flight.
    pub pkce_verifier: Option<String>,
    /// The `redirect_uri` an authorization in flight was started with; the code exchange
    /// must repeat it exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// The workspace's own app an authorization in flight was started with (`None`: the
    /// deployment's); the code exchange must use the same app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<crate::kernel::ids::AppId>,
    /// The connect link an authorization in flight was started from (its state key): spent
    /// when the connection completes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_key: Option<String>,
    /// A connect result's connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<crate::kernel::ids::ConnectionId>,
    #[serde(rename = "validUntil")]
    pub expires_at: Timestamp,
}

impl OAuthState {
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// The store key of a browser token.
pub fn state_key(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh browser token: 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    hex::encode(bytes)
}
