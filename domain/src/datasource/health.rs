//! The health of a data source: a rolling [`HealthWindow`] of recent probe outcomes, and
//! [`assess`], which turns it (with the configuration and the server's own figures) into a
//! [`HealthAssessment`]: a status, latency percentiles, error and availability counts, and
//! [`Recommendation`]s a user can act on.
//!
//! Pure like the rest of the domain: `commands` probes the source through `connectors` and feeds
//! the outcomes in; the assessment travels in the `HealthAssessed` event, which the decider
//! records only when it differs meaningfully from the previous one
//! ([`HealthAssessment::differs_meaningfully`]).
//!
//! The assessment holds no floating-point numbers: latencies are whole microseconds and rates
//! are kept as counts (`failures` of `samples`). Events are hashed over their re-serialized JSON,
//! and integers are the only numbers that are guaranteed to survive that round trip unchanged.
//!
//! ```
//! use domain::datasource::*;
//!
//! let config = DataSourceConfigInput {
//!     name: Some("Sales".into()),
//!     kind: Some("postgresql".into()),
//!     host: Some("db.internal".into()),
//!     ..Default::default()
//! }
//! .parse()
//! .unwrap();
//! let mut window = HealthWindow::new(20);
//! for latency_us in [900, 1_100, 1_000] {
//!     window.record(ProbeOutcome::Ok { latency_us });
//! }
//! let assessment =
//!     assess(&window, &config, &ServerFigures::default(), &HealthThresholds::default()).unwrap();
//! assert_eq!(assessment.status, HealthStatus::Healthy);
//! assert_eq!(assessment.latency_p50_us, Some(1_000));
//! assert_eq!(assessment.error_rate(), 0.0);
//! ```

use super::config::DataSourceConfig;
use super::events::FailureCategory;
use super::values::{keyword_enum, Location, SslMode};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};
use std::fmt;

keyword_enum! {
    /// How a data source is doing, judged from its recent probes.
    pub enum HealthStatus ("health status") {
        /// It answers, quickly enough, with connections to spare.
        Healthy = "healthy",
        /// It answers, but something needs attention: latency, intermittent or rising errors,
        /// saturated connections.
        Degraded = "degraded",
        /// The latest probe failed, or at least half of the recent ones did.
        Unhealthy = "unhealthy",
    }
}

keyword_enum! {
    /// How urgent a recommendation is.
    pub enum Severity ("severity") {
        Info = "info",
        Warning = "warning",
        Critical = "critical",
    }
}

keyword_enum! {
    /// What a recommendation is about; stable, for filters and alert rules.
    pub enum RecommendationCode ("recommendation code") {
        /// The latest probe failed; the message says where to look for its category.
        ConnectionFailing = "connection_failing",
        /// The 95th percentile of the probe round trip is over the threshold.
        HighLatency = "high_latency",
        /// A cloud or hybrid source is configured without TLS.
        TlsDisabled = "tls_disabled",
        /// The server's connections are nearly all in use.
        PoolSaturated = "pool_saturated",
        /// Many recent probes failed although the latest answered.
        HighErrorRate = "high_error_rate",
        /// The newer half of the window failed clearly more often than the older half.
        RisingErrorRate = "rising_error_rate",
    }
}

/// The outcome of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeOutcome {
    /// The source answered; `latency_us` is the round trip of its trivial query.
    Ok { latency_us: u64 },
    /// The probe failed; the message is the connector's diagnostic (without secrets).
    Failed {
        category: FailureCategory,
        message: String,
    },
}

impl ProbeOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, ProbeOutcome::Ok { .. })
    }
}

/// The most recent probe outcomes of one source, oldest first, at most `capacity` of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthWindow {
    capacity: usize,
    outcomes: VecDeque<ProbeOutcome>,
}

impl Default for HealthWindow {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl HealthWindow {
    /// Twenty probes: twenty minutes of history at the default interval of one minute.
    pub const DEFAULT_CAPACITY: usize = 20;

