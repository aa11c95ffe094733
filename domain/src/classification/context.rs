//! Tier 3, context: what the table and the neighbouring columns say about a column, and the hard
//! negatives that only make sense in context.
//!
//! A `name` column beside `email` and `dob` is a person's name; in a `products` or `teams` table it
//! is not. A `cvc` next to a card number is a security code; `city` beside `street` belongs to an
//! address; hex digests in a column named like a checksum are not password hashes. Context only
//! strengthens or weakens a column's own evidence: it never labels a column on its own.

use super::engine::{Tier, PRIOR};
use super::names::{NameHit, NameTokens};
use super::profile::ColumnProfile;
use super::rules::{describe, Evidence, NameSupport};
use super::types::ClassificationType as T;

/// What pass one concluded about every column of the table.
#[derive(Debug, Clone)]
pub struct TableContext<'a> {
    pub table: &'a str,
    pub table_tokens: NameTokens,
    /// Per column: its name, its likeliest type after the rule and model tiers (if at least a
    /// suggestion), and its name-dictionary matches.
    pub columns: Vec<ColumnSummary<'a>>,
}

#[derive(Debug, Clone)]
pub struct ColumnSummary<'a> {
    pub name: &'a str,
    /// Its sampled statistics: what its values are, whatever pass one made of them.
    pub profile: &'a ColumnProfile,
    pub best: Option<T>,
    pub hits: Vec<NameHit>,
}

/// Types that make a table describe people.
const PERSONAL: &[T] = &[
    T::EmailAddress,
    T::PhoneNumber,
    T::DateOfBirth,
    T::Gender,
    T::UsSsn,
    T::NationalId,
    T::PassportNumber,
    T::DriversLicense,
    T::PostalAddress,
    T::Username,
    T::PersonName,
    T::CreditCardNumber,
    T::Iban,
];

/// Table-name words (singular) of tables that describe things rather than people.
const THING_TABLES: &[&str] = &[
    "product",
    "item",
    "sku",
    "catalog",
    "catalogue",
    "inventory",
    "stock",
    "team",
    "shop",
    "store",
    "company",
    "companie",
    "organisation",
    "organization",
    "org",
    "brand",
    "category",
    "categorie",
    "department",
    "warehouse",
    "device",
    "vendor",
    "supplier",
    "project",
    "plan",
    "course",
    "event",
    "location",
    "site",
    "branch",
    "asset",
    "tag",
    "label",
    "channel",
    "group",
    "role",
    "region",
    "country",
    "countrie",
    "city",
    "citie",
    "currency",
    "currencie",
    "language",
    "skill",
    "service",
    "application",
    "app",
    "integration",
    "webhook",
    "feature",
    "setting",
    "config",
    "article",
    "artikel",
    "produkt",
    "produit",
    "producto",
    "prodotto",
    "part",
    "component",
    "model",
    "vehicle",
    "fleet",
    "facility",
    "building",
    "room",
    "venue",
    "hotel",
    "airline",
    "airport",
    "station",
    "route",
    "carrier",
    "insurer",
    "bank",
    "merchant",
    "partner",
    "account_type",
    "tariff",
];

/// Table-name words (singular) of tables about people: a photo or a document in one is a
/// person's.
const PEOPLE_TABLES: &[&str] = &[
    "employee",
    "staff",
    "user",
    "customer",
    "client",
    "member",
    "person",
    "people",
    "profile",
    "student",
    "pupil",
    "applicant",
    "candidate",
    "contact",
    "driver",
    "passenger",
    "guest",
    "visitor",
    "volunteer",
    "worker",
    "personnel",
    "mitarbeiter",
    "kunde",
    "medewerker",
    "klant",
    "employe",
    "empleado",
    "cliente",
    "dipendente",
    "funcionario",
];

/// Table-name words of health-care tables.
const HEALTH_TABLES: &[&str] = &[
    "patient",
    "pharmacy",
    "clinic",
    "hospital",
    "medical",
    "health",
    "prescription",
    "rx",
    "encounter",
    "visit",
    "admission",
    "diagnosis",
    "lab",
    "ehr",
    "emr",
    "care",
    "treatment",
    "appointment",
    "claim",
    "medication",
    "allergy",
    "immunization",
    "vaccination",
    "chart",
];

fn singular(token: &str) -> &str {
    token
        .strip_suffix("ies")
        .or_else(|| {
            token.strip_suffix("es").filter(|t| {
                t.ends_with("ss") || t.ends_with("ch") || t.ends_with("sh") || t.ends_with('x')
            })
        })
        .or_else(|| token.strip_suffix('s'))
        .unwrap_or(token)
}

