//! Canonical JSON straight from a `Serialize` type: object members sorted by key, no whitespace.
//!
//! The hash chain is defined over the canonical form of an event as a JSON *value*
//! (`serde_json::to_value`, then keys sorted at every level). Building that `Value` tree for
//! every decided event only to write it out again was a large part of an append's CPU, so
//! [`to_canonical_json`] writes the same bytes directly: serde_json's serializer does the data
//! model, and a formatter reorders each object's members as the object closes. Where the two
//! could differ, the formatter follows the `Value` path: an `f32` is widened to `f64` first, a
//! repeated key keeps its last value, and anything it cannot reproduce exactly (a raw JSON
//! fragment) is an error, on which callers fall back to the `Value` path.
//!
//! The objects of one struct type come with the same keys in the same order every time, so a
//! key layout is sorted once per thread and its order remembered; a remembered order is used
//! only after checking that it sorts the keys at hand.

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io;

/// The canonical JSON of `value`: exactly what writing `serde_json::to_value(value)` with its
/// object keys sorted produces, without building the value.
pub fn to_canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(1024);
    write_canonical_json(value, &mut out)?;
    Ok(out)
}

/// Like [`to_canonical_json`], appending to `out` (left as it was on error).
pub fn write_canonical_json<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let start = out.len();
    let formatter = SortingFormatter {
        out: &mut *out,
        objects: Vec::new(),
        spare_members: Vec::new(),
        order: Vec::new(),
        scratch: Vec::new(),
        in_key: false,
    };
    // The formatter writes into `out` itself: it must see every byte's position to reorder
    // members, which a generic `io::Write` does not tell.
    let mut serializer = serde_json::Serializer::with_formatter(io::sink(), formatter);
    let result = value.serialize(&mut serializer);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// An object being written: where its members start, and where each member (`"key":value`,
/// preceded by a comma unless first) begins and its key ends.
struct OpenObject {
    /// Position just after the `{`.
    start: usize,
    members: Vec<Member>,
    /// Some key was written with an escape, so its JSON text does not order as its text does.
    escaped_key: bool,
}

#[derive(Clone, Copy)]
struct Member {
    /// Position of the key's opening quote.
    key_start: usize,
    /// Position just after the key's closing quote.
    key_end: usize,
}

struct SortingFormatter<'a> {
    out: &'a mut Vec<u8>,
    objects: Vec<OpenObject>,
    /// Member lists of closed objects, kept for the next object to reuse.
    spare_members: Vec<Vec<Member>>,
    /// Scratch space for reordering, reused across objects.
    order: Vec<usize>,
    scratch: Vec<u8>,
    /// Between `begin_object_key` and `end_object_key`: numbers there are key text, which
    /// `to_value` writes as they are (an `f32` key is not widened).
    in_key: bool,
}

impl SortingFormatter<'_> {
    /// Reorders the members of the object that just closed into key order, keeping the last of
    /// repeated keys, as a `serde_json::Map` built from them would.
    fn sort_members(&mut self, object: &OpenObject) {
        let end = self.out.len();
        let members = &object.members;
        let out = &*self.out;
        let mut order = std::mem::take(&mut self.order);
        let already_sorted = if object.escaped_key {
            let keys: Vec<Cow<'_, [u8]>> = members
                .iter()
                .map(|m| unquoted_key(&out[m.key_start..m.key_end]))
                .collect();
            sorted_order(|i| &keys[i], members.len(), &mut order)
        } else {
            let key = |i: usize| &out[members[i].key_start + 1..members[i].key_end - 1];
            let layout = layout_of(members.len(), key);
            let known = KNOWN_ORDERS.with_borrow(|known| {
                known.get(&layout).is_some_and(|cached| {
                    order.clear();
                    order.extend(cached.iter().map(|&i| i as usize));
                    // A layout hash can collide: the order is used only if it sorts these keys.
                    order.len() == members.len()
                        && order.iter().all(|&i| i < members.len())
                        && order.windows(2).all(|pair| key(pair[0]) < key(pair[1]))
                })
            });
            if known {
                false
            } else {
                let already_sorted = sorted_order(key, members.len(), &mut order);
                if !already_sorted && order.len() == members.len() {
                    remember_order(layout, &order);
                }
                already_sorted
            }
        };
        if already_sorted {
            self.order = order;
            return;
        }
        // Member i spans from its key to just before the comma that opens member i + 1.
        let span = |i: usize| {
            let stop = members.get(i + 1).map_or(end, |next| next.key_start - 1);
            (members[i].key_start - object.start, stop - object.start)
        };
        let mut written = std::mem::take(&mut self.scratch);
        written.clear();
        written.extend_from_slice(&out[object.start..end]);
        self.out.truncate(object.start);
        for (n, &index) in order.iter().enumerate() {
            if n > 0 {
                self.out.push(b',');
            }
            let (from, to) = span(index);
            self.out.extend_from_slice(&written[from..to]);
        }
        self.order = order;
        self.scratch = written;
    }
}

