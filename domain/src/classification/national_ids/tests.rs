//! Tests of the national and tax identifiers: each validator on specimen numbers (published
//! examples of the issuing bodies and standard references, or numbers built here by computing the
//! check digit with the published formula) and on broken ones (every other check character,
//! impossible dates, wrong lengths); the documented chance pass rates against random digits; the
//! shape pre-filter; the name cues; and the phone/identifier conflict decided by checksum and
//! context rather than by order.

use super::*;
use crate::classification::detectors::{self, Facts};
use crate::classification::names::{match_name, NameTokens};
use crate::classification::{
    classify_table, ClassifierSettings, ColumnProfile, FeedbackModel, TableProfile,
};

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

fn digits(s: &str) -> Vec<u32> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect()
}

/// The Luhn check digit completing `body` (written independently of the module's check).
fn luhn_digit(body: &str) -> u32 {
    let sum: u32 = digits(body)
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                (d * 2) % 10 + d * 2 / 10
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// `(validator, a valid number, the position of its check character in the written form)`:
/// every other character at that position must be refused.
type Specimen = (&'static str, Validator, &'static str, usize);

/// Published specimen numbers (and numbers whose check we verified by hand against the formula).
const SPECIMENS: &[Specimen] = &[
    // NHS Digital's example number.
    ("gb_nhs", gb_nhs, "943 476 5919", 11),
    // The BZSt's example tax id.
    ("de_tax_id", de_tax_id, "86095742719", 10),
    // The VKVV layout example: area 15, 07.06.49, C, serial 10, check 3.
    ("de_pension", de_pension, "15 070649 C 103", 14),
    ("fr_nir", fr_nir, "2 55 08 14 168 025 38", 20),
    ("es_dni", es_dni, "12345678Z", 8),
    ("es_dni", es_dni, "X1234567L", 8),
    ("it_cf", it_codice_fiscale, "RSSMRA85T10A562S", 15),
    ("be_nn", be_national_number, "85.07.30-033.28", 14),
    ("pl_pesel", pl_pesel, "44051401359", 10),
    ("pl_pesel", pl_pesel, "02070803628", 10),
    // Skatteverket's example.
    ("se_pnr", se_personnummer, "811218-9876", 10),
    ("se_pnr", se_personnummer, "19811218-9876", 12),
    // The Population Register Centre's example.
    ("fi_hetu", fi_hetu, "131052-308T", 10),
    ("no_fnr", no_fodselsnummer, "15108695088", 10),
    ("br_cpf", br_cpf, "111.444.777-35", 13),
    ("br_cnpj", br_cnpj, "11.222.333/0001-81", 17),
    // Check digits computed here with the published formulas.
    ("br_pis", br_pis, "120.34567.89-9", 13),
    ("br_cns", br_cns, "120345678910009", 14),
    ("br_cns", br_cns, "700123456789010", 14),
    ("mx_nss", mx_nss, "12345678903", 10),
    // The Receita Federal's example of the alphanumeric CNPJ.
    ("br_cnpj", br_cnpj, "12.ABC.345/01DE-35", 17),
    ("mx_curp", mx_curp, "BOXW310820HNERXN09", 17),
    ("mx_rfc", mx_rfc, "GODE561231GR8", 12),
    // Luhn computed by hand (Service Canada's own example, 046 454 286, starts with the 0
    // reserved for fictitious numbers and is refused below).
    ("ca_sin", ca_sin, "130 692 544", 10),
    ("in_aadhaar", in_aadhaar, "2341 2341 2346", 13),
    // The classic example of the GB 11643 standard.
    ("cn_ric", cn_resident_id, "11010519491231002X", 17),
    ("jp_my_number", jp_my_number, "123456789018", 11),
    ("kr_rrn", kr_rrn, "971013-9019902", 13),
    // The ATO's example TFN.
    ("au_tfn", au_tfn, "123 456 782", 10),
    ("au_medicare", au_medicare, "2123 45670 1", 9),
    ("za_id", za_id, "7503305044089", 12),
    ("sg_nric", sg_nric, "S1234567D", 8),
    ("sg_nric", sg_nric, "T1234567J", 8),
    ("sg_nric", sg_nric, "F1234567N", 8),
    ("sg_nric", sg_nric, "G1234567X", 8),
    ("sg_nric", sg_nric, "M1234567K", 8),
    ("pt_nif", pt_nif, "123456789", 8),
    ("ie_pps", ie_pps, "1234567T", 7),
    ("ie_pps", ie_pps, "1234567TW", 7),
    ("ie_pps", ie_pps, "1234567FA", 7),
    // The Central Compensation Office's example.
    ("ch_ahv", ch_ahv, "756.9217.0769.85", 15),
    ("at_svnr", at_svnr, "1237 010180", 3),
    ("cl_rut", cl_rut, "12.345.678-5", 11),
    ("ar_cuit", ar_cuit, "20-12345678-6", 12),
];

#[test]
fn specimens_pass_and_every_other_check_character_fails() {
    for &(id, validate, valid, at) in SPECIMENS {
        assert!(validate(valid), "{id}: {valid} should pass");
        assert!(
            validate(&valid.to_lowercase()) || valid.chars().all(|c| !c.is_alphabetic()),
            "{id}: {valid} in lower case"
        );
        let original = valid.as_bytes()[at];
        let alphabet: &[u8] = if original.is_ascii_digit() {
            b"0123456789"
        } else {
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        };
        for &c in alphabet.iter().filter(|&&c| c != original) {
            let mut broken = valid.as_bytes().to_vec();
            broken[at] = c;
            let broken = String::from_utf8(broken).unwrap();
            assert!(
                !validate(&broken),
                "{id}: {broken} has a wrong check character"
            );
        }
    }
}

#[test]
fn wrong_lengths_and_foreign_characters_fail() {
    for &(id, validate, valid, _) in SPECIMENS {
        let compact: String = valid.chars().filter(char::is_ascii_alphanumeric).collect();
        assert!(!validate(&compact[1..]), "{id}: {valid} shortened");
        assert!(
            !validate(&format!("{compact}0")),
            "{id}: {valid} lengthened"
        );
        assert!(
            !validate(&format!("{valid}@")),
            "{id}: {valid} with a stray @"
        );
        assert!(!validate(""), "{id}: empty");
    }
}

#[test]
fn embedded_dates_must_exist() {
    // PESEL: 2000s encoded as month + 20; month 13 and 30 February do not exist.
    let pesel = |body: &str| {
        let d = digits(body);
        let w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3];
        let s: u32 = d.iter().zip(w).map(|(a, b)| a * b).sum();
        format!("{body}{}", (10 - s % 10) % 10)
    };
    assert!(pl_pesel(&pesel("0422290123")), "29 Feb 2004 exists");
    assert!(!pl_pesel(&pesel("0322290123")), "29 Feb 2003 does not");
    assert!(!pl_pesel(&pesel("8513010123")), "month 13");
    assert!(!pl_pesel(&pesel("8502300123")), "30 February");
    // Swedish: day 32 never, day 61–91 for a samordningsnummer.
    let se = |body: &str| format!("{body}{}", luhn_digit(body));
    assert!(se_personnummer(&se("811278987")), "samordningsnummer");
    assert!(!se_personnummer(&se("811232987")), "day 32");
    assert!(!se_personnummer(&se("811318987")), "month 13");
    // Danish CPR: the date only (no mod-11 since 2007).
    assert!(dk_cpr("211062-5629"));
    assert!(
        dk_cpr("290200-4020"),
        "29 Feb 2000 (seventh digit 4, year ≤ 36)"
    );
    assert!(!dk_cpr("290200-1020"), "29 Feb 1900 did not exist");
    assert!(!dk_cpr("320162-5629"));
    // Finnish: 30 February, individual number 000–001.
    let hetu = |date: &str, sign: char, ind: &str| {
        let n: u64 = format!("{date}{ind}").parse().unwrap();
        let check = HETU_CHECK[(n % 31) as usize] as char;
        format!("{date}{sign}{ind}{check}")
    };
    assert!(fi_hetu(&hetu("010203", 'A', "123")));
    assert!(!fi_hetu(&hetu("300203", 'A', "123")), "30 February");
    assert!(
        !fi_hetu(&hetu("010203", 'A', "001")),
        "individual number 001"
    );
    assert!(!fi_hetu(&hetu("010203", 'Q', "123")), "century sign Q");
    // Korean: 31 April.
    let rrn = |body: &str| {
        let d = digits(body);
        let w = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
        let s: u32 = d.iter().zip(w).map(|(a, b)| a * b).sum();
        format!("{body}{}", (11 - s % 11) % 10)
    };
    assert!(kr_rrn(&rrn("850430123456")));
    assert!(!kr_rrn(&rrn("850431123456")));
    // South Africa: 31 June, citizenship digit 3.
    let za = |body: &str| format!("{body}{}", luhn_digit(body));
    assert!(za_id(&za("880615500608")));
    assert!(!za_id(&za("880631500608")));
    assert!(!za_id(&za("880615500638")));
    // China: 30 February 1990.
    assert!(!cn_resident_id("110105199002300018"));
    // Codice fiscale: day 72 (women are day + 40, at most 71).
    assert!(!it_codice_fiscale("RSSMRA85T72A562S"));
}

