//! [`Session`]: one Redis connection that rides out transient failures, shared by discovery and
//! sampling.
//!
//! A command (or pipeline) that fails transiently is sent again, up to [`MAX_RETRIES`] times,
//! after a backoff that doubles from [`FIRST_BACKOFF`] (100, then 200 ms). Transient means:
//!
//! - the connection broke (reset, broken pipe, end of stream) or gave no answer within the
//!   response timeout. A multiplexed connection does not come back from that, so it is dropped
//!   (closing its socket) and the retry opens another with the same client;
//! - the server asked to come back later: `BUSY` (a script is running), `LOADING` (the dataset is
//!   being loaded), `TRYAGAIN`, `MASTERDOWN`, `CLUSTERDOWN`. In a pipeline that keeps per-command
//!   errors, one such reply fails — and retries — the whole pipeline: while it lasts, the server
//!   answers every command that way.
//!
//! Anything else (`WRONGTYPE`, `NOPERM`, a syntax error) fails the same way again and is not
//! retried. Only reads go through here, so sending one twice is harmless.
//!
//! The first connection is not retried: a refused port or a wrong password is reported at once,
//! as in a connection test. The counters go to [`ScanMetrics`]: `queries_executed` (every send,
//! retries included), `retries` and `errors`.

use super::connect::{classify, client, connect, is_connection_problem, secret};
use super::options::RedisTarget;
use crate::probe::{ConnectionFailure, DiscoveryError};
use domain::datasource::FailureCategory;
use domain::scan::ScanMetrics;
use redis::aio::MultiplexedConnection;
use redis::{Client, Cmd, FromRedisValue, Pipeline, RedisError, Value};
use std::time::Duration;

/// Retries of one failed command before giving up.
pub(super) const MAX_RETRIES: u64 = 2;
/// The wait before the first retry; doubled for each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Error codes by which the server says "not now".
const TRANSIENT_CODES: [&str; 5] = ["BUSY", "LOADING", "TRYAGAIN", "MASTERDOWN", "CLUSTERDOWN"];

/// One connection to a target (re-opened after it breaks) and the counters of what was sent.
pub(super) struct Session<'t> {
    target: &'t RedisTarget,
    client: Client,
    connect_timeout: Duration,
    response_timeout: Duration,
    /// `None` once the connection broke, until the next send opens another.
    connection: Option<MultiplexedConnection>,
    pub(super) metrics: ScanMetrics,
}

#[derive(Clone, Copy)]
enum Request<'r> {
    Command(&'r Cmd),
    Pipeline(&'r Pipeline),
}

/// Why one send failed.
enum Failure {
    /// The command or pipeline was sent and failed.
    Command(RedisError),
    /// Opening a new connection after a broken one failed.
    Connect(ConnectionFailure),
}

impl Failure {
    fn is_transient(&self) -> bool {
        match self {
            Failure::Command(error) => is_transient(error),
            Failure::Connect(failure) => matches!(
                failure.category,
                FailureCategory::Unreachable | FailureCategory::Timeout
            ),
        }
    }
}

impl<'t> Session<'t> {
    /// Connects to `target` (the whole opening bounded by `connect_timeout`); every command
    /// afterwards is bounded by `response_timeout`.
    pub(super) async fn open(
        target: &'t RedisTarget,
        connect_timeout: Duration,
        response_timeout: Duration,
    ) -> Result<Session<'t>, ConnectionFailure> {
        let client = client(target).await?;
        let connection = connect(&client, target, connect_timeout, response_timeout).await?;
        Ok(Session {
            target,
            client,
            connect_timeout,
            response_timeout,
            connection: Some(connection),
            metrics: ScanMetrics::default(),
        })
    }

    /// Sends `command`, retrying transient failures.
    pub(super) async fn query<T: FromRedisValue>(
        &mut self,
        command: &Cmd,
    ) -> Result<T, DiscoveryError> {
        self.send(Request::Command(command)).await
    }

    /// Sends `pipe`, retrying transient failures (the whole pipeline).
    pub(super) async fn query_pipe<T: FromRedisValue>(
        &mut self,
        pipe: &Pipeline,
    ) -> Result<T, DiscoveryError> {
        self.send(Request::Pipeline(pipe)).await
    }

    async fn send<T: FromRedisValue>(&mut self, request: Request<'_>) -> Result<T, DiscoveryError> {
        let mut backoff = FIRST_BACKOFF;
        let mut retries = 0;
        loop {
            self.metrics.queries_executed += 1;
            let failure = match self.attempt(request).await {
                Ok(value) => match T::from_redis_value(value) {
                    Ok(value) => return Ok(value),
                    Err(unexpected) => Failure::Command(unexpected.into()),
                },
                Err(failure) => failure,
            };
            self.metrics.errors += 1;
            if !failure.is_transient() || retries >= MAX_RETRIES {
                let error = self.give_up(failure, retries);
                tracing::warn!(retries, %error, "Redis command failed");
                return Err(error);
            }
            tracing::debug!(
                retries,
                backoff_ms = u64::try_from(backoff.as_millis()).unwrap_or(u64::MAX),
                error = %self.message(&failure),
                "Redis command failed, retrying"
            );
            retries += 1;
            self.metrics.retries += 1;
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }

    /// One send on the current connection, or on a new one when the last broke.
    async fn attempt(&mut self, request: Request<'_>) -> Result<Value, Failure> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => connect(
                &self.client,
                self.target,
                self.connect_timeout,
                self.response_timeout,
            )
            .await
            .map_err(Failure::Connect)?,
        };
        let connection = self.connection.insert(connection);
        let outcome = match request {
            Request::Command(command) => command.query_async::<Value>(connection).await,
            Request::Pipeline(pipe) => pipe.query_async::<Value>(connection).await,
        };
        outcome
            .and_then(|value| match transient_reply(&value) {
                Some(error) => Err(error),
                None => Ok(value),
            })
            .map_err(|error| {
                if error.is_io_error() || error.is_unrecoverable_error() {
                    // Dropping the connection closes its socket; the next send opens another.
                    self.connection = None;
                }
                Failure::Command(error)
            })
    }

    /// The failure as the caller reports it, the password scrubbed from the message.
    fn give_up(&self, failure: Failure, retries: u64) -> DiscoveryError {
        let after = |mut failure: ConnectionFailure| {
            if retries > 0 {
                failure.message = format!("{} (after {retries} retries)", failure.message);
            }
            failure
        };
        match failure {
            Failure::Connect(failure) => DiscoveryError::Connection(after(failure)),
            Failure::Command(error) => {
                let failure = classify(&error, secret(self.target));
                if is_connection_problem(&error) {
                    DiscoveryError::Connection(after(failure))
                } else {
                    DiscoveryError::Query {
                        message: failure.message,
                        retries,
                    }
                }
            }
        }
    }

    fn message(&self, failure: &Failure) -> String {
        match failure {
            Failure::Command(error) => classify(error, secret(self.target)).message,
            Failure::Connect(failure) => failure.message.clone(),
        }
    }
}

