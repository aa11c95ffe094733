//! Tier 1, rules: what a column's name, its data type and its sampled values say about each
//! built-in type, as signed log-odds with a worded signal each.
//!
//! Name evidence comes from the multilingual dictionary in [`super::names`]; value evidence from
//! the detector counts of the [`ColumnProfile`] (validators with check digits count much more
//! than shapes); type compatibility vetoes what a column of that type cannot hold (a boolean is
//! never a phone number, a timestamp never an e-mail address).

use super::engine::{Signal, Tier};
use super::names::{NameHit, NameTokens, NON_PERSON_QUALIFIERS, STRONG};
use super::national_ids::{self, Verdict};
use super::profile::ColumnProfile;
use super::types::ClassificationType as T;

/// Evidence collected for one (column, type): log-odds and the signals behind them.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub logit: f64,
    pub signals: Vec<Signal>,
    /// Set when the data type cannot hold the type at all.
    pub vetoed: bool,
}

impl Evidence {
    pub fn add(&mut self, tier: Tier, weight: f64, detail: impl Into<String>) {
        self.logit += weight;
        self.signals.push(Signal {
            tier,
            detail: detail.into(),
            weight: (weight * 100.0).round() / 100.0,
        });
    }
}

/// The storage family of a column's data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeFamily {
    Bool,
    Integer,
    Decimal,
    Date,
    Timestamp,
    Time,
    Uuid,
    Inet,
    Mac,
    Binary,
    Text,
}

/// Reads a data type as the connectors spell it (`character varying`, `int4`, `tinyint(1)`,
/// `timestamp with time zone`, `NUMBER(10,2)`, …).
pub fn type_family(data_type: &str) -> TypeFamily {
    let t = data_type.trim().to_ascii_lowercase();
    let base = t.split(['(', ' ']).next().unwrap_or("");
    if t == "tinyint(1)" || base.starts_with("bool") || base == "bit" {
        return TypeFamily::Bool;
    }
    match base {
        "smallint" | "integer" | "int" | "bigint" | "tinyint" | "mediumint" | "int2" | "int4"
        | "int8" | "serial" | "bigserial" | "smallserial" | "long" | "short" | "byte" | "int16"
        | "int32" | "int64" | "uint8" | "uint16" | "uint32" | "uint64" | "year" => {
            TypeFamily::Integer
        }
        "numeric" | "decimal" | "real" | "double" | "float" | "float4" | "float8" | "money"
        | "number" | "dec" | "float32" | "float64" => {
            // NUMBER(10) / NUMERIC(12,0) hold integers.
            if t.contains(",0)") || (base == "number" && t.contains('(') && !t.contains(',')) {
                TypeFamily::Integer
            } else {
                TypeFamily::Decimal
            }
        }
        "date" => TypeFamily::Date,
        "timestamp" | "timestamptz" | "datetime" | "datetime2" | "smalldatetime"
        | "datetimeoffset" => TypeFamily::Timestamp,
        "time" | "timetz" | "interval" => TypeFamily::Time,
        "uuid" | "uniqueidentifier" => TypeFamily::Uuid,
        "inet" | "cidr" => TypeFamily::Inet,
        "macaddr" | "macaddr8" => TypeFamily::Mac,
        "bytea" | "blob" | "binary" | "varbinary" | "longblob" | "mediumblob" | "tinyblob"
        | "bytes" | "bindata" => TypeFamily::Binary,
        _ => TypeFamily::Text,
    }
}

/// How a data type bears on a type: `None` = cannot hold it; `Some(w)` = log-odds to add.
fn type_compat(label: T, family: TypeFamily) -> Option<f64> {
    use TypeFamily as F;
    match family {
        F::Text => Some(0.0),
        // A yes/no flag named after a condition (`is_diabetic`, `has_hiv`) says whether the person
        // has it: health data. Only with such a name (see [`evaluate`]).
        F::Bool => (label == T::HealthDiagnosis).then_some(0.0),
        F::Time => None,
        F::Date => (label == T::DateOfBirth).then_some(0.0),
        F::Timestamp => (label == T::DateOfBirth).then_some(-2.0),
        F::Uuid => (label == T::SecretKey).then_some(-2.0),
        F::Inet => (label == T::IpAddress).then_some(3.0),
        F::Mac => (label == T::MacAddress).then_some(3.0),
        F::Binary => match label {
            T::Password | T::SecretKey => Some(-1.0),
            T::Photo | T::Document | T::AudioRecording => Some(0.0),
            _ => None,
        },
        F::Decimal => match label {
            T::GeoCoordinate => Some(0.0),
            T::PhoneNumber => Some(-2.0),
            _ => None,
        },
        F::Integer => match label {
            T::PhoneNumber
            | T::UsSsn
            | T::NationalId
            | T::TaxId
            | T::CreditCardNumber
            | T::CardSecurityCode
            | T::BankAccountNumber
            | T::MedicalRecordNumber => Some(0.0),
            // Integers lose leading zeros, and quantities look like ZIP codes.
            T::PostalCode => Some(-1.5),
            T::Gender | T::Ethnicity | T::Religion => Some(-0.5),
            // Condition flags coded 1/2/9 (`diabetes`, `asma`): see the value rule.
            T::HealthDiagnosis => Some(-1.0),
            T::PassportNumber | T::DriversLicense | T::DateOfBirth | T::Password => Some(-1.0),
            T::IpAddress => Some(-2.0),
            _ => None,
        },
    }
}

fn family_word(family: TypeFamily) -> &'static str {
    match family {
        TypeFamily::Bool => "boolean",
        TypeFamily::Integer => "integer",
        TypeFamily::Decimal => "decimal",
        TypeFamily::Date => "date",
        TypeFamily::Timestamp => "timestamp",
        TypeFamily::Time => "time",
        TypeFamily::Uuid => "uuid",
        TypeFamily::Inet => "inet",
        TypeFamily::Mac => "macaddr",
        TypeFamily::Binary => "binary",
        TypeFamily::Text => "text",
    }
}

/// A readable name for a type, for signals.
pub fn describe(label: T) -> &'static str {
    match label {
        T::PersonName => "person names",
        T::EmailAddress => "e-mail addresses",
        T::PhoneNumber => "phone numbers",
        T::PostalAddress => "postal addresses",
        T::PostalCode => "postal codes",
        T::DateOfBirth => "dates of birth",
        T::Gender => "gender",
        T::UsSsn => "US social security numbers",
        T::PassportNumber => "passport numbers",
        T::DriversLicense => "driving-licence numbers",
        T::NationalId => "national identity numbers",
        T::TaxId => "tax identification numbers",
        T::CreditCardNumber => "card numbers",
        T::CardSecurityCode => "card security codes",
        T::Iban => "IBANs",
        T::BankAccountNumber => "bank account numbers",
        T::IpAddress => "IP addresses",
        T::MacAddress => "MAC addresses",
        T::GeoCoordinate => "geographic coordinates",
        T::Username => "usernames",
        T::Password => "passwords",
        T::SecretKey => "secrets and API keys",
        T::MedicalRecordNumber => "medical record numbers",
        T::HealthDiagnosis => "diagnoses",
        T::Ethnicity => "ethnic origin",
        T::Religion => "religion",
        T::VehicleId => "vehicle identification numbers",
        T::FreeTextPii => "personal data inside free text",
        T::Photo => "photos of people",
        T::Document => "stored documents",
        T::AudioRecording => "voice recordings",
    }
}