#[test]
fn format_and_range_rules() {
    // SSA and IRS ranges: an SSN never starts with 9, an ITIN always does.
    assert!(us_itin("912-70-1234"));
    assert!(us_itin("912 94 1234"));
    assert!(!us_itin("912-93-1234"), "group 93 is not assigned");
    assert!(!us_itin("812-70-1234"));
    assert!(!validators::us_ssn("912-70-1234"));
    // Steuer-IdNr: one digit repeated two or three times, never three in a row.
    let idnr = |body: &str| format!("{body}{}", iso7064_mod11_10(&to_digits(body)));
    assert!(de_tax_id(&idnr("8609574271")));
    assert!(!de_tax_id(&idnr("1234567890")), "no digit repeated");
    assert!(!de_tax_id(&idnr("1112345678")), "three in a row");
    assert!(de_tax_id(&idnr("1121345678")), "three, not in a row");
    assert!(!de_tax_id(&idnr("1122345678")), "two digits repeated");
    assert!(!de_tax_id(&idnr("0609574271")), "leading zero");
    // CNS: only cards starting with 1, 2 (definitive) or 7, 8, 9 (provisional) exist; PIS and
    // NSS: repeated digits are never issued, and lengths are exact.
    assert!(!br_cns("320345678910009"), "leading 3");
    assert!(!br_cns("12034567891000"), "14 digits");
    assert!(!br_pis("11111111111"));
    assert!(!mx_nss("00000000000"));
    assert!(!mx_nss("1234567890"), "10 digits");
    // CPF: repeated digits pass the arithmetic but are never issued.
    assert!(!br_cpf("111.111.111-11"));
    assert!(!br_cnpj("00.000.000/0000-00"));
    // CUIT: an unknown type prefix.
    assert!(!ar_cuit("21-12345678-6"));
    // NIR: Corsica's departments and an unknown month; sex digit 5 does not exist.
    let nir = |body: &str| {
        let n: u64 = body
            .replace("2A", "19")
            .replace("2B", "18")
            .parse()
            .unwrap();
        format!("{body}{:02}", 97 - n % 97)
    };
    assert!(fr_nir(&nir("185052A006084")), "Corse-du-Sud");
    assert!(fr_nir(&nir("185052B006084")), "Haute-Corse");
    assert!(fr_nir(&nir("185992A006084")), "unknown month 99");
    assert!(!fr_nir(&nir("585057800608")), "too short");
    assert!(!fr_nir(&nir("5850578006084")), "sex digit 5");
    // Belgian: the 2000+ rule puts a 2 before the nine digits.
    let be2000 = |body: &str| {
        let n: u64 = format!("2{body}").parse().unwrap();
        format!("{body}{:02}", 97 - n % 97)
    };
    assert!(be_national_number(&be2000("050315123")));
    assert!(!be_national_number(&be2000("051315123")), "month 13");
    // CURP: an unknown state code, a sex other than H, M, X.
    assert!(!mx_curp("BOXW310820HZZRXN09"));
    assert!(!mx_curp("BOXW310820QNERXN09"));
    // PAN: the holder-type letter.
    assert!(in_pan("ACUPA7085R"));
    assert!(!in_pan("ACUZA7085R"));
    assert!(!in_pan("ACUPA0000R"));
    // Aadhaar: never a leading 0 or 1 (Verhoeff alone would pass some).
    assert!(
        verhoeff(&to_digits("2363")),
        "the textbook Verhoeff example"
    );
    assert!(!in_aadhaar("1341 2341 2346"));
    // SIN: 0 and 8 never lead.
    let sin = |body: &str| format!("{body}{}", luhn_digit(body));
    assert!(ca_sin(&sin("13045428")));
    assert!(!ca_sin(&sin("83045428")));
    assert!(!ca_sin("046 454 286"), "the fictitious example");
    // AHV: the 756 prefix.
    assert!(!ch_ahv("757.9217.0769.85"));
    // Medicare: the first digit 2–6, the issue number not 0.
    assert!(!au_medicare("7123 45670 1"));
    assert!(!au_medicare("2123 45670 0"));
    // Chile: the K check character.
    let rut_k = (1_000_000..1_000_200)
        .map(|n: u32| format!("{n}-K"))
        .find(|r| cl_rut(r))
        .expect("some RUT has check K");
    assert!(!cl_rut(&rut_k.replace('K', "0")));
    // Norway: a D-number (day + 40) is valid; day 72 is not.
    let fnr = |body: &str| {
        let d = digits(body);
        let k = |w: &[u32], d: &[u32]| {
            (11 - d.iter().zip(w).map(|(a, b)| a * b).sum::<u32>() % 11) % 11
        };
        let k1 = k(&[3, 7, 6, 1, 8, 9, 4, 5, 2], &d);
        let mut d2 = d.clone();
        d2.push(k1);
        let k2 = k(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2], &d2);
        format!("{body}{k1}{k2}")
    };
    let d_number = (0..1000)
        .map(|i| fnr(&format!("551086{i:03}")))
        .find(|n| n.len() == 11)
        .expect("a D-number with single-digit checks");
    assert!(no_fodselsnummer(&d_number), "{d_number}");
    let bad_day = (0..1000)
        .map(|i| fnr(&format!("721086{i:03}")))
        .find(|n| n.len() == 11)
        .unwrap();
    assert!(!no_fodselsnummer(&bad_day), "{bad_day}");
}