impl TableContext<'_> {
    fn others(&self, me: usize) -> impl Iterator<Item = (usize, &ColumnSummary<'_>)> {
        self.columns
            .iter()
            .enumerate()
            .filter(move |(i, _)| *i != me)
    }

    fn neighbour_with(&self, me: usize, labels: &[T]) -> Option<&ColumnSummary<'_>> {
        self.others(me)
            .map(|(_, c)| c)
            .find(|c| c.best.is_some_and(|b| labels.contains(&b)))
    }

    fn thing_table(&self) -> Option<&str> {
        self.table_tokens
            .words()
            .find(|t| THING_TABLES.contains(&singular(t)) || THING_TABLES.contains(t))
    }

    fn people_table(&self) -> Option<&str> {
        self.table_tokens
            .words()
            .find(|t| PEOPLE_TABLES.contains(&singular(t)) || PEOPLE_TABLES.contains(t))
    }

    fn health_table(&self) -> bool {
        self.table_tokens
            .words()
            .any(|t| HEALTH_TABLES.contains(&singular(t)) || HEALTH_TABLES.contains(&t))
    }
}

/// Applies the context tier to one (column, type). `own` is the evidence of the rule and model
/// tiers so far; context only moves columns that have evidence of their own.
pub fn apply(
    label: T,
    me: usize,
    ctx: &TableContext<'_>,
    profile: &ColumnProfile,
    name: &NameTokens,
    support: NameSupport,
    ev: &mut Evidence,
) {
    let own = ev.logit - PRIOR;
    let n = profile.non_null();
    let ratio = |id: &str| profile.hit_ratio(id);

    // Hard negatives that hold whatever the rest says.
    if n >= 5 && ratio("uuid") >= 0.8 && label != T::SecretKey {
        ev.add(
            Tier::Context,
            -3.0,
            format!(
                "{} of {n} values are UUIDs: surrogate identifiers",
                profile.hits("uuid")
            ),
        );
    }
    // Swiss AHV numbers carry an EAN-13 check digit; their 756 prefix sets them apart.
    if n >= 5
        && ratio("ean13") >= 0.8
        && ratio("ch_ahv") < 0.8
        && matches!(
            label,
            T::CreditCardNumber
                | T::PhoneNumber
                | T::BankAccountNumber
                | T::NationalId
                | T::TaxId
                | T::UsSsn
                | T::MedicalRecordNumber
                | T::PassportNumber
                | T::DriversLicense
        )
    {
        ev.add(
            Tier::Context,
            -4.0,
            format!(
                "{} of {n} values are EAN-13 barcodes (GS1 check digit)",
                profile.hits("ean13")
            ),
        );
    }
    if matches!(label, T::Password | T::SecretKey)
        && ratio("hex_digest") >= 0.8
        && !matches!(support, NameSupport::Positive(_))
    {
        if let Some(tok) = name
            .words()
            .find(|t| CHECKSUM_WORDS.contains(t) || t.starts_with("sha") || t.starts_with("crc"))
        {
            ev.add(
                Tier::Context,
                -4.0,
                format!("hex digests in a column named like a checksum (`{}`, `{tok}`), not credentials", profile.column),
            );
        }
    }

    if own < 1.0 {
        return;
    }

    let personal: Vec<&str> = {
        let mut found: Vec<T> = Vec::new();
        for (_, c) in ctx.others(me) {
            if let Some(b) = c.best {
                if PERSONAL.contains(&b) && !found.contains(&b) {
                    found.push(b);
                }
            }
        }
        found.iter().take(3).map(|t| describe(*t)).collect()
    };
    // Neighbours whose own values show people's data, where pass one labeled none of them (their
    // names say nothing): e-mail addresses, phone numbers, given names, birth dates.
    let personal = if personal.is_empty() {
        people_values(me, ctx)
    } else {
        personal
    };
    let person_context = !personal.is_empty();

    match label {
        T::PersonName => {
            let explicit = matches!(support, NameSupport::Positive(w) if w >= super::names::STRONG);
            // A column of single words beside a column of given names holds the family names
            // (`first_name`, `last_name` side by side).
            if single_words(profile) {
                let partner = ctx
                    .others(me)
                    .filter(|(i, _)| i.abs_diff(me) == 1)
                    .map(|(_, c)| c)
                    .find(|c| single_words(c.profile) && c.profile.hit_ratio("given_name") >= 0.5);
                if let Some(c) = partner.filter(|_| profile.hit_ratio("given_name") < 0.5) {
                    ev.add(
                        Tier::Context,
                        2.5,
                        format!(
                            "beside `{}`, whose values are given names ({} of {}): the family name",
                            c.name,
                            c.profile.hits("given_name"),
                            c.profile.non_null()
                        ),
                    );
                }
            }
            if person_context {
                ev.add(
                    Tier::Context,
                    1.0,
                    format!("table `{}` also holds {}", ctx.table, personal.join(", ")),
                );
            } else if let (Some(thing), false) = (ctx.thing_table(), explicit) {
                ev.add(
                    Tier::Context,
                    -2.5,
                    format!(
                        "table `{}` describes {thing}s and holds no personal data, so not people",
                        ctx.table
                    ),
                );
            }
            if ctx.neighbour_with(me, &[T::CreditCardNumber]).is_some() {
                ev.add(
                    Tier::Context,
                    1.0,
                    "table also holds card numbers: a cardholder".to_owned(),
                );
            } else if ctx
                .neighbour_with(me, &[T::Iban, T::BankAccountNumber])
                .is_some()
            {
                ev.add(
                    Tier::Context,
                    0.5,
                    "table also holds bank accounts: an account holder".to_owned(),
                );
            }
        }
        T::Gender
        | T::DateOfBirth
        | T::Username
        | T::PhoneNumber
        | T::EmailAddress
        | T::NationalId
        | T::TaxId
            if person_context =>
        {
            let w = match label {
                T::Gender => 1.0,
                T::DateOfBirth => 0.8,
                _ => 0.5,
            };
            ev.add(
                Tier::Context,
                w,
                format!("table `{}` also holds {}", ctx.table, personal.join(", ")),
            );
        }
        // Without a name that says so, codes and dates in a table about things are the things'
        // (a product's `M`/`F` fit, a model's release date), not a person's gender or birth.
        T::Gender | T::DateOfBirth => {
            let named = matches!(support, NameSupport::Positive(w) if w >= super::names::STRONG);
            if let (Some(thing), false) = (ctx.thing_table(), named) {
                ev.add(
                    Tier::Context,
                    -2.5,
                    format!(
                        "table `{}` describes {thing}s and holds no personal data, so not {}",
                        ctx.table,
                        describe(label)
                    ),
                );
            }
        }
        T::CardSecurityCode => {
            if let Some(c) = ctx.neighbour_with(me, &[T::CreditCardNumber]) {
                ev.add(
                    Tier::Context,
                    1.5,
                    format!("beside card numbers in `{}`", c.name),
                );
            }
        }
        T::BankAccountNumber => {
            if let Some(c) = ctx.neighbour_with(me, &[T::Iban, T::BankAccountNumber]) {
                ev.add(
                    Tier::Context,
                    1.0,
                    format!("beside bank details in `{}`", c.name),
                );
            } else if ctx.others(me).any(|(_, c)| {
                c.hits
                    .iter()
                    .any(|h| h.label == T::BankAccountNumber && h.modifier.is_none())
            }) {
                ev.add(
                    Tier::Context,
                    0.5,
                    "table also holds other banking columns".to_owned(),
                );
            }
        }
        T::MedicalRecordNumber | T::HealthDiagnosis => {
            if ctx.health_table() {
                ev.add(
                    Tier::Context,
                    1.0,
                    format!("table `{}` is a health-care table", ctx.table),
                );
            } else if let Some(c) =
                ctx.neighbour_with(me, &[T::HealthDiagnosis, T::MedicalRecordNumber])
            {
                ev.add(
                    Tier::Context,
                    1.0,
                    format!("beside health data in `{}`", c.name),
                );
            }
        }
        // Content is a person's where the table is about people (or is a health-care table),
        // not where it describes things (product photos, a manual's PDF).
        T::Photo | T::Document | T::AudioRecording => {
            if person_context {
                ev.add(
                    Tier::Context,
                    1.5,
                    format!("table `{}` also holds {}", ctx.table, personal.join(", ")),
                );
            } else if let Some(people) = ctx.people_table() {
                ev.add(
                    Tier::Context,
                    1.5,
                    format!("table `{}` is about people ({people})", ctx.table),
                );
            } else if ctx.health_table() {
                ev.add(
                    Tier::Context,
                    1.5,
                    format!("table `{}` is a health-care table", ctx.table),
                );
            } else if let Some(thing) = ctx.thing_table() {
                ev.add(
                    Tier::Context,
                    -4.5,
                    format!(
                        "table `{}` describes {thing}s and holds no personal data: content about things, not people",
                        ctx.table
                    ),
                );
            }
        }
        T::GeoCoordinate => {
            let pair = ctx.others(me).find(|(_, c)| {
                c.best == Some(T::GeoCoordinate)
                    || c.hits.iter().any(|h| {
                        h.label == T::GeoCoordinate
                            && h.modifier.is_none()
                            && h.weight >= super::names::STRONG
                    })
            });
            if let Some((_, c)) = pair {
                ev.add(
                    Tier::Context,
                    1.0,
                    format!("paired with the coordinate column `{}`", c.name),
                );
            } else if let Some(c) = degree_partner(me, ctx, profile) {
                ev.add(
                    Tier::Context,
                    2.5,
                    format!(
                        "beside `{}`, whose values are decimal degrees too: a latitude and longitude pair",
                        c.name
                    ),
                );
            }
        }
        // Four or five bare digits could be anything; beside street lines they are the
        // address's postcode.
        T::PostalCode
            if profile.hit_ratio("postal_code") >= 0.8
                && !ctx.columns[me]
                    .hits
                    .iter()
                    .any(|h| h.label != T::PostalCode && h.weight >= super::names::MEDIUM)
                && profile.hit_ratio("postal_code_format") < 0.2
                && ctx.neighbour_with(me, &[T::PostalAddress]).is_some() =>
        {
            if let Some(c) = ctx.neighbour_with(me, &[T::PostalAddress]) {
                ev.add(
                    Tier::Context,
                    2.8,
                    format!(
                        "{} of {n} values are 4–6 digit numbers beside street lines in `{}`: the address's postcode",
                        profile.hits("postal_code"),
                        c.name
                    ),
                );
            }
        }
        T::PostalAddress | T::PostalCode => {
            if let Some(c) = ctx.neighbour_with(me, &[T::PostalAddress, T::PostalCode]) {
                ev.add(
                    Tier::Context,
                    0.8,
                    format!("beside address data in `{}`", c.name),
                );
            }
        }
        _ => {}
    }
}

