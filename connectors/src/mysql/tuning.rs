//! How hard a MySQL discovery pushes the server: [`Tuning`] maps each concrete
//! [`ScanStrategy`] to connections, tables per catalog query and a query timeout, and [`Tuner`]
//! moves an `auto` scan down from balanced to conservative when the server shows strain.
//!
//! | strategy | connections (batches in flight) | tables per batch | query timeout |
//! |---|---|---|---|
//! | conservative | 1 | 25 | 2 × the configured timeout |
//! | balanced | 2 | 100 | the configured timeout |
//! | aggressive | 4 | 500 | the configured timeout |
//!
//! The tuner is pure (latencies are measured by the caller and passed in) so its decisions are
//! tested without a server.

use domain::scan::ScanStrategy;
use std::time::Duration;

/// The knobs of one concrete strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tuning {
    /// The concrete strategy these knobs belong to (never `auto`).
    pub strategy: ScanStrategy,
    /// Pool size, and the most batches fetched at once.
    pub connections: u32,
    /// Tables (and views) whose columns, keys and indexes one catalog query fetches.
    pub batch_size: usize,
    /// Upper bound of one catalog query.
    pub query_timeout: Duration,
}

impl Tuning {
    /// The knobs of `strategy` (`auto` gets balanced's, where it starts).
    pub fn of(strategy: ScanStrategy, query_timeout: Duration) -> Self {
        let strategy = strategy.initial();
        let (connections, batch_size, timeout) = match strategy {
            ScanStrategy::Conservative => (1, 25, query_timeout.saturating_mul(2)),
            ScanStrategy::Aggressive => (4, 500, query_timeout),
            ScanStrategy::Balanced | ScanStrategy::Auto => (2, 100, query_timeout),
        };
        Self {
            strategy,
            connections,
            batch_size,
            query_timeout: timeout,
        }
    }
}

/// The current tuning of one discovery, and the rule that moves it.
///
/// Only an `auto` scan moves, and only down: a query slower than a quarter of its timeout, or a
/// failed query, steps it one level more cautious (balanced → conservative). Going back up
/// within one scan is not worth the flapping; the next scan starts balanced again.
#[derive(Debug, Clone)]
pub(super) struct Tuner {
    adaptive: bool,
    configured_timeout: Duration,
    current: Tuning,
}

impl Tuner {
    pub fn new(requested: ScanStrategy, query_timeout: Duration) -> Self {
        Self {
            adaptive: requested == ScanStrategy::Auto,
            configured_timeout: query_timeout,
            current: Tuning::of(requested, query_timeout),
        }
    }

    pub fn current(&self) -> Tuning {
        self.current
    }

    /// Takes one query's outcome into account; returns the new strategy when it moved.
    pub fn observe(&mut self, latency: Duration, succeeded: bool) -> Option<ScanStrategy> {
        if !self.adaptive {
            return None;
        }
        let strained = !succeeded || latency > self.current.query_timeout / 4;
        let lower = match self.current.strategy {
            ScanStrategy::Aggressive => ScanStrategy::Balanced,
            ScanStrategy::Balanced => ScanStrategy::Conservative,
            ScanStrategy::Conservative | ScanStrategy::Auto => return None,
        };
        if !strained {
            return None;
        }
        self.current = Tuning::of(lower, self.configured_timeout);
        Some(lower)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(8);

    #[test]
    fn strategies_map_to_connections_and_batch_sizes() {
        let knobs = |s| {
            let t = Tuning::of(s, TIMEOUT);
            (t.strategy, t.connections, t.batch_size, t.query_timeout)
        };
        use ScanStrategy::*;
        assert_eq!(
            knobs(Conservative),
            (Conservative, 1, 25, Duration::from_secs(16))
        );
        assert_eq!(knobs(Balanced), (Balanced, 2, 100, TIMEOUT));
        assert_eq!(knobs(Aggressive), (Aggressive, 4, 500, TIMEOUT));
        assert_eq!(knobs(Auto), (Balanced, 2, 100, TIMEOUT));
    }

    #[test]
    fn auto_steps_down_on_slow_or_failed_queries_and_stops_at_conservative() {
        let mut tuner = Tuner::new(ScanStrategy::Auto, TIMEOUT);
        assert_eq!(tuner.observe(Duration::from_millis(20), true), None);
        assert_eq!(tuner.current().strategy, ScanStrategy::Balanced);
        assert_eq!(
            tuner.observe(Duration::from_secs(3), true),
            Some(ScanStrategy::Conservative),
            "3 s is more than a quarter of 8 s"
        );
        assert_eq!(tuner.current().connections, 1);
        assert_eq!(tuner.observe(Duration::from_millis(5), false), None);
        assert_eq!(tuner.current().strategy, ScanStrategy::Conservative);

        let mut failing = Tuner::new(ScanStrategy::Auto, TIMEOUT);
        assert_eq!(
            failing.observe(Duration::from_millis(5), false),
            Some(ScanStrategy::Conservative)
        );
    }

    #[test]
    fn fixed_strategies_never_move() {
        for strategy in [ScanStrategy::Aggressive, ScanStrategy::Balanced] {
            let mut tuner = Tuner::new(strategy, TIMEOUT);
            assert_eq!(tuner.observe(Duration::from_secs(60), false), None);
            assert_eq!(tuner.current().strategy, strategy);
        }
    }
}
