//! [`Pace`]: how hard a PostgreSQL discovery pushes the server, and how `auto` moves while the
//! scan runs. Pure: it is fed measured query latencies and failures and answers with the
//! concurrency and batch size to use next, so the rules are unit-tested without a server.
//!
//! | strategy | connections | relations per batch |
//! |---|---|---|
//! | conservative | 1 | 50 |
//! | balanced | 2 | 200 |
//! | aggressive | 4 | 500 |
//!
//! `auto` starts balanced and steps down to conservative once, for the rest of the scan, the first
//! time a catalog query is slower than [`Pace::SLOW_QUERY`] or fails. It never steps back up: a
//! server that just struggled is not probed again within the same scan (no flapping).

use domain::scan::ScanStrategy;
use std::time::Duration;

/// The concrete knobs of one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Knobs {
    /// Catalog queries in flight at once (and the pool's size).
    pub connections: u32,
    /// Relation OIDs per batched catalog query.
    pub batch_size: usize,
}

impl Knobs {
    pub(crate) fn of(strategy: ScanStrategy) -> Self {
        match strategy {
            ScanStrategy::Conservative => Knobs {
                connections: 1,
                batch_size: 50,
            },
            ScanStrategy::Aggressive => Knobs {
                connections: 4,
                batch_size: 500,
            },
            ScanStrategy::Balanced | ScanStrategy::Auto => Knobs {
                connections: 2,
                batch_size: 200,
            },
        }
    }
}

/// The strategy a discovery asked for and the one it currently runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pace {
    requested: ScanStrategy,
    current: ScanStrategy,
}

impl Pace {
    /// A catalog query slower than this makes `auto` step down. Catalog queries over a batch of a
    /// few hundred relations answer in milliseconds on a healthy server; seconds mean the server
    /// (or the network) is under pressure.
    pub(crate) const SLOW_QUERY: Duration = Duration::from_secs(2);

    pub(crate) fn new(requested: ScanStrategy) -> Self {
        Self {
            requested,
            current: requested.initial(),
        }
    }

    pub(crate) fn current(&self) -> ScanStrategy {
        self.current
    }

    pub(crate) fn knobs(&self) -> Knobs {
        Knobs::of(self.current)
    }

    /// The most connections this scan can ever use: what it starts with (strategies only step
    /// down).
    pub(crate) fn max_connections(&self) -> u32 {
        Knobs::of(self.requested.initial()).connections
    }

    /// Records one query's outcome; returns whether the strategy changed.
    pub(crate) fn observe(&mut self, latency: Duration, failed: bool) -> bool {
        let struggling = failed || latency > Self::SLOW_QUERY;
        if self.requested == ScanStrategy::Auto
            && struggling
            && self.current != ScanStrategy::Conservative
        {
            self.current = ScanStrategy::Conservative;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Duration = Duration::from_millis(5);
    const SLOW: Duration = Duration::from_secs(3);

    #[test]
    fn fixed_strategies_never_move() {
        for strategy in [
            ScanStrategy::Conservative,
            ScanStrategy::Balanced,
            ScanStrategy::Aggressive,
        ] {
            let mut pace = Pace::new(strategy);
            assert!(!pace.observe(SLOW, true));
            assert_eq!(pace.current(), strategy);
        }
        assert_eq!(Pace::new(ScanStrategy::Aggressive).knobs().connections, 4);
        assert_eq!(Pace::new(ScanStrategy::Conservative).knobs().batch_size, 50);
    }

    #[test]
    fn auto_starts_balanced_and_steps_down_once_on_latency() {
        let mut pace = Pace::new(ScanStrategy::Auto);
        assert_eq!(pace.current(), ScanStrategy::Balanced);
        assert_eq!(pace.max_connections(), 2);
        assert!(!pace.observe(FAST, false));
        assert!(pace.observe(SLOW, false));
        assert_eq!(pace.current(), ScanStrategy::Conservative);
        assert_eq!(pace.knobs(), Knobs::of(ScanStrategy::Conservative));
        assert!(!pace.observe(SLOW, false), "already down: no second change");
        assert!(!pace.observe(FAST, false), "never steps back up");
        assert_eq!(pace.current(), ScanStrategy::Conservative);
    }

    #[test]
    fn auto_steps_down_on_an_error() {
        let mut pace = Pace::new(ScanStrategy::Auto);
        assert!(pace.observe(FAST, true));
        assert_eq!(pace.current(), ScanStrategy::Conservative);
    }
}
