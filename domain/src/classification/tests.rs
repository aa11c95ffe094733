//! Engine tests: realistic tables get the right labels with explanations, hard negatives get
//! nothing applied, no signal or profile leaks a sampled value, and enabled types, custom rules,
//! feedback and thresholds behave as a scan rule set expects.

use super::*;
use std::collections::BTreeSet;

type Col<'a> = (&'a str, &'a str, Vec<String>);

fn profile(name: &str, data_type: &str, values: &[String], rules: &[CustomRule]) -> ColumnProfile {
    let values: Vec<Option<&str>> = values.iter().map(|v| Some(v.as_str())).collect();
    ColumnProfile::build(name, data_type, &values, rules)
}

fn table(name: &str, cols: &[Col<'_>], rules: &[CustomRule]) -> TableProfile {
    TableProfile {
        table: name.to_owned(),
        columns: cols
            .iter()
            .map(|(n, t, v)| profile(n, t, v, rules))
            .collect(),
        places: Vec::new(),
    }
}

fn run(
    t: &TableProfile,
    settings: &ClassifierSettings,
    feedback: &FeedbackModel,
) -> Vec<ColumnVerdict> {
    classify_table(t, settings, feedback)
}

fn verdict<'a>(verdicts: &'a [ColumnVerdict], column: &str) -> &'a ColumnVerdict {
    verdicts
        .iter()
        .find(|v| v.column == column)
        .expect("a verdict per column")
}

/// The applied label of a column, if any.
fn applied(
    verdicts: &[ColumnVerdict],
    column: &str,
    settings: &ClassifierSettings,
) -> Option<String> {
    verdict(verdicts, column)
        .candidates
        .first()
        .filter(|c| c.confidence >= settings.threshold)
        .map(|c| c.label.to_string())
}

fn confidence(verdicts: &[ColumnVerdict], column: &str, label: &str) -> f64 {
    verdict(verdicts, column)
        .candidates
        .iter()
        .find(|c| c.label.as_str() == label)
        .map_or(0.0, |c| c.confidence)
}

fn gen(n: usize, f: impl Fn(usize) -> String) -> Vec<String> {
    (0..n).map(f).collect()
}

const FIRST: &[&str] = &[
    "Anna", "Bram", "Chloé", "David", "Emma", "Femke", "Giulia", "Hugo", "Ines", "Jan", "Laura",
    "Marco",
];
const LAST: &[&str] = &[
    "Jansen", "Müller", "Rossi", "García", "Dubois", "Nowak", "Smith", "Bakker", "Conti", "Meyer",
    "Visser", "Keller",
];

fn luhn_complete(prefix: &str, len: usize, seed: usize) -> String {
    let mut body: String = prefix.to_owned();
    let mut x = seed as u64 * 2_654_435_761 + 12_345;
    while body.len() < len - 1 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        body.push(char::from(b'0' + ((x >> 33) % 10) as u8));
    }
    (0..10)
        .map(|d| format!("{body}{d}"))
        .find(|c| validators::luhn(c))
        .expect("one check digit completes Luhn")
}

fn customers() -> Vec<Col<'static>> {
    vec![
        ("id", "integer", gen(40, |i| (i + 1).to_string())),
        (
            "first_name",
            "character varying",
            gen(40, |i| FIRST[i % FIRST.len()].to_owned()),
        ),
        (
            "last_name",
            "character varying",
            gen(40, |i| LAST[(i * 7) % LAST.len()].to_owned()),
        ),
        (
            "email",
            "character varying",
            gen(40, |i| {
                format!("{}.{}@mail.example.org", FIRST[i % 12].to_lowercase(), i)
            }),
        ),
        (
            "mobile",
            "character varying",
            gen(40, |i| format!("+31 6 {:08}", 12_345_678 + i * 7919)),
        ),
        (
            "date_of_birth",
            "date",
            gen(40, |i| {
                format!("{}-{:02}-{:02}", 1950 + i, 1 + i % 12, 1 + i % 28)
            }),
        ),
        (
            "card_number",
            "character varying",
            gen(40, |i| {
                luhn_complete(if i % 2 == 0 { "4" } else { "53" }, 16, i)
            }),
        ),
        (
            "phone_confirmed",
            "boolean",
            gen(40, |i| (i % 2 == 0).to_string()),
        ),
        (
            "password_updated_at",
            "timestamp without time zone",
            gen(40, |i| format!("2023-01-{:02} 10:00:00", 1 + i % 28)),
        ),
        ("email_count", "integer", gen(40, |i| (i % 9).to_string())),
    ]
}

#[test]
fn a_realistic_table_gets_the_right_labels_with_explanations() {
    let settings = ClassifierSettings::default();
    let t = table("customers", &customers(), &[]);
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "first_name", &settings).as_deref(),
        Some("PERSON_NAME")
    );
    assert_eq!(
        applied(&v, "last_name", &settings).as_deref(),
        Some("PERSON_NAME")
    );
    assert_eq!(
        applied(&v, "email", &settings).as_deref(),
        Some("EMAIL_ADDRESS")
    );
    assert_eq!(
        applied(&v, "mobile", &settings).as_deref(),
        Some("PHONE_NUMBER")
    );
    assert_eq!(
        applied(&v, "date_of_birth", &settings).as_deref(),
        Some("DATE_OF_BIRTH")
    );
    assert_eq!(
        applied(&v, "card_number", &settings).as_deref(),
        Some("CREDIT_CARD_NUMBER")
    );
    for hard_negative in [
        "id",
        "phone_confirmed",
        "password_updated_at",
        "email_count",
    ] {
        assert_eq!(
            applied(&v, hard_negative, &settings),
            None,
            "{hard_negative} must not be labelled"
        );
    }
    let card = &verdict(&v, "card_number").candidates[0];
    assert!(card.signals.iter().any(|s| s.tier == Tier::Rule
        && s.detail.contains("pass Luhn")
        && s.detail.starts_with("40 of 40")));
    assert!(card
        .signals
        .iter()
        .any(|s| s.detail.contains("`card_number`")));
    let name = &verdict(&v, "first_name").candidates[0];
    assert!(name
        .signals
        .iter()
        .any(|s| s.tier == Tier::Context && s.detail.contains("also holds")));
    assert!(name
        .signals
        .iter()
        .any(|s| s.tier == Tier::Model && s.detail.contains("PERSON_NAME (p=")));
    // Every candidate explains itself and is within the floor..1 range, most confident first.
    for verdict in &v {
        for pair in verdict.candidates.windows(2) {
            assert!(pair[0].confidence >= pair[1].confidence);
        }
        for c in &verdict.candidates {
            assert!(!c.signals.is_empty());
            assert!((settings.floor..=1.0).contains(&c.confidence));
        }
    }
}

