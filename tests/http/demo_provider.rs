//! The demo provider's own OAuth endpoints answer like an OAuth 2.0 server: they refuse foreign
//! redirect URIs, unknown clients, bad codes and verifiers with RFC 6749 errors.

use reqwest::StatusCode;
use serde_json::Value;
use vitasync_tests::TestHost;

async fn token(host: &TestHost, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = host
        .raw()
        .post(host.url("/v1/demo/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn the_consent_page_sends_codes_only_to_this_deployments_callback() {
    let host = TestHost::start().await;
    let own = host.url("/v1/oauth/demo/callback");
    let consent = |redirect: &str| {
        host.url(&format!(
            "/v1/demo/authorize?response_type=code&client_id=vitasync-demo&state=s&\
             code_challenge=abc&code_challenge_method=S256&redirect_uri={}",
            form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
        ))
    };
    let (status, _, page) = host.visit(&consent(&own)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"account\""));
    for foreign in [
        "https://evil.example.com/v1/oauth/demo/callback",
        "http://127.0.0.1:1/v1/oauth/demo/callback",
    ] {
        let (status, _, page) = host.visit(&consent(foreign)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{foreign}");
        assert!(page.contains("data-error=\"invalid_request\""));
    }
    let decision = host.url(&format!(
        "/v1/demo/authorize/decision?decision=allow&code_challenge=abc&state=s&redirect_uri={}",
        form_urlencoded::byte_serialize(b"https://evil.example.com/v1/oauth/demo/callback")
            .collect::<String>()
    ));
    let (status, location, _) = host.visit(&decision).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(location, None);
}

#[tokio::test]
async fn the_token_endpoint_answers_rfc_6749_errors() {
    let host = TestHost::start().await;
    let (status, body) = token(
        &host,
        &[("grant_type", "authorization_code"), ("code", "x")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");
    let client = ("client_id", "vitasync-demo");
    let (status, body) = token(
        &host,
        &[
            client,
            ("grant_type", "authorization_code"),
            ("code", "forged"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    let (_, body) = token(&host, &[client, ("grant_type", "password")]).await;
    assert_eq!(body["error"], "invalid_request");
    let (_, body) = token(
        &host,
        &[
            client,
            ("grant_type", "refresh_token"),
            ("refresh_token", "demo_rt.bad"),
        ],
    )
    .await;
    assert_eq!(body["error"], "invalid_grant");
}
