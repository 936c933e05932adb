//! A real SQS and DynamoDB API for tests: one moto server per test binary, started on first
//! use on a free loopback port and stopped when the test process ends; and `AwsWorld`, the
//! AWS adapters over fresh, uniquely named tables and queues.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

use authhooks::adapters::dynamodb::{
    create_tables, DynamoEndpointStore, DynamoFailureStore, DynamoStateStore, TableNames,
};
use authhooks::adapters::sqs::{create_all_queues, SqsQueue};
use authhooks::system::AwsBackend;

const BINARY: &str = "moto_server";
const START_TIMEOUT: Duration = Duration::from_secs(20);
const INSTALL_HINT: &str = "install it with `pip install 'moto[server]'` and make sure \
     `moto_server` is on PATH";

/// moto in the background, and a watcher that ends it when the test process is gone.
///
/// A static's `Drop` never runs, so the server cannot be stopped from inside the tests.
/// Instead a small shell starts it and polls the test process's pid: when that pid is gone
/// (the tests finished, panicked or were killed), the shell kills moto. The shell also
/// exits if moto dies, which is how a failed start is noticed.
///
/// moto runs through `python3 -c` with [`FIFO_ORDER_FIX`] applied first.
const WATCHER: &str = r#"
python3 -c "$1" -H 127.0.0.1 -p "$2" >/dev/null 2>&1 &
moto=$!
trap 'kill "$moto" 2>/dev/null' EXIT HUP INT TERM
while kill -0 "$3" 2>/dev/null && kill -0 "$moto" 2>/dev/null; do sleep 0.5; done
"#;

/// moto 5.2's FIFO receive, replaced so that the ordered-delivery tests judge authhooks and
/// not moto (each flaw shows up as false inversions). moto judges a group in flight by its
/// set of handed-out messages rather than by visibility (a message that timed out still
/// blocks its group, so moto hands out the group's last message first; one hidden again by
/// a hold after leaving that set blocks nothing, and moto honours holds and deletes with
/// any receipt a message ever had, so an overdue consumer's late hold can hide a head
/// while its line is handed out); it takes that set once per call, before a long poll's
/// waits; and receives, holds and deletes run concurrently. Here a group is in flight
/// exactly while one of its messages is invisible, as on AWS, judged afresh by each short
/// poll, with receives, holds and deletes taking turns. Standard queues keep moto's own
/// receive. And DynamoDB's writes take turns too: moto evaluates a condition and writes
/// without a lock, so two concurrent conditional writes to one item can both succeed,
/// which DynamoDB never allows (two claims on one delivery both won, now and then).
/// Then moto's server starts with the arguments given.
const FIFO_ORDER_FIX: &str = include_str!("../moto/moto_server.py");

pub struct Moto {
    endpoint_url: String,
    /// The watcher shell; kept only so the handle lives as long as the server.
    _watcher: Mutex<Child>,
}

static SHARED: OnceLock<Moto> = OnceLock::new();
static NEXT_NAME: AtomicU64 = AtomicU64::new(0);