    /// An empty window keeping the last `capacity` outcomes (at least one).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            capacity,
            outcomes: VecDeque::with_capacity(capacity),
        }
    }

    /// Adds an outcome, dropping the oldest when the window is full.
    pub fn record(&mut self, outcome: ProbeOutcome) {
        if self.outcomes.len() == self.capacity {
            self.outcomes.pop_front();
        }
        self.outcomes.push_back(outcome);
    }

    pub fn len(&self) -> usize {
        self.outcomes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outcomes.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The outcomes, oldest first.
    pub fn outcomes(&self) -> impl Iterator<Item = &ProbeOutcome> {
        self.outcomes.iter()
    }

    /// The most recent outcome.
    pub fn latest(&self) -> Option<&ProbeOutcome> {
        self.outcomes.back()
    }

    /// Probes in the window that failed.
    pub fn failures(&self) -> usize {
        failures(self.outcomes.iter())
    }

    /// The `percentile` (0–100) of the successful probes' latencies, by nearest rank; `None`
    /// when no probe in the window succeeded.
    pub fn latency_percentile_us(&self, percentile: u32) -> Option<u64> {
        let mut latencies: Vec<u64> = self
            .outcomes
            .iter()
            .filter_map(|outcome| match outcome {
                ProbeOutcome::Ok { latency_us } => Some(*latency_us),
                ProbeOutcome::Failed { .. } => None,
            })
            .collect();
        if latencies.is_empty() {
            return None;
        }
        latencies.sort_unstable();
        // Nearest rank: the smallest value with at least `percentile` % of the values at or
        // below it; rank = ceil(p × n / 100), 1-based.
        let n = latencies.len();
        let rank = (percentile.min(100) as usize * n).div_ceil(100).max(1);
        Some(latencies[rank - 1])
    }

    /// The failure shares of the older and the newer half of the window (the middle probe of
    /// an odd count belongs to the newer half); `None` with fewer than `min_samples` probes.
    pub fn error_trend(&self, min_samples: usize) -> Option<(Share, Share)> {
        let n = self.outcomes.len();
        if n < min_samples.max(2) {
            return None;
        }
        let half = n / 2;
        let older = Share::new(failures(self.outcomes.range(..half)), half);
        let newer = Share::new(failures(self.outcomes.range(half..)), n - half);
        Some((older, newer))
    }
}

fn failures<'a>(outcomes: impl Iterator<Item = &'a ProbeOutcome>) -> usize {
    outcomes.filter(|outcome| !outcome.is_ok()).count()
}

/// `part` of `whole`, compared exactly (no floating point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub part: usize,
    pub whole: usize,
}

impl Share {
    fn new(part: usize, whole: usize) -> Self {
        Self { part, whole }
    }

    /// Whether `part / whole >= numerator / denominator`.
    fn at_least(&self, ratio: Ratio) -> bool {
        self.whole > 0 && self.part * ratio.denominator >= ratio.numerator * self.whole
    }

    /// Percent, for messages.
    fn percent(&self) -> f64 {
        if self.whole == 0 {
            0.0
        } else {
            100.0 * self.part as f64 / self.whole as f64
        }
    }
}

/// A threshold expressed as a fraction, so that comparisons stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub numerator: usize,
    pub denominator: usize,
}

impl Ratio {
    pub const fn new(numerator: usize, denominator: usize) -> Self {
        Self {
            numerator,
            denominator,
        }
    }
}