/// What the rule tier concluded about a column's name for one type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NameSupport {
    None,
    /// The name matched a pattern of this weight.
    Positive(f64),
    /// The name matched but a modifier or qualifier says it is metadata.
    Negated,
}

/// Sampled-value view used by the value rules.
struct Values<'a> {
    p: &'a ColumnProfile,
    n: u32,
}

impl Values<'_> {
    fn r(&self, id: &str) -> f64 {
        self.p.hit_ratio(id)
    }
    fn k(&self, id: &str) -> u32 {
        self.p.hits(id)
    }
    fn of(&self, id: &str) -> String {
        format!("{} of {}", self.k(id), self.n)
    }
    fn enough(&self) -> bool {
        self.n >= 5
    }
    fn top_shape(&self) -> &str {
        self.p.shapes.first().map_or("", |s| s.shape.as_str())
    }
}

/// The kinds of personal data [`super::free_text`] spots, with their counters and wording.
/// Sampled values that must mention a person's health for a free-text label to count as
/// special-category data: one mention may be a passing remark, two make a pattern.
const TEXT_HEALTH_SPECIAL: u32 = 2;

const TEXT_KINDS: &[(&str, &str)] = &[
    ("text_email", "an e-mail address"),
    ("text_phone", "a phone number"),
    (
        "text_national_id",
        "a national or tax identifier with a valid check",
    ),
    ("text_payment", "a card number or IBAN"),
    ("text_person", "a person's name"),
    ("text_health", "a health condition of a person"),
];

/// Share of sampled values that must mention personal data for `FREE_TEXT_PII` to be applied
/// when at least [`TEXT_VALIDATED`] of those mentions are e-mail addresses, phone numbers,
/// identifiers or payment data, which validators confirm (otherwise [`TEXT_APPLY_WEAK`])…
pub const TEXT_APPLY: f64 = 0.3;
/// … when only names and health conditions, which rest on word lists, are mentioned.
pub const TEXT_APPLY_WEAK: f64 = 0.5;
/// Share for a suggestion.
pub const TEXT_SUGGEST: f64 = 0.15;
/// Share of the mentioning values whose mention a validator confirmed, for [`TEXT_APPLY`].
pub const TEXT_VALIDATED: f64 = 0.3;

/// `FREE_TEXT_PII`: most sampled values are sentences, and enough of them mention personal data
/// (see [`TEXT_APPLY`]; at least three values in any case). The evidence is split over the kinds
/// found, in proportion to how many values mention each, so the signals cite the counts.
fn free_text_evidence(v: &Values<'_>, ev: &mut Evidence) {
    let prose = v.k("prose");
    let k = v.k("text_pii");
    if !v.enough() || f64::from(prose) < 0.5 * f64::from(v.n) || k < 3 {
        return;
    }
    let share = f64::from(k) / f64::from(v.n);
    // Values with an entity a validator confirmed (an upper bound: a value may hold two kinds).
    let validated: u32 = [
        "text_email",
        "text_phone",
        "text_national_id",
        "text_payment",
    ]
    .iter()
    .map(|id| v.k(id))
    .sum();
    let strong = f64::from(validated.min(k)) >= TEXT_VALIDATED * f64::from(k);
    let w = if share >= TEXT_APPLY_WEAK || (strong && share >= TEXT_APPLY) {
        6.0
    } else if share >= TEXT_SUGGEST {
        4.6
    } else {
        return;
    };
    ev.add(
        Tier::Rule,
        w / 2.0,
        format!(
            "{k} of {} sampled values are sentences that mention personal data ({prose} read as sentences)",
            v.n
        ),
    );
    // People's health in their own words is special-category data (GDPR Art. 9) whatever the
    // label's type: said on the label, for the frameworks to follow.
    let health = v.k("text_health");
    if health >= TEXT_HEALTH_SPECIAL {
        ev.signals
            .push(super::phi::special_category_signal(&format!(
                "{health} of {} sampled values mention a person's health condition",
                v.n
            )));
    }
    let kinds: Vec<(u32, &str)> = TEXT_KINDS
        .iter()
        .map(|(id, what)| (v.k(id), *what))
        .filter(|(c, _)| *c > 0)
        .collect();
    let total: u32 = kinds.iter().map(|(c, _)| c).sum();
    for (c, what) in kinds {
        ev.add(
            Tier::Rule,
            w / 2.0 * f64::from(c) / f64::from(total),
            format!("{c} of {} sampled values contain {what}", v.n),
        );
    }
}

/// Evaluates the rule tier for one column and type. `hits` are the name-dictionary matches of
/// the column name (all types), `name` its tokens.
pub fn evaluate(
    label: T,
    profile: &ColumnProfile,
    name: &NameTokens,
    hits: &[NameHit],
    ev: &mut Evidence,
) -> NameSupport {
    let family = type_family(&profile.data_type);
    match type_compat(label, family) {
        None => {
            ev.vetoed = true;
            ev.add(
                Tier::Rule,
                -10.0,
                format!(
                    "a {} column (`{}`) cannot hold {}",
                    family_word(family),
                    profile.data_type,
                    describe(label)
                ),
            );
            return NameSupport::None;
        }
        Some(w) if w != 0.0 => ev.add(
            Tier::Rule,
            w,
            format!(
                "data type `{}` {} {}",
                profile.data_type,
                if w > 0.0 {
                    "is made for"
                } else {
                    "rarely holds"
                },
                describe(label)
            ),
        ),
        Some(_) => {}
    }
    let support = name_evidence(label, profile, name, hits, ev);
    if family == TypeFamily::Bool && !condition_named(label, hits, support) {
        ev.vetoed = true;
        ev.add(
            Tier::Rule,
            -10.0,
            format!(
                "a boolean column (`{}`) not named after a health condition cannot hold {}",
                profile.data_type,
                describe(label)
            ),
        );
        return support;
    }
    value_evidence(label, profile, family, support, ev);
    if matches!(label, T::Username | T::PersonName) {
        actor_evidence(label, profile, name, support, ev);
    }
    if label == T::PhoneNumber && support == NameSupport::None {
        identifier_named_not_phone(profile, hits, ev);
    }
    if SURROGATE_SENSITIVE.contains(&label) {
        surrogate_key(label, profile, family, name, ev);
    }
    support
}

/// Generic health words that do not name a condition a yes/no flag could be about
/// (`medical_check_done`, `condition_met`).
const NOT_A_CONDITION: &[&str] = &[
    "condition",
    "conditions",
    "medical",
    "indication",
    "problem list",
];

/// Whether a column's name names a health condition (`diabetic`, `hiv`, `schwanger`), which makes
/// a yes/no flag under it say whether the person has the condition.
fn condition_named(label: T, hits: &[NameHit], support: NameSupport) -> bool {
    label == T::HealthDiagnosis
        && matches!(support, NameSupport::Positive(w) if w >= super::names::MEDIUM)
        && hits
            .iter()
            .any(|h| h.label == label && !NOT_A_CONDITION.contains(&h.pattern))
}

