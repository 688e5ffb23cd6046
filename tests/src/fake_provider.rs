//! A local HTTP server that speaks one provider's documented OAuth and account endpoints, with
//! that provider's reply shapes (taken from the sample payloads in `fixtures/providers`) and its
//! error replies. It consents automatically (or refuses, when told to), issues fresh random
//! tokens, treats codes and refresh tokens as single-use, and records what it was sent.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use vitasync_domain::providers::ProviderId;

mod dexcom;
mod suunto;
mod ultrahuman;
mod wahoo;

pub const CLIENT_ID: &str = "test-client-id";
pub const CLIENT_SECRET: &str = "test-client-secret-never-logged";
/// How many unrevoked access tokens Wahoo lets an app hold for one user.
pub const WAHOO_TOKEN_CAP: usize = 10;
/// Suunto's API subscription key, wanted on every call (the token endpoint's too).
pub const SUUNTO_SUBSCRIPTION_KEY: &str = "test-suunto-subscription-key";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Form or query parameters.
    pub params: BTreeMap<String, String>,
    pub authorization: Option<String>,
}

/// A scripted failure of the provider's data API, served to the next data call.
#[derive(Debug, Clone)]
pub enum DataFailure {
    /// Withings' HTTP-200 reply with this `status` (401 invalid token, 601 too many requests).
    WithingsStatus(i64),
    /// An HTTP error status, with a `Retry-After` in seconds when given.
    Http(u16, Option<u64>),
    /// HTTP 200 with this body (a reply of another shape than documented).
    Reply(Value),
}

#[derive(Default)]
struct Behaviour {
    /// Served, in order, to the next data calls.
    data_failures: VecDeque<DataFailure>,
    /// Data calls refuse every access token, even fresh ones (access revoked by the user).
    reject_access: bool,
    /// Replaces the step count of the activity days served (a total that grew).
    daily_steps: Option<f64>,
    /// Data paths answered 403 (a scope the user deselected).
    forbidden: HashSet<String>,
    /// Fields set on every record a data path serves: `(path, field) → value` (a record the
    /// provider has since marked deleted or unscorable). `null` removes the field.
    overrides: BTreeMap<(String, String), Value>,
    deny_consent: bool,
    /// Dexcom: a receiver's late upload, as `dataRange?lastSyncTime=` reports it.
    receiver_upload: Option<dexcom::ReceiverUpload>,
    fail_token_exchange: bool,
    refuse_refresh: bool,
    refresh_delay: Duration,
    /// Scopes Strava reports on the redirect (the user may untick some).
    strava_granted: Option<String>,
    /// Accept access tokens another server issued (when a third-party OAuth server issues them).
    any_bearer: bool,
}

#[derive(Default)]
struct Ledger {
    /// App-level webhook subscriptions (Strava, Oura), as the provider lists them.
    subscriptions: Vec<Value>,
    /// Authorization codes: the redirect URI, PKCE challenge and app they were issued to.
    codes: HashMap<String, (String, Option<String>, String)>,
    /// Refresh tokens, by the app they were issued to.
    refresh_tokens: HashMap<String, String>,
    /// The access token issued with each refresh token (Wahoo revokes the old pair on refresh).
    pairs: HashMap<String, String>,
    access_tokens: HashSet<String>,
    issued: Vec<String>,
    requests: Vec<Recorded>,
    token_calls: usize,
    refresh_calls: usize,
}

struct Shared {
    provider: ProviderId,
    /// The apps registered at this provider: client id → client secret.
    apps: Mutex<BTreeMap<String, String>>,
    behaviour: Mutex<Behaviour>,
    ledger: Mutex<Ledger>,
}

pub struct FakeProvider {
    pub provider: ProviderId,
    pub base: String,
    shared: Arc<Shared>,
}

fn fixture(path: &str) -> Value {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/providers")
        .join(path);
    serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap()
}

fn random(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    format!("{prefix}-{}", hex::encode(bytes))
}

