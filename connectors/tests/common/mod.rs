//! Test support shared by the connector tests: unique names and free ports, a tiny HTTP/1.1
//! server (here), PostgreSQL clusters
//! with TLS and a streaming replica ([`pg_cluster`]) and PgBouncer ([`pgbouncer`]).
//!
//! The HTTP server is for the secret-store tests, bound to `127.0.0.1:0`.
//!
//! Vault and Azure Key Vault cannot run on a build machine (AWS Secrets Manager can: its tests use
//! moto), so each of their tests starts this server as a stand-in that answers in the service's documented response format and
//! records every request, so the test can check what the resolver sent (paths, headers, bodies).
//! It speaks just enough HTTP for `reqwest`: one request per connection, `Content-Length` bodies,
//! `Connection: close`.

#![allow(dead_code)]

pub mod pg_cluster;
pub mod pgbouncer;

#[allow(unused_imports)] // not every test binary needs it
pub use pg_cluster::free_port;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A name no other test (or earlier run) uses: process id, clock and a counter.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "{prefix}{:x}{:x}{:x}",
        std::process::id(),
        nanos & 0xff_ffff_ffff,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Drops database `name` (`WITH (FORCE)`) on the machine's PostgreSQL, from a `Drop` (see
/// [`testkit::block_on_thread`]). A failure is said on stderr, not raised.
pub fn drop_machine_database(name: &str) {
    let owned = name.to_owned();
    let dropped =
        testkit::block_on_thread(
            move || async move { testkit::drop_postgres_database(&owned).await },
        );
    if !matches!(dropped, Ok(Ok(()))) {
        eprintln!("could not drop test database {name}");
    }
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Lowercased names, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the handler answers.
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            body: body.to_string(),
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

type Handler = dyn Fn(&Recorded) -> Reply + Send + Sync;

/// A running stub; stops when dropped.
pub struct StubServer {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: JoinHandle<()>,
}

impl StubServer {
    pub async fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let recorded = Arc::clone(&requests);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handler = Arc::clone(&handler);
                let recorded = Arc::clone(&recorded);
                tokio::spawn(async move { serve(stream, handler.as_ref(), &recorded).await });
            }
        });
        Self {
            base_url,
            requests,
            task,
        }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for StubServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut stream: TcpStream,
    handler: &Handler,
    recorded: &Mutex<Vec<Recorded>>,
) -> Option<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[header_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let request = Recorded {
        method,
        target,
        headers,
        body,
    };
    let reply = handler(&request);
    // Recorded before answering, so a test that has its answer also sees the request.
    recorded.lock().unwrap().push(request);
    let mut response = format!(
        "HTTP/1.1 {} Stub\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    response.push_str(&reply.body);
    stream.write_all(response.as_bytes()).await.ok()?;
    stream.shutdown().await.ok();
    Some(())
}

/// Asserts that `secret` appears in none of the texts.
pub fn assert_hidden(secret: &str, texts: &[String]) {
    for text in texts {
        assert!(!text.contains(secret), "{secret:?} leaked into: {text}");
    }
}

/// The non-null sampled values of one column of a sample.
pub fn sampled(sample: &connectors::probe::AssetSample, column: &str) -> Vec<String> {
    sample
        .columns
        .iter()
        .find(|c| c.column == column)
        .unwrap_or_else(|| panic!("no column {column} in the sample"))
        .values
        .iter()
        .flatten()
        .cloned()
        .collect()
}

/// Asserts what a sample of a table of oversized values holds: every binary value as the hex of
/// its first 160 bytes, starting with `magic_hex`, and every text value cut to 4,096 characters.
pub fn assert_bounded_sample(
    sample: &connectors::probe::AssetSample,
    binary: &str,
    magic_hex: &str,
    text: &str,
    rows: usize,
) {
    let values = sampled(sample, binary);
    assert_eq!(values.len(), rows);
    for value in values {
        assert_eq!(value.len(), 2 * 160, "the first 160 bytes, as hex");
        assert!(value.starts_with(magic_hex), "{value}");
    }
    for value in sampled(sample, text) {
        assert_eq!(value.chars().count(), 4096);
    }
}