/// Whether the values are a yes/no flag: a boolean column, or at most three distinct values
/// that all read as booleans (`true`/`false`, `Y`/`N`, `0`/`1`).
fn yes_no_flag(p: &ColumnProfile, family: TypeFamily) -> bool {
    family == TypeFamily::Bool || (p.distinct <= 3 && p.hit_ratio("boolean") >= 0.95)
}

/// The last-word forms of audit and actor columns: `created_by`, `angelegt_von`, `aangemaakt_door`,
/// `modifie_par`, `creado_por`.
const ACTOR_LINKS: &[&str] = &["by", "von", "door", "par", "por"];

/// Names of the person who did or owns something.
const ACTOR_WORDS: &[&str] = &[
    "actor",
    "owner",
    "author",
    "creator",
    "assignee",
    "approver",
    "reviewer",
    "editor",
    "submitter",
    "requester",
    "requestor",
    "ersteller",
    "bearbeiter",
    "auteur",
    "autor",
    "eigenaar",
    "responsavel",
    "responsable",
];

/// Whether a column names who acted (`created_by`, `approvedBy`, `record_owner`, `actor`): its
/// last word is an actor word, or a linking `by` after a verb.
pub(crate) fn actor_column(name: &NameTokens) -> Option<&str> {
    let last = name.tokens.last()?;
    if ACTOR_LINKS.contains(&last.as_str()) && name.tokens.len() >= 2 {
        return Some(last);
    }
    ACTOR_WORDS
        .contains(&last.as_str())
        .then_some(last.as_str())
}

/// People behind audit columns: a `created_by` or `owner` column names who acted; login handles
/// in it are usernames, capitalised names people's names. Processes (`system`, `etl`, `cron`)
/// in the same columns are nobody: see [`value_evidence`] for `USERNAME`.
fn actor_evidence(
    label: T,
    p: &ColumnProfile,
    name: &NameTokens,
    support: NameSupport,
    ev: &mut Evidence,
) {
    let Some(word) = actor_column(name) else {
        return;
    };
    let n = p.non_null();
    if n < 5 || p.hit_ratio("service_account") >= 0.5 {
        return;
    }
    let column = &p.column;
    match label {
        T::Username if p.hit_ratio("username").max(p.hit_ratio("name_handle")) >= 0.8 => {
            // The actor word says "a person" as a username name would (a medium name match,
            // +3), when the dictionary has not already said it; and handles where a person is
            // expected are logins.
            let w = if matches!(support, NameSupport::Positive(_)) {
                1.5
            } else {
                4.0
            };
            ev.add(
                Tier::Rule,
                w,
                format!(
                    "{} of {n} values are login handles in `{column}`, which names who acted (`{word}`)",
                    p.hits("username").max(p.hits("name_handle"))
                ),
            );
        }
        T::PersonName if p.hit_ratio("person_name_shape") >= 0.8 => {
            ev.add(
                Tier::Rule,
                2.0,
                format!(
                    "{} of {n} values are capitalised names in `{column}`, which names who acted (`{word}`)",
                    p.hits("person_name_shape")
                ),
            );
        }
        _ => {}
    }
}

/// Binary content by its first bytes ([`super::content`]). The values alone make a suggestion:
/// an image may be a product photo as well as a person's; the column's name or its table (about
/// people, or health care) carries it to a label, a table about things takes it away.
fn content_evidence(label: T, v: &Values<'_>, ev: &mut Evidence) {
    let (id, what) = match label {
        T::Photo => ("image_content", "images (JPEG, PNG, HEIF, TIFF, DICOM …)"),
        T::Document => ("document_content", "documents (PDF, Word, Excel, RTF …)"),
        _ => ("audio_content", "sound recordings (MP3, WAV, Ogg, FLAC …)"),
    };
    let r = v.r(id);
    if r >= 0.8 {
        ev.add(
            Tier::Rule,
            4.5,
            format!(
                "{} sampled non-null values are {what}, by their first bytes",
                v.of(id)
            ),
        );
    } else if r >= 0.3 {
        ev.add(
            Tier::Rule,
            2.5,
            format!(
                "{} sampled non-null values are {what}, by their first bytes",
                v.of(id)
            ),
        );
    } else if v.enough() {
        ev.add(
            Tier::Rule,
            -4.0,
            format!(
                "only {} sampled values are {what}: the name alone does not make content",
                v.of(id)
            ),
        );
    }
}

/// Identifier types a row-numbering key can be mistaken for.
const SURROGATE_SENSITIVE: &[T] = &[
    T::MedicalRecordNumber,
    T::NationalId,
    T::TaxId,
    T::PassportNumber,
    T::DriversLicense,
    T::BankAccountNumber,
    T::UsSsn,
];

/// Keys are not people: integers under a name ending in `id`/`pk`/`fk` (`patient_identifier_id`,
/// `patient_id` in an encounters table) number or reference rows. Distinct ones number the rows
/// of their table; integers of varying width (`7`, `42`, `1305`: no zero padding) or of at most
/// four digits reference them. A person's identifier has a fixed width, more digits or letters.
fn surrogate_key(
    label: T,
    p: &ColumnProfile,
    family: TypeFamily,
    name: &NameTokens,
    ev: &mut Evidence,
) {
    let last = name.tokens.last().map_or("", String::as_str);
    let keyed = matches!(last, "id" | "pk" | "fk");
    let integers = family == TypeFamily::Integer || p.hit_ratio("integer") >= 0.95;
    if !keyed || !integers || p.non_null() < 10 || p.max_len > 7 {
        return;
    }
    if p.distinct == p.non_null() {
        ev.add(
            Tier::Rule,
            -3.0,
            format!(
                "{} distinct integers of at most {} digits under an `…{last}` name: a key numbering rows, not {}",
                p.distinct,
                p.max_len,
                describe(label)
            ),
        );
    } else if p.min_len < p.max_len || p.max_len <= 4 {
        ev.add(
            Tier::Rule,
            -3.0,
            format!(
                "integers of {} to {} digits, unpadded, under an `…{last}` name: a key referring to rows, not {}",
                p.min_len,
                p.max_len,
                describe(label)
            ),
        );
    }
}

/// Identifier types whose numbers are often written in digit groups that read like phone
/// numbers.
const GROUPED_IDENTIFIERS: &[T] = &[
    T::TaxId,
    T::NationalId,
    T::UsSsn,
    T::BankAccountNumber,
    T::MedicalRecordNumber,
    T::PassportNumber,
    T::DriversLicense,
];

/// A column whose name asks for an identifier (and not a phone) holds that identifier even when
/// its digit groups read like phone numbers: `steuernummer` with `21/815/08150`.
fn identifier_named_not_phone(profile: &ColumnProfile, hits: &[NameHit], ev: &mut Evidence) {
    let Some(hit) = hits.iter().find(|h| {
        GROUPED_IDENTIFIERS.contains(&h.label) && h.weight >= STRONG && h.modifier.is_none()
    }) else {
        return;
    };
    if profile.hit_ratio("phone") + profile.hit_ratio("phone_bare") < 0.5 {
        return;
    }
    ev.add(
        Tier::Rule,
        -3.0,
        format!(
            "column name `{}` asks for {} (`{}`), not phone numbers; the digit grouping alone does not make a phone number",
            profile.column,
            describe(hit.label),
            hit.pattern
        ),
    );
}