impl FakeProvider {
    pub async fn start(provider: ProviderId) -> Self {
        let shared = Arc::new(Shared {
            provider,
            apps: Mutex::new(BTreeMap::from([(
                CLIENT_ID.to_owned(),
                CLIENT_SECRET.to_owned(),
            )])),
            behaviour: Mutex::new(Behaviour::default()),
            ledger: Mutex::new(Ledger::default()),
        });
        let router = Router::new()
            .route("/authorize", get(authorize))
            .route("/authorise", get(authorize))
            .route("/token", post(token))
            .route("/revoke", any(revoke))
            .route("/v2/signature", post(withings_nonce))
            .route("/v3/users", post(polar_register))
            .route("/measure", post(withings_data))
            .route("/v2/measure", post(withings_data))
            .route("/v2/sleep", post(withings_data))
            .route("/v3/users/{id}", any(account_call))
            .route("/notify", post(withings_notify))
            .route("/push_subscriptions", any(strava_subscriptions))
            .route("/v2/webhook/subscription", any(oura_subscriptions))
            .route("/v2/webhook/subscription/renew/{id}", any(oura_renew))
            .route("/{*path}", any(api))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            provider,
            base,
            shared,
        }
    }

    /// The variables that point VitaSync at this fake.
    pub fn env(&self) -> BTreeMap<String, String> {
        let prefix = self.provider.env_prefix();
        // Ultrahuman serves its consent page at the British spelling only.
        let authorize_path = if self.provider == ProviderId::Ultrahuman {
            "authorise"
        } else {
            "authorize"
        };
        let mut env = BTreeMap::from([
            (format!("{prefix}_CLIENT_ID"), CLIENT_ID.to_owned()),
            (format!("{prefix}_CLIENT_SECRET"), CLIENT_SECRET.to_owned()),
            (
                format!("{prefix}_AUTHORIZE_URL"),
                format!("{}/{authorize_path}", self.base),
            ),
            (
                format!("{prefix}_TOKEN_URL"),
                format!("{}/token", self.base),
            ),
            (format!("{prefix}_API_URL"), self.base.clone()),
            (
                format!("{prefix}_REVOKE_URL"),
                format!("{}/revoke", self.base),
            ),
        ]);
        if self.provider == ProviderId::Suunto {
            env.insert(
                "SUUNTO_SUBSCRIPTION_KEY".into(),
                SUUNTO_SUBSCRIPTION_KEY.into(),
            );
        }
        env
    }

    /// The operator rotated the default app's client secret at the provider.
    pub fn rotate_client_secret(&self, secret: &str) {
        self.register_app(CLIENT_ID, secret);
    }

    /// Another app registered at this provider (a workspace's own).
    pub fn register_app(&self, client_id: &str, secret: &str) {
        self.shared
            .apps
            .lock()
            .unwrap()
            .insert(client_id.to_owned(), secret.to_owned());
    }

    pub fn deny_consent(&self) {
        self.shared.behaviour.lock().unwrap().deny_consent = true;
    }

    pub fn fail_token_exchange(&self) {
        self.shared.behaviour.lock().unwrap().fail_token_exchange = true;
    }

    pub fn refuse_refresh(&self) {
        self.shared.behaviour.lock().unwrap().refuse_refresh = true;
    }

    pub fn slow_refresh(&self, delay: Duration) {
        self.shared.behaviour.lock().unwrap().refresh_delay = delay;
    }

    /// Serves API calls for tokens issued elsewhere (a separate authorization server).
    pub fn accept_any_bearer(&self) {
        self.shared.behaviour.lock().unwrap().any_bearer = true;
    }

    pub fn strava_grants(&self, scopes: &str) {
        self.shared.behaviour.lock().unwrap().strava_granted = Some(scopes.to_owned());
    }

    /// Dexcom: at `uploaded_at` a receiver uploaded the readings and events it holds from
    /// `records_from` on (RFC 3339 instants), however old.
    pub fn dexcom_receiver_upload(&self, uploaded_at: &str, records_from: &str) {
        let seconds = |raw: &str| {
            chrono::DateTime::parse_from_rfc3339(raw)
                .unwrap()
                .timestamp()
        };
        self.shared.behaviour.lock().unwrap().receiver_upload = Some(dexcom::ReceiverUpload {
            uploaded_at: seconds(uploaded_at),
            records_from: seconds(records_from),
        });
    }

    /// The next data calls fail like this, one failure each.
    pub fn fail_data_calls(&self, failures: impl IntoIterator<Item = DataFailure>) {
        self.shared
            .behaviour
            .lock()
            .unwrap()
            .data_failures
            .extend(failures);
    }

    /// The user revoked access: data calls refuse every token, fresh ones too.
    pub fn reject_all_access(&self) {
        self.shared.behaviour.lock().unwrap().reject_access = true;
    }

    /// `path` answers 403 from now on, as for a scope the user did not grant.
    pub fn forbid(&self, path: &str) {
        self.shared
            .behaviour
            .lock()
            .unwrap()
            .forbidden
            .insert(path.to_owned());
    }

    /// The step totals served from now on (the day went on and the user walked more).
    /// From now on every record `path` serves has `field` set to `value` (removed for null).
    pub fn override_field(&self, path: &str, field: &str, value: Value) {
        self.shared
            .behaviour
            .lock()
            .unwrap()
            .overrides
            .insert((path.to_owned(), field.to_owned()), value);
    }

    pub fn set_daily_steps(&self, steps: f64) {
        self.shared.behaviour.lock().unwrap().daily_steps = Some(steps);
    }

    /// Calls to the data API (Withings `/measure`, `/v2/measure`, `/v2/sleep`; WHOOP and Oura
    /// collections).
    pub fn data_calls(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| data_path(&r.path))
            .collect()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.ledger.lock().unwrap().requests.clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Calls to the token endpoint with `grant_type=refresh_token`.
    pub fn refresh_calls(&self) -> usize {
        self.shared.ledger.lock().unwrap().refresh_calls
    }

    pub fn token_calls(&self) -> usize {
        self.shared.ledger.lock().unwrap().token_calls
    }

    /// Every token this fake ever issued (access and refresh).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.ledger.lock().unwrap().issued.clone()
    }

    /// The account id this provider reports for its user.
    /// The app-level webhook subscriptions the provider holds.
    pub fn subscriptions(&self) -> Vec<Value> {
        self.shared.ledger.lock().unwrap().subscriptions.clone()
    }

    /// Makes every held subscription expire at `at` (RFC 3339).
    pub fn expire_subscriptions(&self, at: &str) {
        for subscription in &mut self.shared.ledger.lock().unwrap().subscriptions {
            subscription["expiration_time"] = json!(at);
        }
    }

    pub fn account_id(&self) -> &'static str {
        account_id(self.provider)
    }
}