fn to_digits(s: &str) -> Vec<u8> {
    s.bytes().map(|b| b - b'0').collect()
}

#[test]
fn documented_chance_rates_match_random_digits() {
    // The weights of the evidence rest on these rates: random digits of an identifier's length
    // must pass its validator about as often as documented.
    let mut rng = Rng(19);
    const N: u32 = 40_000;
    for entry in REGISTRY {
        let Some(len) = entry.digits else {
            continue;
        };
        let passed = (0..N)
            .filter(|_| (entry.validate)(&rng.digits(usize::from(len))))
            .count() as f64;
        let expected = entry.base_rate * f64::from(N);
        if expected >= 50.0 {
            let ratio = passed / expected;
            assert!(
                (0.5..=2.0).contains(&ratio),
                "{}: {passed} of {N} passed, {expected:.0} documented",
                entry.id
            );
        } else {
            assert!(
                passed <= 3.0 * expected + 10.0,
                "{}: {passed} of {N} passed, {expected:.1} documented",
                entry.id
            );
        }
    }
}

#[test]
fn registry_is_consistent() {
    let mut countries: Vec<&str> = REGISTRY.iter().map(|e| e.country).collect();
    countries.sort_unstable();
    countries.dedup();
    assert!(countries.len() >= 25, "{} countries", countries.len());
    for (i, e) in REGISTRY.iter().enumerate() {
        assert!(
            REGISTRY[i + 1..].iter().all(|other| other.id != e.id),
            "{} twice",
            e.id
        );
        assert!(
            detectors::DETECTORS.contains(&e.id),
            "{} has no counter",
            e.id
        );
        assert!(e.base_rate > 0.0 && e.base_rate < 1.0, "{}", e.id);
        assert!(!e.cues.is_empty(), "{} has no name cue", e.id);
        assert!(
            matches!(
                e.label,
                T::NationalId | T::TaxId | T::MedicalRecordNumber | T::UsSsn
            ),
            "{}",
            e.id
        );
        assert!(by_id(e.id).is_some());
    }
    for &(id, _, valid, _) in SPECIMENS {
        let entry = by_id(id).unwrap();
        assert!(
            entry.shape.fits(&Facts::of(valid)),
            "{id}: the shape pre-filter refuses {valid}"
        );
    }
}

