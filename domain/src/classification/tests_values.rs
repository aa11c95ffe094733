//! Tests of value-only detection: columns whose names say nothing (`col3` in `t7`, as legacy
//! exports and headerless files have them) are labeled by what their values and their neighbours
//! show — names by the given- and family-name dictionaries, birth dates by how far back they
//! reach beside people's data, gender codes beside people's data, handles built from names — and
//! the same values in a table about things are left alone.

use super::detectors::{self, Facts};

use super::tests_support::*;

const GIVEN: &[&str] = &[
    "Sigrid", "Bastian", "Cornelia", "Dario", "Esther", "Solveig", "Greta", "Kjell", "Imke",
    "Jutta", "Kenji", "Leila", "Milou", "Norbert",
];
const FAMILY: &[&str] = &[
    "Lindqvist",
    "Korhonen",
    "Virtanen",
    "Kowalczyk",
    "Heikkinen",
    "Rantanen",
    "Giordano",
    "Carvalho",
    "Fontaine",
    "Ibanez",
    "Halvorsen",
    "Nieminen",
    "Marchetti",
];

/// Contact columns under neutral names: what makes a table about people.
fn contact_columns(n: usize) -> Vec<Col<'static>> {
    vec![
        (
            "col1",
            "varchar",
            gen(n, |i| format!("contact{i}@example.org")),
        ),
        (
            "col2",
            "varchar",
            gen(n, |i| format!("+44 20 7946 {:04}", (i * 37) % 10_000)),
        ),
    ]
}

fn date(i: usize, from: usize, years: usize) -> String {
    format!(
        "{}-{:02}-{:02}",
        from + (i * 7) % years,
        1 + (i * 5) % 12,
        1 + (i * 11) % 28
    )
}

#[test]
fn name_detectors_know_family_names_and_handles_built_from_names() {
    let hits = |value: &str| {
        let mut counts = [0u32; detectors::N];
        detectors::detect(&Facts::of(value), &mut counts);
        detectors::DETECTORS
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(id, _)| *id)
            .collect::<Vec<_>>()
    };
    assert!(hits("Korhonen").contains(&"family_name"));
    assert!(hits("van der Heijden").contains(&"family_name"));
    assert!(!hits("Turquoise").contains(&"family_name"));
    for handle in [
        "jnowak",
        "JVIRTANEN",
        "MUELLERK",
        "imke.korhonen",
        "nowak_p",
        "sigridkorhonen",
    ] {
        assert!(hits(handle).contains(&"name_handle"), "{handle}");
    }
    for not_handle in [
        "ACTIVE",
        "pending",
        "WIDGET",
        "batch_state",
        "a1b2c3d4",
        "x",
    ] {
        assert!(!hits(not_handle).contains(&"name_handle"), "{not_handle}");
    }
    for id in ["MUELLERK", "KJELL7", "JVIRTANEN"] {
        assert!(hits(id).contains(&"upper_handle"), "{id}");
    }
    for not_id in ["KORHONEN", "Muellerk", "AB12CD", "ORDERSTATUSX1"] {
        assert!(!hits(not_id).contains(&"upper_handle"), "{not_id}");
    }
    assert!(!hits("KORHONEN").contains(&"name_handle"));
    assert!(hits("korhonen").contains(&"name_handle"));
    assert!(hits("1964-03-12").contains(&"date_before_1980"));
    assert!(!hits("1994-03-12").contains(&"date_before_1980"));
}

#[test]
fn single_given_or_family_names_under_neutral_names_are_person_names() {
    let n = 60;
    let mut cols = contact_columns(n);
    cols.push(("col3", "varchar", cycle(GIVEN, n)));
    cols.push(("col4", "varchar", cycle(FAMILY, n)));
    let v = run(&table("t1", &cols));
    assert!(labels(&v, "col3").contains(&"PERSON_NAME".to_owned()));
    assert!(labels(&v, "col4").contains(&"PERSON_NAME".to_owned()));
    let signal = &candidates(&v, "col3")[0].signals;
    assert!(signal
        .iter()
        .any(|s| s.detail.contains("common given names")));
}

