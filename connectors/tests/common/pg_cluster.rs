//! PostgreSQL servers of a test's own: a cluster made with `initdb` in a temporary directory, on a
//! free port, optionally with TLS (a CA and a server certificate generated for the test with the
//! `openssl` command line) and a streaming replica made with `pg_basebackup -R`. Everything is
//! stopped and deleted when the [`PgCluster`] is dropped, passed or failed.
//!
//! The servers listen on 127.0.0.1 (password authentication only: `hostssl` lines when TLS is on,
//! `host` lines otherwise) and on a Unix socket in the cluster's directory (trust, for the test's
//! own set-up through [`PgServer::admin`]).
//!
//! `initdb` refuses to run as root, so when the tests run as root (CI does) every PostgreSQL
//! program runs as the `postgres` user through `runuser`, and the cluster's directory is handed
//! to that user. The clusters are made for speed, not durability: `fsync = off`, small buffers.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, Row};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The login role every cluster gets, with a password of its own per cluster.
pub const USER: &str = "pursight";

/// What to start.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClusterOptions {
    /// `ssl = on` with a server certificate for `localhost` (and only that name) signed by
    /// [`TlsFiles::ca`]; only `hostssl` connections are accepted over TCP.
    pub tls: bool,
    /// A streaming replica of the primary, on a port of its own.
    pub replica: bool,
}

/// Certificate files generated for one cluster.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The CA that signed the server certificate.
    pub ca: PathBuf,
    /// A CA that signed nothing the servers use.
    pub other_ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

/// One running (or stopped) PostgreSQL server of a [`PgCluster`].
#[derive(Debug)]
pub struct PgServer {
    pub port: u16,
    data: PathBuf,
    socket_dir: PathBuf,
    log: PathBuf,
    bin: PathBuf,
}

/// A primary, maybe a replica, and their files; see the module docs.
pub struct PgCluster {
    pub primary: PgServer,
    pub replica: Option<PgServer>,
    pub tls: Option<TlsFiles>,
    /// The password of [`USER`].
    pub password: String,
    root: PathBuf,
}

impl PgCluster {
    /// Makes and starts the cluster (blocking: a second or two, more with a replica).
    pub async fn start(options: ClusterOptions) -> PgCluster {
        let root = unique_dir();
        std::fs::create_dir_all(&root).expect("create the cluster directory");
        // Deleted on drop from here on, even if the set-up below fails.
        let mut cluster = PgCluster {
            primary: PgServer {
                port: 0,
                data: root.join("primary"),
                socket_dir: root.clone(),
                log: root.join("primary.log"),
                bin: postgres_bin(),
            },
            replica: None,
            tls: None,
            password: super::unique("Pw-"),
            root,
        };
        if options.tls {
            cluster.tls = Some(generate_certificates(&cluster.root));
        }
        give_to_server_user(&cluster.root);

        let primary = &mut cluster.primary;
        run(primary.command("initdb").args([
            "-D",
            path_str(&primary.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--no-locale",
            "--encoding=UTF8",
            "--no-instructions",
        ]));
        let mut conf = format!(
            "\nlisten_addresses = '127.0.0.1'\n\
             unix_socket_directories = '{socket}'\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n\
             shared_buffers = 16MB\n\
             max_connections = 40\n\
             max_wal_senders = 4\n\
             password_encryption = 'scram-sha-256'\n",
            socket = path_str(&cluster.root),
        );
        let tcp = if let Some(tls) = &cluster.tls {
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                path_str(&tls.server_cert),
                path_str(&tls.server_key)
            ));
            "hostssl"
        } else {
            "host"
        };
        append(&primary.data.join("postgresql.conf"), &conf);
        std::fs::write(
            primary.data.join("pg_hba.conf"),
            format!(
                "local all all trust\n\
                 local replication all trust\n\
                 {tcp} all all 127.0.0.1/32 scram-sha-256\n"
            ),
        )
        .expect("write pg_hba.conf");
        primary.start_on_a_free_port();

