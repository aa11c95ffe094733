//! [`AssetId`]: the deterministic aggregate id of a discovered asset, so that every scan of a
//! source finds the same Asset aggregate for the same path without a lookup table.
//!
//! # Definition
//!
//! `digest = SHA-256( "pursight.asset-id.v1\n" ‖ the source id's 16 bytes ‖ for each segment:
//! its UTF-8 length as 4 big-endian bytes ‖ its UTF-8 bytes )`. The id is the first 16 bytes of
//! the digest with the RFC 9562 version nibble set to 8 (custom) and the variant bits to `10`:
//! a UUIDv8 computed the way a UUIDv5 is, but with SHA-256 instead of SHA-1 and without needing
//! the `uuid` crate's `v5` feature. The length prefixes make the encoding unambiguous
//! (`["a.b"]` and `["a", "b"]` get different ids). Never change this: ids are stored in events.

use super::path::AssetPath;
use crate::ids::AggregateId;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const DOMAIN_PREFIX: &str = "pursight.asset-id.v1\n";

/// The namespace of the asset id derivation (not a value; see [`AssetId::for_path`]).
pub enum AssetId {}

impl AssetId {
    /// The aggregate id of the asset at `path` in the data source `source`.
    ///
    /// ```
    /// use domain::discovery::{AssetId, AssetPath};
    /// use domain::AggregateId;
    ///
    /// let source = AggregateId::parse("0192f0c4-1111-7000-8000-000000000001").unwrap();
    /// let path = AssetPath::parse("orders_db.public.customers").unwrap();
    /// let id = AssetId::for_path(source, &path);
    /// assert_eq!(id, AssetId::for_path(source, &path));
    /// assert_eq!(id.as_uuid().get_version_num(), 8);
    /// ```
    pub fn for_path(source: AggregateId, path: &AssetPath) -> AggregateId {
        let mut hasher = Sha256::new();
        hasher.update(DOMAIN_PREFIX.as_bytes());
        hasher.update(source.as_uuid().as_bytes());
        for segment in path.segments() {
            let len = u32::try_from(segment.len()).expect("segments are at most 256 characters");
            hasher.update(len.to_be_bytes());
            hasher.update(segment.as_bytes());
        }
        let digest = hasher.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant RFC 9562
        AggregateId::from_uuid(Uuid::from_bytes(bytes))
    }
}
