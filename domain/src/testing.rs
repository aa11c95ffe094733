//! The given/when/then harness for aggregate tests, generic over [`Aggregate`]: given these events
//! happened, when this command arrives, then these events (or this error) follow. Each
//! aggregate's `tests/mod.rs` wraps [`given`] for its own types.

use crate::aggregate::Aggregate;
use std::fmt::Debug;

/// The state after `events`, ready for a command.
pub(crate) fn given<A: Aggregate>(events: Vec<A::Event>) -> Given<A> {
    Given {
        state: A::replay(&events),
    }
}

pub(crate) struct Given<A: Aggregate> {
    state: A::State,
}

impl<A: Aggregate> Given<A> {
    pub(crate) fn when(self, command: A::Command) -> When<A> {
        let result = A::decide(&self.state, &command);
        When {
            state: self.state,
            command,
            result,
        }
    }

    pub(crate) fn state(&self) -> &A::State {
        &self.state
    }
}

pub(crate) struct When<A: Aggregate> {
    state: A::State,
    command: A::Command,
    result: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> When<A>
where
    A::Event: PartialEq,
    A::Error: PartialEq + Debug,
{
    /// Asserts the decided events and returns the state they lead to.
    #[track_caller]
    pub(crate) fn then(self, expected: Vec<A::Event>) -> A::State {
        match self.result {
            Ok(events) => {
                assert_eq!(events, expected, "events decided for {:?}", self.command);
                events.iter().fold(self.state, A::evolve)
            }
            Err(error) => panic!("{:?} was refused: {error}", self.command),
        }
    }

    /// Asserts that the command records nothing.
    #[track_caller]
    pub(crate) fn then_nothing(self) -> A::State {
        self.then(Vec::new())
    }

    #[track_caller]
    pub(crate) fn then_error(self, expected: A::Error) {
        match self.result {
            Ok(events) => panic!(
                "{:?} was accepted with {events:?}, expected {expected}",
                self.command
            ),
            Err(error) => assert_eq!(error, expected, "error for {:?}", self.command),
        }
    }

    /// The raw decision, for checks the other assertions do not cover.
    pub(crate) fn result(&self) -> &Result<Vec<A::Event>, A::Error> {
        &self.result
    }
}