pub fn account_id(provider: ProviderId) -> &'static str {
    match provider {
        ProviderId::Withings => "36312345",
        ProviderId::Strava => "134815",
        ProviderId::Polar => "475",
        ProviderId::Garmin => "4aacafe82427c251df9c9592d0c06768",
        ProviderId::Oura => "8f2c1a9e-oura-user",
        ProviderId::Whoop => "10129",
        ProviderId::Fitbit => "4817263549102837465",
        ProviderId::Dexcom => dexcom::ACCOUNT_ID,
        ProviderId::Ultrahuman => ultrahuman::ACCOUNT_ID,
        ProviderId::Suunto => suunto::ACCOUNT_ID,
        ProviderId::Wahoo => wahoo::ACCOUNT_ID,
        ProviderId::Demo => "demo-wearer",
        // Pushed from phones: the account is the VitaSync user's own.
        ProviderId::AppleHealth | ProviderId::HealthConnect | ProviderId::SamsungHealth => {
            unreachable!("phone health stores are not OAuth providers")
        }
    }
}

fn params_of(raw: &[u8]) -> BTreeMap<String, String> {
    form_urlencoded::parse(raw)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn record(
    shared: &Shared,
    method: &Method,
    path: &str,
    params: &BTreeMap<String, String>,
    headers: &HeaderMap,
) {
    shared.ledger.lock().unwrap().requests.push(Recorded {
        method: method.to_string(),
        path: path.to_owned(),
        params: params.clone(),
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
}

fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}{query}")
}

async fn authorize(State(shared): State<Arc<Shared>>, headers: HeaderMap, uri: Uri) -> Response {
    let params = params_of(uri.query().unwrap_or_default().as_bytes());
    record(&shared, &Method::GET, uri.path(), &params, &headers);
    // Ultrahuman's consent page is at `/authorise`; the `/authorize` its prose names is not
    // served. Everyone else's is at `/authorize`.
    let british = uri.path() == "/authorise";
    if british != (shared.provider == ProviderId::Ultrahuman) {
        return (StatusCode::NOT_FOUND, "no such page").into_response();
    }
    let redirect_uri = params.get("redirect_uri").cloned().unwrap_or_default();
    let state = params.get("state").cloned().unwrap_or_default();
    let Some(client_id) = params
        .get("client_id")
        .filter(|id| shared.apps.lock().unwrap().contains_key(*id))
        .cloned()
    else {
        return (StatusCode::BAD_REQUEST, "unknown client").into_response();
    };
    let behaviour = shared.behaviour.lock().unwrap();
    if behaviour.deny_consent {
        return Redirect::to(&with_params(
            &redirect_uri,
            &[("error", "access_denied"), ("state", &state)],
        ))
        .into_response();
    }
    let code = random("code");
    shared.ledger.lock().unwrap().codes.insert(
        code.clone(),
        (
            redirect_uri.clone(),
            params.get("code_challenge").cloned(),
            client_id,
        ),
    );
    let mut back = vec![("code", code.as_str()), ("state", state.as_str())];
    let granted;
    if shared.provider == ProviderId::Strava {
        granted = behaviour
            .strava_granted
            .clone()
            .unwrap_or_else(|| params.get("scope").cloned().unwrap_or_default());
        back.push(("scope", &granted));
    }
    Redirect::to(&with_params(&redirect_uri, &back)).into_response()
}

/// The client's credentials, from Basic auth or the body, as the request carried them.
fn client_credentials(
    headers: &HeaderMap,
    form: &BTreeMap<String, String>,
) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = String::from_utf8(STANDARD.decode(basic).ok()?).ok()?;
        let (id, secret) = decoded.split_once(':')?;
        return Some((id.to_owned(), secret.to_owned()));
    }
    Some((
        form.get("client_id")?.clone(),
        form.get("client_secret")?.clone(),
    ))
}

/// The provider's reply to a refused grant, in its own dialect.
fn refusal(provider: ProviderId) -> Response {
    match provider {
        ProviderId::Withings => (
            StatusCode::OK,
            axum::Json(json!({"status": 503, "body": {}, "error": "Invalid Params: invalid code"})),
        )
            .into_response(),
        ProviderId::Strava => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "Bad Request", "errors": [
                {"resource": "AuthorizationCode", "field": "code", "code": "invalid"}]})),
        )
            .into_response(),
        // Wahoo refuses a spent or raced refresh token with a bare 400.
        ProviderId::Wahoo => StatusCode::BAD_REQUEST.into_response(),
        _ => (
            StatusCode::BAD_REQUEST,
            axum::Json(fixture("google-health/oauth-error-invalid-grant.json")),
        )
            .into_response(),
    }
}

/// Whether `credentials` are a registered app's.
fn known_app(shared: &Shared, credentials: Option<&(String, String)>) -> bool {
    credentials.is_some_and(|(id, secret)| shared.apps.lock().unwrap().get(id) == Some(secret))
}

