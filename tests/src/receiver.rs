//! A real webhook receiver on 127.0.0.1 for tests: it records every request and answers
//! by a script that can change mid-test. Also a raw TCP server that resets connections or
//! sends broken responses.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How the receiver answers one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Waited before answering (the request is recorded on arrival).
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// A request as the receiver got it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub received_at: DateTime<Utc>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Script = Arc<dyn Fn(u32) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Shared {
    script: Arc<RwLock<Script>>,
    recorded: Arc<Mutex<Vec<Recorded>>>,
    count: Arc<AtomicU32>,
}

/// The receiver; the server stops when it is dropped.
pub struct Receiver {
    addr: SocketAddr,
    shared: Shared,
    server: JoinHandle<()>,
}

impl Receiver {
    /// Starts answering 200 with an empty body to everything.
    pub async fn start() -> Receiver {
        let shared = Shared {
            script: Arc::new(RwLock::new(Arc::new(|_| Reply::status(200)))),
            recorded: Arc::new(Mutex::new(Vec::new())),
            count: Arc::new(AtomicU32::new(0)),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(record).with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            addr,
            shared,
            server,
        }
    }

    /// Answers the n-th request (1-based, counted from the start) with `script(n)`.
    pub fn set_reply(&self, script: impl Fn(u32) -> Reply + Send + Sync + 'static) {
        *self.shared.script.write().unwrap() = Arc::new(script);
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT/hook`
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived; panics after `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let started = Instant::now();
        loop {
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            if started.elapsed() > timeout {
                let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
                panic!(
                    "receiver {}: expected {n} request(s) within {timeout:?}, got {}: {paths:?}",
                    self.addr,
                    got.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn record(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let n = shared.count.fetch_add(1, Ordering::SeqCst) + 1;
    shared.recorded.lock().unwrap().push(Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        headers: headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_ascii_lowercase(), value)
            })
            .collect(),
        body: body.to_vec(),
        received_at: Utc::now(),
    });
    let script = shared.script.read().unwrap().clone();
    let reply = script(n);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(&value).unwrap(),
        );
    }
    response
}

/// What a [`RawServer`] does with each connection, once it has read the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawScript {
    /// Resets it (`SO_LINGER` 0, so the close is an RST, not a FIN).
    Reset,
    /// Writes these bytes, then holds the connection open without another byte.
    WriteThenHang(Vec<u8>),
    /// Writes these bytes, then closes (FIN).
    WriteThenClose(Vec<u8>),
}

/// A TCP server speaking just enough HTTP to misbehave: for resets, truncated and endless
/// bodies. Stops when dropped.
pub struct RawServer {
    addr: SocketAddr,
    accepted: Arc<AtomicU32>,
    task: JoinHandle<()>,
}

impl RawServer {
    pub async fn start(script: RawScript) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicU32::new(0));
        let counter = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve_raw(stream, script.clone()));
            }
        });
        RawServer {
            addr,
            accepted,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u32 {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_raw(mut stream: TcpStream, script: RawScript) {
    let mut buf = [0_u8; 4096];
    // Wait for the request, so what follows hits an exchange in progress.
    let _ = stream.read(&mut buf).await;
    match script {
        RawScript::Reset => {
            stream.set_zero_linger().unwrap();
        }
        RawScript::WriteThenHang(bytes) => {
            let _ = stream.write_all(&bytes).await;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        RawScript::WriteThenClose(bytes) => {
            let _ = stream.write_all(&bytes).await;
        }
    }
}

/// A [`RawServer`] that resets every connection once the request has arrived.
pub async fn reset_server() -> RawServer {
    RawServer::start(RawScript::Reset).await
}
