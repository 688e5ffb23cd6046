//! A provider's webhook request as the client port reads it, and what it makes of it: the
//! reply and the notices the inbound area turns into work.

use crate::health::DataType;
use crate::kernel::time::Timestamp;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushMethod {
    Get,
    Head,
    Post,
}

/// A webhook request as it arrived: nothing parsed, the body byte for byte.
#[derive(Debug, Clone)]
pub struct PushRequest {
    pub method: PushMethod,
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The segment after the provider id in `/webhooks/{providerId}/{secret}`: a secret the
    /// operator put in the URL registered at a provider that signs nothing (Garmin).
    pub path_secret: Option<String>,
}

impl PushRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What to answer the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct PushReply {
    pub status: u16,
    /// A JSON body (handshake echoes), or none.
    pub body: Option<Value>,
}

impl PushReply {
    pub fn status(status: u16) -> Self {
        Self { status, body: None }
    }

    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
        }
    }
}

/// What a notice asks of VitaSync.
#[derive(Debug, Clone, PartialEq)]
pub enum NoticeAction {
    /// Data changed at the provider: sync these types (all when empty) over this window.
    Sync {
        data_types: Vec<DataType>,
        from: Timestamp,
        to: Timestamp,
    },
    /// The provider says the user ended the app's access. A hint only: the connection ends
    /// when a call made with the user's own token is refused, never on a push's word.
    Deauthorized,
    /// The provider sent the data itself (Garmin push): summaries of one type, stored through
    /// the provider's mapping by the worker.
    Pushed {
        summary_type: String,
        items: Vec<Value>,
    },
}

/// One thing a verified webhook said about one provider account.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub provider_user_id: String,
    pub action: NoticeAction,
    /// The same for a repeat of this notice (the provider's retry), different otherwise.
    pub fingerprint: String,
}

/// What the adapter made of a request: the reply, and what to act on before sending it.
#[derive(Debug, Clone, PartialEq)]
pub struct PushOutcome {
    pub reply: PushReply,
    pub notices: Vec<Notice>,
}

impl PushOutcome {
    /// A reply and nothing to do (handshakes, pings, rejections).
    pub fn reply(reply: PushReply) -> Self {
        Self {
            reply,
            notices: Vec::new(),
        }
    }
}