/// Fills `order` with member indices in key order, keeping only the last of repeated keys;
/// returns whether the members were already in that order (then `order` is not needed).
fn sorted_order<'k>(key: impl Fn(usize) -> &'k [u8], count: usize, order: &mut Vec<usize>) -> bool {
    if (1..count).all(|i| key(i - 1) < key(i)) {
        return true;
    }
    order.clear();
    order.extend(0..count);
    // Equal keys stay in written order, so the last written is last among them.
    order.sort_unstable_by(|&a, &b| key(a).cmp(key(b)).then(a.cmp(&b)));
    order.dedup_by(|later, earlier| {
        let same = key(*later) == key(*earlier);
        if same {
            *earlier = *later;
        }
        same
    });
    false
}

thread_local! {
    /// Sorted member orders by key layout. The objects of one struct type are written with the
    /// same keys in the same order every time, so the sort is done once per layout and thread,
    /// and afterwards only checked.
    static KNOWN_ORDERS: std::cell::RefCell<HashMap<u64, Box<[u32]>, LayoutHash>> =
        std::cell::RefCell::new(HashMap::default());
}

/// The layout fingerprint is already a hash; hashing it again (SipHash) cost more than the
/// lookup saves.
type LayoutHash = std::hash::BuildHasherDefault<Fingerprint>;

#[derive(Default)]
struct Fingerprint(u64);

impl std::hash::Hasher for Fingerprint {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; anything else is folded in, still correctly.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Layouts kept per thread; map keys that vary (user-chosen names) must not grow it unbounded.
const MAX_KNOWN_ORDERS: usize = 512;

fn remember_order(layout: u64, order: &[usize]) {
    let Ok(order) = order.iter().map(|&i| u32::try_from(i)).collect() else {
        return;
    };
    KNOWN_ORDERS.with_borrow_mut(|known| {
        if known.len() >= MAX_KNOWN_ORDERS {
            known.clear();
        }
        known.insert(layout, order);
    });
}

/// A cheap fingerprint of an object's key sequence (count, each key's length and first
/// bytes). Collisions are harmless: a remembered order is checked before it is used.
fn layout_of<'k>(count: usize, key: impl Fn(usize) -> &'k [u8]) -> u64 {
    (0..count).fold(count as u64, |hash, i| {
        let key = key(i);
        let mut head = [0u8; 8];
        let take = key.len().min(8);
        head[..take].copy_from_slice(&key[..take]);
        (hash.rotate_left(5) ^ u64::from_le_bytes(head) ^ ((key.len() as u64) << 56))
            .wrapping_mul(0x517c_c1b7_2722_0a95)
    })
}

/// A key's text for ordering: the quoted JSON string without its quotes, unescaped when needed
/// (`Value` maps order keys by their text, and escaping does not preserve that order).
fn unquoted_key(quoted: &[u8]) -> Cow<'_, [u8]> {
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains(&b'\\') {
        return Cow::Borrowed(inner);
    }
    match serde_json::from_slice::<String>(quoted) {
        Ok(text) => Cow::Owned(text.into_bytes()),
        // Unreachable for keys serde_json wrote itself; ordering by the escaped text is the
        // best remaining choice.
        Err(_) => Cow::Borrowed(inner),
    }
}

/// Forwards a scalar write to the compact formatter, into `self.out`.
macro_rules! forward {
    ($($name:ident($ty:ty)),* $(,)?) => {$(
        fn $name<W: ?Sized + io::Write>(&mut self, _: &mut W, value: $ty) -> io::Result<()> {
            CompactFormatter.$name(self.out, value)
        }
    )*};
}

