//! Canonical JSON straight from a `Serialize` type: object members sorted by key, no whitespace.
//!
//! The hash chain is defined over the canonical form of an event as a JSON *value*
//! (`serde_json::to_value`, then keys sorted at every level). Building that `Value` tree for
//! every decided event only to write it out again was a large part of an append's CPU, so
//! [`to_canonical_json`] writes the same bytes directly with a serde [`Serializer`] of its own:
//! each object's members are written as they come and reordered when the object closes.
//! Wherever the two could differ it follows the `Value` path: an `f32` is widened to `f64`, a
//! non-finite float is `null`, a repeated key keeps its last value, map keys become strings
//! as `to_value` makes them, and what `to_value` refuses (a 128-bit integer out of range, a
//! non-string key) is refused here too, with serde_json's error. Callers fall back to the
//! `Value` path on any error, so an input this writer cannot reproduce costs time, never a
//! different hash.
//!
//! A struct's fields arrive as the same `&'static str`s in the same order every time, so a
//! struct's member order is sorted once per thread and remembered by the identity of those
//! strings; a remembered order is used only when the very same field names were written.

use serde::ser::{self, Impossible, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::Error;
use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

/// The canonical JSON of `value`: exactly what writing `serde_json::to_value(value)` with its
/// object keys sorted produces, without building the value.
pub fn to_canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(1024);
    write_canonical_json(value, &mut out)?;
    Ok(out)
}

/// Like [`to_canonical_json`], appending to `out` (left as it was on error).
pub fn write_canonical_json<T: Serialize + ?Sized>(
    value: &T,
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    let start = out.len();
    let mut writer = Writer {
        out: &mut *out,
        spare_members: Vec::new(),
        scratch: Vec::new(),
    };
    let result = value.serialize(&mut writer);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Writes `text` as a JSON string exactly as serde_json does; returns whether anything in it
/// was escaped. Most strings need no escape and are copied between quotes.
pub(crate) fn write_string(out: &mut Vec<u8>, text: &str) -> bool {
    if needs_escape(text.as_bytes()) {
        serde_json::to_writer(out, text).expect("writing into memory cannot fail");
        true
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        false
    }
}

/// Whether serde_json would escape anything in `text`: control characters, `"` and `\\`
/// (nothing else). Tested eight bytes at a time, as every string of every appended event
/// passes through here.
pub(crate) fn needs_escape(text: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `word` is below `n` (exact for n <= 128).
    let any_below = |word: u64, n: u64| word.wrapping_sub(n * ONES) & !word & HIGHS != 0;
    let mut words = text.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("chunks of eight"));
        if any_below(word, 0x20)
            || any_below(word ^ (u64::from(b'"') * ONES), 1)
            || any_below(word ^ (u64::from(b'\\') * ONES), 1)
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// The serializer: writes into `out`, keeping buffers for reuse across objects.
struct Writer<'o> {
    out: &'o mut Vec<u8>,
    /// Member lists of closed objects, kept for the next object to reuse.
    spare_members: Vec<Vec<Member>>,
    /// Scratch space for reordering, reused across objects.
    scratch: Vec<u8>,
}

/// One member of an object being written (`"key":value`, preceded by a comma unless first).
#[derive(Clone, Copy)]
struct Member {
    /// Position of the key's opening quote.
    key_start: usize,
    key: Key,
}

#[derive(Clone, Copy)]
enum Key {
    /// A struct field's name.
    Field(&'static str),
    /// A map key, as written: its JSON text ends just before `end`.
    Written { end: usize },
}

impl<'o> Writer<'o> {
    fn write_number(&mut self, write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) {
        write(self.out).expect("writing into memory cannot fail");
    }

