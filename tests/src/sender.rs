//! A sender whose answers are scripted per URL and which records every request it gets,
//! so tests can check signatures, headers and counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use authhooks::domain::outcome::{AttemptResult, TransportFailure};
use authhooks::ports::{Clock, OutgoingRequest, SendReport, Sender};

use crate::receiver::Recorded;

/// Decides the answer to the n-th request (1-based) to one URL.
pub type Reply = Box<dyn Fn(u32) -> AttemptResult + Send + Sync>;

/// Decides the answer from the request itself (its body, its headers) and its number.
pub type RequestReply = Box<dyn Fn(&OutgoingRequest, u32) -> AttemptResult + Send + Sync>;

/// A request as the scripted network received it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: DateTime<Utc>,
    pub result: AttemptResult,
}

impl Sent {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request as a receiver would have recorded it, for the Python verifiers.
    pub fn recorded(&self) -> Recorded {
        Recorded {
            method: "POST".to_owned(),
            // "http://host/path" → "/path"
            path: format!("/{}", self.url.splitn(4, '/').nth(3).unwrap_or_default()),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect(),
            body: self.body.clone(),
            received_at: self.at,
        }
    }
}

pub struct ScriptedSender {
    clock: Arc<dyn Clock>,
    replies: Mutex<HashMap<String, RequestReply>>,
    sent: Mutex<Vec<Sent>>,
}

impl ScriptedSender {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            replies: Mutex::new(HashMap::new()),
            sent: Mutex::new(Vec::new()),
        }
    }

    /// Scripts `url`; unscripted URLs answer connection refused.
    pub fn script(&self, url: &str, reply: Reply) {
        self.script_requests(url, Box::new(move |_, n| reply(n)));
    }

    /// Scripts `url` with answers that depend on what was sent.
    pub fn script_requests(&self, url: &str, reply: RequestReply) {
        self.replies.lock().unwrap().insert(url.to_owned(), reply);
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().unwrap().clone()
    }

    pub fn sent_to(&self, url: &str) -> Vec<Sent> {
        self.sent().into_iter().filter(|s| s.url == url).collect()
    }
}

pub fn status(code: u16) -> AttemptResult {
    AttemptResult::Response {
        status: code,
        retry_after: None,
        snippet: None,
    }
}

/// An answer of `code` carrying a `Retry-After` header of `value`.
pub fn status_retry_after(code: u16, value: &str) -> AttemptResult {
    AttemptResult::Response {
        status: code,
        retry_after: Some(value.to_owned()),
        snippet: None,
    }
}

#[async_trait]
impl Sender for ScriptedSender {
    async fn send(&self, request: OutgoingRequest) -> SendReport {
        let n = 1 + u32::try_from(self.sent_to(&request.url).len()).unwrap();
        let result = match self.replies.lock().unwrap().get(&request.url) {
            Some(reply) => reply(&request, n),
            None => AttemptResult::Transport(TransportFailure::Connect("refused".into())),
        };
        self.sent.lock().unwrap().push(Sent {
            url: request.url,
            headers: request.headers,
            body: request.body,
            at: self.clock.now(),
            result: result.clone(),
        });
        SendReport {
            result,
            latency: Duration::from_millis(3),
        }
    }
}