impl Formatter for SortingFormatter<'_> {
    forward!(
        write_bool(bool),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_f64(f64),
        write_number_str(&str),
        write_string_fragment(&str),
        write_byte_array(&[u8]),
    );

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        if self.in_key {
            if let Some(object) = self.objects.last_mut() {
                object.escaped_key = true;
            }
        }
        CompactFormatter.write_char_escape(self.out, escape)
    }

    fn write_null<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        CompactFormatter.write_null(self.out)
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, _: &mut W, value: f32) -> io::Result<()> {
        if self.in_key {
            CompactFormatter.write_f32(self.out, value)
        } else {
            // `to_value` holds an `f32` as the `f64` it widens to, and writes that.
            CompactFormatter.write_f64(self.out, f64::from(value))
        }
    }

    fn begin_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        CompactFormatter.begin_string(self.out)
    }

    fn end_string<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        CompactFormatter.end_string(self.out)
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        CompactFormatter.begin_array(self.out)
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        CompactFormatter.end_array(self.out)
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        first: bool,
    ) -> io::Result<()> {
        CompactFormatter.begin_array_value(self.out, first)
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.out.push(b'{');
        let members = self.spare_members.pop().unwrap_or_default();
        self.objects.push(OpenObject {
            start: self.out.len(),
            members,
            escaped_key: false,
        });
        Ok(())
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        let object = self
            .objects
            .pop()
            .ok_or_else(|| io::Error::other("object closed that was never opened"))?;
        self.sort_members(&object);
        self.out.push(b'}');
        let mut members = object.members;
        members.clear();
        self.spare_members.push(members);
        Ok(())
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        _: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            self.out.push(b',');
        }
        let key_start = self.out.len();
        let object = self
            .objects
            .last_mut()
            .ok_or_else(|| io::Error::other("key outside an object"))?;
        object.members.push(Member {
            key_start,
            key_end: key_start,
        });
        self.in_key = true;
        Ok(())
    }

    fn end_object_key<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.in_key = false;
        let key_end = self.out.len();
        if let Some(member) = self.objects.last_mut().and_then(|o| o.members.last_mut()) {
            member.key_end = key_end;
        }
        Ok(())
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.out.push(b':');
        Ok(())
    }

    fn write_raw_fragment<W: ?Sized + io::Write>(&mut self, _: &mut W, _: &str) -> io::Result<()> {
        // A raw fragment's objects would keep their written order; `to_value` would sort them.
        Err(io::Error::other(
            "raw JSON fragments have no canonical form here",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::collections::{BTreeMap, HashMap};

    /// The definition: build the value, then write it with every object's keys sorted.
    fn through_value<T: Serialize>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        crate::chain::write_canonical_value(&serde_json::to_value(value).unwrap(), &mut out);
        out
    }

    fn assert_same<T: Serialize>(value: &T) {
        let direct = to_canonical_json(value).unwrap();
        assert_eq!(
            String::from_utf8(direct).unwrap(),
            String::from_utf8(through_value(value)).unwrap()
        );
    }

    #[derive(Serialize)]
    struct Inner {
        zeta: Option<u8>,
        alpha: Vec<f32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<String>,
        nested: BTreeMap<String, Value>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Plain,
        Tuple(u8, String),
        Struct { b: bool, a: i64 },
        Wrapped(Inner),
    }

    #[derive(Serialize)]
    struct Outer {
        name: String,
        kind: Vec<Kind>,
        #[serde(flatten)]
        extra: HashMap<String, u32>,
        unit: (),
        bytes: serde_bytes_like::Bytes,
        by_number: BTreeMap<u32, &'static str>,
        float: f64,
        nan: f64,
        small: f32,
        when: chrono::DateTime<chrono::Utc>,
        id: uuid::Uuid,
    }

    /// Bytes serialised with `serialize_bytes`, as `serde_bytes` would.
    mod serde_bytes_like {
        pub struct Bytes(pub Vec<u8>);
        impl serde::Serialize for Bytes {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.0)
            }
        }
    }

    /// A map with `f32` keys (no std map allows them, a custom `Serialize` can): keys are
    /// written as they are, values widened.
    struct FloatKeys;
    impl Serialize for FloatKeys {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(Some(2))?;
            map.serialize_entry(&0.1f32, &0.1f32)?;
            map.serialize_entry(&-2.5f32, &7u8)?;
            map.end()
        }
    }

    fn inner() -> Inner {
        Inner {
            zeta: None,
            alpha: vec![0.1, 1.0, -3.5e-7],
            skipped: None,
            nested: BTreeMap::from([
                (
                    "é".to_owned(),
                    json!({"y": [1, {"b": 2, "a": 1}], "x": null}),
                ),
                ("\"quoted\"".to_owned(), json!("tab\there")),
                ("#".to_owned(), json!(1)),
                ("A".to_owned(), json!(true)),
            ]),
        }
    }

    #[test]
    fn writes_exactly_the_sorted_value_form_across_the_data_model() {
        let outer = Outer {
            name: "line\nbreak \u{1} \\ \"q\" ünï".into(),
            kind: vec![
                Kind::Plain,
                Kind::Tuple(7, "x".into()),
                Kind::Struct { b: false, a: -9 },
                Kind::Wrapped(inner()),
            ],
            extra: HashMap::from([("zz".to_owned(), 1), ("aa".to_owned(), 2)]),
            unit: (),
            bytes: serde_bytes_like::Bytes(vec![0, 255, 7]),
            by_number: BTreeMap::from([(10, "ten"), (9, "nine"), (100, "hundred")]),
            float: 1.0,
            nan: f64::NAN,
            small: 0.1,
            when: chrono::DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap(),
            id: uuid::Uuid::from_u128(0x0190_a1b2_0000_7000_8000_0000_0000_0001),
        };
        assert_same(&outer);
        assert_same(&inner());
        assert_same(&json!({"b": [], "a": {}, "c": [[{}]], "": 0}));
        assert_same(&FloatKeys);
        assert_same(&Vec::<u8>::new());
        assert_same(&"just a string");
        assert_same(&Option::<u8>::None);
    }

    #[test]
    fn a_repeated_key_keeps_its_last_value_as_a_map_would() {
        #[derive(Serialize)]
        struct WithDuplicate {
            a: u8,
            #[serde(flatten)]
            rest: BTreeMap<String, u8>,
        }
        let value = WithDuplicate {
            a: 1,
            rest: BTreeMap::from([("a".to_owned(), 2), ("0".to_owned(), 3)]),
        };
        assert_eq!(to_canonical_json(&value).unwrap(), br#"{"0":3,"a":2}"#);
        assert_same(&value);
    }

    #[test]
    fn a_remembered_order_is_used_only_for_keys_it_sorts() {
        // The same layout twice: the second write uses the remembered order.
        let first = to_canonical_json(&inner()).unwrap();
        assert_eq!(to_canonical_json(&inner()).unwrap(), first);
        assert_same(&inner());
        // Two key sequences with the same fingerprint (count, lengths, first eight bytes) but
        // different orders: each must come out sorted.
        #[derive(Serialize)]
        struct Descending {
            abcdefgh_y: u8,
            abcdefgh_x: u8,
        }
        #[derive(Serialize)]
        struct Ascending {
            abcdefgh_x: u8,
            abcdefgh_y: u8,
        }
        for _ in 0..2 {
            let descending = Descending {
                abcdefgh_y: 1,
                abcdefgh_x: 2,
            };
            let ascending = Ascending {
                abcdefgh_x: 3,
                abcdefgh_y: 4,
            };
            assert_eq!(
                to_canonical_json(&descending).unwrap(),
                br#"{"abcdefgh_x":2,"abcdefgh_y":1}"#
            );
            assert_eq!(
                to_canonical_json(&ascending).unwrap(),
                br#"{"abcdefgh_x":3,"abcdefgh_y":4}"#
            );
        }
    }

    #[test]
    fn keys_are_ordered_by_their_text_not_their_escaped_form() {
        // `"` (0x22) sorts before `#` (0x23), but its escape `\"` starts with 0x5c.
        let value = BTreeMap::from([("a#", 1), ("a\"", 2), ("a\n", 3)]);
        assert_eq!(
            to_canonical_json(&value).unwrap(),
            br#"{"a\n":3,"a\"":2,"a#":1}"#
        );
    }
}