/// Whether sending again may succeed where `error` failed.
fn is_transient(error: &RedisError) -> bool {
    let transient = |code: &str| TRANSIENT_CODES.contains(&code);
    error.is_io_error()
        || error.is_connection_dropped()
        || error.is_timeout()
        || error.code().is_some_and(transient)
        // A pipeline's error holds the server error of each command that failed.
        || error
            .clone()
            .into_server_errors()
            .is_some_and(|errors| errors.iter().any(|(_, error)| transient(error.code())))
}

/// The first "not now" reply among the replies of a pipeline that keeps per-command errors.
fn transient_reply(value: &Value) -> Option<RedisError> {
    let Value::Array(replies) = value else {
        return None;
    };
    replies.iter().find_map(|reply| match reply {
        Value::ServerError(error) if TRANSIENT_CODES.contains(&error.code()) => {
            Some(RedisError::from(error.clone()))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    /// The error the server's reply `line` (without `-` and CRLF) is read as.
    fn server_error(line: &str) -> Value {
        redis::parse_redis_value(format!("-{line}\r\n").as_bytes()).unwrap()
    }

    fn error(line: &str) -> RedisError {
        server_error(line).extract_error().unwrap_err()
    }

    #[test]
    fn busy_loading_and_broken_connections_are_transient() {
        for line in [
            "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
            "LOADING Redis is loading the dataset in memory",
            "TRYAGAIN Multiple keys request during rehashing of slot",
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        ] {
            assert!(is_transient(&error(line)), "{line}");
        }
        for kind in [
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::UnexpectedEof,
            io::ErrorKind::TimedOut,
        ] {
            assert!(
                is_transient(&RedisError::from(io::Error::from(kind))),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn refused_commands_are_not_retried() {
        for line in [
            "WRONGTYPE Operation against a key holding the wrong kind of value",
            "NOPERM User scanner has no permissions to run the 'scan' command",
            "ERR unknown command 'SCAN'",
        ] {
            assert!(!is_transient(&error(line)), "{line}");
        }
    }

    #[test]
    fn a_not_now_reply_inside_a_lenient_pipeline_fails_it() {
        let busy = Value::Array(vec![
            Value::Okay,
            server_error("WRONGTYPE Operation against a key holding the wrong kind of value"),
            server_error("BUSY Redis is busy running a script."),
        ]);
        assert_eq!(transient_reply(&busy).unwrap().code(), Some("BUSY"));
        let refused = Value::Array(vec![server_error("WRONGTYPE wrong kind of value")]);
        assert!(transient_reply(&refused).is_none());
    }
}