fn token_reply(shared: &Shared, client_id: &str, refreshing: bool) -> Response {
    // Suunto's access tokens are JWTs naming the user; everyone else's are opaque.
    let access = if shared.provider == ProviderId::Suunto {
        suunto::access_token(&random("jti"))
    } else {
        random("at")
    };
    let refresh = random("rt");
    {
        let mut ledger = shared.ledger.lock().unwrap();
        ledger.access_tokens.insert(access.clone());
        ledger.issued.push(access.clone());
        if shared.provider != ProviderId::Polar {
            ledger
                .refresh_tokens
                .insert(refresh.clone(), client_id.to_owned());
            ledger.pairs.insert(refresh.clone(), access.clone());
            ledger.issued.push(refresh.clone());
        }
    }
    let mut body = match shared.provider {
        ProviderId::Withings => fixture("withings/oauth2-requesttoken.json"),
        ProviderId::Strava if refreshing => fixture("strava/oauth-token-refresh.json"),
        ProviderId::Strava => fixture("strava/oauth-token-exchange.json"),
        ProviderId::Polar => fixture("polar/oauth2-token.json"),
        ProviderId::Garmin => fixture("garmin/oauth2-token.json"),
        ProviderId::Oura => fixture("oura/oauth-token.json"),
        ProviderId::Whoop => fixture("whoop/oauth2-token.json"),
        ProviderId::Dexcom => fixture("dexcom/oauth-token.json"),
        ProviderId::Ultrahuman => fixture("ultrahuman/oauth-token.json"),
        ProviderId::Suunto => fixture("suunto/oauth-token.json"),
        ProviderId::Wahoo => fixture("wahoo/oauth-token.json"),
        ProviderId::Fitbit | ProviderId::Demo => fixture("google-health/oauth-token.json"),
        ProviderId::AppleHealth | ProviderId::HealthConnect | ProviderId::SamsungHealth => {
            unreachable!("phone health stores are not OAuth providers")
        }
    };
    let tokens = if shared.provider == ProviderId::Withings {
        &mut body["body"]
    } else {
        &mut body
    };
    tokens["access_token"] = json!(access);
    if tokens.get("refresh_token").is_some() || shared.provider != ProviderId::Polar {
        tokens["refresh_token"] = json!(refresh);
    }
    axum::Json(body).into_response()
}

async fn token(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = params_of(&body);
    record(&shared, &Method::POST, "/token", &form, &headers);
    let provider = shared.provider;
    if let Some(refused) = suunto::gateway_refusal(provider, &headers) {
        return refused;
    }
    if provider == ProviderId::Withings && form.get("action").map(String::as_str) == Some("revoke")
    {
        return withings_revoke(&form);
    }
    shared.ledger.lock().unwrap().token_calls += 1;
    let credentials = client_credentials(&headers, &form);
    if !known_app(&shared, credentials.as_ref()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    if provider == ProviderId::Withings
        && form.get("action").map(String::as_str) != Some("requesttoken")
    {
        return axum::Json(json!({"status": 503, "body": {}, "error": "Invalid Params: action"}))
            .into_response();
    }
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            if shared.behaviour.lock().unwrap().fail_token_exchange {
                return refusal(provider);
            }
            let client_id = credentials.map(|(id, _)| id).unwrap_or_default();
            let Some((redirect_uri, challenge, issued_to)) = form
                .get("code")
                .and_then(|code| shared.ledger.lock().unwrap().codes.remove(code))
            else {
                return refusal(provider);
            };
            if form.get("redirect_uri") != Some(&redirect_uri) || issued_to != client_id {
                return refusal(provider);
            }
            if let Some(challenge) = challenge {
                let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != challenge {
                    return refusal(provider);
                }
            }
            // Wahoo lets an app hold at most ten unrevoked tokens per user.
            if provider == ProviderId::Wahoo
                && shared.ledger.lock().unwrap().access_tokens.len() >= WAHOO_TOKEN_CAP
            {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": "Too many unrevoked access tokens"})),
                )
                    .into_response();
            }
            token_reply(&shared, &client_id, false)
        }
        Some("refresh_token") => {
            let (delay, refuse) = {
                let behaviour = shared.behaviour.lock().unwrap();
                (behaviour.refresh_delay, behaviour.refuse_refresh)
            };
            shared.ledger.lock().unwrap().refresh_calls += 1;
            tokio::time::sleep(delay).await;
            let client_id = credentials.map(|(id, _)| id).unwrap_or_default();
            let issued_to = form
                .get("refresh_token")
                .and_then(|token| shared.ledger.lock().unwrap().refresh_tokens.remove(token));
            // A refresh token is good only with the app it was issued to.
            if refuse || issued_to.as_deref() != Some(client_id.as_str()) {
                return refusal(provider);
            }
            // Wahoo's pairs are single-use: the refreshed pair's access token ends too.
            if provider == ProviderId::Wahoo {
                let mut ledger = shared.ledger.lock().unwrap();
                if let Some(old) = form
                    .get("refresh_token")
                    .and_then(|token| ledger.pairs.remove(token))
                {
                    ledger.access_tokens.remove(&old);
                }
            }
            token_reply(&shared, &client_id, true)
        }
        _ => refusal(provider),
    }
}

fn bearer(shared: &Shared, headers: &HeaderMap) -> bool {
    let (any, rejected) = {
        let behaviour = shared.behaviour.lock().unwrap();
        (behaviour.any_bearer, behaviour.reject_access)
    };
    !rejected
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| any || shared.ledger.lock().unwrap().access_tokens.contains(token))
}