/// Where the recommendations start. The defaults suit a probe that is one trivial query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthThresholds {
    /// p95 of the probe round trip above which latency is a warning (default 250 ms: far more
    /// than any same-region round trip, so crossing it means distance, congestion or load).
    pub high_latency_us: u64,
    /// p95 above which latency is critical (default 1 s).
    pub critical_latency_us: u64,
    /// Share of the server's connections in use from which the pool counts as saturated
    /// (default 80 %); critical from `critical_pool_saturation` (default 95 %).
    pub pool_saturation: Ratio,
    pub critical_pool_saturation: Ratio,
    /// Share of failed probes that is a warning while the latest probe still answers
    /// (default 10 %).
    pub high_error_rate: Ratio,
    /// Share of failed probes that makes the source unhealthy (default 50 %).
    pub unhealthy_error_rate: Ratio,
    /// How much more often (in share of probes) the newer half of the window must fail than the
    /// older half for the error rate to count as rising (default 20 percentage points).
    pub rising_error_margin: Ratio,
    /// Fewest probes in the window before a trend is judged (default 6).
    pub min_trend_samples: usize,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            high_latency_us: 250_000,
            critical_latency_us: 1_000_000,
            pool_saturation: Ratio::new(80, 100),
            critical_pool_saturation: Ratio::new(95, 100),
            high_error_rate: Ratio::new(10, 100),
            unhealthy_error_rate: Ratio::new(50, 100),
            rising_error_margin: Ratio::new(20, 100),
            min_trend_samples: 6,
        }
    }
}

/// What the server said about itself in the latest successful probe, where the engine exposes
/// it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFigures {
    pub server_version: Option<String>,
    /// Client connections open on the server (all databases / clients, not only PurSight's).
    pub active_connections: Option<u64>,
    /// The server's connection limit (`max_connections`, `maxclients`).
    pub max_connections: Option<u64>,
    /// Size of the source's database (PostgreSQL, MySQL) or memory in use (Redis), in bytes.
    pub storage_bytes: Option<u64>,
    /// Seconds since the server started.
    pub server_uptime_secs: Option<u64>,
}

/// Why the latest probe failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ProbeFailure {
    pub category: FailureCategory,
    /// The connector's diagnostic, at most 2000 characters, never a secret.
    pub message: String,
}

/// One piece of advice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    pub code: RecommendationCode,
    pub severity: Severity,
    /// What was measured and what to do about it.
    pub message: String,
}

/// The health of a source over its recent probes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HealthAssessment {
    pub status: HealthStatus,
    /// Probes in the window the figures are computed over.
    pub samples: u32,
    /// Of those, the probes that failed. The error rate is `failures / samples`, the uptime
    /// (share of probes answered) `1 - failures / samples`.
    pub failures: u32,
    /// Median round trip of the successful probes, in microseconds.
    pub latency_p50_us: Option<u64>,
    /// 95th percentile round trip of the successful probes, in microseconds.
    pub latency_p95_us: Option<u64>,
    pub server_version: Option<String>,
    /// Client connections open on the server, where the engine tells.
    pub active_connections: Option<u64>,
    /// The server's connection limit, where the engine tells.
    pub max_connections: Option<u64>,
    /// Database size (PostgreSQL, MySQL) or memory in use (Redis), in bytes.
    pub storage_bytes: Option<u64>,
    /// Seconds since the server started, where the engine tells.
    pub server_uptime_secs: Option<u64>,
    /// Why the latest probe failed, when it did.
    pub last_error: Option<ProbeFailure>,
    /// Most severe first.
    pub recommendations: Vec<Recommendation>,
}

/// A p95 must move by more than this share of its previous value to be news...
const P95_RELATIVE_MOVE: Ratio = Ratio::new(1, 2);
/// ...and by more than this many microseconds, so that sub-millisecond jitter on a local network
/// (0.3 ms → 0.6 ms is +100 %) does not record an event on every check.
const P95_ABSOLUTE_FLOOR_US: u64 = 10_000;