#[test]
fn values_alone_find_strongly_validated_types() {
    let settings = ClassifierSettings::default();
    let ibans = [
        "GB82 WEST 1234 5698 7654 32",
        "DE89370400440532013000",
        "NL91ABNA0417164300",
        "BE68 5390 0754 7034",
        "FR14 2004 1010 0505 0001 3M02 606",
        "IT60 X054 2811 1010 0000 0123 456",
    ];
    let t = table(
        "t1",
        &[
            ("col1", "text", gen(30, |i| format!("user{i}@example.net"))),
            (
                "col2",
                "text",
                gen(30, |i| ibans[i % ibans.len()].to_owned()),
            ),
            (
                "col3",
                "text",
                gen(30, |i| format!("10.{}.{}.{}", i % 7, i % 200, 1 + i % 250)),
            ),
            (
                "col4",
                "text",
                gen(30, |i| {
                    format!(
                        "$2b$12${}",
                        "a".repeat(53 - (i % 2)) + if i % 2 == 1 { "b" } else { "" }
                    )
                }),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "col1", &settings).as_deref(),
        Some("EMAIL_ADDRESS")
    );
    assert_eq!(applied(&v, "col2", &settings).as_deref(), Some("IBAN"));
    assert_eq!(
        applied(&v, "col3", &settings).as_deref(),
        Some("IP_ADDRESS")
    );
    assert_eq!(applied(&v, "col4", &settings).as_deref(), Some("PASSWORD"));
}

/// A column of password hashes and one of readable passwords are both passwords; only the first
/// says its values are stored hashed (the fact compliance's "plain-text passwords" rule reads).
#[test]
fn hashed_passwords_are_told_apart_from_readable_ones() {
    let settings = ClassifierSettings::default();
    let bcrypt = |i: usize| format!("$2y$10${:0>53}", format!("Qv{i}mZ.t8/Lw{}", i * 7919));
    let readable = |i: usize| format!("Tulip{}#{}", i * 13, i % 9);
    let t = table(
        "staff_logins",
        &[
            ("pass_digest", "text", gen(30, bcrypt)),
            ("portal_password", "text", gen(30, readable)),
            // One readable value among the hashes: it cannot be shown that none is readable.
            (
                "legacy_password",
                "text",
                gen(30, |i| if i == 3 { readable(i) } else { bcrypt(i) }),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    let hashed = |column: &str| {
        let found = verdict(&v, column)
            .candidates
            .iter()
            .find(|c| c.label.as_str() == "PASSWORD")
            .unwrap_or_else(|| panic!("{column} is a password column: {v:?}"));
        crate::classification::stored::stored_hashed(&found.signals)
    };
    assert_eq!(
        applied(&v, "pass_digest", &settings).as_deref(),
        Some("PASSWORD")
    );
    assert!(hashed("pass_digest"));
    assert!(!hashed("portal_password"));
    assert!(!hashed("legacy_password"));
}

/// The first 160 bytes of a binary value as the connectors sample it (lowercase hex), starting
/// with `magic` and filled with varying bytes.
fn blob(magic: &[u8], i: usize) -> String {
    let mut bytes = magic.to_vec();
    let mut state = 0x9e37_79b9u32.wrapping_mul(i as u32 + 1);
    while bytes.len() < 160 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        bytes.push(state as u8);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Photos, scanned documents and voice recordings are found in binary columns by their first
/// bytes, and labelled where the table is about people; a product's picture is not a person's.
#[test]
fn binary_content_is_typed_by_its_magic_number_and_its_table() {
    let settings = ClassifierSettings::default();
    let jpeg = |i| blob(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", i);
    let pdf = |i| blob(b"%PDF-1.6\n%", i);
    let wav = |i| blob(b"RIFF\x24\x08\x00\x00WAVEfmt ", i);
    let people = table(
        "crew_roster",
        &[
            (
                "full_name",
                "text",
                gen(30, |i| format!("Ilse Marwood {i}")),
            ),
            (
                "contact_email",
                "text",
                gen(30, |i| format!("crew{i}@example.org")),
            ),
            ("mugshot", "bytea", gen(30, jpeg)),
            ("id_scan", "bytea", gen(30, pdf)),
            ("greeting", "bytea", gen(30, wav)),
            // Binary that is none of these (an encrypted blob) gets nothing.
            ("sealed", "bytea", gen(30, |i| blob(b"\x01\x02", i))),
        ],
        &[],
    );
    let v = run(&people, &settings, &FeedbackModel::default());
    assert_eq!(applied(&v, "mugshot", &settings).as_deref(), Some("PHOTO"));
    assert_eq!(
        applied(&v, "id_scan", &settings).as_deref(),
        Some("DOCUMENT")
    );
    assert_eq!(
        applied(&v, "greeting", &settings).as_deref(),
        Some("AUDIO_RECORDING")
    );
    assert_eq!(applied(&v, "sealed", &settings), None);
    let why = &verdict(&v, "mugshot").candidates[0].signals;
    assert!(
        why.iter()
            .any(|s| s.detail == "30 of 30 sampled non-null values are images (JPEG, PNG, HEIF, TIFF, DICOM …), by their first bytes"),
        "{why:?}"
    );

    // The same pictures in a table of things are not people's photos, and a column that only
    // names photos (a link to one) holds none.
    let things = table(
        "catalog_items",
        &[
            ("sku", "text", gen(30, |i| format!("SKU-{:05}", i * 37))),
            ("picture", "bytea", gen(30, jpeg)),
            (
                "photo_url",
                "text",
                gen(30, |i| format!("https://cdn.example.com/p/{i}.jpg")),
            ),
        ],
        &[],
    );
    let v = run(&things, &settings, &FeedbackModel::default());
    assert_eq!(applied(&v, "picture", &settings), None);
    assert!(confidence(&v, "picture", "PHOTO") < settings.floor);
    assert_eq!(confidence(&v, "photo_url", "PHOTO"), 0.0);
}

#[test]
fn hard_negatives_get_nothing_applied() {
    let settings = ClassifierSettings::default();
    let failing_luhn = |i: usize| {
        let good = luhn_complete("2024", 16, i);
        let last = good.as_bytes()[15] - b'0';
        format!("{}{}", &good[..15], (last + 1) % 10)
    };
    let ean = |i: usize| {
        let body = format!("871{:09}", 123_456 + i * 97);
        (0..10)
            .map(|d| format!("{body}{d}"))
            .find(|c| validators::ean13(c))
            .expect("a check digit")
    };
    let not_vin = |i: usize| {
        let alphabet = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
        let mut s: Vec<u8> = (0..17)
            .map(|k| alphabet[(i * 31 + k * 7 + i * k) % alphabet.len()])
            .collect();
        for c in b"0123456789X" {
            s[8] = *c;
            if !validators::vin(std::str::from_utf8(&s).expect("ascii")) {
                break;
            }
        }
        String::from_utf8(s).expect("ascii")
    };
    let t = table(
        "products",
        &[
            ("invoice_ref", "character", gen(50, failing_luhn)),
            (
                "sha256",
                "character",
                gen(50, |i| {
                    format!(
                        "{:032x}{:032x}",
                        (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835),
                        (i as u128 + 1).wrapping_mul(0x0F39_CC06_05CE_DC83_59E3_779B_97F4_A7C1)
                    )
                }),
            ),
            (
                "thumbnail_md5",
                "character",
                gen(50, |i| {
                    format!(
                        "{:032x}",
                        (i as u128 + 7).wrapping_mul(0x0123_4567_89AB_CDEF_1122_3344_5566_7788)
                    )
                }),
            ),
            (
                "etag",
                "character",
                gen(50, |i| {
                    format!(
                        "{:08x}{:032x}",
                        i * 7919,
                        (i as u128 + 3).wrapping_mul(0xDEAD_BEEF_0000_1111_2222_3333_4444_5555)
                    )
                }),
            ),
            (
                "dedup_key",
                "uuid",
                gen(50, |i| {
                    format!("{:08x}-3b1d-4e2a-8c47-51f0aa9c{:04x}", i * 7919, i)
                }),
            ),
            (
                "build_version",
                "character varying",
                gen(50, |i| {
                    format!(
                        "{}.{}.{}.{}",
                        1 + i % 6,
                        i % 20,
                        (i * 7) % 99,
                        (i * 13) % 250
                    )
                }),
            ),
            ("ean13", "character", gen(50, ean)),
            ("lookup_key", "character", gen(50, not_vin)),
            (
                "units_on_hand",
                "integer",
                gen(50, |i| (10_000 + i * 1_237).to_string()),
            ),
            (
                "name",
                "character varying",
                gen(50, |i| format!("{} Tote", FIRST[i % FIRST.len()])),
            ),
            (
                "description",
                "text",
                gen(50, |i| {
                    format!("A sturdy canvas tote bag number {i} with inner pocket")
                }),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    for c in &t.columns {
        assert_eq!(
            applied(&v, &c.column, &settings),
            None,
            "{} must not be labelled: {:?}",
            c.column,
            verdict(&v, &c.column)
        );
    }
    let order = verdict(&v, "invoice_ref");
    assert!(order
        .candidates
        .iter()
        .all(|c| c.label.as_str() != "CREDIT_CARD_NUMBER"));
}

#[test]
fn no_signal_and_no_profile_contains_a_sampled_value() {
    let settings = ClassifierSettings::default();
    let mut cols = customers();
    cols.push((
        "notes",
        "text",
        gen(40, |i| format!("Secret plan zebra-{i} for customer")),
    ));
    cols.push((
        "ssn",
        "text",
        gen(40, |i| format!("{:03}-{:02}-{:04}", 123 + i, 45, 6789 + i)),
    ));
    let t = table("customers", &cols, &[]);
    let v = run(&t, &settings, &FeedbackModel::default());
    let signals: Vec<&str> = v
        .iter()
        .flat_map(|v| v.candidates.iter())
        .flat_map(|c| c.signals.iter())
        .map(|s| s.detail.as_str())
        .collect();
    assert!(!signals.is_empty());
    let profiles_json = serde_json::to_string(&t.columns).expect("profiles serialise");
    for (name, _, values) in &cols {
        for value in values
            .iter()
            .filter(|v| v.len() >= 4 && !name.contains(v.as_str()))
        {
            for s in &signals {
                assert!(!s.contains(value.as_str()), "signal `{s}` leaks `{value}`");
            }
            assert!(
                !profiles_json.contains(value.as_str()),
                "profile leaks `{value}`"
            );
        }
    }
}

#[test]
fn shapes_are_masked_and_truncated() {
    assert_eq!(profile::mask("AB-12 xé"), "AA-99 aa");
    assert_eq!(profile::mask(&"x".repeat(40)).len(), profile::SHAPE_LEN);
    let p = profile("code", "text", &gen(10, |i| format!("K{i}")), &[]);
    assert_eq!(p.shapes[0].shape, "A9");
    assert_eq!(p.shapes[0].count, 10);
    assert_eq!((p.distinct, p.min_len, p.max_len), (10, 2, 2));
    let with_nulls = ColumnProfile::build("c", "text", &[None, Some("a"), None], &[]);
    assert_eq!(
        (with_nulls.sampled, with_nulls.nulls, with_nulls.non_null()),
        (3, 2, 1)
    );
}

#[test]
fn the_elements_of_array_values_are_profiled_one_by_one() {
    let values = [
        Some(r#"["ann@corp.example","ann@home.example"]"#),
        Some("[]"),
        None,
        Some(r#"["bo@corp.example",null]"#),
        Some(r#"[{"not":"a scalar"}]"#),
    ];
    let p = ColumnProfile::build("c", "array|null", &values, &[]);
    // 2 + 1 (empty) + 1 (null) + 2 + 1 (kept as it is).
    assert_eq!((p.sampled, p.nulls), (7, 3));
    assert_eq!(p.hits("email"), 3);
    // Elsewhere JSON text is a value like any other.
    let text = ColumnProfile::build("c", "text", &values, &[]);
    assert_eq!((text.sampled, text.nulls, text.hits("email")), (5, 1, 0));
    for array_type in [
        "array",
        "ARRAY",
        "null|array",
        "text[]",
        "character varying(80)[]",
        "json",
        "jsonb",
        "VARIANT",
    ] {
        assert!(profile::may_hold_arrays(array_type), "{array_type}");
    }
    for other in ["text", "arrays", "object", "varchar(255)"] {
        assert!(!profile::may_hold_arrays(other), "{other}");
    }
    // A JSON column: its arrays are lists, its objects and strings values as they are.
    let json = ColumnProfile::build(
        "c",
        "jsonb",
        &[
            Some(r#"["ann@corp.example", "bo@corp.example"]"#),
            Some(r#"{"email": "cy@corp.example"}"#),
        ],
        &[],
    );
    assert_eq!((json.sampled, json.hits("email")), (3, 2));
    // A value that only looks like an array stays whole.
    let odd = ColumnProfile::build(
        "c",
        "array",
        &[Some("[not json"), Some("[1, 2.5, true]")],
        &[],
    );
    assert_eq!((odd.sampled, odd.distinct), (4, 4));
}

#[test]
fn a_column_of_email_lists_is_email_by_its_values_alone() {
    let lists = gen(40, |i| {
        format!(
            r#"["{}.{}@example.com","{}@mail.example.org"]"#,
            FIRST[i % FIRST.len()].to_lowercase(),
            LAST[i % LAST.len()].to_lowercase(),
            i
        )
    });
    let t = table(
        "people",
        &[
            ("id", "int", gen(40, |i| i.to_string())),
            ("aliases", "array", lists.clone()),
        ],
        &[],
    );
    let settings = ClassifierSettings::default();
    let verdicts = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&verdicts, "aliases", &settings).as_deref(),
        Some("EMAIL_ADDRESS")
    );
    // The same lists in a text column are JSON text, which is not an e-mail address.
    let t = table("people", &[("aliases", "text", lists)], &[]);
    let verdicts = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(applied(&verdicts, "aliases", &settings), None);
}

#[test]
fn enabled_types_restrict_built_in_candidates() {
    let only_email = ClassifierSettings {
        enabled_types: Some(BTreeSet::from([ClassificationType::EmailAddress])),
        ..ClassifierSettings::default()
    };
    let t = table("customers", &customers(), &[]);
    let v = run(&t, &only_email, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "email", &only_email).as_deref(),
        Some("EMAIL_ADDRESS")
    );
    for verdict in &v {
        for c in &verdict.candidates {
            assert_eq!(
                c.label.as_str(),
                "EMAIL_ADDRESS",
                "{} got {}",
                verdict.column,
                c.label
            );
        }
    }
}

fn employee_rule(name: Option<&str>, value: Option<&str>, validator: Option<&str>) -> CustomRule {
    CustomRule {
        label: "EMPLOYEE_ID".to_owned(),
        name_pattern: name.map(str::to_owned),
        value_pattern: value.map(str::to_owned),
        validator: validator.map(str::to_owned),
        min_match_ratio: 0.6,
    }
}

#[test]
fn custom_rules_apply_when_name_and_values_match_and_suggest_on_one() {
    let rule = employee_rule(Some("^emp(loyee)?_?(id|no)$"), Some("E-[0-9]{6}"), None);
    let settings = ClassifierSettings {
        custom_rules: vec![rule.clone()],
        ..ClassifierSettings::default()
    };
    let ids = gen(20, |i| format!("E-{:06}", 100_000 + i));
    let t = table(
        "staff",
        &[
            ("employee_no", "text", ids.clone()),
            ("badge", "text", ids),
            ("emp_id", "text", gen(20, |i| format!("X{i}"))),
            ("other", "text", gen(20, |i| format!("X{i}"))),
        ],
        &settings.custom_rules,
    );
    assert_eq!(t.columns[0].custom_hits.get("EMPLOYEE_ID"), Some(&20));
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "employee_no", &settings).as_deref(),
        Some("EMPLOYEE_ID")
    );
    let both = &verdict(&v, "employee_no").candidates[0];
    assert!(both
        .signals
        .iter()
        .any(|s| s.detail.contains("20 of 20 sampled non-null values match")));
    let value_only = confidence(&v, "badge", "EMPLOYEE_ID");
    let name_only = confidence(&v, "emp_id", "EMPLOYEE_ID");
    for c in [value_only, name_only] {
        assert!(
            (settings.floor..settings.threshold).contains(&c),
            "suggestion expected, got {c}"
        );
    }
    assert_eq!(confidence(&v, "other", "EMPLOYEE_ID"), 0.0);
}

#[test]
fn custom_rule_validators_and_ratios_count() {
    let rule = employee_rule(None, Some("[0-9 ]{13,23}"), Some("luhn"));
    let mut values = gen(10, |i| luhn_complete("4", 16, i));
    values.extend(gen(10, |i| format!("12345678901234{:02}", i)));
    let p = profile("x", "text", &values, &[rule]);
    let valid = values.iter().filter(|v| validators::luhn(v)).count() as u32;
    assert_eq!(p.custom_hits.get("EMPLOYEE_ID"), Some(&valid));
    assert!((10..20).contains(&valid));
}

fn phone_like(i: usize) -> String {
    format!("06-{:08}", 31_415_926 + i * 7_919)
}

#[test]
fn rejecting_a_false_positive_lowers_a_look_alike_column_elsewhere() {
    let settings = ClassifierSettings::default();
    let orders = table(
        "orders",
        &[("ref_no", "character varying", gen(40, phone_like))],
        &[],
    );
    let invoices = table(
        "invoices",
        &[(
            "ref_number",
            "character varying",
            gen(40, |i| phone_like(i + 1000)),
        )],
        &[],
    );
    let none = FeedbackModel::default();
    let before = confidence(
        &run(&invoices, &settings, &none),
        "ref_number",
        "PHONE_NUMBER",
    );
    assert!(
        before >= settings.floor,
        "the look-alike starts as a phone candidate ({before})"
    );

    let rejected = FeedbackModel {
        examples: vec![FeedbackExample {
            table: "orders".to_owned(),
            column: "ref_no".to_owned(),
            label: Label::BuiltIn(ClassificationType::PhoneNumber),
            verdict: FeedbackVerdict::Rejected,
            profile: Some(orders.columns[0].clone()),
        }],
    };
    let v = run(&invoices, &settings, &rejected);
    let after = confidence(&v, "ref_number", "PHONE_NUMBER");
    let band = |c: f64| {
        if c >= settings.threshold {
            2
        } else if c >= settings.floor {
            1
        } else {
            0
        }
    };
    assert!(
        band(after) < band(before),
        "confidence {before} -> {after} must drop a band"
    );
    if let Some(c) = verdict(&v, "ref_number")
        .candidates
        .iter()
        .find(|c| c.label.as_str() == "PHONE_NUMBER")
    {
        assert!(c.signals.iter().any(|s| s.tier == Tier::Feedback
            && s.detail
                .contains("rejected PHONE_NUMBER on `orders.ref_no`")));
    }

    // A column unlike the rejected one is not moved.
    let other = table(
        "shops",
        &[(
            "phone",
            "character varying",
            gen(40, |i| format!("+44 20 {:04} {:04}", 1000 + i, 2000 + i)),
        )],
        &[],
    );
    let a = confidence(&run(&other, &settings, &none), "phone", "PHONE_NUMBER");
    let b = confidence(&run(&other, &settings, &rejected), "phone", "PHONE_NUMBER");
    assert_eq!(a, b);
}

#[test]
fn confirming_raises_a_look_alike_column() {
    let settings = ClassifierSettings::default();
    let t = table(
        "import",
        &[("extra_7", "text", gen(30, |i| ["M", "V"][i % 2].to_owned()))],
        &[],
    );
    let before = confidence(
        &run(&t, &settings, &FeedbackModel::default()),
        "extra_7",
        "GENDER",
    );
    let confirmed = FeedbackModel {
        examples: vec![FeedbackExample {
            table: "legacy_import".to_owned(),
            column: "extra_4".to_owned(),
            label: Label::BuiltIn(ClassificationType::Gender),
            verdict: FeedbackVerdict::Confirmed,
            profile: Some(t.columns[0].clone()),
        }],
    };
    let after = confidence(&run(&t, &settings, &confirmed), "extra_7", "GENDER");
    assert!(after > before, "{before} -> {after}");
}

#[test]
fn thresholds_decide_applied_suggested_and_one_winner() {
    let t = table("customers", &customers(), &[]);
    let strict = ClassifierSettings {
        threshold: 0.999_9,
        floor: 0.9,
        ..ClassifierSettings::default()
    };
    let v = run(&t, &strict, &FeedbackModel::default());
    for verdict in &v {
        assert!(verdict.candidates.iter().all(|c| c.confidence >= 0.9));
    }
    let default = ClassifierSettings::default();
    let v = run(&t, &default, &FeedbackModel::default());
    for verdict in &v {
        let above = verdict
            .candidates
            .iter()
            .filter(|c| c.confidence >= default.threshold)
            .count();
        assert!(
            above <= 1,
            "{} has {above} candidates above the threshold",
            verdict.column
        );
    }
    // A column that is both a custom type and a built-in one keeps one applied label.
    let rule = CustomRule {
        label: "CUSTOMER_MAIL".to_owned(),
        name_pattern: Some("mail".to_owned()),
        value_pattern: Some(".+@.+".to_owned()),
        validator: Some("email".to_owned()),
        min_match_ratio: 0.6,
    };
    let settings = ClassifierSettings {
        custom_rules: vec![rule],
        ..ClassifierSettings::default()
    };
    let t = table("customers", &customers(), &settings.custom_rules);
    let v = run(&t, &settings, &FeedbackModel::default());
    let email = verdict(&v, "email");
    assert_eq!(
        email
            .candidates
            .iter()
            .filter(|c| c.confidence >= settings.threshold)
            .count(),
        1
    );
    assert!(email.candidates.len() >= 2);
    assert!(email.candidates[1]
        .signals
        .iter()
        .any(|s| s.detail.contains("held below the threshold")));
}

#[test]
fn context_separates_people_from_things() {
    let settings = ClassifierSettings::default();
    let names = gen(30, |i| format!("{} {}", FIRST[i % 12], LAST[(i * 5) % 12]));
    let people = table(
        "members",
        &[
            ("name", "text", names.clone()),
            ("email", "text", gen(30, |i| format!("m{i}@example.org"))),
        ],
        &[],
    );
    let teams = table(
        "teams",
        &[
            ("name", "text", names),
            ("size", "integer", gen(30, |i| i.to_string())),
        ],
        &[],
    );
    let p = confidence(
        &run(&people, &settings, &FeedbackModel::default()),
        "name",
        "PERSON_NAME",
    );
    let q = confidence(
        &run(&teams, &settings, &FeedbackModel::default()),
        "name",
        "PERSON_NAME",
    );
    assert!(p >= settings.threshold, "{p}");
    assert!(q < p && q < settings.threshold, "{q}");
}

#[test]
fn all_null_columns_rely_on_the_name_alone() {
    let settings = ClassifierSettings::default();
    let t = TableProfile {
        table: "customers".to_owned(),
        columns: vec![ColumnProfile::build(
            "email",
            "text",
            &[None, None, None],
            &[],
        )],
        places: Vec::new(),
    };
    let v = run(&t, &settings, &FeedbackModel::default());
    let c = confidence(&v, "email", "EMAIL_ADDRESS");
    assert!((settings.floor..settings.threshold).contains(&c), "{c}");
}

#[test]
fn an_explanation_is_the_supporting_evidence_in_one_line() {
    use crate::classification::{explanation, Signal, Tier};
    let signal = |detail: &str, weight: f64| Signal {
        tier: Tier::Rule,
        detail: detail.into(),
        weight,
    };
    assert_eq!(
        explanation(&[
            signal("20 of 20 sampled values pass Luhn", 0.7),
            signal("table holds only products", -0.3),
            signal("column name matches `pan`", 0.2),
        ]),
        "20 of 20 sampled values pass Luhn; column name matches `pan`"
    );
    assert_eq!(explanation(&[]), "");
}

/// The HIPAA context signal of a column's label, if any.
fn hipaa_reason_of(verdicts: &[ColumnVerdict], column: &str, label: &str) -> Option<String> {
    verdict(verdicts, column)
        .candidates
        .iter()
        .find(|c| c.label.as_str() == label)
        .and_then(|c| phi::hipaa_reason(&c.signals).map(str::to_owned))
}

#[test]
fn a_name_is_phi_in_a_clinic_table_and_only_personal_data_in_a_rental_shop() {
    let settings = ClassifierSettings::default();
    let names = |i: usize| format!("{} {}", FIRST[i % FIRST.len()], LAST[(i * 5) % LAST.len()]);
    let mut rentals = table(
        "tape_loans",
        &[
            ("borrower_full_name", "text", gen(40, names)),
            ("cassette_title", "text", gen(40, |i| format!("Tape {i}"))),
        ],
        &[],
    );
    rentals.places =
        TableProfile::places_of(&["corner_video".into(), "shop".into(), "tape_loans".into()]);
    let v = run(&rentals, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "borrower_full_name", &settings).as_deref(),
        Some("PERSON_NAME")
    );
    assert_eq!(
        hipaa_reason_of(&v, "borrower_full_name", "PERSON_NAME"),
        None
    );

    // The same column in a schema named after a clinic: HIPAA applies, and the signal says why
    // without moving the confidence.
    let mut ward = rentals.clone();
    ward.places =
        TableProfile::places_of(&["riverbend".into(), "clinic".into(), "tape_loans".into()]);
    let w = run(&ward, &settings, &FeedbackModel::default());
    assert_eq!(
        hipaa_reason_of(&w, "borrower_full_name", "PERSON_NAME").as_deref(),
        Some("schema `clinic` names health care (clinic)")
    );
    assert_eq!(
        confidence(&w, "borrower_full_name", "PERSON_NAME"),
        confidence(&v, "borrower_full_name", "PERSON_NAME")
    );

    // A diagnosis column beside it is a health context too.
    let visits = table(
        "visits",
        &[
            ("borrower_full_name", "text", gen(40, names)),
            (
                "diagnosis_text",
                "text",
                gen(40, |i| ["asthma", "migraine", "diabetes"][i % 3].to_owned()),
            ),
        ],
        &[],
    );
    let h = run(&visits, &settings, &FeedbackModel::default());
    let reason = hipaa_reason_of(&h, "borrower_full_name", "PERSON_NAME").unwrap();
    assert!(reason.contains("diagnosis_text"), "{reason}");
}

fn cycle(values: &[&str], n: usize) -> Vec<String> {
    values
        .iter()
        .cycle()
        .take(n)
        .map(|v| (*v).to_owned())
        .collect()
}

#[test]
fn numeric_sex_codes_under_a_gender_name_are_gender_and_other_codes_are_not() {
    let settings = ClassifierSettings::default();
    let t = table(
        "registro",
        &[
            ("sexo", "character", cycle(&["1", "2", "2", "1", "9"], 60)),
            (
                "situacao",
                "character",
                cycle(&["1", "2", "2", "1", "9"], 60),
            ),
            ("sexe", "character", cycle(&["M", "F", "F", "M", "I"], 60)),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(applied(&v, "sexo", &settings).as_deref(), Some("GENDER"));
    assert_eq!(applied(&v, "sexe", &settings).as_deref(), Some("GENDER"));
    assert_eq!(applied(&v, "situacao", &settings), None);
}

#[test]
fn a_tax_number_in_digit_groups_is_a_tax_id_and_a_phone_column_stays_phones() {
    let settings = ClassifierSettings::default();
    let t = table(
        "lieferanten",
        &[
            (
                "steuernummer",
                "character varying",
                cycle(
                    &[
                        "13/502/41827",
                        "27/118/30452",
                        "93/815/07716",
                        "21/640/55309",
                    ],
                    60,
                ),
            ),
            (
                "telefon",
                "character varying",
                cycle(
                    &["030 5518273", "089 2210934", "0221 448120", "040 7713305"],
                    60,
                ),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "steuernummer", &settings).as_deref(),
        Some("TAX_ID")
    );
    assert!(confidence(&v, "steuernummer", "PHONE_NUMBER") < settings.floor);
    assert_eq!(
        applied(&v, "telefon", &settings).as_deref(),
        Some("PHONE_NUMBER")
    );
}

#[test]
fn row_numbering_keys_are_not_identifiers_of_people() {
    let settings = ClassifierSettings::default();
    let keys: Vec<String> = (1..=60).map(|i| i.to_string()).collect();
    let t = table(
        "patient_identifier",
        &[("patient_identifier_id", "integer", keys)],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(applied(&v, "patient_identifier_id", &settings), None);
    assert!(confidence(&v, "patient_identifier_id", "MEDICAL_RECORD_NUMBER") < settings.floor);
}

#[test]
fn condition_flags_and_unknown_category_words_follow_the_name() {
    let settings = ClassifierSettings::default();
    let t = table(
        "cribado",
        &[
            (
                "hipertension",
                "integer",
                cycle(&["1", "2", "2", "2", "9"], 60),
            ),
            ("cantidad", "integer", cycle(&["1", "2", "2", "2", "9"], 60)),
            (
                "wyznanie",
                "character varying",
                cycle(
                    &["rzymskokatolickie", "prawoslawne", "brak", "ewangelickie"],
                    60,
                ),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert!(confidence(&v, "hipertension", "HEALTH_DIAGNOSIS") >= settings.floor);
    assert!(confidence(&v, "cantidad", "HEALTH_DIAGNOSIS") < settings.floor);
    assert!(confidence(&v, "wyznanie", "RELIGION") >= settings.floor);
}

#[test]
fn birth_dates_stored_at_midnight_or_without_separators_are_dates_of_birth() {
    let settings = ClassifierSettings::default();
    let t = table(
        "mitarbeiter",
        &[
            (
                "birth_date",
                "timestamp without time zone",
                cycle(
                    &[
                        "1961-04-17 00:00:00",
                        "1978-11-02 00:00:00",
                        "1990-06-30 00:00:00",
                    ],
                    60,
                ),
            ),
            (
                "geburtsdatum",
                "character varying",
                cycle(&["19610417", "19781102", "19900630", "19551209"], 60),
            ),
            (
                "nachname",
                "character varying",
                cycle(&["Brandt", "Vogt", "Seidel"], 60),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "birth_date", &settings).as_deref(),
        Some("DATE_OF_BIRTH")
    );
    assert_eq!(
        applied(&v, "geburtsdatum", &settings).as_deref(),
        Some("DATE_OF_BIRTH")
    );
}

#[test]
fn bare_local_phone_numbers_and_domain_logins_follow_their_names() {
    let settings = ClassifierSettings::default();
    let t = table(
        "contactos",
        &[
            (
                "telefono",
                "character varying",
                cycle(&["612345870", "934417205", "688120934", "915502871"], 60),
            ),
            (
                "referencia",
                "character varying",
                cycle(&["612345870", "934417205", "688120934", "915502871"], 60),
            ),
            (
                "logon_name",
                "character varying",
                cycle(&["ACME\\jvogt", "ACME\\mseidel", "ACME\\abrandt"], 60),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "telefono", &settings).as_deref(),
        Some("PHONE_NUMBER")
    );
    assert!(confidence(&v, "referencia", "PHONE_NUMBER") < settings.threshold);
    assert_eq!(
        applied(&v, "logon_name", &settings).as_deref(),
        Some("USERNAME")
    );
}

#[test]
fn a_street_column_without_house_numbers_is_part_of_an_address() {
    let settings = ClassifierSettings::default();
    let t = table(
        "anschriften",
        &[
            (
                "strasse",
                "character varying",
                cycle(
                    &[
                        "Amselweg",
                        "Lindenallee",
                        "Am Marktplatz",
                        "Eichendorffstraße",
                    ],
                    60,
                ),
            ),
            (
                "hausnummer",
                "character varying",
                cycle(&["12", "3a", "145", "7"], 60),
            ),
            (
                "produkt",
                "character varying",
                cycle(&["Gartenschlauch", "Rasenmäher", "Spaten"], 60),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "strasse", &settings).as_deref(),
        Some("POSTAL_ADDRESS")
    );
    assert_eq!(applied(&v, "produkt", &settings), None);
}

#[test]
fn business_codes_shaped_like_postcodes_are_not_applied_as_postcodes() {
    let settings = ClassifierSettings::default();
    for name in ["pallet_code", "shelf_code", "fabric_code", "route_code"] {
        let codes: Vec<String> = (1..=40).map(|i| format!("PX-{}", 2000 + i)).collect();
        let t = table("inventory", &[(name, "text", codes)], &[]);
        let v = run(&t, &settings, &FeedbackModel::default());
        assert_eq!(applied(&v, name, &settings), None, "{name}");
    }
}

/// Notes in several languages of which every second one mentions somebody (in varying ways).
fn notes_with_people(n: usize) -> Vec<String> {
    gen(n, |i| match i % 8 {
        0 => format!("Customer asked for the invoice at r.okafor{i}@example.net instead."),
        1 => format!(
            "Rückruf erbeten unter 030 4412 {:04}, Kundin wartet seit Montag.",
            1000 + i
        ),
        2 => "Mme Lefebvre a signalé un retard de livraison important.".to_owned(),
        3 => "La paciente refiere asma desde la infancia y pide cita por la tarde.".to_owned(),
        4 => "Order was packed this morning and leaves the warehouse tomorrow.".to_owned(),
        5 => "Offerte aangepast na overleg, wacht op akkoord van inkoop.".to_owned(),
        6 => "Le devis révisé a été envoyé au service achats pour validation.".to_owned(),
        _ => "Replacement part ordered, the technician fits it next week.".to_owned(),
    })
}

#[test]
fn notes_that_mention_people_are_free_text_pii_with_counted_signals() {
    let settings = ClassifierSettings::default();
    let t = table(
        "support_cases",
        &[
            ("case_notes", "text", notes_with_people(64)),
            (
                "reporter_mail",
                "character varying",
                gen(64, |i| format!("client{i}@example.org")),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    assert_eq!(
        applied(&v, "case_notes", &settings).as_deref(),
        Some("FREE_TEXT_PII")
    );
    let c = &verdict(&v, "case_notes").candidates[0];
    // A conservative confidence: applied, but short of certainty.
    assert!((0.8..0.95).contains(&c.confidence), "{c:?}");
    let details: Vec<&str> = c.signals.iter().map(|s| s.detail.as_str()).collect();
    for expected in [
        "32 of 64 sampled values are sentences that mention personal data (64 read as sentences)",
        "8 of 64 sampled values contain an e-mail address",
        "8 of 64 sampled values contain a phone number",
        "8 of 64 sampled values contain a person's name",
        "8 of 64 sampled values contain a health condition of a person",
    ] {
        assert!(
            details.contains(&expected),
            "missing {expected}: {details:#?}"
        );
    }
    // People's health in the notes makes them special-category data (and PHI).
    assert_eq!(
        crate::classification::phi::special_category_reason(&c.signals),
        Some("8 of 64 sampled values mention a person's health condition")
    );
    let frameworks = crate::classification::phi::label_frameworks(
        crate::classification::ClassificationType::FreeTextPii,
        &c.signals,
        false,
    );
    assert!(frameworks.contains(&crate::classification::Framework::GdprSpecialCategory));
    // A well-typed column keeps its type.
    assert_eq!(
        applied(&v, "reporter_mail", &settings).as_deref(),
        Some("EMAIL_ADDRESS")
    );
    assert_eq!(confidence(&v, "reporter_mail", "FREE_TEXT_PII"), 0.0);

    // The same notes without the health remarks are personal data, not special-category data.
    let mut notes = notes_with_people(64);
    for (i, note) in notes.iter_mut().enumerate() {
        if i % 8 == 3 {
            *note = format!("Herr Brandauer bittet um Rückruf wegen Rechnung {i}.");
        }
    }
    let t = table("support_cases", &[("case_notes", "text", notes)], &[]);
    let v = run(&t, &settings, &FeedbackModel::default());
    let c = &verdict(&v, "case_notes").candidates[0];
    assert_eq!(c.label.as_str(), "FREE_TEXT_PII");
    assert_eq!(
        crate::classification::phi::special_category_reason(&c.signals),
        None
    );
}

#[test]
fn prose_product_text_log_lines_and_rare_mentions_are_not_free_text_pii() {
    let settings = ClassifierSettings::default();
    let t = table(
        "catalogue",
        &[
            (
                "internal_note",
                "text",
                cycle(
                    &[
                        "Order was packed this morning and leaves the warehouse tomorrow.",
                        "Die Lieferung wurde heute vom Lager bestätigt, Versand folgt morgen.",
                        "Le colis est resté bloqué au dépôt à cause de la grève.",
                    ],
                    60,
                ),
            ),
            (
                "description",
                "text",
                gen(60, |i| {
                    format!(
                        "Rose Gold Edition wristwatch, brushed case, EAN 40063813{:05}, item {i}.",
                        10_000 + i
                    )
                }),
            ),
            (
                "log_message",
                "text",
                gen(60, |i| {
                    format!(
                        "2025-03-1{}T10:00:00Z INFO worker {} finished job {} in {} ms from 10.0.0.{}",
                        i % 10,
                        i % 8,
                        40_000 + i * 17,
                        i * 37 % 900,
                        i % 250
                    )
                }),
            ),
            // One note in twenty mentions somebody: too few to say the column holds personal data.
            (
                "remarks",
                "text",
                gen(60, |i| {
                    if i % 20 == 0 {
                        format!("Please call 020 7946 {:04} about the refund.", 1000 + i)
                    } else {
                        "The quarterly stock count is planned for the first week.".to_owned()
                    }
                }),
            ),
            (
                "tag",
                "character varying",
                cycle(&["asthma", "diabetes", "migraine"], 60),
            ),
        ],
        &[],
    );
    let v = run(&t, &settings, &FeedbackModel::default());
    for column in [
        "internal_note",
        "description",
        "log_message",
        "remarks",
        "tag",
    ] {
        assert!(
            confidence(&v, column, "FREE_TEXT_PII") < settings.floor,
            "{column}: {:?}",
            verdict(&v, column)
        );
    }
}
