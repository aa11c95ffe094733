//! Read failover between a primary and its replica, for the reads that may be a little stale
//! (samples for classification, previews, statistics); DDL discovery never comes here, it reads
//! the primary.
//!
//! [`ReadRouter`] is the policy and nothing else: it is told the time and the outcome of every
//! read, and says where the next read goes. No I/O, no clock, so its unit tests can play any
//! history. [`ReadHealth`] shares one router between the clones of a connection target, so every
//! read of a run (and every run that reuses the target) feeds the same history.
//!
//! How it behaves, with the [`FailoverPolicy`] knobs in brackets:
//!
//! 1. Reads go to the primary while it is healthy: a replica may lag, the primary does not.
//! 2. A read is *bad* when it failed for the server's sake (unreachable, timed out, shutting
//!    down) or took longer than [`max_latency`](FailoverPolicy::max_latency). The primary
//!    *trips* after [`max_consecutive_bad`](FailoverPolicy::max_consecutive_bad) bad reads in a
//!    row, or when at least [`max_error_rate`](FailoverPolicy::max_error_rate) of its last
//!    [`window`](FailoverPolicy::window) reads were bad (judged from
//!    [`min_reads`](FailoverPolicy::min_reads) reads on).
//! 3. Tripped, reads go to the replica. The primary is tried again with one read (a *probe*)
//!    after a backoff: [`first_backoff`](FailoverPolicy::first_backoff), doubled for every
//!    failed probe and every further trip, at most [`max_backoff`](FailoverPolicy::max_backoff).
//!    Other reads keep going to the replica while the probe is out.
//! 4. A good probe brings reads back to the primary. The backoff is forgotten only once the
//!    primary has then served for the [`cool_down`](FailoverPolicy::cool_down) without tripping:
//!    a primary that comes and goes is tried less and less often instead of flapping.
//!
//! A source sets the latency, the bad reads in a row, the error rate and the cool-down in its
//! `replica_config` (`failover_*`, see [`FailoverPolicy::for_source`]); the rest are defaults.