impl HealthAssessment {
    /// Failed share of the probes, 0.0–1.0.
    pub fn error_rate(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            f64::from(self.failures) / f64::from(self.samples)
        }
    }

    /// Answered share of the probes, 0.0–1.0.
    pub fn uptime(&self) -> f64 {
        if self.samples == 0 {
            0.0
        } else {
            1.0 - self.error_rate()
        }
    }

    /// The recommendation codes, as a set.
    pub fn codes(&self) -> HashSet<RecommendationCode> {
        self.recommendations.iter().map(|r| r.code).collect()
    }

    /// Whether this assessment is news compared with `previous`: another status, another set of
    /// recommendation codes, or a p95 latency that appeared, vanished or moved by more than
    /// 50 % (and more than 10 ms).
    pub fn differs_meaningfully(&self, previous: &HealthAssessment) -> bool {
        self.status != previous.status
            || self.codes() != previous.codes()
            || p95_moved(previous.latency_p95_us, self.latency_p95_us)
    }
}

fn p95_moved(before: Option<u64>, now: Option<u64>) -> bool {
    match (before, now) {
        (None, None) => false,
        (Some(before), Some(now)) => {
            let moved = before.abs_diff(now);
            moved > P95_ABSOLUTE_FLOOR_US
                && u128::from(moved) * P95_RELATIVE_MOVE.denominator as u128
                    > u128::from(before) * P95_RELATIVE_MOVE.numerator as u128
        }
        _ => true,
    }
}