/// The share of non-null values that are runs of digits with a length in `lengths` (from the
/// masked shapes).
fn digit_run_share(p: &ColumnProfile, lengths: std::ops::RangeInclusive<usize>) -> f64 {
    if p.non_null() == 0 {
        return 0.0;
    }
    let n: u32 = p
        .shapes
        .iter()
        .filter(|s| lengths.contains(&s.shape.len()) && s.shape.bytes().all(|b| b == b'9'))
        .map(|s| s.count)
        .sum();
    f64::from(n) / f64::from(p.non_null())
}

/// The share of non-null values (by their masked shapes) that begin with a letter.
fn leading_letter_share(p: &ColumnProfile) -> f64 {
    if p.non_null() == 0 {
        return 0.0;
    }
    let n: u32 = p
        .shapes
        .iter()
        .filter(|s| s.shape.starts_with(['A', 'a']))
        .map(|s| s.count)
        .sum();
    f64::from(n) / f64::from(p.non_null())
}

/// Whether every sampled value is a single digit (codes such as ISO 5218 sex codes).
fn single_digits(p: &ColumnProfile) -> bool {
    p.max_len <= 1 && !p.shapes.is_empty() && p.shapes.iter().all(|s| s.shape == "9")
}

/// Whether the values are short codes of one to three characters (`RK`, `EV`, `1`, `--`).
fn short_codes(p: &ColumnProfile) -> bool {
    p.max_len <= 3 && !p.shapes.is_empty()
}

/// Whether the values are a small set of words (at most 12 distinct among enough samples), as
/// category columns hold.
fn categorical_words(p: &ColumnProfile) -> bool {
    p.non_null() >= 20
        && p.distinct <= 12
        && p.shapes.iter().all(|s| {
            s.shape
                .chars()
                .all(|c| c == 'a' || c == 'A' || c == ' ' || c == '-')
        })
}

fn name_evidence(
    label: T,
    profile: &ColumnProfile,
    name: &NameTokens,
    hits: &[NameHit],
    ev: &mut Evidence,
) -> NameSupport {
    let Some(hit) = hits.iter().find(|h| h.label == label) else {
        return NameSupport::None;
    };
    let column = &profile.column;
    if let Some(modifier) = &hit.modifier {
        let w = -hit.weight.min(2.0);
        ev.add(
            Tier::Rule,
            w,
            format!(
                "column name `{column}` mentions `{}` but `{modifier}` makes it a fact about {} rather than one",
                hit.pattern,
                describe(label)
            ),
        );
        return NameSupport::Negated;
    }
    // A stronger match of another type makes a weak one of this type incidental
    // (`owner_email`: the owner's e-mail, not the owner's name).
    let stronger_other = hits.iter().any(|h| {
        h.label != label && h.modifier.is_none() && h.weight >= STRONG && hit.weight < STRONG
    });
    if stronger_other {
        return NameSupport::None;
    }
    // `product_name`, `team_name`: a generic "name" qualified by a thing. Role words
    // (`account_owner`, `product_owner`) stay people.
    let generic_name = matches!(hit.pattern, "name" | "naam" | "nom" | "nombre" | "nome");
    if label == T::PersonName && generic_name {
        if let Some(q) = name.words().find(|t| NON_PERSON_QUALIFIERS.contains(t)) {
            ev.add(
                Tier::Rule,
                -3.0,
                format!("column name `{column}` names a {q}, not a person"),
            );
            return NameSupport::Negated;
        }
    }
    ev.add(
        Tier::Rule,
        hit.weight,
        format!(
            "column name `{column}` matches `{}` ({})",
            hit.pattern,
            describe(label)
        ),
    );
    NameSupport::Positive(hit.weight)
}