    /// Opens an object: `prefix` (`{` or `{"variant":{`) is written, `close` is written when it
    /// ends.
    fn open_object<'w>(
        &'w mut self,
        prefix: &[u8],
        close: &'static [u8],
        name: Option<&'static str>,
    ) -> Object<'w, 'o> {
        self.out.extend_from_slice(prefix);
        // Sixteen members hold most structs without growing.
        let members = self
            .spare_members
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(16));
        let start = self.out.len();
        Object {
            writer: self,
            start,
            members,
            close,
            struct_name: name,
            escaped_key: false,
        }
    }

    /// Opens an array: `prefix` (`[` or `{"variant":[`) is written, `close` when it ends.
    fn open_array<'w>(&'w mut self, prefix: &[u8], close: &'static [u8]) -> Array<'w, 'o> {
        self.out.extend_from_slice(prefix);
        Array {
            writer: self,
            first: true,
            close,
        }
    }

    /// `{"variant":` of an externally tagged enum variant.
    fn variant_prefix(&mut self, variant: &str) {
        self.out.push(b'{');
        write_string(self.out, variant);
        self.out.push(b':');
    }
}

/// An array being written.
struct Array<'w, 'o> {
    writer: &'w mut Writer<'o>,
    first: bool,
    close: &'static [u8],
}

impl Array<'_, '_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if !std::mem::take(&mut self.first) {
            self.writer.out.push(b',');
        }
        value.serialize(&mut *self.writer)
    }

    fn close(self) {
        self.writer.out.extend_from_slice(self.close);
    }
}

/// An object being written; its members are put in key order when it closes.
struct Object<'w, 'o> {
    writer: &'w mut Writer<'o>,
    /// Position just after the `{`.
    start: usize,
    members: Vec<Member>,
    close: &'static [u8],
    /// The struct's name, when the members are a struct's fields.
    struct_name: Option<&'static str>,
    /// Some map key was written with an escape, so its JSON text does not order as its text.
    escaped_key: bool,
}

impl Object<'_, '_> {
    fn begin_member(&mut self) -> usize {
        if !self.members.is_empty() {
            self.writer.out.push(b',');
        }
        self.writer.out.len()
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &'static str, value: &T) -> Result<(), Error> {
        let key_start = self.begin_member();
        // Field names are text; one that needs escaping is ordered by its text all the same.
        write_string(self.writer.out, name);
        self.writer.out.push(b':');
        self.members.push(Member {
            key_start,
            key: Key::Field(name),
        });
        value.serialize(&mut *self.writer)
    }

    fn key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let key_start = self.begin_member();
        let escaped = key.serialize(MapKey {
            out: self.writer.out,
        })?;
        self.escaped_key |= escaped;
        let end = self.writer.out.len();
        self.writer.out.push(b':');
        self.members.push(Member {
            key_start,
            key: Key::Written { end },
        });
        Ok(())
    }

    fn close(mut self) {
        self.sort_members();
        self.writer.out.extend_from_slice(self.close);
        let mut members = std::mem::take(&mut self.members);
        members.clear();
        self.writer.spare_members.push(members);
    }

    /// Reorders the members into key order, keeping the last of repeated keys, as a
    /// `serde_json::Map` built from them would.
    fn sort_members(&mut self) {
        let members = &self.members;
        if members.len() < 2 {
            return;
        }
        let out = &*self.writer.out;
        let written_key = |member: &Member| match member.key {
            Key::Field(name) => Cow::Borrowed(name.as_bytes()),
            Key::Written { end } => {
                let quoted = &out[member.key_start..end];
                if self.escaped_key {
                    unquoted_key(quoted)
                } else {
                    Cow::Borrowed(&quoted[1..quoted.len() - 1])
                }
            }
        };
        let order = match self.struct_name {
            Some(name) => struct_order(name, members),
            None => {
                let keys: Vec<Cow<'_, [u8]>> = members.iter().map(written_key).collect();
                sorted_order(|i| &keys[i], members.len())
            }
        };
        let Some(order) = order else {
            return;
        };
        // Member i spans from its key to just before the comma that opens member i + 1.
        let end = out.len();
        let start = self.start;
        let span = |i: usize| {
            let stop = members.get(i + 1).map_or(end, |next| next.key_start - 1);
            (members[i].key_start - start, stop - start)
        };
        let mut written = std::mem::take(&mut self.writer.scratch);
        written.clear();
        written.extend_from_slice(&out[start..end]);
        let out = &mut *self.writer.out;
        out.truncate(start);
        for (n, &index) in order.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            let (from, to) = span(index as usize);
            out.extend_from_slice(&written[from..to]);
        }
        self.writer.scratch = written;
    }
}

