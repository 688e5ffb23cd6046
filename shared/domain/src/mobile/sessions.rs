//! Signing a user of the developer's app in on their phone, as Vital's sign-in tokens do: the
//! developer's backend (holding the API key) mints a single-use sign-in token for one user;
//! the app exchanges it for a short-lived access token and a refresh token. Refresh tokens
//! rotate on every use, and presenting one that was already used revokes the whole session
//! (someone else has a copy).

use crate::kernel::error::{AuthFailure, DomainError, StoreError};
use crate::kernel::ids::{UserId, WorkspaceId};
use crate::kernel::scope::Scope;
use crate::kernel::time::{Clock, Timestamp};
use crate::ports::{SessionStore, StateStore};
use crate::providers::oauth_state::{OAuthState, StateKind, new_token, state_key};
use crate::tenancy::api_key::Principal;
use crate::users::UserDirectory;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use subtle::ConstantTimeEq;

crate::kernel::ids::ulid_id!(
    /// One signed-in app session: a family of rotating refresh tokens.
    SessionId
);

pub const SIGN_IN_TOKEN_SECONDS: i64 = 10 * 60;
pub const ACCESS_TOKEN_SECONDS: i64 = 3600;
/// A session unused this long ends.
pub const REFRESH_TOKEN_SECONDS: i64 = 30 * 24 * 3600;
/// Used refresh tokens remembered per session, to recognise a replay.
const REMEMBERED_REFRESH_TOKENS: usize = 50;

const SIGN_IN_PREFIX: &str = "vs_sit_";
use crate::tenancy::api_key::{USER_ACCESS_PREFIX as ACCESS_PREFIX, is_user_token};
const REFRESH_PREFIX: &str = "vs_rt_";

/// A session as stored: token hashes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSession {
    pub id: SessionId,
    pub workspace_id: WorkspaceId,
    pub user_id: UserId,
    pub access_hash: String,
    pub access_expires_at: Timestamp,
    pub refresh_hash: String,
    pub refresh_expires_at: Timestamp,
    /// Hashes of refresh tokens already exchanged (newest last).
    pub used_refresh_hashes: Vec<String>,
    pub revoked: bool,
    pub created_at: Timestamp,
    pub version: u64,
}

/// A minted sign-in token.
#[derive(Debug, Clone)]
pub struct SignInToken {
    pub user_id: UserId,
    pub token: String,
    pub expires_at: Timestamp,
}

/// What the token endpoint hands the app.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
    pub user_id: UserId,
}

/// `<prefix><session id>_<secret>` → the session id, when the token has that form.
fn session_of(token: &str, prefix: &str) -> Option<SessionId> {
    let rest = token.strip_prefix(prefix)?;
    let (id, secret) = rest.split_once('_')?;
    (!secret.is_empty()).then_some(())?;
    SessionId::parse(id)
}

fn token_for(prefix: &str, session: &SessionId) -> String {
    format!("{prefix}{session}_{}", new_token())
}

