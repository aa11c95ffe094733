//! [`replica_eligible`]: running one read that may be slightly stale (a sample, a preview,
//! statistics) on the server the target's [`ReadHealth`](crate::failover::ReadHealth) picks, and
//! telling it how the primary did. DDL discovery does not come here: it reads the primary.

use super::options::PostgresTarget;
use crate::failover::{ReadOutcome, Server};
use crate::probe::DiscoveryError;
use domain::datasource::FailureCategory;
use std::future::Future;
use std::time::Instant;

/// Runs `read` against the primary or the replica.
///
/// - Without a replica, `read` runs against the primary and nothing is recorded.
/// - Routed to the primary: its latency, or its failure when the server is to blame
///   ([`blames_the_server`]), is recorded; after such a failure the same read runs against the
///   replica at once, so a primary going down mid-run costs no read.
/// - Routed to the replica (the primary tripped): a replica that is itself unreachable leaves
///   the primary as the last resort.
///
/// Other failures (a missing table, a refused password) are returned as they are: the other
/// server would answer the same.
pub(crate) async fn replica_eligible<T, F, Fut>(
    target: &PostgresTarget,
    read: F,
) -> Result<T, DiscoveryError>
where
    // Owned: the future may not borrow a target that lives only in this function.
    F: Fn(PostgresTarget) -> Fut,
    Fut: Future<Output = Result<T, DiscoveryError>>,
{
    let Some(replica) = target.replica_target() else {
        return read(target.clone()).await;
    };
    let route = target.reads.choose();
    match route.server {
        Server::Primary => {
            let started = Instant::now();
            let outcome = read(target.clone()).await;
            match &outcome {
                Err(error) if blames_the_server(error) => {
                    target.reads.record(route, ReadOutcome::Failed);
                    tracing::warn!(%error, probe = route.probe, "the primary failed this read; reading the replica");
                    read(replica).await
                }
                _ => {
                    target
                        .reads
                        .record(route, ReadOutcome::Answered(started.elapsed()));
                    outcome
                }
            }
        }
        Server::Replica => match read(replica).await {
            Err(error) if blames_the_server(&error) => {
                tracing::warn!(%error, "the replica failed this read too; trying the primary");
                read(target.clone()).await
            }
            outcome => outcome,
        },
    }
}

/// Whether `error` says the server is unwell (unreachable, too slow, shutting down, out of
/// connections) rather than that the read itself is wrong.
pub(crate) fn blames_the_server(error: &DiscoveryError) -> bool {
    matches!(
        error,
        DiscoveryError::Connection(failure)
            if matches!(failure.category, FailureCategory::Unreachable | FailureCategory::Timeout)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failover::{FailoverPolicy, ReadHealth};
    use crate::options::test_support::*;
    use crate::probe::ConnectionFailure;
    use std::sync::Mutex;
    use std::time::Duration;

    fn target() -> PostgresTarget {
        let mut input = input("postgresql", Some("primary.internal"));
        input.replica_config = Some(replica("replica.internal", None));
        let mut target = PostgresTarget::from_config(&parse(input), None).unwrap();
        target.reads = ReadHealth::new(FailoverPolicy {
            max_consecutive_bad: 2,
            first_backoff: Duration::from_secs(3600),
            ..FailoverPolicy::default()
        });
        target
    }

    fn down(category: FailureCategory) -> DiscoveryError {
        DiscoveryError::Connection(ConnectionFailure::new(category, "boom", None))
    }

    /// Runs one read where `primary` and `replica` say how each server answers, and returns
    /// the answer and the servers asked, in order.
    async fn read_once(
        target: &PostgresTarget,
        primary: Result<(), FailureCategory>,
        replica: Result<(), FailureCategory>,
    ) -> (Result<&'static str, DiscoveryError>, Vec<&'static str>) {
        let asked = Mutex::new(Vec::new());
        let outcome = replica_eligible(target, |server| {
            let (name, answer) = if server.endpoint.host.as_str() == "primary.internal" {
                ("primary", primary)
            } else {
                ("replica", replica)
            };
            asked.lock().unwrap().push(name);
            async move { answer.map(|()| name).map_err(down) }
        })
        .await;
        (outcome, asked.into_inner().unwrap())
    }

    #[tokio::test]
    async fn a_healthy_primary_answers() {
        let target = target();
        let (answer, asked) = read_once(&target, Ok(()), Ok(())).await;
        assert_eq!(answer.unwrap(), "primary");
        assert_eq!(asked, ["primary"]);
    }

    #[tokio::test]
    async fn an_unreachable_primary_hands_the_read_to_the_replica_then_trips() {
        let target = target();
        let unreachable = Err(FailureCategory::Unreachable);
        let (answer, asked) = read_once(&target, unreachable, Ok(())).await;
        assert_eq!(answer.unwrap(), "replica");
        assert_eq!(asked, ["primary", "replica"]);
        assert_eq!(target.reads.serving(), Server::Primary);
        let (_, asked) = read_once(&target, Err(FailureCategory::Timeout), Ok(())).await;
        assert_eq!(asked, ["primary", "replica"]);
        assert_eq!(target.reads.serving(), Server::Replica);
        // Tripped: the replica first, and clones of the target know it.
        let clone = target.clone();
        let (answer, asked) = read_once(&clone, Ok(()), Ok(())).await;
        assert_eq!(answer.unwrap(), "replica");
        assert_eq!(asked, ["replica"]);
        // The primary is the last resort when the replica is down as well.
        let (answer, asked) = read_once(&clone, Ok(()), unreachable).await;
        assert_eq!(answer.unwrap(), "primary");
        assert_eq!(asked, ["replica", "primary"]);
    }

    #[tokio::test]
    async fn errors_of_the_read_itself_go_back_unchanged() {
        let target = target();
        for category in [FailureCategory::Config, FailureCategory::Auth] {
            let (answer, asked) = read_once(&target, Err(category), Ok(())).await;
            assert!(matches!(answer, Err(DiscoveryError::Connection(f)) if f.category == category));
            assert_eq!(asked, ["primary"]);
        }
        assert_eq!(target.reads.serving(), Server::Primary);
    }

    #[tokio::test]
    async fn without_a_replica_nothing_is_routed() {
        let mut target = target();
        target.replica = None;
        for _ in 0..5 {
            let (answer, asked) =
                read_once(&target, Err(FailureCategory::Unreachable), Ok(())).await;
            assert!(answer.is_err());
            assert_eq!(asked, ["primary"]);
        }
        assert_eq!(target.reads.serving(), Server::Primary);
    }
}
