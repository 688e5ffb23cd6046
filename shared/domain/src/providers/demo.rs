//! The demo provider: a sandbox OAuth 2.0 server inside VitaSync, so the whole connect flow
//! runs with no provider account. Its consent page lets the user name a demo account; codes are
//! self-describing, short-lived and bound by PKCE (S256) to the authorization that asked for
//! them; tokens name the account they belong to. Nothing it guards is real data.

use crate::kernel::time::Timestamp;
use crate::providers::DEMO_CLIENT_ID;
use crate::providers::oauth_state::new_token;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

const CODE_TTL_SECONDS: i64 = 60;
/// Demo access tokens live an hour, like many real providers'.
pub const DEMO_TOKEN_TTL_SECONDS: i64 = 3600;
const MAX_ACCOUNT_CHARS: usize = 40;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum DemoError {
    /// RFC 6749 `invalid_request`
    #[error("invalid_request")]
    InvalidRequest(&'static str),
    /// RFC 6749 `invalid_client`
    #[error("invalid_client")]
    InvalidClient,
    /// RFC 6749 `invalid_grant`
    #[error("invalid_grant")]
    InvalidGrant(&'static str),
}

impl DemoError {
    pub fn code(&self) -> &'static str {
        match self {
            DemoError::InvalidRequest(_) => "invalid_request",
            DemoError::InvalidClient => "invalid_client",
            DemoError::InvalidGrant(_) => "invalid_grant",
        }
    }

    pub fn description(&self) -> &'static str {
        match self {
            DemoError::InvalidRequest(why) | DemoError::InvalidGrant(why) => why,
            DemoError::InvalidClient => "unknown client",
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Code {
    account: String,
    challenge: String,
    redirect_uri: String,
    expires_at: i64,
}

/// What the demo token endpoint answers.
#[derive(Debug, Serialize)]
pub struct DemoTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub scope: &'static str,
    pub user_id: String,
}

/// The demo account id for what the user typed: letters, digits and dashes.
pub fn account_id(name: &str) -> String {
    let cleaned: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(MAX_ACCOUNT_CHARS)
        .collect();
    let cleaned = cleaned.trim_matches('-');
    format!(
        "demo-{}",
        if cleaned.is_empty() {
            "wearer"
        } else {
            cleaned
        }
    )
}

pub fn check_client(client_id: Option<&str>) -> Result<(), DemoError> {
    (client_id == Some(DEMO_CLIENT_ID))
        .then_some(())
        .ok_or(DemoError::InvalidClient)
}

/// A code for `account`, bound to the PKCE `challenge` and `redirect_uri`.
pub fn issue_code(account: &str, challenge: &str, redirect_uri: &str, now: Timestamp) -> String {
    let code = Code {
        account: account.to_owned(),
        challenge: challenge.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        expires_at: now.plus_seconds(CODE_TTL_SECONDS).millis(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&code).unwrap_or_default())
}

fn tokens_for(account: &str) -> DemoTokens {
    let tag = URL_SAFE_NO_PAD.encode(account);
    DemoTokens {
        access_token: format!("demo_at.{tag}.{}", new_token()),
        refresh_token: format!("demo_rt.{tag}.{}", new_token()),
        token_type: "bearer",
        expires_in: DEMO_TOKEN_TTL_SECONDS,
        scope: "all",
        user_id: account.to_owned(),
    }
}

/// Exchanges a code: the verifier must match its challenge and the redirect URI its own.
pub fn redeem(
    code: &str,
    verifier: Option<&str>,
    redirect_uri: Option<&str>,
    now: Timestamp,
) -> Result<DemoTokens, DemoError> {
    let code: Code = URL_SAFE_NO_PAD
        .decode(code)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(DemoError::InvalidGrant("unknown code"))?;
    if now.millis() >= code.expires_at {
        return Err(DemoError::InvalidGrant("the code has expired"));
    }
    if redirect_uri != Some(code.redirect_uri.as_str()) {
        return Err(DemoError::InvalidGrant("redirect_uri does not match"));
    }
    let verifier = verifier.ok_or(DemoError::InvalidRequest("code_verifier is required"))?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if challenge != code.challenge {
        return Err(DemoError::InvalidGrant("code_verifier does not match"));
    }
    Ok(tokens_for(&code.account))
}

/// A new token pair for the account a demo refresh token names.
pub fn refresh(refresh_token: &str) -> Result<DemoTokens, DemoError> {
    let mut parts = refresh_token.split('.');
    let account = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("demo_rt"), Some(tag), Some(_), None) => URL_SAFE_NO_PAD
            .decode(tag)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok()),
        _ => None,
    }
    .ok_or(DemoError::InvalidGrant("unknown refresh token"))?;
    Ok(tokens_for(&account))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::from_millis(1_790_000_000_000).unwrap()
    }

    #[test]
    fn codes_redeem_only_with_their_verifier_redirect_and_in_time() {
        let verifier = "a-verifier-long-enough-for-pkce-0123456789abc";
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let code = issue_code("demo-ann", &challenge, "http://x/cb", now());
        let tokens = redeem(&code, Some(verifier), Some("http://x/cb"), now()).unwrap();
        assert_eq!(tokens.user_id, "demo-ann");
        assert_eq!(refresh(&tokens.refresh_token).unwrap().user_id, "demo-ann");
        assert_eq!(
            redeem(&code, Some("another"), Some("http://x/cb"), now()).unwrap_err(),
            DemoError::InvalidGrant("code_verifier does not match")
        );
        assert!(redeem(&code, Some(verifier), Some("http://y/cb"), now()).is_err());
        assert!(
            redeem(
                &code,
                Some(verifier),
                Some("http://x/cb"),
                now().plus_seconds(61)
            )
            .is_err()
        );
        assert!(redeem("garbage", Some(verifier), Some("http://x/cb"), now()).is_err());
        assert!(refresh("demo_at.x.y").is_err());
    }

    #[test]
    fn account_names_become_safe_ids() {
        assert_eq!(account_id(" Ann Lee!"), "demo-ann-lee");
        assert_eq!(account_id("<>"), "demo-wearer");
    }
}