        let mut admin = cluster.primary.admin().await;
        // Two round trips: several statements in one would make an implicit transaction, which
        // CREATE DATABASE refuses.
        for statement in [
            format!("CREATE ROLE {USER} LOGIN PASSWORD '{}'", cluster.password),
            format!("CREATE DATABASE {USER} OWNER {USER}"),
        ] {
            sqlx::raw_sql(&statement)
                .execute(&mut admin)
                .await
                .expect("create the test role and database");
        }
        admin.close().await.ok();

        if options.replica {
            let replica = PgServer {
                port: 0,
                data: cluster.root.join("replica"),
                socket_dir: cluster.root.clone(),
                log: cluster.root.join("replica.log"),
                bin: cluster.primary.bin.clone(),
            };
            // Over the Unix socket (trust); `-R` writes `primary_conninfo` and `standby.signal`.
            run(replica.command("pg_basebackup").args([
                "-D",
                path_str(&replica.data),
                "-h",
                path_str(&cluster.root),
                "-p",
                &cluster.primary.port.to_string(),
                "-U",
                "postgres",
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "--no-sync",
            ]));
            let replica = cluster.replica.insert(replica);
            replica.start_on_a_free_port();
        }
        cluster
    }

    /// The replica (panics if the cluster has none).
    pub fn replica(&self) -> &PgServer {
        self.replica.as_ref().expect("a cluster with a replica")
    }

    /// Waits until the replica has replayed everything the primary has written so far.
    pub async fn wait_for_replica(&self) {
        let mut primary = self.primary.admin().await;
        let lsn: String = sqlx::query_scalar("SELECT pg_current_wal_lsn()::text")
            .fetch_one(&mut primary)
            .await
            .unwrap();
        primary.close().await.ok();
        let mut replica = self.replica().admin().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let caught_up: bool = sqlx::query_scalar(
                "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)",
            )
            .bind(&lsn)
            .fetch_one(&mut replica)
            .await
            .unwrap();
            if caught_up {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the replica did not replay {lsn} within 30 s; its log:\n{}",
                self.replica().log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        replica.close().await.ok();
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(replica) = &self.replica {
            replica.stop_now();
        }
        self.primary.stop_now();
        if let Err(error) = std::fs::remove_dir_all(&self.root) {
            eprintln!("could not delete {}: {error}", self.root.display());
        }
    }
}

impl PgServer {
    /// A superuser connection over the Unix socket, to the `postgres` database.
    pub async fn admin(&self) -> PgConnection {
        self.admin_to("postgres").await
    }

    /// A superuser connection over the Unix socket to `database`.
    pub async fn admin_to(&self, database: &str) -> PgConnection {
        let options = PgConnectOptions::new_without_pgpass()
            .socket(&self.socket_dir)
            .port(self.port)
            .username("postgres")
            .database(database);
        PgConnection::connect_with(&options)
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "admin connection to port {}: {error}\n{}",
                    self.port,
                    self.log_tail()
                )
            })
    }

    /// Starts the server again on its port and waits until it accepts connections.
    pub fn start(&self) {
        let output = self.pg_ctl_start();
        assert!(
            output.status.success(),
            "pg_ctl start on port {} failed: {}\n{}",
            self.port,
            String::from_utf8_lossy(&output.stderr),
            self.log_tail()
        );
    }

    /// `pg_ctl stop -m fast`: sessions are ended at once, the server shuts down cleanly.
    pub fn stop(&self) {
        run(self
            .command("pg_ctl")
            .args(["stop", "-D", path_str(&self.data), "-m", "fast", "-w"]));
    }

    /// Whether the server answers `SELECT pg_is_in_recovery()` with true.
    pub async fn in_recovery(&self) -> bool {
        let mut admin = self.admin().await;
        let row = sqlx::query("SELECT pg_is_in_recovery()")
            .fetch_one(&mut admin)
            .await
            .unwrap();
        admin.close().await.ok();
        row.get(0)
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    fn start_on_a_free_port(&mut self) {
        // Another test may take the port between our probe and the server's bind: try a few.
        let mut last = None;
        for _ in 0..5 {
            self.port = free_port();
            append(
                &self.data.join("postgresql.conf"),
                &format!("port = {}\n", self.port),
            );
            let output = self.pg_ctl_start();
            if output.status.success() {
                return;
            }
            last = Some(output);
        }
        let output = last.unwrap();
        panic!(
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log_tail()
        );
    }

    fn pg_ctl_start(&self) -> Output {
        self.command("pg_ctl")
            .args([
                "start",
                "-D",
                path_str(&self.data),
                "-l",
                path_str(&self.log),
                "-w",
                "-t",
                "30",
            ])
            .output()
            .expect("run pg_ctl")
    }

    /// `pg_ctl stop -m immediate`, errors ignored: for clean-up of a server that may be down.
    fn stop_now(&self) {
        if self.port == 0 || !self.data.join("postmaster.pid").exists() {
            return;
        }
        let _ = self
            .command("pg_ctl")
            .args(["stop", "-D", path_str(&self.data), "-m", "immediate", "-w"])
            .output();
    }

    /// `program` from the PostgreSQL installation, as the server user.
    fn command(&self, program: &str) -> Command {
        as_server_user(&self.bin.join(program))
    }
}