use domain::datasource::DataSourceConfig;
use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The thresholds and waits of a [`ReadRouter`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FailoverPolicy {
    /// A read of the primary slower than this counts as bad.
    pub max_latency: Duration,
    /// Bad reads in a row that trip the primary at once.
    pub max_consecutive_bad: u32,
    /// Share of bad reads among the last [`window`](Self::window) that trips the primary.
    pub max_error_rate: f64,
    /// Reads of the primary the error rate is computed over.
    pub window: usize,
    /// Reads needed in the window before the error rate is judged.
    pub min_reads: usize,
    /// Wait after the first trip before the primary is probed.
    pub first_backoff: Duration,
    /// Upper bound of the doubled waits.
    pub max_backoff: Duration,
    /// How long the primary must serve after coming back before its past trips are forgotten.
    pub cool_down: Duration,
}

impl Default for FailoverPolicy {
    /// Sampling reads take up to a few seconds on a healthy server; ten mean trouble. A primary
    /// that is down is retried after 5 s, then 10 s, 20 s, … up to every 5 minutes.
    fn default() -> Self {
        Self {
            max_latency: Duration::from_secs(10),
            max_consecutive_bad: 3,
            max_error_rate: 0.5,
            window: 10,
            min_reads: 4,
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(300),
            cool_down: Duration::from_secs(120),
        }
    }
}

impl FailoverPolicy {
    /// The defaults, with the thresholds the source's `replica_config` sets
    /// (`failover_latency_ms`, `failover_consecutive_errors`, `failover_error_percent`,
    /// `failover_cool_down_secs`; the domain has checked their ranges).
    pub fn for_source(config: &DataSourceConfig) -> Self {
        let defaults = Self::default();
        let Some(replica) = &config.replica_config else {
            return defaults;
        };
        Self {
            max_latency: replica
                .failover_latency_ms
                .map_or(defaults.max_latency, |ms| Duration::from_millis(ms.into())),
            max_consecutive_bad: replica
                .failover_consecutive_errors
                .unwrap_or(defaults.max_consecutive_bad),
            max_error_rate: replica
                .failover_error_percent
                .map_or(defaults.max_error_rate, |percent| {
                    f64::from(percent) / 100.0
                }),
            cool_down: replica
                .failover_cool_down_secs
                .map_or(defaults.cool_down, |secs| Duration::from_secs(secs.into())),
            ..defaults
        }
    }

    /// The wait before the next probe after `strikes` earlier trips and failed probes.
    pub fn backoff(&self, strikes: u32) -> Duration {
        let factor = 2u32.saturating_pow(strikes.min(31));
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Which server a read goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Server {
    Primary,
    Replica,
}

impl Server {
    pub fn as_str(&self) -> &'static str {
        match self {
            Server::Primary => "primary",
            Server::Replica => "replica",
        }
    }
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one read goes, handed back with its outcome to [`ReadRouter::record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub server: Server,
    /// The read tries a tripped primary again; its outcome decides whether reads come back.
    pub probe: bool,
    /// The trip this route was chosen under, so that a read which started before a trip and
    /// ends after it is not mistaken for a probe.
    epoch: u64,
}

/// How one read of the primary went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The server answered (whatever it answered) after this long.
    Answered(Duration),
    /// The server could not be reached, did not answer in time, or went away mid-read.
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reads go to the primary, which has been serving since `since`.
    Primary { since: Instant },
    /// Reads go to the replica; the primary is probed from `retry_at` on.
    Replica { retry_at: Instant },
}

/// The failover policy's state: where reads go and why. See the module docs.
#[derive(Debug, Clone)]
pub struct ReadRouter {
    policy: FailoverPolicy,
    state: State,
    /// Bad (`true`) or good reads of the primary since it last started serving, newest last.
    recent: VecDeque<bool>,
    consecutive_bad: u32,
    /// Trips and failed probes since the primary last served a whole cool-down.
    strikes: u32,
    /// Bumped on every trip.
    epoch: u64,
}

impl ReadRouter {
    pub fn new(policy: FailoverPolicy, now: Instant) -> Self {
        Self {
            policy,
            state: State::Primary { since: now },
            recent: VecDeque::with_capacity(policy.window),
            consecutive_bad: 0,
            strikes: 0,
            epoch: 0,
        }
    }

    pub fn policy(&self) -> &FailoverPolicy {
        &self.policy
    }

    /// Where reads go now, without choosing a route (a probe due is not started).
    pub fn serving(&self) -> Server {
        match self.state {
            State::Primary { .. } => Server::Primary,
            State::Replica { .. } => Server::Replica,
        }
    }

    /// The route of the next read. When a probe is due, this read is the probe, and the next
    /// one is pushed a backoff away so that only one read at a time tries a tripped primary.
    pub fn choose(&mut self, now: Instant) -> Route {
        let epoch = self.epoch;
        match self.state {
            State::Primary { .. } => Route {
                server: Server::Primary,
                probe: false,
                epoch,
            },
            State::Replica { retry_at } if now >= retry_at => {
                self.state = State::Replica {
                    retry_at: now + self.policy.backoff(self.strikes),
                };
                Route {
                    server: Server::Primary,
                    probe: true,
                    epoch,
                }
            }
            State::Replica { .. } => Route {
                server: Server::Replica,
                probe: false,
                epoch,
            },
        }
    }

    /// Books the outcome of a read of the primary taken by `route`. Reads of the replica say
    /// nothing about the primary and are ignored, as are reads that started before the latest
    /// trip.
    pub fn record(&mut self, route: Route, outcome: ReadOutcome, now: Instant) {
        if route.server != Server::Primary || route.epoch != self.epoch {
            return;
        }
        let bad = match outcome {
            ReadOutcome::Failed => true,
            ReadOutcome::Answered(latency) => latency > self.policy.max_latency,
        };
        match self.state {
            State::Replica { .. } if route.probe => {
                if bad {
                    self.state = State::Replica {
                        retry_at: now + self.policy.backoff(self.strikes),
                    };
                    self.strikes = self.strikes.saturating_add(1);
                } else {
                    self.state = State::Primary { since: now };
                    self.recent.clear();
                    self.consecutive_bad = 0;
                }
            }
            // Reads of the primary other than the probe are chosen only while it serves, and a
            // trip since then changed the epoch (see above).
            State::Replica { .. } => {}
            State::Primary { since } => {
                if self.recent.len() == self.policy.window.max(1) {
                    self.recent.pop_front();
                }
                self.recent.push_back(bad);
                self.consecutive_bad = if bad { self.consecutive_bad + 1 } else { 0 };
                if self.should_trip() {
                    self.trip(now);
                } else if !bad && now.duration_since(since) >= self.policy.cool_down {
                    self.strikes = 0;
                }
            }
        }
    }

    fn should_trip(&self) -> bool {
        if self.consecutive_bad >= self.policy.max_consecutive_bad.max(1) {
            return true;
        }
        let reads = self.recent.len();
        if reads < self.policy.min_reads.max(1) {
            return false;
        }
        let bad = self.recent.iter().filter(|bad| **bad).count();
        bad as f64 / reads as f64 >= self.policy.max_error_rate
    }

    fn trip(&mut self, now: Instant) {
        self.state = State::Replica {
            retry_at: now + self.policy.backoff(self.strikes),
        };
        self.strikes = self.strikes.saturating_add(1);
        self.epoch += 1;
        self.recent.clear();
        self.consecutive_bad = 0;
    }
}

/// One [`ReadRouter`] shared by every clone of a connection target.
///
/// It is runtime state, not a connection parameter: two targets built from the same
/// configuration compare equal whatever their routers went through.
#[derive(Clone)]
pub struct ReadHealth {
    router: Arc<Mutex<ReadRouter>>,
}

impl ReadHealth {
    pub fn new(policy: FailoverPolicy) -> Self {
        Self {
            router: Arc::new(Mutex::new(ReadRouter::new(policy, Instant::now()))),
        }
    }

    /// The route of the next read ([`ReadRouter::choose`]).
    pub fn choose(&self) -> Route {
        self.lock().choose(Instant::now())
    }

    /// Books a read's outcome ([`ReadRouter::record`]), logging a change of server.
    pub fn record(&self, route: Route, outcome: ReadOutcome) {
        let mut router = self.lock();
        let before = router.serving();
        router.record(route, outcome, Instant::now());
        let after = router.serving();
        if before != after {
            match after {
                Server::Replica => tracing::warn!(
                    ?outcome,
                    strikes = router.strikes,
                    "primary over its latency or error threshold; reads fail over to the replica"
                ),
                Server::Primary => tracing::info!("primary answered again; reads return to it"),
            }
        }
    }

    /// Where reads go now.
    pub fn serving(&self) -> Server {
        self.lock().serving()
    }

    pub fn policy(&self) -> FailoverPolicy {
        *self.lock().policy()
    }

    fn lock(&self) -> MutexGuard<'_, ReadRouter> {
        // The router's state is valid after any panic (every update is a plain assignment).
        self.router
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for ReadHealth {
    fn default() -> Self {
        Self::new(FailoverPolicy::default())
    }
}

impl PartialEq for ReadHealth {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl fmt::Debug for ReadHealth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHealth")
            .field("serving", &self.serving())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_sets_its_thresholds_and_keeps_the_other_defaults() {
        use crate::options::test_support::*;
        let mut input = input("postgresql", Some("primary.internal"));
        assert_eq!(
            FailoverPolicy::for_source(&parse(input.clone())),
            FailoverPolicy::default()
        );
        input.replica_config = Some(domain::datasource::ReplicaConfigInput {
            failover_latency_ms: Some(2_500),
            failover_consecutive_errors: Some(5),
            failover_error_percent: Some(30),
            failover_cool_down_secs: Some(0),
            ..replica("replica.internal", None)
        });
        let policy = FailoverPolicy::for_source(&parse(input.clone()));
        assert_eq!(
            policy,
            FailoverPolicy {
                max_latency: Duration::from_millis(2_500),
                max_consecutive_bad: 5,
                max_error_rate: 0.3,
                cool_down: Duration::ZERO,
                ..FailoverPolicy::default()
            }
        );
        // The PostgreSQL target's reads follow them.
        let target = crate::postgres::PostgresTarget::from_config(&parse(input), None).unwrap();
        assert_eq!(target.reads.policy(), policy);
    }

    const MS: Duration = Duration::from_millis(1);

    fn policy() -> FailoverPolicy {
        FailoverPolicy {
            max_latency: 100 * MS,
            max_consecutive_bad: 3,
            max_error_rate: 0.5,
            window: 6,
            min_reads: 4,
            first_backoff: 1_000 * MS,
            max_backoff: 5_000 * MS,
            cool_down: 10_000 * MS,
        }
    }

    /// A router and a clock the test moves by hand.
    struct Story {
        router: ReadRouter,
        start: Instant,
        now: Instant,
    }

    impl Story {
        fn new() -> Self {
            let start = Instant::now();
            Self {
                router: ReadRouter::new(policy(), start),
                start,
                now: start,
            }
        }

        fn at(&mut self, ms: u64) -> &mut Self {
            self.now = self.start + Duration::from_millis(ms);
            self
        }

        /// One read: routed, then answered in `latency` or failed (`None`).
        fn read(&mut self, latency: Option<u64>) -> Route {
            let route = self.router.choose(self.now);
            let outcome = match latency {
                Some(ms) => ReadOutcome::Answered(Duration::from_millis(ms)),
                None => ReadOutcome::Failed,
            };
            self.router.record(route, outcome, self.now);
            route
        }

        fn serving(&self) -> Server {
            self.router.serving()
        }
    }

    #[test]
    fn a_healthy_primary_serves_every_read() {
        let mut story = Story::new();
        for i in 0..50 {
            let route = story.at(i * 10).read(Some(20));
            assert_eq!(route.server, Server::Primary);
            assert!(!route.probe);
        }
        assert_eq!(story.serving(), Server::Primary);
    }

    #[test]
    fn failures_in_a_row_trip_the_primary() {
        let mut story = Story::new();
        story.read(None);
        story.read(None);
        assert_eq!(
            story.serving(),
            Server::Primary,
            "two failures are not three"
        );
        story.read(None);
        assert_eq!(story.serving(), Server::Replica);
        let next = story.read(Some(5));
        assert_eq!(next.server, Server::Replica);
    }

    #[test]
    fn slow_answers_count_like_failures() {
        let mut story = Story::new();
        story.read(Some(150));
        story.read(Some(150));
        story.read(Some(100)); // at the threshold: still good, the streak ends
        assert_eq!(story.serving(), Server::Primary);
        story.read(Some(150));
        assert_eq!(story.serving(), Server::Replica, "3 slow reads of 4");
    }

    #[test]
    fn an_error_rate_over_the_window_trips_without_a_streak() {
        let mut story = Story::new();
        // bad, good, bad, good: 2 of 4 = the 50 % threshold, never 3 in a row.
        story.read(None);
        story.read(Some(10));
        story.read(None);
        assert_eq!(
            story.serving(),
            Server::Primary,
            "3 reads are below min_reads"
        );
        story.read(Some(10));
        assert_eq!(story.serving(), Server::Replica);
    }

    #[test]
    fn the_primary_is_probed_after_the_backoff_and_reads_return() {
        let mut story = Story::new();
        for _ in 0..3 {
            story.read(None);
        }
        assert_eq!(story.at(999).read(Some(5)).server, Server::Replica);
        let probe = story.at(1_000).read(Some(5));
        assert_eq!(probe.server, Server::Primary);
        assert!(probe.probe);
        assert_eq!(story.serving(), Server::Primary);
        assert_eq!(story.at(1_001).read(Some(5)).server, Server::Primary);
    }

    #[test]
    fn failed_probes_double_the_wait_up_to_the_cap() {
        let mut story = Story::new();
        for _ in 0..3 {
            story.read(None);
        }
        // Probes at 1 s, then 2 s, 4 s, 5 s (capped), 5 s after each failed one.
        let mut at = 0;
        for wait in [1_000, 2_000, 4_000, 5_000, 5_000] {
            assert_eq!(story.at(at + wait - 1).read(None).server, Server::Replica);
            let probe = story.at(at + wait).read(None);
            assert!(probe.probe, "probe expected {wait} ms after {at}");
            at += wait;
        }
        assert_eq!(story.serving(), Server::Replica);
    }

    #[test]
    fn only_one_probe_is_out_at_a_time() {
        let mut story = Story::new();
        for _ in 0..3 {
            story.read(None);
        }
        story.at(1_000);
        let probe = story.router.choose(story.now);
        let other = story.router.choose(story.now);
        assert!(probe.probe);
        assert_eq!(other.server, Server::Replica);
        story
            .router
            .record(probe, ReadOutcome::Answered(5 * MS), story.now);
        assert_eq!(story.serving(), Server::Primary);
    }

    #[test]
    fn reads_that_started_before_a_trip_do_not_count_as_probes() {
        let mut story = Story::new();
        let slow = story.router.choose(story.now);
        for _ in 0..3 {
            story.read(None);
        }
        assert_eq!(story.serving(), Server::Replica);
        // The read that was in flight when the primary tripped comes back fine.
        story
            .router
            .record(slow, ReadOutcome::Answered(5 * MS), story.now);
        assert_eq!(story.serving(), Server::Replica);
    }

    #[test]
    fn a_flapping_primary_is_tried_less_and_less_often() {
        let mut story = Story::new();
        for _ in 0..3 {
            story.read(None);
        }
        // Back after the first backoff (1 s) …
        assert!(story.at(1_000).read(Some(5)).probe);
        assert_eq!(story.serving(), Server::Primary);
        // … and down again within the cool-down: the next wait is doubled, not reset.
        story.at(2_000);
        for _ in 0..3 {
            story.read(None);
        }
        assert_eq!(story.serving(), Server::Replica);
        assert_eq!(story.at(3_999).read(Some(5)).server, Server::Replica);
        assert!(story.at(4_000).read(Some(5)).probe);
        assert_eq!(story.serving(), Server::Primary);
    }

    #[test]
    fn a_cool_down_served_in_full_forgets_the_backoff() {
        let mut story = Story::new();
        for _ in 0..3 {
            story.read(None);
        }
        assert!(story.at(1_000).read(Some(5)).probe);
        // Good reads for the whole cool-down (10 s) after coming back.
        story.at(11_000).read(Some(5));
        for _ in 0..3 {
            story.read(None);
        }
        assert_eq!(story.serving(), Server::Replica);
        assert!(
            story.at(12_000).read(Some(5)).probe,
            "the first backoff again"
        );
    }

    #[test]
    fn replica_reads_say_nothing_about_the_primary() {
        let mut story = Story::new();
        for _ in 0..3 {
            story.read(None);
        }
        let on_replica = story.router.choose(story.now);
        assert_eq!(on_replica.server, Server::Replica);
        story
            .router
            .record(on_replica, ReadOutcome::Failed, story.now);
        assert!(story.at(1_000).read(Some(5)).probe);
    }

    #[test]
    fn backoff_saturates() {
        let policy = FailoverPolicy::default();
        assert_eq!(policy.backoff(0), Duration::from_secs(5));
        assert_eq!(policy.backoff(1), Duration::from_secs(10));
        assert_eq!(policy.backoff(40), Duration::from_secs(300));
    }

    #[test]
    fn shared_health_is_one_history_and_not_a_parameter() {
        let health = ReadHealth::new(policy());
        let clone = health.clone();
        for _ in 0..3 {
            let route = clone.choose();
            clone.record(route, ReadOutcome::Failed);
        }
        assert_eq!(health.serving(), Server::Replica);
        assert_eq!(health, ReadHealth::default());
        assert_eq!(format!("{health:?}"), "ReadHealth { serving: Replica }");
    }
}