/// Varied single capitalised words (no full names): a column of given or family names.
fn single_words(p: &ColumnProfile) -> bool {
    p.non_null() >= 5
        && p.hit_ratio("person_name_shape") >= 0.8
        && p.hit_ratio("full_name") < 0.2
        && p.hit_ratio("org_name") < 0.1
        && (p.distinct >= 8 || f64::from(p.distinct) >= 0.5 * f64::from(p.non_null()))
}

/// What the other columns' values show of people, at most three kinds, when pass one gave none
/// of them a personal label: e-mail addresses, phone numbers, given names, birth dates (old
/// and varied), gender codes.
fn people_values(me: usize, ctx: &TableContext<'_>) -> Vec<&'static str> {
    let mut found: Vec<&'static str> = Vec::new();
    for (_, c) in ctx.others(me) {
        let p = c.profile;
        if p.non_null() < 5 {
            continue;
        }
        let varied = f64::from(p.distinct) >= 0.5 * f64::from(p.non_null());
        let kind = if p.hit_ratio("email") >= 0.8 {
            Some("e-mail addresses (by their values)")
        } else if p.hit_ratio("phone") >= 0.7 {
            Some("phone numbers (by their values)")
        } else if p.hit_ratio("given_name") >= 0.5 && p.hit_ratio("org_name") < 0.1 && varied {
            Some("given names (by their values)")
        } else if p.hit_ratio("birth_date") >= 0.9
            && p.hit_ratio("date_before_1980") >= 0.2
            && varied
        {
            Some("dates reaching back decades, as birth dates do (by their values)")
        } else if p.hit_ratio("gender_code") >= 0.9 && (2..=4).contains(&p.distinct) {
            Some("gender codes (by their values)")
        } else {
            None
        };
        if let Some(kind) = kind.filter(|k| !found.contains(k)) {
            found.push(kind);
        }
    }
    found.truncate(3);
    found
}

/// Whether a column's values read as decimal degrees: decimals with three or more fraction
/// digits, all within ±180, varied.
fn degrees(p: &ColumnProfile) -> bool {
    p.non_null() >= 5
        && p.hit_ratio("geo_lon") >= 0.95
        && p.hit_ratio("integer") < 0.05
        && f64::from(p.distinct) >= 0.5 * f64::from(p.non_null())
}

/// A latitude and a longitude are stored side by side: the column before or after holds
/// decimal degrees too, and one of the two stays within ±90 (a latitude).
fn degree_partner<'c>(
    me: usize,
    ctx: &'c TableContext<'_>,
    profile: &ColumnProfile,
) -> Option<&'c ColumnSummary<'c>> {
    if !degrees(profile) {
        return None;
    }
    // Side by side: the column just before or after.
    ctx.others(me)
        .filter(|(i, _)| i.abs_diff(me) == 1)
        .map(|(_, c)| c)
        .find(|c| {
            degrees(c.profile)
                && (profile.hit_ratio("geo_lat") >= 0.95 || c.profile.hit_ratio("geo_lat") >= 0.95)
        })
}

/// Name words of checksum and digest columns.
const CHECKSUM_WORDS: &[&str] = &[
    "checksum",
    "md5",
    "crc",
    "etag",
    "fingerprint",
    "hash",
    "digest",
    "sha",
    "hmac",
    "integrity",
];
