//! A fault-injecting webhook receiver on 127.0.0.1: plain HTTP/1.1 with keep-alive over raw
//! TCP (parsed with httparse), so it can do what a framework would not let it — reset the
//! connection, drip a body, answer after the caller gave up. It verifies every signature,
//! counts per webhook id the 2xx answers it gave, and keeps per subject the order in which
//! events were first answered 2xx (with the `sequence` each carried).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use authhooks::domain::signature::{
    verify, Secret, SignedHeaders, HEADER_WEBHOOK_ATTEMPT, HEADER_WEBHOOK_ID,
    HEADER_WEBHOOK_SIGNATURE, HEADER_WEBHOOK_TIMESTAMP,
};

use super::faults::{Behaviour, Fault};

const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 32;

/// What one receiver saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// 2xx answers per webhook id.
    pub successes: HashMap<String, u32>,
    /// Requests answered (or dropped) per fault kind.
    pub faults: HashMap<Fault, u64>,
    /// Per subject, the events in the order they were first answered 2xx: (webhook id,
    /// the body's `sequence`). A later 2xx for the same id is a duplicate, not an entry.
    pub firsts: HashMap<String, Vec<(String, Option<u64>)>>,
}

struct Shared {
    behaviour: Behaviour,
    secret: Secret,
    /// Longer than the endpoint's timeout: how long a `Timeout` fault holds its answer.
    stall: Duration,
    seen: Mutex<Seen>,
    requests: AtomicU64,
}

pub struct FaultyReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FaultyReceiver {
    pub async fn start(
        behaviour: Behaviour,
        secret: Secret,
        stall: Duration,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            behaviour,
            secret,
            stall,
            seen: Mutex::new(Seen::default()),
            requests: AtomicU64::new(0),
        });
        let accept = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, accept.clone()));
            }
        });
        Ok(Self { addr, shared, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// A copy of what it saw so far.
    pub fn seen(&self) -> Seen {
        let seen = self
            .shared
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Seen {
            successes: seen.successes.clone(),
            faults: seen.faults.clone(),
            firsts: seen.firsts.clone(),
        }
    }
}

impl Drop for FaultyReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One request's head, as far as the receiver cares.
struct Head {
    len: usize,
    content_length: usize,
    id: String,
    timestamp: String,
    signature: String,
    attempt: u32,
}

fn parse_head(buf: &[u8]) -> Result<Option<Head>, ()> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let len = match request.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(()),
    };
    let get = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(h.value).ok())
            .unwrap_or_default()
            .to_owned()
    };
    Ok(Some(Head {
        len,
        content_length: get("content-length").parse().unwrap_or(0),
        id: get(HEADER_WEBHOOK_ID),
        timestamp: get(HEADER_WEBHOOK_TIMESTAMP),
        signature: get(HEADER_WEBHOOK_SIGNATURE),
        attempt: get(HEADER_WEBHOOK_ATTEMPT).parse().unwrap_or(1),
    }))
}

async fn serve(mut stream: TcpStream, shared: Arc<Shared>) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        let head = loop {
            match parse_head(&buf) {
                Ok(Some(head)) => break head,
                Ok(None) if buf.len() < MAX_HEAD => {}
                _ => return,
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        while buf.len() < head.len + head.content_length {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf
            .drain(..head.len + head.content_length)
            .skip(head.len)
            .collect();
        shared.requests.fetch_add(1, Ordering::Relaxed);

        let signed = SignedHeaders {
            id: &head.id,
            timestamp: &head.timestamp,
            signature: &head.signature,
        };
        let now = chrono::Utc::now().timestamp();
        let fault = if verify([&shared.secret], &signed, &body, now, 300).is_err() {
            Fault::BadSignature
        } else {
            shared.behaviour.decide(&head.id, head.attempt)
        };
        {
            let mut seen = shared
                .seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *seen.faults.entry(fault).or_default() += 1;
            // Counted before the answer goes out: a 2xx the caller never reads (it gave up,
            // or its worker was killed) is still a delivery the receiver got.
            if fault.is_success() {
                let count = seen.successes.entry(head.id.clone()).or_default();
                *count += 1;
                if *count == 1 {
                    let event: serde_json::Value =
                        serde_json::from_slice(&body).unwrap_or_default();
                    let subject = event["subject"].as_str().unwrap_or_default().to_owned();
                    let sequence = event["sequence"].as_u64();
                    seen.firsts
                        .entry(subject)
                        .or_default()
                        .push((head.id.clone(), sequence));
                }
            }
        }
        if !answer(&mut stream, fault, shared.stall).await {
            return;
        }
    }
}

/// Answers one request; whether the connection can carry another.
async fn answer(stream: &mut TcpStream, fault: Fault, stall: Duration) -> bool {
    let simple = |status: &str, extra: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n{extra}\r\nno"
        )
    };
    match fault {
        Fault::None => write(stream, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await,
        Fault::ServerError => {
            write(stream, simple("500 Internal Server Error", "").as_bytes()).await
        }
        Fault::BadSignature => write(stream, simple("401 Unauthorized", "").as_bytes()).await,
        Fault::TooMany => {
            write(
                stream,
                simple("429 Too Many Requests", "retry-after: 1\r\n").as_bytes(),
            )
            .await
        }
        Fault::Timeout => {
            tokio::time::sleep(stall).await;
            let _ = write(stream, simple("503 Service Unavailable", "").as_bytes()).await;
            false
        }
        Fault::Reset => {
            // SO_LINGER 0: closing sends RST instead of FIN, as a crashing server would.
            let _ = socket2::SockRef::from(&*stream).set_linger(Some(Duration::ZERO));
            false
        }
        Fault::SlowBody => {
            let head = b"HTTP/1.1 200 OK\r\ncontent-length: 64\r\ncontent-type: text/plain\r\n\r\n";
            if !write(stream, head).await {
                return false;
            }
            // Half the stall in all: slow, yet within the sender's deadline.
            for _ in 0..4 {
                tokio::time::sleep(stall / 8).await;
                if !write(stream, &[b'.'; 16]).await {
                    return false;
                }
            }
            true
        }
    }
}

async fn write(stream: &mut TcpStream, bytes: &[u8]) -> bool {
    stream.write_all(bytes).await.is_ok() && stream.flush().await.is_ok()
}