/// Member indices in key order, keeping only the last of repeated keys; `None` when the
/// members already are in that order.
fn sorted_order<'k>(key: impl Fn(usize) -> &'k [u8], count: usize) -> Option<Rc<[u32]>> {
    if (1..count).all(|i| key(i - 1) < key(i)) {
        return None;
    }
    let mut order: Vec<u32> = (0..count as u32).collect();
    // Equal keys stay in written order, so the last written is last among them.
    order.sort_unstable_by(|&a, &b| key(a as usize).cmp(key(b as usize)).then(a.cmp(&b)));
    order.dedup_by(|later, earlier| {
        let same = key(*later as usize) == key(*earlier as usize);
        if same {
            *earlier = *later;
        }
        same
    });
    Some(order.into())
}

/// The sorted order of a struct's members (`None`: already sorted), remembered per thread.
fn struct_order(name: &'static str, members: &[Member]) -> Option<Rc<[u32]>> {
    let field = |member: &Member| match member.key {
        Key::Field(name) => name,
        Key::Written { .. } => unreachable!("a struct's members are its fields"),
    };
    let identity = |member: &Member| {
        let name = field(member);
        (name.as_ptr() as usize, name.len())
    };
    let slot = (name.as_ptr() as u64).rotate_left(16) ^ members.len() as u64;
    let remembered = STRUCT_ORDERS.with_borrow(|known| {
        known.get(&slot).and_then(|known| {
            // The same field-name strings in the same order sort the same way.
            (known.fields.len() == members.len()
                && known
                    .fields
                    .iter()
                    .copied()
                    .eq(members.iter().map(identity)))
            .then(|| known.order.clone())
        })
    });
    if let Some(order) = remembered {
        return order;
    }
    let order = sorted_order(|i| field(&members[i]).as_bytes(), members.len());
    STRUCT_ORDERS.with_borrow_mut(|known| {
        if known.len() >= MAX_STRUCT_ORDERS {
            known.clear();
        }
        known.insert(
            slot,
            StructOrder {
                fields: members.iter().map(identity).collect(),
                order: order.clone(),
            },
        );
    });
    order
}

/// A struct's member order, for the field names (address, length) it was sorted from.
struct StructOrder {
    fields: Box<[(usize, usize)]>,
    /// Shared, so that using a remembered order costs no copy of it.
    order: Option<Rc<[u32]>>,
}

thread_local! {
    static STRUCT_ORDERS: std::cell::RefCell<HashMap<u64, StructOrder, SlotHash>> =
        std::cell::RefCell::new(HashMap::default());
}

/// Orders kept per thread: a struct written with many different field subsets (optional
/// fields skipped) must not grow it unbounded.
const MAX_STRUCT_ORDERS: usize = 512;

/// The slot is already spread over its bits; hashing it again (SipHash) would cost more than
/// the lookup saves.
type SlotHash = std::hash::BuildHasherDefault<Slot>;

#[derive(Default)]
struct Slot(u64);

impl std::hash::Hasher for Slot {
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here; anything else is folded in, still correctly.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
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
        // Unreachable for keys written here; ordering by the escaped text is the best
        // remaining choice.
        Err(_) => Cow::Borrowed(inner),
    }
}

/// serde_json's own names for the structs through which it passes arbitrary-precision numbers
/// and raw values; whatever they hold has no canonical form here.
const SERDE_JSON_PRIVATE: &str = "$serde_json::private::";

fn refuse_private(name: &str) -> Result<(), Error> {
    if name.starts_with(SERDE_JSON_PRIVATE) {
        Err(ser::Error::custom(
            "serde_json's private types have no canonical form here",
        ))
    } else {
        Ok(())
    }
}