fn value_evidence(
    label: T,
    p: &ColumnProfile,
    family: TypeFamily,
    support: NameSupport,
    ev: &mut Evidence,
) {
    let v = Values { p, n: p.non_null() };
    if v.n == 0 {
        ev.add(
            Tier::Rule,
            -1.0,
            format!(
                "no non-null values among {} sampled: the name alone cannot confirm {}",
                p.sampled,
                describe(label)
            ),
        );
        return;
    }
    let named = matches!(support, NameSupport::Positive(_));
    let contradict = |ev: &mut Evidence, what: &str| {
        if v.enough() {
            ev.add(
                Tier::Rule,
                -4.0,
                format!(
                    "sampled values do not look like {} ({what}; most common shape `{}`)",
                    describe(label),
                    v.top_shape()
                ),
            );
        }
    };
    match label {
        T::FreeTextPii => free_text_evidence(&v, ev),
        T::Photo | T::Document | T::AudioRecording => content_evidence(label, &v, ev),
        T::EmailAddress => {
            let r = v.r("email");
            if r >= 0.5 {
                ev.add(
                    Tier::Rule,
                    if r >= 0.8 { 6.5 } else { 4.0 },
                    format!(
                        "{} sampled non-null values are e-mail addresses",
                        v.of("email")
                    ),
                );
            } else if r >= 0.2 {
                ev.add(
                    Tier::Rule,
                    1.5,
                    format!(
                        "{} sampled non-null values are e-mail addresses",
                        v.of("email")
                    ),
                );
            } else {
                contradict(ev, &format!("{} are e-mail addresses", v.of("email")));
            }
        }
        T::CreditCardNumber => {
            let r = v.r("luhn_card");
            let pan = v.r("pan_shape");
            if r >= 0.8 {
                ev.add(Tier::Rule, 7.0, format!("{} sampled non-null values pass Luhn with a known card-network prefix (Visa, Mastercard, Amex, …)", v.of("luhn_card")));
            } else if r >= 0.5 {
                ev.add(
                    Tier::Rule,
                    3.0,
                    format!(
                        "{} sampled non-null values pass Luhn with a card-network prefix",
                        v.of("luhn_card")
                    ),
                );
            } else if pan >= 0.5 {
                ev.add(Tier::Context, -5.0, format!("{} values have card-number length but only {} pass Luhn with a network prefix", v.of("pan_shape"), v.k("luhn_card")));
            } else {
                contradict(
                    ev,
                    &format!("{} pass Luhn with a network prefix", v.of("luhn_card")),
                );
            }
        }
        T::CardSecurityCode => {
            let short_digits = v.r("integer") >= 0.95 && p.min_len >= 3 && p.max_len <= 4;
            if short_digits {
                ev.add(
                    Tier::Rule,
                    1.5,
                    format!("all {} sampled values are 3–4 digit numbers", v.n),
                );
            } else {
                contradict(ev, "not 3–4 digit numbers");
            }
        }
        T::Iban => {
            let r = v.r("iban");
            if r >= 0.5 {
                ev.add(Tier::Rule, if r >= 0.8 { 7.0 } else { 4.0 }, format!("{} sampled non-null values are IBANs with a valid country length and mod-97 check", v.of("iban")));
            } else {
                contradict(ev, &format!("{} pass the IBAN mod-97 check", v.of("iban")));
            }
        }
        T::BankAccountNumber => {
            if v.r("iban") >= 0.5 {
                ev.add(
                    Tier::Rule,
                    -5.0,
                    format!("{} values are IBANs, a more specific type", v.of("iban")),
                );
            } else if v.r("aba_routing") >= 0.8 {
                ev.add(
                    Tier::Rule,
                    1.0,
                    format!(
                        "{} values pass the ABA routing checksum: bank routing numbers",
                        v.of("aba_routing")
                    ),
                );
            } else if v.r("integer") >= 0.8 && p.min_len >= 6 && p.max_len <= 20 {
                ev.add(
                    Tier::Rule,
                    1.5,
                    format!("{} values are 6–20 digit numbers", v.of("integer")),
                );
            } else if v.enough() && leading_letter_share(p) >= 0.8 {
                // `AW00012345`: a customer or vendor account label (a key of the books), not
                // a bank's account number, which is digits (IBANs are told apart above).
                ev.add(
                    Tier::Rule,
                    -2.5,
                    format!(
                        "{:.0}% of values begin with letters (most common shape `{}`): account labels of a ledger or CRM, not bank account numbers",
                        leading_letter_share(p) * 100.0,
                        v.top_shape()
                    ),
                );
            } else if v.r("integer") + v.r("document_number") < 0.5 {
                contradict(ev, "not account-number digits");
            }
        }
        T::UsSsn => {
            let r = v.r("us_ssn");
            let rf = v.r("us_ssn_formatted");
            if v.r("bsn") >= 0.9 && v.enough() {
                ev.add(
                    Tier::Rule,
                    -3.0,
                    format!("{} values pass the Dutch BSN 11-check", v.of("bsn")),
                );
            }
            if v.r("aba_routing") >= 0.9 && v.enough() {
                ev.add(
                    Tier::Rule,
                    -3.0,
                    format!(
                        "{} values pass the ABA routing checksum",
                        v.of("aba_routing")
                    ),
                );
            }
            national_ids::not_ssn(p, ev);
            if r >= 0.8 && rf >= 0.3 {
                ev.add(Tier::Rule, 5.0, format!("{} sampled non-null values follow the SSA rules for SSNs, {} written `999-99-9999`", v.of("us_ssn"), v.k("us_ssn_formatted")));
            } else if r >= 0.9 {
                ev.add(Tier::Rule, 1.5, format!("{} values are nine digits that follow the SSA rules (unformatted, so weak)", v.of("us_ssn")));
            } else {
                contradict(ev, &format!("{} follow the SSA rules", v.of("us_ssn")));
            }
        }
        T::NationalId => {
            // Identity numbers of many countries by their check algorithms (UK NINO, Dutch BSN,
            // French NIR, PESEL, …), judged against the chance pass rate.
            let registry = national_ids::evidence(label, p, named, ev);
            if registry == Verdict::Silent {
                if v.r("document_number") + v.r("integer") >= 0.7 {
                    ev.add(Tier::Rule, 1.0, "values are identifier-like codes");
                } else {
                    contradict(ev, "not identifier codes");
                }
            }
        }
        T::TaxId => {
            let vat = v.r("eu_vat");
            let ein = v.r("ein");
            let registry = if vat + ein < 0.4 {
                national_ids::evidence(label, p, named, ev)
            } else {
                Verdict::Silent
            };
            if registry == Verdict::Silent {
                if vat + ein >= 0.8 {
                    ev.add(Tier::Rule, 6.0, format!("{} sampled non-null values are EU VAT numbers and {} US EINs with valid prefixes", v.of("eu_vat"), v.k("ein")));
                } else if vat + ein >= 0.4 {
                    ev.add(
                        Tier::Rule,
                        3.0,
                        format!(
                            "{} values are EU VAT numbers or US EINs",
                            v.k("eu_vat") + v.k("ein")
                        ),
                    );
                } else if v.r("document_number") + v.r("integer") >= 0.7 {
                    ev.add(Tier::Rule, 1.0, "values are identifier-like codes");
                } else if named && v.r("phone") >= 0.7 {
                    // National tax numbers are often written in digit groups (`21/815/08150`),
                    // which read like phone numbers; the name decides between them.
                    ev.add(
                        Tier::Rule,
                        0.5,
                        format!(
                            "{} values are digit groups, as many national tax numbers are written",
                            v.of("phone")
                        ),
                    );
                } else {
                    contradict(ev, "not tax-number codes");
                }
            }
        }
        T::PassportNumber | T::DriversLicense | T::MedicalRecordNumber => {
            let dl = v.r("uk_driving_licence");
            // Health-service numbers with check digits (NHS, Medicare).
            let registry = if label == T::MedicalRecordNumber {
                national_ids::evidence(label, p, named, ev)
            } else {
                Verdict::Silent
            };
            if registry == Verdict::Silent {
                if label == T::DriversLicense && dl >= 0.2 {
                    ev.add(
                        Tier::Rule,
                        if dl >= 0.5 { 4.0 } else { 2.0 },
                        format!(
                        "{} values are GB driving-licence numbers (name and birth date encoded)",
                        v.of("uk_driving_licence")
                    ),
                    );
                } else if v.r("document_number") + v.r("integer") >= 0.6 || id_like(p) >= 0.7 {
                    ev.add(Tier::Rule, 1.5, "values are document-number-like codes");
                } else {
                    contradict(ev, "not document-number codes");
                }
            }
        }
        T::PhoneNumber => {
            // A checksum that most values pass outweighs their phone-like notation.
            national_ids::phone_conflict(p, ev);
            let r = v.r("phone");
            let rs = r + v.r("phone_bare");
            if r >= 0.7 {
                ev.add(Tier::Rule, 5.0, format!("{} sampled non-null values are phone numbers in international or national notation", v.of("phone")));
            } else if r >= 0.4 && rs >= 0.7 {
                ev.add(
                    Tier::Rule,
                    4.0,
                    format!(
                        "{} values are phone numbers, {} more are bare 10–11 digit numbers",
                        v.of("phone"),
                        v.k("phone_bare")
                    ),
                );
            } else if rs >= 0.8 {
                ev.add(
                    Tier::Rule,
                    1.5,
                    format!(
                        "{} values are bare 10–11 digit numbers that could be phone numbers",
                        v.of("phone_bare")
                    ),
                );
            } else if rs >= 0.4 {
                ev.add(
                    Tier::Rule,
                    1.0,
                    format!(
                        "{} values look like phone numbers",
                        v.k("phone") + v.k("phone_bare")
                    ),
                );
            } else if named && digit_run_share(p, 8..=9) >= 0.8 {
                // Local or national numbers without a prefix (8 digits in DK/NO, 9 in ES/PT,
                // a Brazilian mobile without its area code) under a phone name.
                ev.add(
                    Tier::Rule,
                    1.0,
                    "values are bare 8–9 digit numbers, as phone numbers without an area or country prefix are written",
                );
            } else {
                contradict(
                    ev,
                    &format!(
                        "{} look like phone numbers",
                        v.k("phone") + v.k("phone_bare")
                    ),
                );
            }
        }
        T::PostalCode => {
            let r = v.r("postal_code");
            let rf = v.r("postal_code_format");
            if r >= 0.8 && rf >= 0.2 {
                ev.add(Tier::Rule, 3.5, format!("{} sampled non-null values are postcodes, {} in letter or dashed national formats (UK, NL, CA, ZIP+4, …)", v.of("postal_code"), v.k("postal_code_format")));
            } else if r >= 0.8 {
                ev.add(
                    Tier::Rule,
                    1.5,
                    format!(
                        "{} values are 4–6 digit numbers that could be postcodes",
                        v.of("postal_code")
                    ),
                );
            } else if r >= 0.5 {
                ev.add(
                    Tier::Rule,
                    0.5,
                    format!("{} values could be postcodes", v.of("postal_code")),
                );
            } else {
                contradict(ev, &format!("{} could be postcodes", v.of("postal_code")));
            }
        }
        T::DateOfBirth => {
            let dated = family == TypeFamily::Date || family == TypeFamily::Timestamp;
            let rd = v.r("date") + v.r("timestamp");
            let rb = v.r("birth_date");
            if !dated && rd < 0.5 {
                contradict(ev, &format!("{} are dates", v.k("date") + v.k("timestamp")));
            } else if rb >= 0.8 {
                ev.add(
                    Tier::Rule,
                    2.0,
                    format!(
                        "{} sampled values are dates in plausible birth years (1900–2015)",
                        v.of("birth_date")
                    ),
                );
                // Dates of birth are often kept in timestamp columns, every time at midnight: the
                // calendar date the type's penalty is about is then all there is.
                if family == TypeFamily::Timestamp && v.r("date") >= 0.9 && v.enough() {
                    ev.add(
                        Tier::Rule,
                        2.0,
                        format!(
                            "{} timestamps are at midnight: calendar dates kept in a timestamp column",
                            v.of("date")
                        ),
                    );
                }
                // Adults' birth dates reach back decades and are all different; the dates of
                // events a system records (orders, visits, hires) begin when it did.
                let old = v.r("date_before_1980");
                if rb >= 0.9 && old >= 0.2 && v.enough() && spread(p) >= 0.6 {
                    ev.add(
                        Tier::Rule,
                        1.5,
                        format!(
                            "{} of them before 1980, {} distinct: dates spread over decades, as people's birth dates are",
                            v.k("date_before_1980"),
                            p.distinct
                        ),
                    );
                }
            } else if rd >= 0.8 && rb < 0.2 && v.enough() {
                ev.add(
                    Tier::Rule,
                    -1.5,
                    format!(
                        "only {} dates fall in plausible birth years: these look like event dates",
                        v.k("birth_date")
                    ),
                );
            }
        }
        T::Gender => {
            let r = v.r("gender_code");
            if r >= 0.9 && p.distinct <= 8 {
                let letters_only = p.max_len <= 1;
                if letters_only && p.distinct >= 2 {
                    ev.add(
                        Tier::Rule,
                        3.5,
                        format!(
                            "all {} values are one-letter gender codes ({} distinct)",
                            v.n, p.distinct
                        ),
                    );
                } else if letters_only {
                    ev.add(
                        Tier::Rule,
                        1.5,
                        format!("all {} values are the same one-letter code", v.n),
                    );
                } else {
                    ev.add(
                        Tier::Rule,
                        4.5,
                        format!(
                            "{} sampled non-null values are gender words or codes ({} distinct)",
                            v.of("gender_code"),
                            p.distinct
                        ),
                    );
                }
            } else if named && p.max_len <= 1 && p.distinct <= 4 && r >= 0.5 {
                // `M`/`F` plus a marker for unknown (`I`, `U`, `X`), under a gender name.
                ev.add(
                    Tier::Rule,
                    2.0,
                    format!(
                        "{} one-letter values are gender codes ({} distinct, the others markers such as unknown)",
                        v.of("gender_code"),
                        p.distinct
                    ),
                );
            } else if (family == TypeFamily::Integer || single_digits(p))
                && p.distinct <= 4
                && named
            {
                // Numeric sex codes (ISO 5218 `1`/`2`/`9`, `0`/`1`) under a gender name.
                ev.add(
                    Tier::Rule,
                    1.0,
                    format!(
                        "{} distinct one-digit codes under a gender name",
                        p.distinct
                    ),
                );
            } else {
                contradict(
                    ev,
                    &format!("{} are gender words or codes", v.of("gender_code")),
                );
            }
        }
        T::IpAddress => {
            let rip = v.r("ipv4") + v.r("ipv6");
            let ver = v.r("version_string");
            if rip >= 0.5 {
                ev.add(
                    Tier::Rule,
                    if rip >= 0.8 { 6.5 } else { 3.5 },
                    format!(
                        "{} sampled non-null values are IPv4 and {} IPv6 addresses",
                        v.of("ipv4"),
                        v.k("ipv6")
                    ),
                );
            } else if family != TypeFamily::Inet {
                contradict(
                    ev,
                    &format!("{} are IP addresses", v.k("ipv4") + v.k("ipv6")),
                );
            }
            if ver >= 0.5 {
                ev.add(Tier::Context, -7.0, format!("{} values are dotted numbers with a small leading part: version strings, not addresses", v.of("version_string")));
            }
        }
        T::MacAddress => {
            let r = v.r("mac");
            let sep = v.r("mac_separated");
            if r >= 0.8 && sep >= 0.3 {
                ev.add(Tier::Rule, 6.5, format!("{} sampled non-null values are MAC addresses ({} with `:`, `-` or `.` separators)", v.of("mac"), v.k("mac_separated")));
            } else if r >= 0.8 {
                ev.add(
                    Tier::Rule,
                    2.5,
                    format!(
                        "{} values are 12 hex digits, which could be MAC addresses",
                        v.of("mac")
                    ),
                );
            } else if family != TypeFamily::Mac {
                contradict(ev, &format!("{} are MAC addresses", v.of("mac")));
            }
        }
        T::GeoCoordinate => {
            let pair = v.r("geo_pair");
            let lat = v.r("geo_lat");
            let lon = v.r("geo_lon");
            if pair >= 0.8 {
                ev.add(
                    Tier::Rule,
                    5.0,
                    format!("{} values are latitude/longitude pairs", v.of("geo_pair")),
                );
            } else if lat.max(lon) >= 0.9 {
                ev.add(Tier::Rule, 2.0, format!("{} values are decimals with 3+ fraction digits within ±90 (latitude range), {} within ±180", v.k("geo_lat"), v.k("geo_lon")));
            } else {
                contradict(ev, "not decimal degrees");
            }
        }
        T::Username => {
            let r = v.r("username");
            if v.r("service_account") >= 0.5 && v.enough() {
                ev.add(
                    Tier::Rule,
                    -5.0,
                    format!(
                        "{} values are accounts of processes (`system`, `etl`, `cron`, `svc_…`), not of people",
                        v.of("service_account")
                    ),
                );
            } else if r >= 0.8
                || v.r("name_handle") >= 0.6
                || (v.r("upper_handle") >= 0.8 && v.r("name_handle") >= 0.3)
            {
                if r >= 0.8 {
                    ev.add(
                        Tier::Rule,
                        1.5,
                        format!(
                            "{} values are single-word handles (letters, digits, `._-`, no spaces, mostly lowercase)",
                            v.of("username")
                        ),
                    );
                }
                // Handles made of people's names (`jnowak`, `imke.korhonen`, SAP's `MUELLERK`)
                // are accounts of people; words that merely look like handles are not.
                let named_handles = v.r("name_handle");
                let upper = v.r("upper_handle");
                if upper >= 0.8 && named_handles >= 0.3 && v.enough() && spread(p) >= 0.5 {
                    // SAP and other ERP systems keep user ids in upper case, at most twelve
                    // characters, many of them cut from the person's names.
                    ev.add(
                        Tier::Rule,
                        4.0,
                        format!(
                            "{} values are upper-case ids of at most 12 characters, {} of them built from a common given or family name: user ids as SAP and other ERP systems write them ({} distinct)",
                            v.of("upper_handle"),
                            v.k("name_handle"),
                            p.distinct
                        ),
                    );
                } else if named_handles >= 0.6 && v.enough() && spread(p) >= 0.3 {
                    ev.add(
                        Tier::Rule,
                        if r >= 0.8 { 2.5 } else { 4.0 },
                        format!(
                            "{} values are login handles built from a common given or family name, as `jnowak`, `imke.korhonen` or `MUELLERK` are ({} distinct)",
                            v.of("name_handle"),
                            p.distinct
                        ),
                    );
                }
            } else if v.r("email") >= 0.8 {
                ev.add(
                    Tier::Rule,
                    0.5,
                    "values are e-mail addresses used as logins",
                );
            } else if r < 0.3 {
                contradict(ev, &format!("{} look like login handles", v.of("username")));
            }
        }
        T::Password => {
            let rh = v.r("password_hash");
            if rh >= 0.3 {
                ev.add(Tier::Rule, if rh >= 0.8 { 7.0 } else { 4.0 }, format!("{} sampled non-null values are password hashes (bcrypt, argon2, PBKDF2, crypt, phpass, …)", v.of("password_hash")));
                // How the passwords are kept is a fact of its own, for compliance (SOC 2 CC6.1):
                // only when none of the sampled ones is readable.
                if v.k("password_hash") == v.n && v.enough() {
                    ev.signals.push(super::stored::hashed_signal(&format!(
                        "{} sampled non-null values are password hashes",
                        v.of("password_hash")
                    )));
                }
            } else if v.r("hex_digest") >= 0.8 {
                if named {
                    ev.add(
                        Tier::Rule,
                        1.0,
                        format!(
                            "{} values are unsalted hex digests, as password hashes are stored",
                            v.of("hex_digest")
                        ),
                    );
                }
            } else if v.r("email")
                + v.r("date")
                + v.r("timestamp")
                + v.r("boolean")
                + v.r("free_text")
                >= 0.5
            {
                contradict(ev, "they are e-mails, dates, flags or text");
            } else if p.min_len >= 4 && p.max_len <= 64 && v.r("integer") < 0.5 {
                ev.add(
                    Tier::Rule,
                    1.5,
                    "values are short strings without spaces, as plain-text passwords are",
                );
            }
        }
        T::SecretKey => {
            let known = v.r("api_key") + v.r("jwt");
            let token = v.r("random_token");
            if known >= 0.5 {
                ev.add(Tier::Rule, 7.0, format!("{} sampled non-null values are API keys or tokens in known formats (Stripe, AWS, GitHub, Slack, SendGrid, JWT, …)", v.k("api_key") + v.k("jwt")));
            } else if known + token >= 0.8 {
                ev.add(
                    Tier::Rule,
                    3.0,
                    format!(
                        "{} values are known key formats and {} more are random-looking tokens",
                        v.k("api_key") + v.k("jwt"),
                        v.k("random_token")
                    ),
                );
            } else if token >= 0.6 {
                ev.add(
                    Tier::Rule,
                    2.5,
                    format!(
                        "{} values are long random-looking tokens (mixed case and digits)",
                        v.of("random_token")
                    ),
                );
            } else if v.r("hex_digest") >= 0.8 {
                ev.add(
                    Tier::Rule,
                    1.0,
                    format!("{} values are long hex strings", v.of("hex_digest")),
                );
            } else if v.r("uuid") >= 0.8 {
                ev.add(
                    Tier::Rule,
                    -2.0,
                    format!("{} values are UUIDs, usually identifiers", v.of("uuid")),
                );
            } else if v.r("email")
                + v.r("date")
                + v.r("timestamp")
                + v.r("integer")
                + v.r("free_text")
                + v.r("boolean")
                >= 0.5
            {
                contradict(ev, "they are e-mails, dates, numbers or text");
            }
        }
        T::HealthDiagnosis => {
            let icd = v.r("icd10");
            let terms = v.r("health_term");
            let med = v.r("medication");
            if med >= 0.5 {
                ev.add(
                    Tier::Rule,
                    -4.0,
                    format!(
                        "{} values carry doses (mg, ml, …): medication, not diagnosis",
                        v.of("medication")
                    ),
                );
            }
            if yes_no_flag(p, family) && named {
                ev.add(
                    Tier::Rule,
                    2.0,
                    format!(
                        "{} distinct yes/no values under a health-condition name: whether the person has the condition",
                        p.distinct
                    ),
                );
            } else if icd >= 0.8 {
                ev.add(
                    Tier::Rule,
                    4.5,
                    format!("{} sampled non-null values are ICD-10 codes", v.of("icd10")),
                );
            } else if terms >= 0.6 {
                ev.add(
                    Tier::Rule,
                    4.0,
                    format!("{} values name medical conditions", v.of("health_term")),
                );
            } else if terms >= 0.3 {
                ev.add(
                    Tier::Rule,
                    2.0,
                    format!("{} values name medical conditions", v.of("health_term")),
                );
            } else if named && short_codes(p) && p.distinct <= 6 {
                // `diabetes` = 1/2/9: whether the person has the condition the name names.
                ev.add(
                    Tier::Rule,
                    0.5,
                    format!(
                        "{} distinct short codes under a health-condition name: a condition flag",
                        p.distinct
                    ),
                );
            } else if named && categorical_words(p) && family == TypeFamily::Text {
                ev.add(
                    Tier::Rule,
                    0.0,
                    format!(
                        "{} distinct words, none a known condition term: the name decides",
                        p.distinct
                    ),
                );
            } else {
                contradict(ev, "no ICD-10 codes or condition names");
            }
        }
        T::Ethnicity | T::Religion => {
            let id = if label == T::Ethnicity {
                "ethnicity"
            } else {
                "religion"
            };
            let r = v.r(id);
            if r >= 0.7 && p.distinct >= 3 {
                ev.add(
                    Tier::Rule,
                    5.5,
                    format!(
                        "{} sampled non-null values are {} categories ({} distinct)",
                        v.of(id),
                        describe(label),
                        p.distinct
                    ),
                );
            } else if r >= 0.5 {
                ev.add(
                    Tier::Rule,
                    2.5,
                    format!("{} values are {} categories", v.of(id), describe(label)),
                );
            } else if (family == TypeFamily::Integer || short_codes(p)) && named && p.distinct <= 20
            {
                ev.add(
                    Tier::Rule,
                    0.5,
                    format!(
                        "{} distinct short codes under a {} name",
                        p.distinct,
                        describe(label)
                    ),
                );
            } else if named && categorical_words(p) {
                // A small set of words the vocabulary does not know (another language, local
                // categories): what the name says stands, unconfirmed.
                ev.add(
                    Tier::Rule,
                    0.0,
                    format!(
                        "{} distinct words, none a known {} category: the name decides",
                        p.distinct,
                        describe(label)
                    ),
                );
            } else {
                contradict(
                    ev,
                    &format!("{} are {} categories", v.of(id), describe(label)),
                );
            }
        }
        T::VehicleId => {
            let vin = v.r("vin");
            let shape = v.r("vin_shape");
            if vin >= 0.8 {
                ev.add(
                    Tier::Rule,
                    7.0,
                    format!(
                        "{} sampled non-null values are VINs with a valid check digit",
                        v.of("vin")
                    ),
                );
            } else if shape >= 0.8 {
                let w = if named { -2.5 } else { -5.0 };
                ev.add(Tier::Context, w, format!("{} values have the 17-character VIN shape but only {} pass the check digit", v.of("vin_shape"), v.k("vin")));
            } else {
                contradict(ev, &format!("{} are VINs", v.of("vin")));
            }
        }
        T::PostalAddress => {
            let r = v.r("address_line");
            if r >= 0.6 {
                ev.add(Tier::Rule, 4.5, format!("{} sampled non-null values are street or dwelling lines (number with a street word)", v.of("address_line")));
            } else if r >= 0.3 {
                ev.add(
                    Tier::Rule,
                    2.5,
                    format!(
                        "{} values are street or dwelling lines",
                        v.of("address_line")
                    ),
                );
            } else if v.r("street_name") >= 0.6 {
                // A street type word or suffix (`Rue des Glycines`, `Lindenstraat`) in most
                // values: streets, whatever the column is called.
                ev.add(
                    Tier::Rule,
                    3.0,
                    format!(
                        "{} values are street names without a house number: the street of an address",
                        v.of("street_name")
                    ),
                );
            } else if v.enough() && r < 0.1 {
                ev.add(
                    Tier::Rule,
                    -2.0,
                    format!(
                        "only {} values look like street lines",
                        v.of("address_line")
                    ),
                );
            }
        }
        T::PersonName => {
            let shape = v.r("person_name_shape");
            let given = v.r("given_name");
            let full = v.r("full_name");
            let org = v.r("org_name");
            if org >= 0.2 {
                ev.add(
                    Tier::Context,
                    -4.0,
                    format!(
                        "{} values carry company words (Ltd, AG, & …): organisations, not people",
                        v.of("org_name")
                    ),
                );
            }
            let family = v.r("family_name");
            // Names repeat less than categories do: a handful of distinct words is a code list
            // (colours, seasons, statuses), however many of them are also people's names.
            let varied = p.distinct >= 8 || f64::from(p.distinct) >= 0.5 * f64::from(v.n);
            if shape >= 0.8 {
                if given >= 0.5 && full >= 0.5 {
                    ev.add(Tier::Rule, 4.5, format!("{} sampled non-null values are capitalised names, {} with a common given name", v.of("person_name_shape"), v.k("given_name")));
                } else if full >= 0.5 && given + family >= 0.6 && varied {
                    ev.add(Tier::Rule, 4.0, format!("{} sampled non-null values are capitalised names of two or more words, {} with a common given name and {} with a common family name", v.of("person_name_shape"), v.k("given_name"), v.k("family_name")));
                } else if full < 0.2 && given >= 0.5 && varied {
                    ev.add(Tier::Rule, 4.0, format!("{} sampled non-null values are single capitalised words, {} of them common given names ({} distinct)", v.of("person_name_shape"), v.k("given_name"), p.distinct));
                } else if full < 0.2 && family >= 0.5 && varied {
                    ev.add(Tier::Rule, 3.5, format!("{} sampled non-null values are single capitalised words, {} of them common family names ({} distinct)", v.of("person_name_shape"), v.k("family_name"), p.distinct));
                } else if given >= 0.3 {
                    ev.add(
                        Tier::Rule,
                        2.5,
                        format!(
                            "{} values are capitalised names, {} with a common given name",
                            v.of("person_name_shape"),
                            v.k("given_name")
                        ),
                    );
                } else {
                    ev.add(
                        Tier::Rule,
                        1.0,
                        format!(
                            "{} values are capitalised words, as names are",
                            v.of("person_name_shape")
                        ),
                    );
                }
            } else if shape >= 0.5 {
                ev.add(
                    Tier::Rule,
                    0.5,
                    format!("{} values are capitalised words", v.of("person_name_shape")),
                );
            } else {
                contradict(
                    ev,
                    &format!("{} are capitalised names", v.of("person_name_shape")),
                );
            }
        }
    }
}

