//! (placeholder until the engine lands)
pub const VALIDATORS: &[(&str, fn(&str) -> bool)] = &[];

/// The validator with id `id`.
pub fn find(id: &str) -> Option<fn(&str) -> bool> {
    VALIDATORS
        .iter()
        .find(|(name, _)| *name == id)
        .map(|(_, f)| *f)
}