#[test]
fn a_few_words_that_are_also_names_are_a_code_list_not_people() {
    // Colours and trades are left out of the family names; a short list of words that are
    // also names repeated over many rows is a category, not people.
    let n = 60;
    let mut cols = contact_columns(n);
    cols.push((
        "col3",
        "varchar",
        cycle(&["Black", "Crimson", "Silver", "Olive"], n),
    ));
    cols.push((
        "col4",
        "varchar",
        cycle(&["Moreno", "Halvorsen", "Kinnunen"], n),
    ));
    let v = run(&table("t1", &cols));
    assert!(!labels(&v, "col3").contains(&"PERSON_NAME".to_owned()));
    assert!(!labels(&v, "col4").contains(&"PERSON_NAME".to_owned()));
}

#[test]
fn dates_reaching_back_decades_beside_people_are_suggested_as_birth_dates() {
    let n = 80;
    let mut cols = contact_columns(n);
    cols.push(("col3", "date", gen(n, |i| date(i, 1941, 60))));
    // Dates of orders: recent, whatever table they are in.
    cols.push(("col4", "date", gen(n, |i| date(i, 2016, 9))));
    let v = run(&table("t1", &cols));
    assert!(labels(&v, "col3").contains(&"DATE_OF_BIRTH".to_owned()));
    assert!(!labels(&v, "col4").contains(&"DATE_OF_BIRTH".to_owned()));
    let dob = candidates(&v, "col3")
        .iter()
        .find(|c| c.label.to_string() == "DATE_OF_BIRTH")
        .expect("suggested");
    assert!(dob.signals.iter().any(|s| s.detail.contains("before 1980")));
}

#[test]
fn old_dates_without_people_beside_them_are_no_birth_dates() {
    // Founding dates of companies reach back as far; nothing in the table is about people.
    let n = 80;
    let cols: Vec<Col<'_>> = vec![
        ("col1", "varchar", gen(n, |i| format!("ART-{:05}", i * 13))),
        ("col2", "date", gen(n, |i| date(i, 1941, 60))),
    ];
    let v = run(&table("t1", &cols));
    assert!(!labels(&v, "col2").contains(&"DATE_OF_BIRTH".to_owned()));
    let v = run(&table("products", &cols));
    assert!(!labels(&v, "col2").contains(&"DATE_OF_BIRTH".to_owned()));
}

#[test]
fn gender_codes_beside_people_are_gender_and_in_a_product_table_are_not() {
    let n = 60;
    let mut cols = contact_columns(n);
    cols.push(("col3", "char(1)", cycle(&["M", "F", "F", "M", "M"], n)));
    let v = run(&table("t1", &cols));
    assert!(labels(&v, "col3").contains(&"GENDER".to_owned()));

    // A product's `M`/`F` code (a fit, a size line) in a table about products.
    let products: Vec<Col<'_>> = vec![
        (
            "article_no",
            "varchar",
            gen(n, |i| format!("ART-{:05}", i * 13)),
        ),
        ("title", "varchar", cycle(&["Rain jacket", "Wool socks"], n)),
        ("col3", "char(1)", cycle(&["M", "F", "F", "M", "M"], n)),
    ];
    let v = run(&table("products", &products));
    assert!(!labels(&v, "col3").contains(&"GENDER".to_owned()));
}