/// Distinct values per sampled non-null value (0 when nothing was sampled).
fn spread(p: &ColumnProfile) -> f64 {
    if p.non_null() == 0 {
        0.0
    } else {
        f64::from(p.distinct) / f64::from(p.non_null())
    }
}

/// Share of values that are short identifier codes (letters/digits/dashes, at least one digit).
fn id_like(p: &ColumnProfile) -> f64 {
    let n = p.non_null();
    if n == 0 {
        return 0.0;
    }
    let ids: u32 = p
        .shapes
        .iter()
        .filter(|s| {
            (4..=20).contains(&s.shape.len())
                && s.shape.contains('9')
                && s.shape
                    .bytes()
                    .all(|c| matches!(c, b'9' | b'A' | b'a' | b'-' | b'/' | b'.'))
        })
        .map(|s| s.count)
        .sum();
    f64::from(ids) / f64::from(n)
}

/// Whether a detector id exists (guards the ids used above against typos).
#[cfg(test)]
pub(crate) fn known_detector(id: &str) -> bool {
    super::detectors::DETECTORS.contains(&id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_families() {
        assert_eq!(type_family("character varying"), TypeFamily::Text);
        assert_eq!(
            type_family("timestamp without time zone"),
            TypeFamily::Timestamp
        );
        assert_eq!(type_family("tinyint(1)"), TypeFamily::Bool);
        assert_eq!(type_family("NUMBER(10)"), TypeFamily::Integer);
        assert_eq!(type_family("numeric(10,6)"), TypeFamily::Decimal);
        assert_eq!(type_family("inet"), TypeFamily::Inet);
        assert_eq!(type_family("boolean"), TypeFamily::Bool);
    }

    #[test]
    fn detector_ids_used_by_rules_exist() {
        let src = include_str!("rules.rs");
        for part in src
            .split("v.r(\"")
            .skip(1)
            .chain(src.split("v.k(\"").skip(1))
            .chain(src.split("v.of(\"").skip(1))
        {
            let id = &part[..part.find('"').unwrap_or(0)];
            assert!(known_detector(id), "unknown detector `{id}`");
        }
    }
}