impl Moto {
    /// The server of this test binary, started on first use.
    pub fn shared() -> &'static Moto {
        SHARED.get_or_init(Moto::start)
    }

    pub fn endpoint_url(&self) -> &str {
        &self.endpoint_url
    }

    /// SDK configuration for this server: region us-east-1, static test credentials.
    pub async fn sdk_config(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint_url)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .load()
            .await
    }

    /// A resource name no other test in this process uses, so tests can run in parallel
    /// on one server without resetting each other.
    pub fn unique(prefix: &str) -> String {
        let n = NEXT_NAME.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{}-{n}", std::process::id())
    }

    /// A new secret in Secrets Manager holding `value`, as docs/deploy.md creates the ingest
    /// secret (a plain string); its ARN and first version id.
    pub async fn create_secret(&self, value: &str) -> (String, String) {
        let created = aws_sdk_secretsmanager::Client::new(&self.sdk_config().await)
            .create_secret()
            .name(Self::unique("authhooks/ingest-secret"))
            .secret_string(value)
            .send()
            .await
            .unwrap();
        (
            created.arn().unwrap().to_owned(),
            created.version_id().unwrap().to_owned(),
        )
    }

    fn start() -> Moto {
        assert!(
            on_path(BINARY),
            "`{BINARY}` was not found: the AWS adapter tests need moto; {INSTALL_HINT}"
        );
        // A port can be taken between choosing and binding it; another one is tried then.
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::start_on(free_port()) {
                Ok(moto) => return moto,
                Err(e) => last_error = e,
            }
        }
        panic!("moto did not start: {last_error}; {INSTALL_HINT}");
    }

    fn start_on(port: u16) -> Result<Moto, String> {
        let mut watcher = Command::new("sh")
            .args(["-c", WATCHER, "moto-watcher", FIFO_ORDER_FIX])
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run sh: {e}"))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if answers_http(addr) {
                return Ok(Moto {
                    endpoint_url: format!("http://{addr}"),
                    _watcher: Mutex::new(watcher),
                });
            }
            if let Ok(Some(status)) = watcher.try_wait() {
                return Err(format!("{BINARY} on port {port} exited ({status})"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // Not killed: its shell would die without stopping moto. Left alone, the watcher
        // stops it when the tests end.
        drop(watcher);
        Err(format!(
            "{BINARY} did not answer on port {port} within {START_TIMEOUT:?}"
        ))
    }
}

fn on_path(binary: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(binary).is_file()))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("cannot bind a loopback port: {e}"))
}

/// Whether an HTTP server answers there (any status will do).
fn answers_http(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    let mut head = [0u8; 5];
    stream.write_all(request).is_ok() && stream.read_exact(&mut head).is_ok() && &head == b"HTTP/"
}

/// Options for the queues of an [`AwsWorld`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    pub max_receive_count: u32,
    pub visibility_timeout_secs: u32,
}

impl Default for QueueOptions {
    fn default() -> Self {
        Self {
            max_receive_count: 5,
            visibility_timeout_secs: 30,
        }
    }
}

/// The AWS adapters over fresh tables and queues of their own on the shared moto server.
#[derive(Debug, Clone)]
pub struct AwsWorld {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub tables: TableNames,
    pub endpoints: DynamoEndpointStore,
    pub state: DynamoStateStore,
    pub failures: DynamoFailureStore,
    pub queue: SqsQueue,
    /// The ordered (FIFO) deliveries queue.
    pub ordered: SqsQueue,
    /// The priority lane's deliveries queue.
    pub priority: SqsQueue,
    pub dlq: SqsQueue,
    pub ordered_dlq: SqsQueue,
    /// The same tables and queues, for building a system over them.
    pub backend: AwsBackend,
}

/// An [`AwsWorld`] with the default queue options.
pub async fn aws_world() -> AwsWorld {
    AwsWorld::create(QueueOptions::default()).await
}

impl AwsWorld {
    pub async fn create(options: QueueOptions) -> AwsWorld {
        let config = Moto::shared().sdk_config().await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let tables = TableNames::named(Moto::unique);
        create_tables(&dynamodb, &tables)
            .await
            .unwrap_or_else(|e| panic!("creating tables on moto: {e}"));
        let urls = create_all_queues(
            &sqs,
            &Moto::unique("q"),
            options.max_receive_count,
            options.visibility_timeout_secs,
        )
        .await
        .unwrap_or_else(|e| panic!("creating queues on moto: {e}"));
        let backend = AwsBackend::new(&dynamodb, &sqs, &tables, &urls);
        AwsWorld {
            endpoints: (*backend.endpoints).clone(),
            state: (*backend.state).clone(),
            failures: (*backend.failures).clone(),
            queue: (*backend.deliveries).clone(),
            ordered: (*backend.ordered).clone(),
            priority: (*backend.priority).clone(),
            dlq: (*backend.dlq).clone(),
            ordered_dlq: (*backend.ordered_dlq).clone(),
            backend,
            dynamodb,
            sqs,
            tables,
        }
    }
}