#[test]
fn handles_built_from_names_are_usernames_in_any_case() {
    let n = 60;
    let lower = gen(n, |i| {
        let g = GIVEN[i % GIVEN.len()].to_ascii_lowercase();
        let f = FAMILY[(i * 3) % FAMILY.len()].to_ascii_lowercase();
        if i % 2 == 0 {
            format!("{g}.{f}")
        } else {
            format!("{}{f}", &g[..1])
        }
    });
    // SAP-style user names: upper case, family name and initial or initial and family name.
    let upper = gen(n, |i| {
        let g = GIVEN[(i * 5) % GIVEN.len()].to_ascii_uppercase();
        let f = FAMILY[i % FAMILY.len()].to_ascii_uppercase();
        if i % 2 == 0 {
            format!("{f}{}", &g[..1])
        } else {
            format!("{}{f}", &g[..1])
        }
    });
    let mut cols = contact_columns(n);
    cols.push(("col3", "varchar", lower));
    cols.push(("col4", "varchar", upper.clone()));
    let v = run(&table("t1", &cols));
    assert!(labels(&v, "col3").contains(&"USERNAME".to_owned()));
    assert!(labels(&v, "col4").contains(&"USERNAME".to_owned()));

    // Under an audit column's name, the upper-case handles are applied.
    let audit: Vec<Col<'_>> = vec![
        ("doc_no", "varchar", gen(n, |i| format!("{:010}", i * 7919))),
        ("created_by", "varchar", upper),
    ];
    let v = run(&table("t2", &audit));
    assert_eq!(applied(&v, "created_by").as_deref(), Some("USERNAME"));
}

#[test]
fn upper_case_codes_and_status_words_are_not_usernames() {
    let n = 60;
    let mut cols = contact_columns(n);
    cols.push((
        "col3",
        "varchar",
        cycle(&["OPEN", "CLOSED", "PENDING", "ARCHIVED", "DRAFT"], n),
    ));
    cols.push((
        "col4",
        "varchar",
        gen(n, |i| format!("PRD{}X", ["ALPHA", "BETA", "GAMMA"][i % 3])),
    ));
    let v = run(&table("t1", &cols));
    assert!(!labels(&v, "col3").contains(&"USERNAME".to_owned()));
    assert!(!labels(&v, "col4").contains(&"USERNAME".to_owned()));
}

#[test]
fn php_drupal_and_sap_password_hashes_are_recognised_by_their_format() {
    let salt = |i: usize, len: usize| -> String {
        const CHARS: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        (0..len)
            .map(|k| CHARS[(i * 31 + k * 17 + k * k) % CHARS.len()] as char)
            .collect()
    };
    let n = 30;
    let cols: Vec<Col<'_>> = vec![
        (
            "col1",
            "varchar",
            gen(n, |i| format!("$P$B{}", salt(i, 30))),
        ),
        (
            "col2",
            "varchar",
            gen(n, |i| format!("$S$E{}", salt(i, 51))),
        ),
        (
            "col3",
            "varchar",
            gen(n, |i| format!("{{x-issha, 1024}}{}=", salt(i, 27))),
        ),
        // Dollar-prefixed prices and template variables are no hashes.
        ("col4", "varchar", gen(n, |i| format!("$P${i}.99"))),
    ];
    let v = run(&table("t1", &cols));
    for col in ["col1", "col2", "col3"] {
        assert_eq!(applied(&v, col).as_deref(), Some("PASSWORD"), "{col}");
    }
    assert!(!labels(&v, "col4").contains(&"PASSWORD".to_owned()));
}

#[test]
fn spanish_and_portuguese_numbers_in_digit_groups_are_phone_numbers() {
    let phone = |value: &str| {
        let mut counts = [0u32; detectors::N];
        detectors::detect(&Facts::of(value), &mut counts);
        counts[detectors::index("phone")] > 0
    };
    for p in ["612 34 56 78", "912 345 678", "934-12-45-67", "213 456 789"] {
        assert!(phone(p), "{p}");
    }
    // Nine digits in other groupings, or starting otherwise, are not taken for phones.
    for not in ["123 456 789", "512 34 56 78", "612 3456 78", "412-67-3198"] {
        assert!(!phone(not), "{not}");
    }
}