/// Hash comparison in constant time.
fn same_hash(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn invalid_grant(message: &str) -> DomainError {
    DomainError::InvalidGrant(message.to_owned())
}

/// Users of the developer's app signed in on their phones: single-use sign-in tokens, the
/// sessions they open (short access tokens, rotating refresh tokens) and who a token is.
#[derive(Clone)]
pub struct UserSessions {
    directory: UserDirectory,
    states: Arc<dyn StateStore>,
    sessions: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
}

impl UserSessions {
    pub fn new(
        directory: UserDirectory,
        states: Arc<dyn StateStore>,
        sessions: Arc<dyn SessionStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            directory,
            states,
            sessions,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// `POST /v1/users/{userId}/sign-in-tokens`: a single-use token for the app to sign this
    /// user in with, valid 10 minutes.
    #[tracing::instrument(skip_all, fields(workspace_id = %caller.workspace_id, user_id = %user_id))]
    pub async fn create_sign_in_token(
        &self,
        caller: &Principal,
        user_id: &str,
    ) -> Result<SignInToken, DomainError> {
        caller.require(Scope::Write)?;
        let user = self.directory.get_user(caller, user_id).await?;
        let token = format!("{SIGN_IN_PREFIX}{}", new_token());
        let expires_at = self.now().plus_seconds(SIGN_IN_TOKEN_SECONDS);
        let state = OAuthState {
            kind: StateKind::SignIn,
            workspace_id: user.workspace_id.clone(),
            user_id: user.id.clone(),
            provider: None,
            allowed: Vec::new(),
            redirect_url: None,
            failure_redirect_url: None,
            pkce_verifier: None,
            app_id: None,
            link_key: None,
            connection_id: None,
            callback_url: None,
            expires_at,
        };
        self.states.put_state(&state_key(&token), &state).await?;
        Ok(SignInToken {
            user_id: user.id,
            token,
            expires_at,
        })
    }

    /// `grant_type=sign_in_token`: a new session for the token's user. The token is used up.
    #[tracing::instrument(skip_all)]
    pub async fn exchange_sign_in_token(&self, token: &str) -> Result<TokenSet, DomainError> {
        let state = self
            .states
            .take_state(&state_key(token), self.now())
            .await?
            .filter(|state| state.kind == StateKind::SignIn)
            .ok_or_else(|| invalid_grant("the sign-in token is unknown, used or expired"))?;
        self.directory
            .find_user(&state.workspace_id, &state.user_id)
            .await?
            .ok_or_else(|| invalid_grant("the user no longer exists"))?;
        let id = SessionId::generate();
        let (access, refresh) = (
            token_for(ACCESS_PREFIX, &id),
            token_for(REFRESH_PREFIX, &id),
        );
        let now = self.now();
        let session = UserSession {
            id,
            workspace_id: state.workspace_id,
            user_id: state.user_id,
            access_hash: state_key(&access),
            access_expires_at: now.plus_seconds(ACCESS_TOKEN_SECONDS),
            refresh_hash: state_key(&refresh),
            refresh_expires_at: now.plus_seconds(REFRESH_TOKEN_SECONDS),
            used_refresh_hashes: Vec::new(),
            revoked: false,
            created_at: now,
            version: 1,
        };
        self.sessions.insert_session(&session).await?;
        tracing::info!(session_id = %session.id, "a user signed in");
        Ok(TokenSet {
            access_token: access,
            refresh_token: refresh,
            expires_in: ACCESS_TOKEN_SECONDS,
            user_id: session.user_id,
        })
    }

    /// `grant_type=refresh_token`: new tokens for the session; the presented refresh token
    /// is used up. Presenting a used one revokes the session.
    #[tracing::instrument(skip_all)]
    pub async fn refresh_user_session(&self, token: &str) -> Result<TokenSet, DomainError> {
        let unknown = || invalid_grant("the refresh token is unknown, expired or revoked");
        let id = session_of(token, REFRESH_PREFIX).ok_or_else(unknown)?;
        let session = self.sessions.get_session(&id).await?.ok_or_else(unknown)?;
        let now = self.now();
        let hash = state_key(token);
        if session.revoked || session.refresh_expires_at <= now {
            return Err(unknown());
        }
        if session
            .used_refresh_hashes
            .iter()
            .any(|used| same_hash(used, &hash))
        {
            // The app already exchanged this token: one of the two holders is not the app.
            let revoked = UserSession {
                revoked: true,
                version: session.version + 1,
                ..session
            };
            self.sessions.update_session(&revoked).await?;
            tracing::warn!(session_id = %revoked.id, "a used refresh token was presented; the session is revoked");
            return Err(invalid_grant(
                "the refresh token was already used; the session is revoked",
            ));
        }
        if !same_hash(&session.refresh_hash, &hash) {
            return Err(unknown());
        }
        if self
            .directory
            .find_user(&session.workspace_id, &session.user_id)
            .await?
            .is_none()
        {
            // The user was deleted: the session ends with them.
            let ended = UserSession {
                revoked: true,
                version: session.version + 1,
                ..session
            };
            self.sessions.update_session(&ended).await?;
            return Err(invalid_grant("the user no longer exists"));
        }
        let (access, refresh) = (
            token_for(ACCESS_PREFIX, &session.id),
            token_for(REFRESH_PREFIX, &session.id),
        );
        let mut used = session.used_refresh_hashes.clone();
        used.push(hash);
        let excess = used.len().saturating_sub(REMEMBERED_REFRESH_TOKENS);
        used.drain(..excess);
        let rotated = UserSession {
            access_hash: state_key(&access),
            access_expires_at: now.plus_seconds(ACCESS_TOKEN_SECONDS),
            refresh_hash: state_key(&refresh),
            refresh_expires_at: now.plus_seconds(REFRESH_TOKEN_SECONDS),
            used_refresh_hashes: used,
            version: session.version + 1,
            ..session
        };
        if !self.sessions.update_session(&rotated).await? {
            // Another refresh of the same session won the race; this token is spent.
            return Err(unknown());
        }
        Ok(TokenSet {
            access_token: access,
            refresh_token: refresh,
            expires_in: ACCESS_TOKEN_SECONDS,
            user_id: rotated.user_id,
        })
    }

    /// `POST /v1/auth/revoke`: signs the app out (the whole session). Unknown tokens are
    /// ignored, as RFC 7009 asks.
    #[tracing::instrument(skip_all)]
    pub async fn revoke_user_session(&self, token: &str) -> Result<(), DomainError> {
        let Some(id) =
            session_of(token, ACCESS_PREFIX).or_else(|| session_of(token, REFRESH_PREFIX))
        else {
            return Ok(());
        };
        for _ in 0..3 {
            let Some(session) = self.sessions.get_session(&id).await? else {
                return Ok(());
            };
            let hash = state_key(token);
            let known = same_hash(&session.access_hash, &hash)
                || same_hash(&session.refresh_hash, &hash)
                || session
                    .used_refresh_hashes
                    .iter()
                    .any(|u| same_hash(u, &hash));
            if !known || session.revoked {
                return Ok(());
            }
            let revoked = UserSession {
                revoked: true,
                version: session.version + 1,
                ..session
            };
            if self.sessions.update_session(&revoked).await? {
                return Ok(());
            }
        }
        Err(StoreError::Conflict("the session kept changing".into()).into())
    }

    /// The user behind an access token, for `/v1/me` routes.
    #[tracing::instrument(skip_all)]
    pub async fn authenticate_user(&self, bearer: Option<&str>) -> Result<Principal, DomainError> {
        let token = bearer
            .filter(|token| !token.is_empty())
            .ok_or(DomainError::Unauthenticated(AuthFailure::TokenMissing))?;
        if !is_user_token(token) {
            return Err(DomainError::Forbidden(
                "this route takes a user's access token (from POST /v1/auth/token), not an API key"
                    .into(),
            ));
        }
        let unknown = DomainError::Unauthenticated(AuthFailure::TokenUnknown);
        let id = session_of(token, ACCESS_PREFIX).ok_or(unknown)?;
        let session = self
            .sessions
            .get_session(&id)
            .await?
            .filter(|s| !s.revoked && same_hash(&s.access_hash, &state_key(token)))
            .ok_or(DomainError::Unauthenticated(AuthFailure::TokenUnknown))?;
        if session.access_expires_at <= self.now() {
            return Err(DomainError::Unauthenticated(AuthFailure::TokenExpired));
        }
        self.directory
            .find_user(&session.workspace_id, &session.user_id)
            .await?
            .ok_or(DomainError::Unauthenticated(AuthFailure::TokenUnknown))?;
        Ok(Principal::for_user(&session.workspace_id, &session.user_id))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_session_and_nothing_else_parses() {
        let id = SessionId::generate();
        let access = token_for(ACCESS_PREFIX, &id);
        assert_eq!(session_of(&access, ACCESS_PREFIX), Some(id.clone()));
        assert_eq!(session_of(&access, REFRESH_PREFIX), None);
        assert_eq!(
            session_of(&format!("{ACCESS_PREFIX}{id}_"), ACCESS_PREFIX),
            None
        );
        assert_eq!(session_of("vs_at_nonsense", ACCESS_PREFIX), None);
        assert!(is_user_token(&access));
        assert!(!is_user_token("vs_live_abc"));
    }
}
