//! What the integration tests of every crate share: removing what a test created on the
//! machine's services — PostgreSQL and MariaDB databases, JetStream event stores — also from
//! `Drop`, which cannot await and also runs while a test panics, so a failed test leaves nothing
//! behind either.
//!
//! Clean-up is best effort: a failure is returned (or said on stderr by the callers that want
//! to), never a reason to fail a test that passed.

#![forbid(unsafe_code)]

use sqlx::Connection;
use std::future::Future;

/// The machine's PostgreSQL, as its administrator (trust authentication).
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The machine's MariaDB, as root without a password.
pub const MARIADB_ADMIN_URL: &str = "mysql://root@127.0.0.1:3306";

/// Runs the future `make` builds to completion on a runtime of its own thread and returns its
/// output (`Err` when it panicked). For clean-up in `Drop`, which runs outside async code or
/// inside a runtime that must not be blocked. The future is built on that thread, so it need
/// not be `Send`.
pub fn block_on_thread<F, Fut, T>(make: F) -> std::thread::Result<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
            .block_on(make())
    })
    .join()
}

/// Drops PostgreSQL database `name` if it exists, ending its sessions (`WITH (FORCE)`).
pub async fn drop_postgres_database(name: &str) -> Result<(), sqlx::Error> {
    let mut admin = sqlx::PgConnection::connect(POSTGRES_ADMIN_URL).await?;
    let sql = format!(
        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
        name.replace('"', "\"\"")
    );
    sqlx::raw_sql(&sql).execute(&mut admin).await?;
    admin.close().await
}

/// Runs `sql` on the machine's MariaDB as root (test set-up and clean-up).
pub async fn mariadb_exec(sql: &str) -> Result<(), sqlx::Error> {
    let mut admin = sqlx::MySqlConnection::connect(MARIADB_ADMIN_URL).await?;
    sqlx::raw_sql(sql).execute(&mut admin).await?;
    admin.close().await
}

/// Drops MariaDB database `name` if it exists.
pub async fn drop_mariadb_database(name: &str) -> Result<(), sqlx::Error> {
    mariadb_exec(&format!(
        "DROP DATABASE IF EXISTS `{}`",
        name.replace('`', "``")
    ))
    .await
}

/// Deletes the event store (stream and snapshot bucket) of stream prefix `prefix` on the NATS
/// server at `nats_url`.
pub async fn delete_event_store(nats_url: &str, prefix: &str) -> Result<(), String> {
    let config = eventlog::EventStoreConfig {
        nats_url: nats_url.to_owned(),
        names: eventlog::StreamNames::new(prefix, None).map_err(|err| err.to_string())?,
    };
    let store = eventlog::EventStore::connect(&config)
        .await
        .map_err(|err| err.to_string())?;
    store
        .delete_scratch_store()
        .await
        .map_err(|err| err.to_string())
}

/// A `moto_server` (S3 and IAM, from `pip install "moto[server]"`, which `.ci/run` installs) on
/// a free port of 127.0.0.1, killed when dropped (also when the test panicked).
pub struct MotoServer {
    pub port: u16,
    process: std::process::Child,
}

impl MotoServer {
    /// Starts a server with `env` set (e.g. moto's `INITIAL_NO_AUTH_ACTION_COUNT`) and waits
    /// until it accepts connections.
    pub async fn start(env: &[(&str, &str)]) -> MotoServer {
        let port = free_port();
        let mut process = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("moto_server is needed: pip install 'moto[server]' (see .ci/run)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "moto_server did not start"
            );
            if let Some(status) = process.try_wait().expect("moto_server's status") {
                panic!("moto_server exited: {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        MotoServer { port, process }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A port nothing listens on right now (the OS picks it; a race with another process taking it
/// before the caller binds is possible but rare on a test machine).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free local port")
}

/// `len` bytes of deterministic noise (xorshift from `seed`): the body of a test file that must
/// match no format's signature.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A file of `len` bytes that starts with `magic` (a format's real header) and goes on with
/// [`noise`].
pub fn file_with_magic(magic: &[u8], seed: u64, len: usize) -> Vec<u8> {
    let mut bytes = magic.to_vec();
    bytes.extend(noise(seed, len.saturating_sub(magic.len())));
    bytes
}
