//! Tests of the compliance module: the condition language, every pack rule (a case where it fires
//! and a close one where it does not), and the engine. The aggregates' given/when/then tests live
//! beside them (`policy/tests.rs`, `violation/tests.rs`).

mod condition;
mod engine;
pub(crate) mod fixtures;
mod pack_rules;
mod rule_input;