#[test]
fn family_names_beside_given_names_and_postcodes_beside_street_lines() {
    let n = 60;
    // Family names of which few are in the dictionary: the given names beside them decide.
    let family = gen(n, |i| {
        [
            "Quellmalz",
            "Ostergaard",
            "Pemberton",
            "Yarrow",
            "Thistlewood",
            "Brackley",
        ][i % 6]
            .to_owned()
            + ["", "e", "s"][(i / 6) % 3]
    });
    let mut cols = contact_columns(n);
    cols.push(("col3", "varchar", cycle(GIVEN, n)));
    cols.push(("col4", "varchar", family.clone()));
    cols.push((
        "col5",
        "varchar",
        gen(n, |i| format!("{} Harbour Road", 3 + i * 7)),
    ));
    cols.push((
        "col6",
        "varchar",
        gen(n, |i| format!("{:05}", 1000 + i * 1187)),
    ));
    let v = run(&table("t1", &cols));
    assert!(labels(&v, "col4").contains(&"PERSON_NAME".to_owned()));
    assert!(labels(&v, "col6").contains(&"POSTAL_CODE".to_owned()));

    // The same words without given names beside them, and the same digits without street lines:
    // nothing.
    let alone: Vec<Col<'_>> = vec![
        ("col1", "varchar", family),
        (
            "col2",
            "varchar",
            gen(n, |i| format!("{:05}", 1000 + i * 1187)),
        ),
    ];
    let v = run(&table("t2", &alone));
    assert!(!labels(&v, "col1").contains(&"PERSON_NAME".to_owned()));
    assert!(!labels(&v, "col2").contains(&"POSTAL_CODE".to_owned()));
}

#[test]
fn latitude_and_longitude_side_by_side_are_coordinates_by_their_values() {
    let n = 40;
    let lat = gen(n, |i| format!("{:.5}", 35.0 + (i as f64 * 0.3731) % 20.0));
    let lon = gen(n, |i| format!("{:.5}", -9.0 + (i as f64 * 0.7919) % 30.0));
    let cols: Vec<Col<'_>> = vec![
        ("col1", "varchar", gen(n, |i| format!("R{i:04}"))),
        ("col2", "numeric(9,5)", lat.clone()),
        ("col3", "numeric(9,5)", lon),
    ];
    let v = run(&table("t1", &cols));
    assert!(labels(&v, "col2").contains(&"GEO_COORDINATE".to_owned()));
    assert!(labels(&v, "col3").contains(&"GEO_COORDINATE".to_owned()));
    // One column of such decimals alone (a rate, a measurement) is not a coordinate.
    let cols: Vec<Col<'_>> = vec![
        ("col1", "numeric(9,5)", lat),
        ("col2", "varchar", gen(n, |i| format!("R{i:04}"))),
    ];
    let v = run(&table("t2", &cols));
    assert!(!labels(&v, "col1").contains(&"GEO_COORDINATE".to_owned()));
}

#[test]
fn sap_style_user_ids_are_usernames_and_upper_case_family_names_are_names() {
    let n = 60;
    // Half the ids are cut from names the dictionaries know, half from names they do not.
    let unknown = [
        "VELTRUPA",
        "ZORBEKAT",
        "QUILLANM",
        "BRAXTEDS",
        "OSTRAVIKJ",
        "TELLMUNDR",
    ];
    let ids = gen(n, |i| {
        if i % 2 == 0 {
            format!(
                "{}{}",
                FAMILY[i % FAMILY.len()].to_ascii_uppercase(),
                &GIVEN[(i / 2) % GIVEN.len()][..1]
            )
            .chars()
            .take(12)
            .collect()
        } else {
            format!("{}{}", unknown[(i / 2) % unknown.len()], i / 12)
        }
    });
    let mut cols = contact_columns(n);
    cols.push(("col3", "varchar", ids));
    cols.push((
        "col4",
        "varchar",
        gen(n, |i| FAMILY[(i * 7) % FAMILY.len()].to_ascii_uppercase()),
    ));
    let v = run(&table("t1", &cols));
    assert!(labels(&v, "col3").contains(&"USERNAME".to_owned()));
    let upper_names = labels(&v, "col4");
    assert!(
        !upper_names.contains(&"USERNAME".to_owned()),
        "{upper_names:?}"
    );
}