/// A command running `program` as the user PostgreSQL programs run as: the current user, or
/// `postgres` when that is root.
pub fn as_server_user(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// Whether the tests run as root (then servers run as `postgres`).
pub fn running_as_root() -> bool {
    static ROOT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ROOT.get_or_init(|| {
        let output = Command::new("id").arg("-u").output().expect("run id -u");
        String::from_utf8_lossy(&output.stdout).trim() == "0"
    })
}

/// Hands `dir` to the server user when running as root (PostgreSQL wants its data directory and
/// key file owned by the user it runs as).
pub fn give_to_server_user(dir: &Path) {
    if running_as_root() {
        run(Command::new("chown").args(["-R", "postgres:postgres", path_str(dir)]));
    }
}

/// A directory under the system's temporary directory no other test uses.
pub fn unique_dir() -> PathBuf {
    std::env::temp_dir().join(super::unique("pursight-pg-"))
}

pub use testkit::free_port;

/// The `bin` directory of the newest PostgreSQL under `/usr/lib/postgresql`.
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql/<version>/bin")
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("no /usr/lib/postgresql/<version>/bin/initdb")
}

/// A CA, a server certificate for `localhost` only (so that `verify-full` over 127.0.0.1 is a
/// host name mismatch), and a second CA that signed nothing, in `dir`.
fn generate_certificates(dir: &Path) -> TlsFiles {
    let file = |name: &str| dir.join(name);
    let files = TlsFiles {
        ca: file("ca.crt"),
        other_ca: file("other-ca.crt"),
        server_cert: file("server.crt"),
        server_key: file("server.key"),
    };
    for (cert, key, subject) in [
        (&files.ca, file("ca.key"), "/CN=PurSight test CA"),
        (&files.other_ca, file("other-ca.key"), "/CN=Unrelated CA"),
    ] {
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            subject,
            "-keyout",
            path_str(&key),
            "-out",
            path_str(cert),
        ]);
    }
    let request = file("server.csr");
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        path_str(&files.server_key),
        "-out",
        path_str(&request),
    ]);
    let extensions = file("server.ext");
    std::fs::write(
        &extensions,
        "subjectAltName = DNS:localhost\n\
         basicConstraints = CA:FALSE\n\
         keyUsage = digitalSignature\n\
         extendedKeyUsage = serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        path_str(&request),
        "-CA",
        path_str(&files.ca),
        "-CAkey",
        path_str(&file("ca.key")),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        path_str(&extensions),
        "-out",
        path_str(&files.server_cert),
    ]);
    // PostgreSQL refuses a key others can read.
    run(Command::new("chmod").args(["600", path_str(&files.server_key)]));
    files
}

fn openssl(args: &[&str]) {
    run(Command::new("openssl").args(args));
}

/// Runs `command`, panicking with its output if it fails.
fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn append(file: &Path, text: &str) {
    use std::io::Write;
    let mut handle = std::fs::OpenOptions::new()
        .append(true)
        .open(file)
        .unwrap_or_else(|error| panic!("open {}: {error}", file.display()));
    handle.write_all(text.as_bytes()).unwrap();
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temporary paths")
}