async fn polar_register(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params: BTreeMap<String, String> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .map(|object| {
            object
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    record(&shared, &Method::POST, "/v3/users", &params, &headers);
    if !bearer(&shared, &headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let already = shared
        .ledger
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.path == "/v3/users")
        .count()
        > 1;
    if already {
        return (
            StatusCode::CONFLICT,
            axum::Json(fixture("polar/error.json")),
        )
            .into_response();
    }
    axum::Json(fixture("polar/register-user.json")).into_response()
}

async fn account_call(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    // `/v3/users/sleep` and its kind are data lists, not a user.
    if data_path(uri.path()) {
        return api(State(shared), method, headers, uri).await;
    }
    record(
        &shared,
        &method,
        &format!("/v3/users/{id}"),
        &BTreeMap::new(),
        &headers,
    );
    if bearer(&shared, &headers) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        StatusCode::UNAUTHORIZED.into_response()
    }
}

async fn revoke(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let mut params = params_of(uri.query().unwrap_or_default().as_bytes());
    params.extend(params_of(&body));
    record(&shared, &method, "/revoke", &params, &headers);
    StatusCode::OK.into_response()
}

async fn withings_nonce(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = params_of(&body);
    record(&shared, &Method::POST, "/v2/signature", &form, &headers);
    axum::Json(json!({"status": 0, "body": {"nonce": "nonce-1234"}})).into_response()
}

/// Withings' notify API: subscribe and revoke per user, with the user's token.
async fn withings_notify(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = params_of(&body);
    record(&shared, &Method::POST, "/notify", &form, &headers);
    if !bearer(&shared, &headers) {
        return axum::Json(fixture("withings/error-invalid-token.json")).into_response();
    }
    let known = matches!(
        form.get("action").map(String::as_str),
        Some("subscribe" | "revoke")
    ) && form
        .get("callbackurl")
        .is_some_and(|url| url.starts_with("http"))
        && form.contains_key("appli");
    let status = if known { 0 } else { 293 };
    axum::Json(json!({"status": status, "body": {}})).into_response()
}

/// Strava's push subscription: one per app. Creating one first calls the callback with a
/// `hub.challenge`, which must be echoed, as Strava does.
async fn strava_subscriptions(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let mut params = params_of(uri.query().unwrap_or_default().as_bytes());
    params.extend(params_of(&body));
    record(&shared, &method, "/push_subscriptions", &params, &headers);
    let credentials = params
        .get("client_id")
        .cloned()
        .zip(params.get("client_secret").cloned());
    if !known_app(&shared, credentials.as_ref()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Authorization Error"})),
        )
            .into_response();
    }
    if method == Method::GET {
        let held = shared.ledger.lock().unwrap().subscriptions.clone();
        return axum::Json(json!(held)).into_response();
    }
    let callback = params.get("callback_url").cloned().unwrap_or_default();
    let token = params.get("verify_token").cloned().unwrap_or_default();
    let challenge = random("challenge");
    let answer = reqwest::Client::new()
        .get(&callback)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.challenge", challenge.as_str()),
            ("hub.verify_token", token.as_str()),
        ])
        .send()
        .await;
    let echoed = match answer {
        Ok(reply) if reply.status().is_success() => reply
            .json::<Value>()
            .await
            .is_ok_and(|body| body["hub.challenge"] == challenge.as_str()),
        _ => false,
    };
    if !echoed {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "Bad Request", "errors": [{"resource": "PushSubscription", "field": "callback url", "code": "GET to callback URL does not return 200"}]})),
        )
            .into_response();
    }
    let mut created = fixture("strava/push-subscription.json");
    created["callback_url"] = json!(callback);
    shared
        .ledger
        .lock()
        .unwrap()
        .subscriptions
        .push(created.clone());
    (StatusCode::CREATED, axum::Json(created)).into_response()
}

/// Oura's webhook subscriptions, one per event and data type, with app credentials.
async fn oura_subscriptions(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(
        &shared,
        &method,
        "/v2/webhook/subscription",
        &BTreeMap::new(),
        &headers,
    );
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let credentials = header("x-client-id")
        .map(str::to_owned)
        .zip(header("x-client-secret").map(str::to_owned));
    if !known_app(&shared, credentials.as_ref()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if method == Method::GET {
        let held = shared.ledger.lock().unwrap().subscriptions.clone();
        return axum::Json(json!(held)).into_response();
    }
    let Ok(asked) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
    };
    let created = json!({
        "id": random("sub"),
        "callback_url": asked["callback_url"],
        "event_type": asked["event_type"],
        "data_type": asked["data_type"],
        "expiration_time": "2027-03-01T00:00:00+00:00",
    });
    shared
        .ledger
        .lock()
        .unwrap()
        .subscriptions
        .push(created.clone());
    (StatusCode::CREATED, axum::Json(created)).into_response()
}

