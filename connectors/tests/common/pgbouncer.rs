//! A PgBouncer of a test's own (Debian's `/usr/sbin/pgbouncer`, installed by `.ci/run`) in
//! front of the machine's PostgreSQL at 127.0.0.1:5432: transaction pooling, a free port, its
//! configuration and log in a temporary directory, killed and deleted on drop.
//!
//! One server connection per database and user (`default_pool_size = 1`), so that every client
//! of a test shares the same server session between transactions: anything a client leaves in a
//! session (a named prepared statement) is met by the next client, as in production, only
//! deterministically. No `ignore_startup_parameters`: PgBouncer's default, which refuses startup
//! parameters it does not track.

use super::pg_cluster::{free_port, give_to_server_user, running_as_root, unique_dir};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PGBOUNCER: &str = "/usr/sbin/pgbouncer";

/// A running PgBouncer; see the module docs.
pub struct PgBouncer {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl PgBouncer {
    /// Starts PgBouncer for every database of 127.0.0.1:`upstream_port`, user `postgres` with
    /// `trust` on both sides, and waits until it accepts connections.
    pub fn start(upstream_port: u16) -> PgBouncer {
        assert!(
            std::path::Path::new(PGBOUNCER).exists(),
            "{PGBOUNCER} is missing: `apt-get install pgbouncer` (.ci/run does)"
        );
        let dir = unique_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let log = dir.join("pgbouncer.log");
        std::fs::write(dir.join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n\
                 * = host=127.0.0.1 port={upstream_port}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = trust\n\
                 auth_file = {users}\n\
                 pool_mode = transaction\n\
                 default_pool_size = 1\n\
                 max_client_conn = 100\n\
                 logfile = {log}\n",
                users = dir.join("users.txt").display(),
                log = log.display(),
            ),
        )
        .unwrap();
        give_to_server_user(&dir);
        let mut command = Command::new(PGBOUNCER);
        if running_as_root() {
            // PgBouncer refuses to run as root; `-u` drops to the user itself, so the child we
            // hold is PgBouncer (not a `runuser` in front of it) and killing it stops it.
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(dir.join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pgbouncer");
        let mut bouncer = PgBouncer { port, child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = bouncer.child.try_wait() {
                panic!("pgbouncer exited ({status}):\n{}", bouncer.log());
            }
            assert!(
                Instant::now() < deadline,
                "pgbouncer did not listen on {port} within 10 s:\n{}",
                bouncer.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        bouncer
    }

    /// PgBouncer's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Err(error) = std::fs::remove_dir_all(&self.dir) {
            eprintln!("could not delete {}: {error}", self.dir.display());
        }
    }
}