#[test]
fn detectors_count_each_identifier_behind_the_shape_filter() {
    for &(id, _, valid, _) in SPECIMENS {
        let mut hits = [0u32; detectors::N];
        detectors::detect(&Facts::of(valid), &mut hits);
        let i = detectors::DETECTORS.iter().position(|d| *d == id).unwrap();
        assert_eq!(hits[i], 1, "{id}: {valid}");
    }
    // Ordinary values reach no validator.
    for value in [
        "Anna Jansen",
        "2024-01-15",
        "anna@example.org",
        "12",
        "order 12345678",
    ] {
        let mut count = 0;
        detect(&Facts::of(value), |_| count += 1);
        assert_eq!(count, 0, "{value}");
    }
}

#[test]
fn name_cues_name_their_type_in_every_language() {
    for e in REGISTRY {
        for cue in e.cues {
            let text = cue.trim_start_matches(['?', '~']).replace(' ', "_");
            let hits = match_name(&NameTokens::new(&text));
            assert!(
                hits.iter()
                    .any(|h| h.label == e.label && h.modifier.is_none()),
                "{}: cue `{cue}` → {hits:?}",
                e.id
            );
        }
    }
    for (name, label) in [
        ("Steuer-IdNr", T::TaxId),
        ("steuernummer", T::TaxId),
        ("sozialversicherungsnummer", T::NationalId),
        ("numero_securite_sociale", T::NationalId),
        ("codice_fiscale", T::TaxId),
        ("rijksregisternummer", T::NationalId),
        ("fødselsnummer", T::NationalId),
        ("henkilötunnus", T::NationalId),
        ("kojin_bango", T::NationalId),
        ("jumin_deungnok", T::NationalId),
        ("aadhaar_no", T::NationalId),
        ("nhs_number", T::MedicalRecordNumber),
        ("ahv_nr", T::NationalId),
        ("cuil", T::TaxId),
    ] {
        assert!(
            match_name(&NameTokens::new(name))
                .iter()
                .any(|h| h.label == label && h.modifier.is_none()),
            "{name}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The phone/identifier conflict, through the whole engine.

fn profile(name: &str, values: &[String]) -> ColumnProfile {
    let values: Vec<Option<&str>> = values.iter().map(|v| Some(v.as_str())).collect();
    ColumnProfile::build(name, "character varying", &values, &[])
}

fn classify(
    table: &str,
    cols: &[(&str, Vec<String>)],
) -> Vec<crate::classification::ColumnVerdict> {
    let table = TableProfile {
        table: table.to_owned(),
        columns: cols.iter().map(|(n, v)| profile(n, v)).collect(),
        places: Vec::new(),
    };
    classify_table(
        &table,
        &ClassifierSettings::default(),
        &FeedbackModel::default(),
    )
}

fn confidence(verdicts: &[crate::classification::ColumnVerdict], column: &str, label: &str) -> f64 {
    verdicts
        .iter()
        .find(|v| v.column == column)
        .and_then(|v| v.candidates.iter().find(|c| c.label.as_str() == label))
        .map_or(0.0, |c| c.confidence)
}

fn applied(verdicts: &[crate::classification::ColumnVerdict], column: &str) -> Option<String> {
    verdicts
        .iter()
        .find(|v| v.column == column)
        .and_then(|v| v.candidates.first())
        .filter(|c| c.confidence >= 0.8)
        .map(|c| c.label.to_string())
}

/// Swedish personnummer written `YYMMDD-NNNC`: the phone detector reads them as grouped numbers.
fn personnummer(rng: &mut Rng, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let body = format!(
                "{:02}{:02}{:02}{:03}",
                40 + rng.below(60),
                1 + rng.below(12),
                1 + rng.below(28),
                rng.below(1000)
            );
            let check = luhn_digit(&body);
            format!("{}-{}{check}", &body[..6], &body[6..])
        })
        .collect()
}

fn pesel(rng: &mut Rng, yy: u64) -> String {
    let body = format!(
        "{yy:02}{:02}{:02}{:04}",
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(10_000)
    );
    let d = digits(&body);
    let s: u32 = d
        .iter()
        .zip([1, 3, 7, 9, 1, 3, 7, 9, 1, 3])
        .map(|(a, b)| a * b)
        .sum();
    format!("{body}{}", (10 - s % 10) % 10)
}

/// UK mobiles `07…` (eleven digits) of which six are, by construction, valid PESELs born in
/// 2007 ("07" + month + day + serial + check) — far more than chance, far less than an id column.
fn mobiles_partly_passing(rng: &mut Rng) -> Vec<String> {
    (0..40)
        .map(|i| {
            if i % 7 == 0 {
                pesel(rng, 7)
            } else {
                format!("079{}", rng.digits(8))
            }
        })
        .collect()
}

#[test]
fn an_id_column_written_like_phone_numbers_is_decided_by_its_checksum() {
    let mut rng = Rng(7);
    let values = personnummer(&mut rng, 40);
    let phone_like = profile("x", &values).hit_ratio("phone");
    assert!(
        phone_like >= 0.9,
        "the values also read as phones ({phone_like})"
    );

    let verdicts = classify(
        "anstallda",
        &[("personnummer", values.clone()), ("col_4", values)],
    );
    assert_eq!(
        applied(&verdicts, "personnummer").as_deref(),
        Some("NATIONAL_ID")
    );
    assert!(confidence(&verdicts, "personnummer", "PHONE_NUMBER") < 0.5);
    // Without a name, the checksum alone still makes it a national id and never a phone.
    assert!(confidence(&verdicts, "col_4", "NATIONAL_ID") >= 0.5);
    assert!(confidence(&verdicts, "col_4", "PHONE_NUMBER") < 0.5);
    let signals = &verdicts
        .iter()
        .find(|v| v.column == "col_4")
        .unwrap()
        .candidates[0]
        .signals;
    assert!(
        signals.iter().any(|s| s.weight > 0.0
            && s.detail.contains("40 of 40")
            && s.detail.contains("Swedish personnummer")),
        "{signals:?}"
    );
}

#[test]
fn nhs_and_aadhaar_numbers_grouped_like_phones_are_not_phones() {
    let mut rng = Rng(11);
    let nhs: Vec<String> = (0..40)
        .map(|_| loop {
            let body = rng.digits(9);
            let d = digits(&body);
            let s: u32 = d
                .iter()
                .zip([10, 9, 8, 7, 6, 5, 4, 3, 2])
                .map(|(a, b)| a * b)
                .sum();
            let check = (11 - s % 11) % 11;
            if check < 10 {
                break format!("{} {} {}{check}", &body[..3], &body[3..6], &body[6..]);
            }
        })
        .collect();
    let aadhaar: Vec<String> = (0..40)
        .map(|_| loop {
            let body = format!("{}{}", 2 + rng.below(8), rng.digits(10));
            let done = (0..10)
                .map(|c| format!("{body}{c}"))
                .find(|n| in_aadhaar(n));
            if let Some(n) = done {
                break format!("{} {} {}", &n[..4], &n[4..8], &n[8..]);
            }
        })
        .collect();
    assert!(profile("x", &nhs).hit_ratio("phone") >= 0.9);
    assert!(profile("x", &aadhaar).hit_ratio("phone") >= 0.9);
    let verdicts = classify("patients", &[("nhs_number", nhs), ("aadhaar_no", aadhaar)]);
    assert_eq!(
        applied(&verdicts, "nhs_number").as_deref(),
        Some("MEDICAL_RECORD_NUMBER")
    );
    assert_eq!(
        applied(&verdicts, "aadhaar_no").as_deref(),
        Some("NATIONAL_ID")
    );
    assert!(confidence(&verdicts, "nhs_number", "PHONE_NUMBER") < 0.5);
    assert!(confidence(&verdicts, "aadhaar_no", "PHONE_NUMBER") < 0.5);
}

#[test]
fn a_phone_column_whose_numbers_partly_pass_a_checksum_stays_phones() {
    let mut rng = Rng(3);
    let mobiles = mobiles_partly_passing(&mut rng);
    let p = profile("x", &mobiles);
    let pass = p.hit_ratio("pl_pesel");
    assert!(pass > 0.1 && pass < 0.3, "{pass}");
    assert!(p.hit_ratio("phone") >= 0.9);

    let verdicts = classify(
        "contacts",
        &[("mobile", mobiles.clone()), ("field7", mobiles)],
    );
    assert_eq!(
        applied(&verdicts, "mobile").as_deref(),
        Some("PHONE_NUMBER")
    );
    for column in ["mobile", "field7"] {
        let phone = confidence(&verdicts, column, "PHONE_NUMBER");
        assert!(phone >= 0.5, "{column}: {phone}");
        assert!(
            confidence(&verdicts, column, "NATIONAL_ID") < 0.5,
            "{column}"
        );
        assert!(confidence(&verdicts, column, "TAX_ID") < 0.5, "{column}");
    }
}

#[test]
fn a_nameless_column_passing_no_more_than_chance_is_held_against_the_type() {
    // Eleven-digit numbers, 15 % of which pass PESEL: the signal says so and cites the chance rate.
    let mut rng = Rng(5);
    let values = mobiles_partly_passing(&mut rng);
    let mut ev = Evidence::default();
    let verdict = evidence(T::NationalId, &profile("field7", &values), false, &mut ev);
    assert_eq!(verdict, Verdict::Chance);
    assert!(ev.logit < 0.0);
    assert!(
        ev.signals[0].detail.contains("Polish PESEL") && ev.signals[0].detail.contains("random"),
        "{:?}",
        ev.signals
    );
    // A column named for the type is not held against: its numbers may be of another country.
    let mut named = Evidence::default();
    assert_eq!(
        evidence(
            T::NationalId,
            &profile("national_id", &values),
            true,
            &mut named
        ),
        Verdict::Silent
    );
    assert!(named.signals.is_empty());
}

#[test]
fn the_order_of_values_and_of_the_registry_does_not_decide() {
    // Numbers that pass two countries' checks go to the one more of them pass, then to the rarer
    // chance pass; shuffling the sample changes nothing.
    let mut rng = Rng(23);
    let mut values = personnummer(&mut rng, 30);
    let mut reversed = values.clone();
    reversed.reverse();
    let a = classify("t", &[("col_1", values.clone())]);
    let b = classify("t", &[("col_1", reversed)]);
    assert_eq!(a[0].candidates, b[0].candidates);
    values.truncate(3);
    let mut ev = Evidence::default();
    assert_eq!(
        evidence(T::NationalId, &profile("c", &values), false, &mut ev),
        Verdict::Pass
    );
    assert!(
        ev.logit > 0.0 && ev.logit <= 3.0,
        "few values weigh little: {}",
        ev.logit
    );
}

#[test]
fn tax_and_social_numbers_get_their_own_types() {
    let mut rng = Rng(29);
    let cpf: Vec<String> = (0..30)
        .map(|_| loop {
            let body = rng.digits(9);
            let done = (0..100)
                .map(|c| format!("{body}{c:02}"))
                .find(|n| br_cpf(n));
            if let Some(n) = done {
                break format!("{}.{}.{}-{}", &n[..3], &n[3..6], &n[6..9], &n[9..]);
            }
        })
        .collect();
    let sin: Vec<String> = (0..30)
        .map(|_| {
            let body = format!("{}{}", 1 + rng.below(7), rng.digits(7));
            let n = format!("{body}{}", luhn_digit(&body));
            format!("{} {} {}", &n[..3], &n[3..6], &n[6..])
        })
        .collect();
    let verdicts = classify("clientes", &[("cpf", cpf), ("sin", sin.clone())]);
    assert_eq!(applied(&verdicts, "cpf").as_deref(), Some("TAX_ID"));
    assert_eq!(applied(&verdicts, "sin").as_deref(), Some("NATIONAL_ID"));
    // Bare SIN digits are not SSNs: they pass a Luhn check SSNs do not have.
    let bare: Vec<String> = sin.iter().map(|s| s.replace(' ', "")).collect();
    let verdicts = classify("employees", &[("sin_number", bare)]);
    assert_eq!(
        applied(&verdicts, "sin_number").as_deref(),
        Some("NATIONAL_ID")
    );
    assert!(confidence(&verdicts, "sin_number", "US_SSN") < 0.8);
}