async fn oura_renew(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    record(
        &shared,
        &method,
        "/v2/webhook/subscription/renew",
        &BTreeMap::new(),
        &headers,
    );
    let mut ledger = shared.ledger.lock().unwrap();
    match ledger
        .subscriptions
        .iter_mut()
        .find(|s| s["id"] == id.as_str())
    {
        Some(subscription) => {
            subscription["expiration_time"] = json!("2027-06-01T00:00:00+00:00");
            axum::Json(subscription.clone()).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn withings_revoke(form: &BTreeMap<String, String>) -> Response {
    let ok = form.get("nonce").map(String::as_str) == Some("nonce-1234")
        && form.get("signature").is_some_and(|s| s.len() == 64)
        && form.get("userid").map(String::as_str) == Some(account_id(ProviderId::Withings));
    let status = if ok { 0 } else { 293 };
    axum::Json(json!({"status": status, "body": {}})).into_response()
}

/// The account and revocation endpoints of the provider's API.
async fn api(
    State(shared): State<Arc<Shared>>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let path = uri.path().to_owned();
    let query = params_of(uri.query().unwrap_or_default().as_bytes());
    record(&shared, &method, &path, &query, &headers);
    if let Some(refused) = suunto::gateway_refusal(shared.provider, &headers) {
        return refused;
    }
    if data_path(&path)
        && let Some(failure) = scripted_failure(&shared)
    {
        return failure;
    }
    if !bearer(&shared, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "unauthorized"})),
        )
            .into_response();
    }
    if shared.provider == ProviderId::Dexcom
        && let Some(refused) = dexcom::refusal(&method, &path, &query)
    {
        return refused;
    }
    if data_path(&path) {
        if shared.behaviour.lock().unwrap().forbidden.contains(&path) {
            // Ultrahuman refuses an app or scope it has not enabled with an empty 403.
            if shared.provider == ProviderId::Ultrahuman {
                return StatusCode::FORBIDDEN.into_response();
            }
            if shared.provider == ProviderId::Fitbit {
                return (
                    StatusCode::FORBIDDEN,
                    axum::Json(fixture("google-health/error-403-scope-insufficient.json")),
                )
                    .into_response();
            }
            return (
                StatusCode::FORBIDDEN,
                axum::Json(json!({"detail": "missing scope"})),
            )
                .into_response();
        }
        if let Some(mut reply) = collection_reply(shared.provider, &path, &query)
            .or_else(|| new_provider_reply(&shared, &method, &path, &query))
        {
            let overrides = shared.behaviour.lock().unwrap().overrides.clone();
            apply_overrides(&mut reply, &path, &overrides);
            return axum::Json(reply).into_response();
        }
    }
    let reply = match (shared.provider, method.as_str(), path.as_str()) {
        (ProviderId::Garmin, "GET", "/wellness-api/rest/user/id") => fixture("garmin/user-id.json"),
        (ProviderId::Garmin, "GET", "/wellness-api/rest/user/permissions") => {
            fixture("garmin/user-permissions.json")
        }
        (ProviderId::Fitbit, "GET", "/v4/users/me/identity") => {
            fixture("google-health/identity.json")
        }
        (ProviderId::Fitbit, "GET", "/v4/users/me/settings") => {
            fixture("google-health/settings.json")
        }
        (ProviderId::Oura, "GET", "/v2/usercollection/personal_info") => json!({
            "id": account_id(ProviderId::Oura), "age": 31, "weight": 64.2, "height": 1.71,
            "biological_sex": "female", "email": "wearer@example.invalid"
        }),
        (ProviderId::Whoop, "GET", "/v2/user/profile/basic") => json!({
            "user_id": 10129, "email": "wearer@example.invalid", "first_name": "Jane", "last_name": "Doe"
        }),
        (
            ProviderId::Dexcom | ProviderId::Ultrahuman | ProviderId::Suunto | ProviderId::Wahoo,
            _,
            _,
        ) => match new_provider_reply(&shared, &method, &path, &query) {
            Some(reply) => reply,
            None if shared.provider == ProviderId::Wahoo
                && method == Method::DELETE
                && path == "/v1/permissions" =>
            {
                shared.ledger.lock().unwrap().access_tokens.clear();
                return StatusCode::NO_CONTENT.into_response();
            }
            None => return StatusCode::NOT_FOUND.into_response(),
        },
        (ProviderId::Whoop, "DELETE", "/v2/user/access")
        | (ProviderId::Garmin, "DELETE", "/wellness-api/rest/user/registration") => {
            return StatusCode::NO_CONTENT.into_response();
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    axum::Json(reply).into_response()
}

/// The four providers whose replies live in their own modules: data and account calls.
fn new_provider_reply(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
) -> Option<Value> {
    match shared.provider {
        ProviderId::Dexcom => {
            let upload = shared.behaviour.lock().unwrap().receiver_upload;
            dexcom::reply(method, path, query, upload)
        }
        ProviderId::Ultrahuman => ultrahuman::reply(method, path, query),
        ProviderId::Suunto => suunto::reply(method, path, query),
        ProviderId::Wahoo => wahoo::reply(method, path, query),
        _ => None,
    }
}

fn data_path(path: &str) -> bool {
    dexcom::is_data_path(path)
        || ultrahuman::is_data_path(path)
        || suunto::is_data_path(path)
        || wahoo::is_data_path(path)
        || matches!(path, "/measure" | "/v2/measure" | "/v2/sleep")
        || path.starts_with("/v2/usercollection/")
        || path == "/athlete/activities"
        || path.starts_with("/v4/users/me/dataTypes/")
        || (path.starts_with("/wellness-api/rest/")
            && !path.starts_with("/wellness-api/rest/user/"))
        || path == "/v3/exercises"
        || path.starts_with("/v3/users/sleep")
        || path.starts_with("/v3/users/nightly-recharge")
        || path.starts_with("/v3/users/activities")
        || path.starts_with("/v3/users/continuous-heart-rate")
        || (path.starts_with("/activities/") && path.ends_with("/streams"))
        || matches!(
            path,
            "/v2/cycle"
                | "/v2/recovery"
                | "/v2/activity/sleep"
                | "/v2/activity/workout"
                | "/v2/user/measurement/body"
        )
}

/// The next scripted failure, as a response (Withings' own dialect or plain HTTP).
fn scripted_failure(shared: &Shared) -> Option<Response> {
    let failure = shared.behaviour.lock().unwrap().data_failures.pop_front()?;
    Some(match failure {
        DataFailure::WithingsStatus(401) => {
            axum::Json(fixture("withings/error-invalid-token.json")).into_response()
        }
        DataFailure::WithingsStatus(601) => {
            axum::Json(fixture("withings/error-too-many-requests.json")).into_response()
        }
        DataFailure::WithingsStatus(status) => {
            axum::Json(json!({"status": status, "body": {}, "error": "failure"})).into_response()
        }
        DataFailure::Reply(body) => axum::Json(body).into_response(),
        DataFailure::Http(status, retry_after) => {
            let mut response =
                (StatusCode::from_u16(status).unwrap(), "upstream trouble").into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, seconds.to_string().parse().unwrap());
            }
            response
        }
    })
}

