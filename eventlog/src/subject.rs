//! Subject and stream naming: `<prefix>.events.<tenant>.<aggregate_type>.<aggregate_id>` in the
//! stream `<PREFIX>_EVENTS`. Prefixes are configurable so instances and tests can run side by side.

use crate::error::EventStoreError;
use domain::{AggregateId, TenantId};

/// The names one event-store instance uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamNames {
    prefix: String,
    stream: String,
}

impl StreamNames {
    /// Names for a prefix; the stream defaults to `<PREFIX>_EVENTS`.
    pub fn new(prefix: &str, stream: Option<&str>) -> Result<Self, EventStoreError> {
        let ok = !prefix.is_empty()
            && prefix.len() <= 64
            && prefix
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            return Err(EventStoreError::InvalidPrefix(prefix.to_owned()));
        }
        let stream = match stream {
            Some(name) => name.to_owned(),
            None => format!("{}_EVENTS", prefix.to_ascii_uppercase().replace('-', "_")),
        };
        if stream.is_empty() || stream.contains(['.', ' ', '*', '>', '\t']) {
            return Err(EventStoreError::InvalidPrefix(stream));
        }
        Ok(Self {
            prefix: prefix.to_owned(),
            stream,
        })
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// The key-value bucket holding aggregate snapshots.
    pub fn snapshot_bucket(&self) -> String {
        format!("{}_SNAPSHOTS", self.stream.trim_end_matches("_EVENTS"))
    }

    /// Everything the stream captures: `<prefix>.events.>`.
    pub fn all_events(&self) -> String {
        format!("{}.events.>", self.prefix)
    }

    /// One tenant's events.
    pub fn tenant(&self, tenant: &TenantId) -> String {
        format!("{}.events.{}.>", self.prefix, tenant)
    }

    /// One aggregate of any type within a tenant.
    pub fn any_aggregate(&self, tenant: &TenantId, id: &AggregateId) -> String {
        format!("{}.events.{}.*.{}", self.prefix, tenant, id)
    }

    /// The aggregate type in one of this store's aggregate subjects; `None` for any other
    /// subject.
    pub fn aggregate_type_in<'s>(&self, subject: &'s str) -> Option<&'s str> {
        let rest = subject
            .strip_prefix(self.prefix.as_str())?
            .strip_prefix(".events.")?;
        let mut tokens = rest.split('.');
        let (_tenant, aggregate_type, _id) = (tokens.next()?, tokens.next()?, tokens.next()?);
        tokens.next().is_none().then_some(aggregate_type)
    }

    /// One aggregate's subject.
    pub fn aggregate(&self, tenant: &TenantId, aggregate_type: &str, id: &AggregateId) -> String {
        // Built by concatenation: it is on every append, and `format!` costs several times more.
        let mut uuid_text = uuid::Uuid::encode_buffer();
        [
            self.prefix.as_str(),
            ".events.",
            tenant.as_str(),
            ".",
            aggregate_type,
            ".",
            id.as_uuid().hyphenated().encode_lower(&mut uuid_text),
        ]
        .concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_name_derives_from_prefix() {
        let names = StreamNames::new("test-a1", None).unwrap();
        assert_eq!(names.stream(), "TEST_A1_EVENTS");
        assert_eq!(names.all_events(), "test-a1.events.>");
        assert!(StreamNames::new("bad.prefix", None).is_err());
        assert!(StreamNames::new("ok", Some("HAS.DOT")).is_err());
    }

    #[test]
    fn the_aggregate_type_is_read_back_from_an_aggregate_subject() {
        let names = StreamNames::new("test-a1", None).unwrap();
        let tenant = TenantId::parse("acme").unwrap();
        let id = AggregateId::from_uuid(uuid::Uuid::now_v7());
        let subject = names.aggregate(&tenant, "asset", &id);
        assert_eq!(names.aggregate_type_in(&subject), Some("asset"));
        for other in [
            format!("test-a2.events.acme.asset.{id}"),
            format!("test-a1.snapshots.acme.asset.{id}"),
            "test-a1.events.acme.asset".to_owned(),
            format!("test-a1.events.acme.asset.{id}.extra"),
        ] {
            assert_eq!(names.aggregate_type_in(&other), None, "{other}");
        }
    }
}
