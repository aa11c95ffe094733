//! Tests of who a column is about: row keys are not people's identifiers, audit columns name the
//! people who acted, and yes/no flags named after a health condition are health data.

use super::*;

use super::tests_support::*;

/// Pseudo-random, non-sequential numbers of fixed width (zero-padded).
fn padded(i: usize, width: usize) -> String {
    let x = (i as u64 + 3).wrapping_mul(2_654_435_761) % 10u64.pow(width as u32 - 1);
    format!("{x:0width$}")
}

fn uuid(i: usize) -> String {
    let x = (i as u64 + 11).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        (x >> 20) & 0xfff,
        x & 0xffff_ffff_ffff
    )
}

const GIVEN: &[&str] = &[
    "Ingrid", "Henrik", "Bjorn", "Birgit", "Arne", "Annika", "Axel",
];
const FAMILY: &[&str] = &[
    "Lindqvist",
    "Hendriks",
    "Kowalczyk",
    "Brunner",
    "Mensah",
    "Ferrari",
];

fn debug(v: &[ColumnVerdict]) -> String {
    v.iter()
        .map(|c| {
            let cands: Vec<String> = c
                .candidates
                .iter()
                .map(|k| format!("{} {:.3}", k.label, k.confidence))
                .collect();
            format!("{}: {}", c.column, cands.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn row_keys_are_not_medical_record_numbers_and_uuid_keys_are_nothing() {
    let n = 60;
    let patients = table(
        "patients",
        &[
            ("patient_id", "integer", gen(n, |i| (i + 1).to_string())),
            ("mrn", "character varying", gen(n, |i| padded(i, 8))),
            ("client_id", "character varying", gen(n, uuid)),
            ("account_uuid_id", "uuid", gen(n, |i| uuid(i + 500))),
            ("first_name", "character varying", cycle(GIVEN, n)),
            ("last_name", "character varying", cycle(FAMILY, n)),
        ],
    );
    let v = run(&patients);
    let why = debug(&v);
    // A serial key numbers the rows of the patients table: not a medical record number.
    assert_eq!(applied(&v, "patient_id"), None, "{why}");
    assert!(
        !labels(&v, "patient_id").contains(&"MEDICAL_RECORD_NUMBER".to_owned()),
        "{why}"
    );
    // Zero-padded, non-sequential numbers under `mrn` are the medical record numbers.
    assert_eq!(
        applied(&v, "mrn").as_deref(),
        Some("MEDICAL_RECORD_NUMBER"),
        "{why}"
    );
    // Random keys identify rows, not people: nothing applied or suggested.
    assert!(labels(&v, "client_id").is_empty(), "{why}");
    assert!(labels(&v, "account_uuid_id").is_empty(), "{why}");

    // The same key referenced from another table: repeated, unpadded small integers.
    let encounters = table(
        "encounters",
        &[
            ("encounter_id", "integer", gen(n, |i| (i + 1).to_string())),
            (
                "patient_id",
                "integer",
                gen(n, |i| ((i * 7) % 23 + 1).to_string()),
            ),
            (
                "clinician_fk",
                "bigint",
                gen(n, |i| ((i * 13) % 1500 + 1).to_string()),
            ),
            (
                "dx_code",
                "character varying",
                cycle(&["K21.0", "M54.5", "G43.9"], n),
            ),
        ],
    );
    let v = run(&encounters);
    let why = debug(&v);
    assert_eq!(applied(&v, "patient_id"), None, "{why}");
    assert!(
        !labels(&v, "patient_id").contains(&"MEDICAL_RECORD_NUMBER".to_owned()),
        "{why}"
    );
    assert_eq!(applied(&v, "clinician_fk"), None, "{why}");
    assert_eq!(
        applied(&v, "dx_code").as_deref(),
        Some("HEALTH_DIAGNOSIS"),
        "{why}"
    );
}

#[test]
fn audit_columns_name_the_people_who_acted_and_processes_are_nobody() {
    let n = 60;
    let handles = &["ihansen", "h.berg", "sofia_l", "lmartens", "jdekker7"];
    let t = table(
        "purchase_orders",
        &[
            (
                "order_no",
                "character varying",
                gen(n, |i| format!("PO-{:06}", 4100 + i * 3)),
            ),
            ("created_by", "character varying", cycle(handles, n)),
            ("record_owner", "character varying", cycle(handles, n)),
            (
                "approved_by",
                "character varying",
                gen(n, |i| {
                    format!(
                        "{}.{}@buyer.example",
                        GIVEN[i % 7].to_lowercase(),
                        FAMILY[i % 6].to_lowercase()
                    )
                }),
            ),
            (
                "updated_by",
                "character varying",
                gen(n, |i| format!("{} {}", GIVEN[i % 7], FAMILY[(i * 5) % 6])),
            ),
            (
                "modified_by",
                "character varying",
                cycle(&["system", "etl", "cron", "svc_import"], n),
            ),
            (
                "deleted_by",
                "integer",
                gen(n, |i| ((i * 3) % 17 + 1).to_string()),
            ),
            (
                "actor",
                "character varying",
                cycle(&["SYSTEM", "batch", "scheduler"], n),
            ),
        ],
    );
    let v = run(&t);
    let why = debug(&v);
    assert_eq!(
        applied(&v, "created_by").as_deref(),
        Some("USERNAME"),
        "{why}"
    );
    assert_eq!(
        applied(&v, "record_owner").as_deref(),
        Some("USERNAME"),
        "{why}"
    );
    assert_eq!(
        applied(&v, "approved_by").as_deref(),
        Some("EMAIL_ADDRESS"),
        "{why}"
    );
    assert_eq!(
        applied(&v, "updated_by").as_deref(),
        Some("PERSON_NAME"),
        "{why}"
    );
    // Integer user ids and the names of processes are nobody's personal data.
    assert!(labels(&v, "modified_by").is_empty(), "{why}");
    assert!(labels(&v, "deleted_by").is_empty(), "{why}");
    assert!(labels(&v, "actor").is_empty(), "{why}");
    // The signal says why.
    let signal = candidates(&v, "record_owner")[0]
        .signals
        .iter()
        .any(|s| s.detail.contains("names who acted (`owner`)"));
    assert!(signal, "{why}");
}

#[test]
fn yes_no_flags_named_after_a_health_condition_are_health_data() {
    let n = 60;
    let t = table(
        "intake_survey",
        &[
            (
                "is_diabetic",
                "boolean",
                cycle(&["true", "false", "false"], n),
            ),
            (
                "has_hiv",
                "character varying",
                cycle(&["Y", "N", "N", "N"], n),
            ),
            ("asthma_flag", "smallint", cycle(&["0", "1", "0"], n)),
            (
                "schwanger",
                "boolean",
                cycle(&["false", "true", "false"], n),
            ),
            ("tiene_diabetes", "tinyint(1)", cycle(&["1", "0", "0"], n)),
            ("is_active", "boolean", cycle(&["true", "false", "true"], n)),
            (
                "newsletter_opt_in",
                "character varying",
                cycle(&["Y", "N"], n),
            ),
            ("condition_met", "boolean", cycle(&["true", "false"], n)),
        ],
    );
    let v = run(&t);
    let why = debug(&v);
    for flag in [
        "is_diabetic",
        "has_hiv",
        "asthma_flag",
        "schwanger",
        "tiene_diabetes",
    ] {
        assert_eq!(
            applied(&v, flag).as_deref(),
            Some("HEALTH_DIAGNOSIS"),
            "{flag}: {why}"
        );
    }
    // Booleans about anything else stay nothing, as does a generic `condition` word.
    for other in ["is_active", "newsletter_opt_in", "condition_met"] {
        assert!(labels(&v, other).is_empty(), "{other}: {why}");
    }
    let signal = candidates(&v, "is_diabetic")[0].signals.iter().any(|s| {
        s.detail
            .contains("yes/no values under a health-condition name")
    });
    assert!(signal, "{why}");
}

#[test]
fn customer_account_labels_are_not_bank_account_numbers() {
    let n = 60;
    let t = table(
        "suppliers",
        &[
            (
                "account_number",
                "character varying",
                gen(n, |i| format!("KR{}", padded(i, 7))),
            ),
            (
                "bank_account",
                "character varying",
                gen(n, |i| padded(i + 900, 10)),
            ),
        ],
    );
    let v = run(&t);
    let why = debug(&v);
    assert_eq!(applied(&v, "account_number"), None, "{why}");
    assert_eq!(
        applied(&v, "bank_account").as_deref(),
        Some("BANK_ACCOUNT_NUMBER"),
        "{why}"
    );
}