/// WHOOP's and Oura's collections, from the documented samples; a cursor leads to page two.
/// Sets the overridden fields on each record of a list reply (a bare array, or the records
/// under `data` or `records`).
fn apply_overrides(reply: &mut Value, path: &str, overrides: &BTreeMap<(String, String), Value>) {
    let records = match reply {
        Value::Array(items) => Some(items),
        Value::Object(body) => {
            let list = ["data", "records"]
                .into_iter()
                .find(|list| body.contains_key(*list));
            list.and_then(|list| body.get_mut(list))
                .and_then(Value::as_array_mut)
        }
        _ => None,
    };
    for record in records.into_iter().flatten() {
        for ((at, field), value) in overrides {
            if at != path {
                continue;
            }
            if let Some(record) = record.as_object_mut() {
                if value.is_null() {
                    record.remove(field);
                } else {
                    record.insert(field.clone(), value.clone());
                }
            }
        }
    }
}

fn collection_reply(
    provider: ProviderId,
    path: &str,
    query: &BTreeMap<String, String>,
) -> Option<Value> {
    let cursor = query
        .get("nextToken")
        .or_else(|| query.get("next_token"))
        .or_else(|| query.get("pageToken"))
        .map(String::as_str);
    Some(match (provider, path, cursor) {
        (ProviderId::Whoop, "/v2/cycle", _) => fixture("whoop/cycle-collection.json"),
        (ProviderId::Whoop, "/v2/recovery", None) => fixture("whoop/recovery-collection.json"),
        (ProviderId::Whoop, "/v2/recovery", Some("MTIzOjEyMzEyMw")) => {
            fixture("whoop/recovery-collection-page-2.json")
        }
        (ProviderId::Whoop, "/v2/activity/sleep", _) => fixture("whoop/sleep-collection.json"),
        (ProviderId::Whoop, "/v2/activity/workout", _) => {
            json!({"records": [fixture("whoop/workout.json")], "next_token": null})
        }
        (ProviderId::Whoop, "/v2/user/measurement/body", _) => {
            fixture("whoop/body-measurement.json")
        }
        (ProviderId::Garmin, path, _) if path.starts_with("/wellness-api/rest/backfill/") => {
            json!({})
        }
        (ProviderId::Garmin, path, _) if path.starts_with("/wellness-api/rest/") => {
            // Summaries uploaded on 2 March 2026 (14:00 UTC) answer the pull covering it.
            let start: i64 = query["uploadStartTimeInSeconds"].parse().unwrap();
            let end: i64 = query["uploadEndTimeInSeconds"].parse().unwrap();
            if !(start..end).contains(&1_772_460_000) {
                return Some(json!([]));
            }
            let kind = path.trim_start_matches("/wellness-api/rest/");
            match kind {
                "bodyComps" => fixture("garmin/pull-body-comps.json"),
                "epochs" => json!([]),
                kind => fixture(&format!("garmin/push-{kind}.json"))[kind].clone(),
            }
        }
        (ProviderId::Fitbit, "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp", _) => {
            fixture("google-health/daily-rollup-steps-response.json")
        }
        (ProviderId::Fitbit, "/v4/users/me/dataTypes/distance/dataPoints:dailyRollUp", _) => {
            json!({"rollupDataPoints": []})
        }
        (ProviderId::Fitbit, "/v4/users/me/dataTypes/heart-rate/dataPoints", None) => {
            fixture("google-health/list-heart-rate.json")
        }
        (ProviderId::Fitbit, "/v4/users/me/dataTypes/heart-rate/dataPoints", Some(_)) => {
            fixture("google-health/list-heart-rate-page-2.json")
        }
        (ProviderId::Fitbit, path, _) if path.starts_with("/v4/users/me/dataTypes/") => {
            let data_type = path
                .trim_start_matches("/v4/users/me/dataTypes/")
                .trim_end_matches("/dataPoints");
            fixture(&format!("google-health/list-{data_type}.json"))
        }
        (ProviderId::Polar, "/v3/exercises", _) => json!([fixture("polar/exercise.json")]),
        (ProviderId::Polar, "/v3/users/sleep", _) => {
            json!({"nights": [fixture("polar/sleep.json")]})
        }
        (ProviderId::Polar, "/v3/users/nightly-recharge", _) => {
            json!({"recharges": [fixture("polar/nightly-recharge.json")]})
        }
        (ProviderId::Polar, "/v3/users/activities", _) => fixture("polar/activities.json"),
        (ProviderId::Polar, "/v3/users/continuous-heart-rate", _) => {
            let day = fixture("polar/continuous-heart-rate.json");
            let date = day["date"].as_str().unwrap_or_default().to_owned();
            let from = query.get("from").cloned().unwrap_or_default();
            let to = query.get("to").cloned().unwrap_or_default();
            let days: Vec<Value> = (from <= date && date <= to)
                .then_some(day)
                .into_iter()
                .collect();
            json!({ "heart_rates": days })
        }
        (ProviderId::Strava, "/athlete/activities", _) => {
            match query.get("page").map(String::as_str) {
                Some("1") => fixture("strava/athlete-activities.json"),
                Some("2") => fixture("strava/athlete-activities-page-2.json"),
                _ => json!([]),
            }
        }
        (ProviderId::Strava, "/activities/13579246801/streams", _) => {
            fixture("strava/activity-streams-key-by-type.json")
        }
        (ProviderId::Oura, "/v2/usercollection/daily_activity", _) => {
            fixture("oura/daily-activity.json")
        }
        (ProviderId::Oura, "/v2/usercollection/daily_readiness", _) => {
            fixture("oura/daily-readiness.json")
        }
        (ProviderId::Oura, "/v2/usercollection/sleep", _) => fixture("oura/sleep.json"),
        (ProviderId::Oura, "/v2/usercollection/workout", _) => fixture("oura/workout.json"),
        (ProviderId::Oura, "/v2/usercollection/daily_spo2", _) => fixture("oura/daily-spo2.json"),
        (ProviderId::Oura, "/v2/usercollection/heartrate", None) => fixture("oura/heartrate.json"),
        (ProviderId::Oura, "/v2/usercollection/heartrate", Some("aGVhcnRyYXRlOjI")) => {
            fixture("oura/heartrate-page-2.json")
        }
        _ => return None,
    })
}

