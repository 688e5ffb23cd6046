//! A minimal Lambda Runtime API (the part a function uses: next invocation, response, error),
//! so function binaries can be run here exactly as Lambda runs them.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

#[derive(Default)]
struct Shared {
    events: Mutex<VecDeque<(String, Value)>>,
    first_poll: Mutex<Option<Instant>>,
    results: Mutex<Vec<(String, Result<Value, Value>)>>,
    changed: Notify,
}

/// A running stub. Events queued with `push` are handed out in order; the function's answers
/// are collected by request id.
#[derive(Clone)]
pub struct RuntimeStub {
    shared: Arc<Shared>,
    pub addr: SocketAddr,
}

impl RuntimeStub {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(respond),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(fail))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { shared, addr }
    }

    pub fn push(&self, request_id: &str, event: Value) {
        self.shared
            .events
            .lock()
            .unwrap()
            .push_back((request_id.to_owned(), event));
        self.shared.changed.notify_waiters();
    }

    /// Hands the function `event` and waits for its answer (an error answer is `Err`; so is a
    /// failed init).
    pub async fn invoke(&self, event: Value) -> Result<Value, Value> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = format!(
            "request-{}",
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        self.push(&id, event);
        loop {
            let notified = self.shared.changed.notified();
            {
                let results = self.shared.results.lock().unwrap();
                let answer = results
                    .iter()
                    .find(|(answered, _)| *answered == id || answered == "init");
                if let Some((_, result)) = answer {
                    return result.clone();
                }
            }
            notified.await;
        }
    }

    /// When the function first asked for work (it finished its init).
    pub async fn first_poll(&self) -> Instant {
        loop {
            let notified = self.shared.changed.notified();
            if let Some(at) = *self.shared.first_poll.lock().unwrap() {
                return at;
            }
            notified.await;
        }
    }

    /// Waits until `count` invocations have been answered; returns the answers in order.
    pub async fn results(&self, count: usize) -> Vec<(String, Result<Value, Value>)> {
        loop {
            let notified = self.shared.changed.notified();
            {
                let results = self.shared.results.lock().unwrap();
                if results.len() >= count {
                    return results.clone();
                }
            }
            notified.await;
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    {
        let mut first = shared.first_poll.lock().unwrap();
        if first.is_none() {
            *first = Some(Instant::now());
        }
    }
    shared.changed.notify_waiters();
    loop {
        let notified = shared.changed.notified();
        let event = shared.events.lock().unwrap().pop_front();
        if let Some((id, event)) = event {
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 30_000;
            headers.insert(
                "lambda-runtime-deadline-ms",
                deadline.to_string().parse().unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:test"
                    .parse()
                    .unwrap(),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000".parse().unwrap(),
            );
            return (StatusCode::OK, headers, event.to_string());
        }
        notified.await;
    }
}

fn record(shared: &Shared, id: String, result: Result<Value, Value>) -> StatusCode {
    shared.results.lock().unwrap().push((id, result));
    shared.changed.notify_waiters();
    StatusCode::ACCEPTED
}

fn parse(body: &Bytes) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

async fn respond(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    record(&shared, id, Ok(parse(&body)))
}

async fn fail(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    record(&shared, id, Err(parse(&body)))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    record(&shared, "init".into(), Err(parse(&body)))
}