/// Writes an integer the way `to_value` holds it: as a `u64` or `i64`, refused otherwise.
fn write_wide<T>(writer: &mut Writer<'_>, value: T) -> Result<(), Error>
where
    T: Copy + TryInto<u64> + TryInto<i64>,
{
    if let Ok(value) = TryInto::<u64>::try_into(value) {
        writer.write_number(|out| CompactFormatter.write_u64(out, value));
    } else if let Ok(value) = TryInto::<i64>::try_into(value) {
        writer.write_number(|out| CompactFormatter.write_i64(out, value));
    } else {
        return Err(ser::Error::custom("number out of range"));
    }
    Ok(())
}

/// Writes a float the way `to_value` holds it: widened to `f64`, `null` when not finite.
fn write_float(writer: &mut Writer<'_>, value: f64) {
    if value.is_finite() {
        writer.write_number(|out| CompactFormatter.write_f64(out, value));
    } else {
        writer.out.extend_from_slice(b"null");
    }
}

macro_rules! integers {
    ($($name:ident($ty:ty) => $write:ident($as:ty)),* $(,)?) => {$(
        fn $name(self, value: $ty) -> Result<(), Error> {
            self.write_number(|out| CompactFormatter.$write(out, <$as>::from(value)));
            Ok(())
        }
    )*};
}

impl<'w, 'o> ser::Serializer for &'w mut Writer<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Array<'w, 'o>;
    type SerializeTuple = Array<'w, 'o>;
    type SerializeTupleStruct = Array<'w, 'o>;
    type SerializeTupleVariant = Array<'w, 'o>;
    type SerializeMap = Object<'w, 'o>;
    type SerializeStruct = Object<'w, 'o>;
    type SerializeStructVariant = Object<'w, 'o>;

    integers!(
        serialize_i8(i8) => write_i64(i64),
        serialize_i16(i16) => write_i64(i64),
        serialize_i32(i32) => write_i64(i64),
        serialize_i64(i64) => write_i64(i64),
        serialize_u8(u8) => write_u64(u64),
        serialize_u16(u16) => write_u64(u64),
        serialize_u32(u32) => write_u64(u64),
        serialize_u64(u64) => write_u64(u64),
    );

    fn serialize_i128(self, value: i128) -> Result<(), Error> {
        write_wide(self, value)
    }

    fn serialize_u128(self, value: u128) -> Result<(), Error> {
        write_wide(self, value)
    }

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_f32(self, value: f32) -> Result<(), Error> {
        write_float(self, f64::from(value));
        Ok(())
    }

    fn serialize_f64(self, value: f64) -> Result<(), Error> {
        write_float(self, value);
        Ok(())
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        write_string(self.out, value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), Error> {
        let mut array = self.open_array(b"[", b"]");
        for byte in value {
            array.element(byte)?;
        }
        array.close();
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        refuse_private(name)?;
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.variant_prefix(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Array<'w, 'o>, Error> {
        Ok(self.open_array(b"[", b"]"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Array<'w, 'o>, Error> {
        Ok(self.open_array(b"[", b"]"))
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<Array<'w, 'o>, Error> {
        refuse_private(name)?;
        Ok(self.open_array(b"[", b"]"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Array<'w, 'o>, Error> {
        self.variant_prefix(variant);
        Ok(self.open_array(b"[", b"]}"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Object<'w, 'o>, Error> {
        Ok(self.open_object(b"{", b"}", None))
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Object<'w, 'o>, Error> {
        refuse_private(name)?;
        Ok(self.open_object(b"{", b"}", Some(name)))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Object<'w, 'o>, Error> {
        self.variant_prefix(variant);
        // The variant names the field set (the enum's name is shared by all its variants).
        Ok(self.open_object(b"{", b"}}", Some(variant)))
    }
}

macro_rules! array_compound {
    ($($trait:ident::$method:ident),* $(,)?) => {$(
        impl ser::$trait for Array<'_, '_> {
            type Ok = ();
            type Error = Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }

            fn end(self) -> Result<(), Error> {
                self.close();
                Ok(())
            }
        }
    )*};
}

array_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl ser::SerializeMap for Object<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key(key)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        self.close();
        Ok(())
    }
}

macro_rules! struct_compound {
    ($($trait:ident),* $(,)?) => {$(
        impl ser::$trait for Object<'_, '_> {
            type Ok = ();
            type Error = Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                name: &'static str,
                value: &T,
            ) -> Result<(), Error> {
                self.field(name, value)
            }

            fn end(self) -> Result<(), Error> {
                self.close();
                Ok(())
            }
        }
    )*};
}

struct_compound!(SerializeStruct, SerializeStructVariant);

/// Writes a map key as the string `to_value` turns it into; yields whether it was escaped.
struct MapKey<'o> {
    out: &'o mut Vec<u8>,
}

impl MapKey<'_> {
    fn text(self, text: &str) -> Result<bool, Error> {
        Ok(write_string(self.out, text))
    }

    /// A key written from a number or literal, which never needs escaping.
    fn quoted(
        self,
        write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>,
    ) -> Result<bool, Error> {
        self.out.push(b'"');
        write(self.out).expect("writing into memory cannot fail");
        self.out.push(b'"');
        Ok(false)
    }

    fn float(self, finite: bool, text: impl FnOnce() -> String) -> Result<bool, Error> {
        if finite {
            self.text(&text())
        } else {
            Err(ser::Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ))
        }
    }
}

fn key_must_be_a_string() -> Error {
    ser::Error::custom("key must be a string")
}

macro_rules! integer_keys {
    ($($name:ident($ty:ty) => $write:ident),* $(,)?) => {$(
        fn $name(self, value: $ty) -> Result<bool, Error> {
            self.quoted(|out| CompactFormatter.$write(out, value))
        }
    )*};
}

macro_rules! refused_keys {
    ($($name:ident($($arg:ty),*) -> $ok:ty),* $(,)?) => {$(
        fn $name(self, $(_: $arg),*) -> Result<$ok, Error> {
            Err(key_must_be_a_string())
        }
    )*};
}

impl ser::Serializer for MapKey<'_> {
    type Ok = bool;
    type Error = Error;
    type SerializeSeq = Impossible<bool, Error>;
    type SerializeTuple = Impossible<bool, Error>;
    type SerializeTupleStruct = Impossible<bool, Error>;
    type SerializeTupleVariant = Impossible<bool, Error>;
    type SerializeMap = Impossible<bool, Error>;
    type SerializeStruct = Impossible<bool, Error>;
    type SerializeStructVariant = Impossible<bool, Error>;

    integer_keys!(
        serialize_i8(i8) => write_i8,
        serialize_i16(i16) => write_i16,
        serialize_i32(i32) => write_i32,
        serialize_i64(i64) => write_i64,
        serialize_i128(i128) => write_i128,
        serialize_u8(u8) => write_u8,
        serialize_u16(u16) => write_u16,
        serialize_u32(u32) => write_u32,
        serialize_u64(u64) => write_u64,
        serialize_u128(u128) => write_u128,
    );

    refused_keys!(
        serialize_bytes(&[u8]) -> bool,
        serialize_none() -> bool,
        serialize_unit() -> bool,
        serialize_unit_struct(&'static str) -> bool,
        serialize_seq(Option<usize>) -> Self::SerializeSeq,
        serialize_tuple(usize) -> Self::SerializeTuple,
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct,
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant,
        serialize_map(Option<usize>) -> Self::SerializeMap,
        serialize_struct(&'static str, usize) -> Self::SerializeStruct,
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant,
    );

    fn serialize_bool(self, value: bool) -> Result<bool, Error> {
        self.text(if value { "true" } else { "false" })
    }

    // A float key is written as serde_json writes that float, not widened.
    fn serialize_f32(self, value: f32) -> Result<bool, Error> {
        self.float(value.is_finite(), || {
            serde_json::to_string(&value).unwrap_or_default()
        })
    }

    fn serialize_f64(self, value: f64) -> Result<bool, Error> {
        self.float(value.is_finite(), || {
            serde_json::to_string(&value).unwrap_or_default()
        })
    }

    fn serialize_char(self, value: char) -> Result<bool, Error> {
        self.text(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<bool, Error> {
        self.text(value)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _value: &T) -> Result<bool, Error> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<bool, Error> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<bool, Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<bool, Error> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
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
    fn a_remembered_order_is_used_only_for_the_field_names_it_was_sorted_from() {
        // The same layout twice: the second write uses the remembered order.
        let first = to_canonical_json(&inner()).unwrap();
        assert_eq!(to_canonical_json(&inner()).unwrap(), first);
        assert_same(&inner());
        // Two structs of one name and field count (in different modules) whose fields sort
        // differently, and one struct whose skipped field changes the count: each write must
        // come out sorted, however the writes before it were ordered.
        mod one {
            #[derive(serde::Serialize)]
            pub struct Same {
                pub b: u8,
                pub a: u8,
            }
        }
        mod two {
            #[derive(serde::Serialize)]
            pub struct Same {
                pub y: u8,
                pub c: u8,
            }
        }
        #[derive(Serialize)]
        struct Optional {
            z: u8,
            #[serde(skip_serializing_if = "Option::is_none")]
            m: Option<u8>,
            a: u8,
        }
        for _ in 0..2 {
            assert_eq!(
                to_canonical_json(&one::Same { b: 1, a: 2 }).unwrap(),
                br#"{"a":2,"b":1}"#
            );
            assert_eq!(
                to_canonical_json(&two::Same { y: 3, c: 4 }).unwrap(),
                br#"{"c":4,"y":3}"#
            );
            for m in [None, Some(5), None] {
                let value = Optional { z: 1, m, a: 2 };
                assert_same(&value);
            }
        }
    }

    #[test]
    fn map_keys_become_the_strings_to_value_makes_and_the_same_keys_are_refused() {
        #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
        struct Wrapped(u16);
        #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
        enum Unit {
            Left,
        }
        assert_same(&BTreeMap::from([('z', 1), ('"', 2)]));
        assert_same(&BTreeMap::from([(true, 1), (false, 2)]));
        assert_same(&BTreeMap::from([(Wrapped(10), 1), (Wrapped(9), 2)]));
        assert_same(&BTreeMap::from([(Unit::Left, 1)]));
        assert_same(&BTreeMap::from([(i128::MIN, 1), (-1, 2)]));
        assert_same(&BTreeMap::from([(u128::MAX, 1)]));
        assert_same(&vec![u64::MAX as u128, 7]);
        assert_same(&vec![i64::MIN as i128]);
        // What `to_value` refuses, the direct writer refuses (and callers take the `Value`
        // path, which reports the same error), leaving the output as it was.
        struct NanKey;
        impl Serialize for NanKey {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry(&f64::NAN, &1)?;
                map.end()
            }
        }
        let refused: [&dyn erased::Refusable; 4] = [
            &NanKey,
            &BTreeMap::from([(vec![1u8], 1)]),
            &vec![u128::MAX],
            &vec![i128::MIN],
        ];
        for value in refused {
            assert!(value.to_value_fails(), "to_value accepts it");
            let mut out = b"kept".to_vec();
            assert!(value.write_canonical(&mut out).is_err());
            assert_eq!(out, b"kept");
        }
    }

    /// Object-safe access to both writers, to test a list of differently typed values.
    mod erased {
        pub trait Refusable {
            fn to_value_fails(&self) -> bool;
            fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error>;
        }

        impl<T: serde::Serialize> Refusable for T {
            fn to_value_fails(&self) -> bool {
                serde_json::to_value(self).is_err()
            }

            fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
                super::write_canonical_json(self, out)
            }
        }
    }

    #[test]
    fn strings_needing_escapes_are_found_wherever_the_byte_is() {
        let plain = |b: u8| !(b < 0x20 || b == b'"' || b == b'\\');
        for len in [1, 7, 8, 9, 16, 23] {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    assert_eq!(
                        needs_escape(&text),
                        !plain(byte),
                        "byte {byte:#x} at {at} of {len}"
                    );
                }
            }
        }
        assert!(!needs_escape("é ü \u{2028} \u{7f} ok".as_bytes()));
        assert!(!needs_escape(b""));
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