/// Items of `list` whose local `date` lies within the call's `startdateymd..=enddateymd`.
fn within_dates(mut reply: Value, list: &str, form: &BTreeMap<String, String>) -> Value {
    let first = form.get("startdateymd").cloned().unwrap_or_default();
    let last = form.get("enddateymd").cloned().unwrap_or_default();
    let items = reply["body"][list].as_array().cloned().unwrap_or_default();
    reply["body"][list] = items
        .into_iter()
        .filter(|item| {
            let date = item["date"].as_str().unwrap_or_default();
            first.as_str() <= date && date <= last.as_str()
        })
        .collect();
    reply
}

fn epoch(form: &BTreeMap<String, String>, name: &str) -> i64 {
    form.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// Withings' data API: form POSTs with `action`, HTTP 200 with a `status` for every outcome,
/// answered from the documented sample payloads, filtered to the window asked for.
async fn withings_data(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let form = params_of(&body);
    let path = uri.path().to_owned();
    record(&shared, &Method::POST, &path, &form, &headers);
    if let Some(failure) = scripted_failure(&shared) {
        return failure;
    }
    let (reject, steps) = {
        let behaviour = shared.behaviour.lock().unwrap();
        (behaviour.reject_access, behaviour.daily_steps)
    };
    if reject || !bearer(&shared, &headers) {
        return axum::Json(fixture("withings/error-invalid-token.json")).into_response();
    }
    let action = form.get("action").cloned().unwrap_or_default();
    let reply = match (path.as_str(), action.as_str()) {
        ("/measure", "getmeas") => {
            let (start, end) = (epoch(&form, "startdate"), epoch(&form, "enddate"));
            let mut reply = fixture("withings/measure-getmeas.json");
            let pressure = fixture("withings/measure-getmeas-blood-pressure.json");
            let groups: Vec<Value> = reply["body"]["measuregrps"]
                .as_array()
                .unwrap()
                .iter()
                .chain(pressure["body"]["measuregrps"].as_array().unwrap())
                .filter(|group| (start..=end).contains(&group["date"].as_i64().unwrap()))
                .cloned()
                .collect();
            reply["body"]["measuregrps"] = json!(groups);
            reply
        }
        ("/v2/measure", "getactivity") => {
            let mut reply = within_dates(
                fixture("withings/measure-v2-getactivity.json"),
                "activities",
                &form,
            );
            if let (Some(steps), Some(days)) = (steps, reply["body"]["activities"].as_array_mut()) {
                for day in days {
                    day["steps"] = json!(steps);
                }
            }
            reply
        }
        ("/v2/measure", "getintradayactivity") => {
            // Only the first 24 hours of the range are answered, as documented.
            let start = epoch(&form, "startdate");
            let end = epoch(&form, "enddate").min(start + 86_400);
            let mut reply = fixture("withings/measure-v2-getintradayactivity.json");
            let series = reply["body"]["series"].as_object().unwrap().clone();
            reply["body"]["series"] = series
                .into_iter()
                .filter(|(at, _)| (start..=end).contains(&at.parse::<i64>().unwrap()))
                .collect::<serde_json::Map<_, _>>()
                .into();
            reply
        }
        ("/v2/measure", "getworkouts") => {
            let mut reply = within_dates(
                fixture("withings/measure-v2-getworkouts.json"),
                "series",
                &form,
            );
            // As documented, most of `data` comes only when `data_fields` asks for it.
            let asked: Vec<String> = form
                .get("data_fields")
                .map(|fields| fields.split(',').map(str::to_owned).collect())
                .unwrap_or_default();
            for workout in reply["body"]["series"].as_array_mut().into_iter().flatten() {
                if let Some(data) = workout["data"].as_object_mut() {
                    data.retain(|field, _| {
                        asked.contains(field)
                            || matches!(field.as_str(), "intensity" | "pause_duration")
                    });
                }
            }
            reply
        }
        ("/v2/sleep", "get") => {
            // One night's hypnogram: only the first 24 hours of the range are answered.
            let start = epoch(&form, "startdate");
            let end = epoch(&form, "enddate").min(start + 86_400);
            let mut reply = fixture("withings/sleep-v2-get.json");
            let series: Vec<Value> = reply["body"]["series"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|span| {
                    let at = span["startdate"].as_i64().unwrap_or_default();
                    start <= at && at < end
                })
                .collect();
            reply["body"]["series"] = Value::Array(series);
            reply
        }
        ("/v2/sleep", "getsummary") => within_dates(
            fixture("withings/sleep-v2-getsummary.json"),
            "series",
            &form,
        ),
        _ => json!({"status": 2554, "body": {}, "error": "Not implemented"}),
    };
    axum::Json(reply).into_response()
}