/// Assesses the window of a source with configuration `config`; `figures` are from the latest
/// successful probe. `None` for an empty window (nothing was measured).
///
/// Status: unhealthy when the latest probe failed or at least half the window did; degraded
/// when any recommendation about how the source runs applies (latency, saturation, error rate);
/// healthy otherwise. `tls_disabled` is about how the source is configured, not how it runs, so
/// it is reported without changing the status.
pub fn assess(
    window: &HealthWindow,
    config: &DataSourceConfig,
    figures: &ServerFigures,
    thresholds: &HealthThresholds,
) -> Option<HealthAssessment> {
    let latest = window.latest()?;
    let samples = window.len();
    let errors = Share::new(window.failures(), samples);
    let p50 = window.latency_percentile_us(50);
    let p95 = window.latency_percentile_us(95);
    let mut advice = Vec::new();

    let last_error = match latest {
        ProbeOutcome::Failed { category, message } => {
            advice.push(connection_failing(*category));
            Some(ProbeFailure {
                category: *category,
                message: message.clone(),
            })
        }
        ProbeOutcome::Ok { .. } => {
            if errors.part > 0 && errors.at_least(thresholds.high_error_rate) {
                advice.push(Recommendation {
                    code: RecommendationCode::HighErrorRate,
                    severity: Severity::Warning,
                    message: format!(
                        "{} of the last {} probes failed ({:.0} %) although the source answers now: \
                         look for intermittent network drops, failovers, restarts or connection \
                         limits being hit",
                        errors.part,
                        errors.whole,
                        errors.percent()
                    ),
                });
            }
            None
        }
    };
    if let Some((older, newer)) = window.error_trend(thresholds.min_trend_samples) {
        if rising(older, newer, thresholds.rising_error_margin) {
            advice.push(Recommendation {
                code: RecommendationCode::RisingErrorRate,
                severity: Severity::Warning,
                message: format!(
                    "errors are rising: {:.0} % of the older probes failed, {:.0} % of the newer \
                     ones; investigate before the source becomes unreachable",
                    older.percent(),
                    newer.percent()
                ),
            });
        }
    }
    if let Some(p95) = p95.filter(|p95| *p95 > thresholds.high_latency_us) {
        let critical = p95 > thresholds.critical_latency_us;
        advice.push(Recommendation {
            code: RecommendationCode::HighLatency,
            severity: if critical {
                Severity::Critical
            } else {
                Severity::Warning
            },
            message: format!(
                "p95 round trip of a trivial query is {} (threshold {}): run PurSight in the \
                 source's network or region, check the server's load, or route reads to a replica",
                millis(p95),
                millis(thresholds.high_latency_us)
            ),
        });
    }
    if let (Some(active), Some(max)) = (figures.active_connections, figures.max_connections) {
        let used = Share::new(active as usize, max as usize);
        if used.at_least(thresholds.pool_saturation) {
            let critical = used.at_least(thresholds.critical_pool_saturation);
            let ours = config.pool.pool_size + config.pool.max_overflow;
            advice.push(Recommendation {
                code: RecommendationCode::PoolSaturated,
                severity: if critical {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                message: format!(
                    "{active} of the server's {max} connections are in use ({:.0} %) and \
                     PurSight's pool may open up to {ours} more: lower pool_size/max_overflow, \
                     put a connection pooler (e.g. PgBouncer) in front, or raise the server's \
                     connection limit",
                    used.percent()
                ),
            });
        }
    }
    if matches!(config.location, Location::Cloud | Location::Hybrid)
        && config
            .ssl_config
            .as_ref()
            .is_some_and(|ssl| ssl.mode == SslMode::Disable)
    {
        advice.push(Recommendation {
            code: RecommendationCode::TlsDisabled,
            severity: Severity::Critical,
            message: format!(
                "TLS is disabled for a {} source: credentials and data cross networks you do \
                 not control in plain text; set ssl_config.mode to verify_full with the \
                 provider's CA",
                config.location
            ),
        });
    }
    // Most severe first; equal severities keep the order above.
    advice.sort_by_key(|r| std::cmp::Reverse(severity_rank(r.severity)));

    let status = if !latest.is_ok() || errors.at_least(thresholds.unhealthy_error_rate) {
        HealthStatus::Unhealthy
    } else if advice
        .iter()
        .any(|r| r.code != RecommendationCode::TlsDisabled)
    {
        HealthStatus::Degraded
    } else {
        HealthStatus::Healthy
    };
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Some(HealthAssessment {
        status,
        samples: count(samples),
        failures: count(errors.part),
        latency_p50_us: p50,
        latency_p95_us: p95,
        server_version: figures.server_version.clone(),
        active_connections: figures.active_connections,
        max_connections: figures.max_connections,
        storage_bytes: figures.storage_bytes,
        server_uptime_secs: figures.server_uptime_secs,
        last_error,
        recommendations: advice,
    })
}

/// Whether the newer share exceeds the older one by at least `margin`:
/// `newer/n - older/o >= margin`, compared in integers.
fn rising(older: Share, newer: Share, margin: Ratio) -> bool {
    if older.whole == 0 || newer.whole == 0 || newer.part == 0 {
        return false;
    }
    // newer.part/newer.whole - older.part/older.whole >= m/d
    // ⇔ d·(newer.part·older.whole - older.part·newer.whole) >= m·newer.whole·older.whole
    let lhs = (newer.part * older.whole) as i128 - (older.part * newer.whole) as i128;
    lhs * margin.denominator as i128 >= (margin.numerator * newer.whole * older.whole) as i128
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 0,
        Severity::Warning => 1,
        Severity::Critical => 2,
    }
}

fn millis(us: u64) -> String {
    format!("{:.1} ms", us as f64 / 1000.0)
}

/// The advice for a failing source, by what failed.
fn connection_failing(category: FailureCategory) -> Recommendation {
    let advice = match category {
        FailureCategory::Unreachable => {
            "the source cannot be reached: check that the server runs, the host and port, DNS, \
             and firewalls or security groups between PurSight and the source"
        }
        FailureCategory::Auth => {
            "the credentials were refused or the secret could not be resolved: check the user, \
             rotate the password_secret, and the user's grants"
        }
        FailureCategory::Tls => {
            "the TLS handshake failed: check ssl_config (mode, CA file) against the server's \
             certificate and whether the server offers TLS"
        }
        FailureCategory::Timeout => {
            "the source did not answer in time: check network latency and the server's load, \
             or raise the timeout"
        }
        FailureCategory::Config => {
            "the configuration cannot describe a working connection (e.g. a missing database \
             or an unreadable certificate file): fix the configuration"
        }
    };
    Recommendation {
        code: RecommendationCode::ConnectionFailing,
        severity: Severity::Critical,
        message: format!("latest probe failed ({category}): {advice}"),
    }
}
