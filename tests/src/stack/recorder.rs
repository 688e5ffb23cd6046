//! Stands between one function and the AWS emulator: forwards every call and records what it
//! was (the IAM action, the resource's ARN, and for KMS the encryption context), so the calls a
//! function makes can be checked against its policy in the template.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::template::{ACCOUNT, REGION};

/// One AWS call as IAM sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Call {
    pub action: String,
    pub resource: String,
    /// KMS: the encryption context sent.
    pub context: BTreeMap<String, String>,
}

#[derive(Clone)]
struct Forward {
    upstream: String,
    client: reqwest::Client,
    calls: Arc<Mutex<Vec<Call>>>,
    /// Queue URL → ARN, and the KMS key's ARN (a Decrypt names no key).
    queues: Arc<BTreeMap<String, String>>,
    key_arn: String,
}

pub struct Recorder {
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Recorder {
    pub async fn start(upstream: &str, queues: BTreeMap<String, String>, key_arn: &str) -> Self {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let state = Forward {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            calls: calls.clone(),
            queues: Arc::new(queues),
            key_arn: key_arn.to_owned(),
        };
        let app = Router::new().fallback(forward).with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, calls }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
}

fn table_arn(table: &str) -> String {
    format!("arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}")
}

impl Forward {
    fn record(&self, headers: &HeaderMap, body: &[u8]) -> Vec<Call> {
        let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) else {
            panic!("an AWS call without X-Amz-Target: every adapter speaks a JSON protocol")
        };
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let (service, operation) = target.split_once('.').unwrap();
        let call = |action: String, resource: String| Call {
            action,
            resource,
            context: BTreeMap::new(),
        };
        match service {
            s if s.starts_with("DynamoDB_") => {
                let on = |table: &str, index: Option<&str>| match index {
                    Some(index) => format!("{}/index/{index}", table_arn(table)),
                    None => table_arn(table),
                };
                match operation {
                    "TransactWriteItems" => body["TransactItems"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|item| {
                            let (kind, request) = item.as_object().unwrap().iter().next().unwrap();
                            let action = match kind.as_str() {
                                "Put" => "PutItem",
                                "Delete" => "DeleteItem",
                                "Update" => "UpdateItem",
                                _ => "ConditionCheckItem",
                            };
                            call(
                                format!("dynamodb:{action}"),
                                on(request["TableName"].as_str().unwrap(), None),
                            )
                        })
                        .collect(),
                    "BatchWriteItem" | "BatchGetItem" => body["RequestItems"]
                        .as_object()
                        .unwrap()
                        .keys()
                        .map(|table| call(format!("dynamodb:{operation}"), on(table, None)))
                        .collect(),
                    _ => vec![call(
                        format!("dynamodb:{operation}"),
                        on(
                            body["TableName"].as_str().unwrap(),
                            body["IndexName"].as_str(),
                        ),
                    )],
                }
            }
            "TrentService" => {
                let key = body["KeyId"].as_str().map_or(self.key_arn.clone(), |id| {
                    if id.starts_with("arn:") {
                        id.to_owned()
                    } else {
                        format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{id}")
                    }
                });
                let context = body["EncryptionContext"]
                    .as_object()
                    .map(|map| {
                        map.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                vec![Call {
                    action: format!("kms:{operation}"),
                    resource: key,
                    context,
                }]
            }
            "AmazonSQS" => {
                let url = body["QueueUrl"].as_str().unwrap();
                let arn = self
                    .queues
                    .get(url)
                    .unwrap_or_else(|| panic!("a queue the stack did not make: {url}"));
                // IAM authorises SQS's batch calls by their single-message actions.
                let action = match operation {
                    "SendMessageBatch" => "SendMessage",
                    "DeleteMessageBatch" => "DeleteMessage",
                    "ChangeMessageVisibilityBatch" => "ChangeMessageVisibility",
                    other => other,
                };
                vec![call(format!("sqs:{action}"), arn.clone())]
            }
            "secretsmanager" => {
                let name = body["SecretId"].as_str().unwrap();
                // Secrets Manager suffixes a secret's ARN with six random characters.
                vec![call(
                    format!("secretsmanager:{operation}"),
                    format!("arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}-AbCdEf"),
                )]
            }
            other => panic!("a call to a service the stack does not use: {other}"),
        }
    }
}

async fn forward(State(state): State<Forward>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 64 * 1024 * 1024).await.unwrap();
    let calls = state.record(&parts.headers, &body);
    state.calls.lock().unwrap().extend(calls);
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let mut upstream = state
        .client
        .request(parts.method.clone(), format!("{}{path}", state.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name, value);
        }
    }
    match upstream.send().await {
        Ok(reply) => {
            let status = reply.status();
            let headers = reply.headers().clone();
            let bytes = reply.bytes().await.unwrap_or_default();
            let mut response = (status, bytes).into_response();
            for (name, value) in &headers {
                if name != "content-length" && name != "transfer-encoding" {
                    response.headers_mut().insert(name, value.clone());
                }
            }
            response
        }
        Err(_) => StatusCode::BAD_GATEWAY.into_response(),
    }
}
