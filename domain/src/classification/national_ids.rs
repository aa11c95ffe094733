//! National and tax identifiers of many countries: one validator per identifier implementing its
//! published check algorithm (and its format, date and range rules), gathered in [`REGISTRY`]
//! with the country, the built-in type it maps to, the share of random values of its shape that
//! pass it by chance, and the column-name cues that announce it in the local language.
//!
//! The registry drives three things: the value detectors (one counter per identifier, behind a
//! cheap shape pre-filter, see [`detect`]), the name dictionary (every cue becomes a name pattern
//! of the entry's type, see [`super::names`]) and the rule evidence ([`evidence`] and
//! [`phone_conflict`]). A column's values are judged against a checksum by the share that pass
//! it compared with the base rate: random digits pass a mod-11 check about 1 time in 11 and Luhn
//! 1 in 10, so a phone column in which 10 % of the numbers happen to pass says nothing, while 40
//! of 40 passing is an identifier whatever else the values look like. Which detector runs first
//! never decides anything.
//!
//! Types: identity and social-insurance numbers map to `NATIONAL_ID`, tax numbers to `TAX_ID`,
//! health-service numbers (NHS, Medicare) to `MEDICAL_RECORD_NUMBER` and the SSN keeps `US_SSN`;
//! the country and the identifier are named in the signal rather than multiplying the types.

use super::detectors::Facts;
use super::engine::Tier;
use super::profile::ColumnProfile;
use super::rules::{describe, Evidence};
use super::types::ClassificationType as T;
use super::validators::{self, Validator};
use foldhash::HashMap;
use std::sync::LazyLock;

/// The shape pre-filter of an identifier: ranges of characters, digits and letters a written
/// value (separators included) may have. Checked on [`Facts`] before the validator runs.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub chars: (u8, u8),
    pub digits: (u8, u8),
    pub letters: (u8, u8),
}

impl Shape {
    fn fits(&self, f: &Facts<'_>) -> bool {
        let within = |n: usize, (lo, hi): (u8, u8)| n >= usize::from(lo) && n <= usize::from(hi);
        within(f.chars, self.chars)
            && within(f.digits, self.digits)
            && within(f.letters, self.letters)
    }
}

const fn shape(chars: (u8, u8), digits: (u8, u8), letters: (u8, u8)) -> Shape {
    Shape {
        chars,
        digits,
        letters,
    }
}

/// One identifier of the registry.
#[derive(Debug, Clone, Copy)]
pub struct NationalId {
    /// Detector id (also the key of its hit count in a profile), e.g. `pl_pesel`.
    pub id: &'static str,
    /// ISO 3166-1 alpha-2 country code.
    pub country: &'static str,
    /// What it is, for signals: `Polish PESEL`.
    pub name: &'static str,
    /// The check it passes, for signals: `date and weighted mod-10 check digit`.
    pub check: &'static str,
    /// The built-in type a column of these numbers gets.
    pub label: T,
    pub validate: Validator,
    pub shape: Shape,
    /// Whether a check digit (not only format and date rules) guards the number.
    pub checksum: bool,
    /// Share of random values of its shape (random digits of its length for all-digit numbers)
    /// that pass: the chance level its pass ratio is compared with.
    pub base_rate: f64,
    /// For all-digit identifiers, the number of digits (used to verify `base_rate` in tests).
    pub digits: Option<u8>,
    /// Column-name cues, as name-dictionary patterns (`~stem` searches compound names). A cue
    /// that starts with `?` is ambiguous (`tfn` is also Scandinavian for telephone) and weighs
    /// as a medium match.
    pub cues: &'static [&'static str],
    /// False when a dedicated detector of [`super::detectors`] counts it (with extra statistics,
    /// e.g. the SSN's formatting), so the registry loop does not count it twice.
    pub scan: bool,
}

/// Every identifier, grouped by region.
pub const REGISTRY: &[NationalId] = &[
    // ----- Americas -----
    NationalId {
        id: "us_ssn",
        country: "US",
        name: "US social security number",
        check: "SSA area, group and serial rules",
        label: T::UsSsn,
        validate: validators::us_ssn,
        shape: shape((9, 11), (9, 9), (0, 0)),
        checksum: false,
        base_rate: 0.89,
        digits: Some(9),
        cues: &["ssn", "social security number"],
        scan: false,
    },
    NationalId {
        id: "us_itin",
        country: "US",
        name: "US individual taxpayer identification number (ITIN)",
        check: "IRS range rules (9XX, group 50–65, 70–88, 90–92, 94–99)",
        label: T::TaxId,
        validate: us_itin,
        shape: shape((9, 11), (9, 9), (0, 0)),
        checksum: false,
        base_rate: 0.043,
        digits: Some(9),
        cues: &[
            "itin",
            "individual taxpayer identification number",
            "taxpayer id",
        ],
        scan: true,
    },
    NationalId {
        id: "ca_sin",
        country: "CA",
        name: "Canadian social insurance number (SIN)",
        check: "Luhn check digit",
        label: T::NationalId,
        validate: ca_sin,
        shape: shape((9, 11), (9, 9), (0, 0)),
        checksum: true,
        base_rate: 0.08,
        digits: Some(9),
        cues: &[
            "social insurance number",
            "?sin",
            "sin number",
            "sin no",
            "numero assurance sociale",
            "?nas",
        ],
        scan: true,
    },
    NationalId {
        id: "br_cpf",
        country: "BR",
        name: "Brazilian CPF",
        check: "two mod-11 check digits",
        label: T::TaxId,
        validate: br_cpf,
        shape: shape((11, 14), (11, 11), (0, 0)),
        checksum: true,
        base_rate: 0.0097,
        digits: Some(11),
        cues: &["cpf", "numero cpf", "cadastro pessoa fisica", "~cpf"],
        scan: true,
    },
    NationalId {
        id: "br_cnpj",
        country: "BR",
        name: "Brazilian CNPJ",
        check: "two mod-11 check digits",
        label: T::TaxId,
        validate: br_cnpj,
        shape: shape((14, 18), (2, 14), (0, 12)),
        checksum: true,
        base_rate: 0.01,
        digits: Some(14),
        cues: &["cnpj", "~cnpj", "cadastro nacional pessoa juridica"],
        scan: true,
    },
    NationalId {
        id: "br_pis",
        country: "BR",
        name: "Brazilian PIS/PASEP/NIT",
        check: "weighted mod-11 check digit",
        label: T::NationalId,
        validate: br_pis,
        shape: shape((11, 14), (11, 11), (0, 0)),
        checksum: true,
        base_rate: 0.1,
        digits: Some(11),
        cues: &["numero pis", "pis nit", "?nis", "numero nis"],
        scan: true,
    },
    NationalId {
        id: "br_cns",
        country: "BR",
        name: "Brazilian national health card (CNS)",
        check: "leading digit and weighted mod-11 sum",
        label: T::NationalId,
        validate: br_cns,
        shape: shape((15, 18), (15, 15), (0, 0)),
        checksum: true,
        base_rate: 0.046,
        digits: Some(15),
        cues: &["numero cns", "?cns", "cartao saude"],
        scan: true,
    },
    NationalId {
        id: "mx_curp",
        country: "MX",
        name: "Mexican CURP",
        check: "format, birth date, state code and mod-10 check digit",
        label: T::NationalId,
        validate: mx_curp,
        shape: shape((18, 18), (7, 8), (10, 11)),
        checksum: true,
        base_rate: 0.1,
        digits: None,
        cues: &["curp", "~curp", "clave unica registro poblacion"],
        scan: true,
    },
    NationalId {
        id: "mx_rfc",
        country: "MX",
        name: "Mexican RFC",
        check: "format, date and mod-11 check character",
        label: T::TaxId,
        validate: mx_rfc,
        shape: shape((12, 15), (6, 9), (3, 7)),
        checksum: true,
        base_rate: 0.09,
        digits: None,
        cues: &["rfc", "~rfc", "registro federal contribuyentes"],
        scan: true,
    },
    NationalId {
        id: "mx_nss",
        country: "MX",
        name: "Mexican social security number (IMSS NSS)",
        check: "Luhn check digit",
        label: T::NationalId,
        validate: mx_nss,
        shape: shape((11, 15), (11, 11), (0, 0)),
        checksum: true,
        base_rate: 0.1,
        digits: Some(11),
        cues: &["imss", "numero imss", "nss imss"],
        scan: true,
    },
    NationalId {
        id: "cl_rut",
        country: "CL",
        name: "Chilean RUT/RUN",
        check: "mod-11 check digit (0–9 or K)",
        label: T::NationalId,
        validate: cl_rut,
        shape: shape((8, 12), (7, 9), (0, 1)),
        checksum: true,
        base_rate: 0.091,
        digits: None,
        cues: &["rut", "run number", "rol unico tributario", "~rut"],
        scan: true,
    },
    NationalId {
        id: "ar_cuit",
        country: "AR",
        name: "Argentine CUIT/CUIL",
        check: "type prefix and mod-11 check digit",
        label: T::TaxId,
        validate: ar_cuit,
        shape: shape((11, 13), (11, 11), (0, 0)),
        checksum: true,
        base_rate: 0.009,
        digits: Some(11),
        cues: &["cuit", "cuil", "~cuit", "~cuil"],
        scan: true,
    },
    // ----- Europe -----
    NationalId {
        id: "nino",
        country: "GB",
        name: "UK National Insurance number",
        check: "HMRC prefix and suffix rules",
        label: T::NationalId,
        validate: validators::uk_nino,
        shape: shape((9, 13), (6, 6), (3, 3)),
        checksum: false,
        base_rate: 0.02,
        digits: None,
        cues: &["nino", "national insurance number", "ni number"],
        scan: false,
    },
    NationalId {
        id: "gb_nhs",
        country: "GB",
        name: "UK NHS number",
        check: "mod-11 check digit",
        label: T::MedicalRecordNumber,
        validate: gb_nhs,
        shape: shape((10, 12), (10, 10), (0, 0)),
        checksum: true,
        base_rate: 0.091,
        digits: Some(10),
        cues: &["nhs number", "nhs no", "?nhs", "~nhsnumber", "chi number"],
        scan: true,
    },
    NationalId {
        id: "de_tax_id",
        country: "DE",
        name: "German tax id (Steuer-IdNr)",
        check: "digit-repetition rule and ISO 7064 mod 11,10 check digit",
        label: T::TaxId,
        validate: de_tax_id,
        shape: shape((11, 14), (11, 11), (0, 0)),
        checksum: true,
        base_rate: 0.0034,
        digits: Some(11),
        cues: &[
            "steuer id",
            "steuerid",
            "steuer idnr",
            "steueridentifikationsnummer",
            "~steueridentifikation",
            "idnr",
        ],
        scan: true,
    },
    NationalId {
        id: "de_pension",
        country: "DE",
        name: "German pension insurance number (Rentenversicherungsnummer)",
        check: "birth date, serial and weighted digit-sum check digit",
        label: T::NationalId,
        validate: de_pension,
        shape: shape((12, 15), (11, 11), (1, 1)),
        checksum: true,
        base_rate: 0.004,
        digits: None,
        cues: &[
            "rentenversicherungsnummer",
            "~rentenversicherung",
            "sozialversicherungsnummer",
            "~sozialversicherungs",
            "sv nummer",
            "versicherungsnummer",
            "rvnr",
        ],
        scan: true,
    },
    NationalId {
        id: "fr_nir",
        country: "FR",
        name: "French social security number (NIR)",
        check: "sex, month and department rules and key 97 − (n mod 97), Corsica 2A/2B",
        label: T::NationalId,
        validate: fr_nir,
        shape: shape((15, 21), (13, 15), (0, 1)),
        checksum: true,
        base_rate: 0.005,
        digits: None,
        cues: &[
            "nir",
            "insee",
            "numero securite sociale",
            "num secu",
            "secu",
            "securite sociale",
            "~securitesociale",
            "numero insee",
        ],
        scan: true,
    },
    NationalId {
        id: "es_dni",
        country: "ES",
        name: "Spanish DNI/NIE",
        check: "control letter (number mod 23)",
        label: T::NationalId,
        validate: es_dni,
        shape: shape((9, 11), (7, 8), (1, 2)),
        checksum: true,
        base_rate: 0.043,
        digits: None,
        cues: &[
            "dni",
            "nie",
            "~dni",
            "documento nacional identidad",
            "numero identidad extranjero",
            "nif persona",
        ],
        scan: true,
    },
    NationalId {
        id: "it_cf",
        country: "IT",
        name: "Italian codice fiscale",
        check: "format, birth date and check character",
        label: T::TaxId,
        validate: it_codice_fiscale,
        shape: shape((16, 16), (0, 7), (9, 16)),
        checksum: true,
        base_rate: 0.038,
        digits: None,
        cues: &[
            "codice fiscale",
            "codicefiscale",
            "~codicefiscale",
            "cod fisc",
            "?cf",
        ],
        scan: true,
    },
    NationalId {
        id: "bsn",
        country: "NL",
        name: "Dutch citizen service number (BSN)",
        check: "11-proof",
        label: T::NationalId,
        validate: validators::nl_bsn,
        shape: shape((8, 9), (8, 9), (0, 0)),
        checksum: true,
        base_rate: 0.091,
        digits: Some(9),
        cues: &["bsn", "burgerservicenummer", "~burgerservice", "sofinummer"],
        scan: false,
    },
    NationalId {
        id: "be_nn",
        country: "BE",
        name: "Belgian national number (rijksregisternummer)",
        check: "birth date and mod-97 check (with the 2000+ rule)",
        label: T::NationalId,
        validate: be_national_number,
        shape: shape((11, 15), (11, 11), (0, 0)),
        checksum: true,
        base_rate: 0.0026,
        digits: Some(11),
        cues: &[
            "rijksregisternummer",
            "~rijksregister",
            "numero national",
            "numero registre national",
            "registre national",
            "insz",
            "niss",
        ],
        scan: true,
    },
    NationalId {
        id: "pl_pesel",
        country: "PL",
        name: "Polish PESEL",
        check: "birth date with century in the month and weighted mod-10 check digit",
        label: T::NationalId,
        validate: pl_pesel,
        shape: shape((11, 11), (11, 11), (0, 0)),
        checksum: true,
        base_rate: 0.018,
        digits: Some(11),
        cues: &["pesel", "~pesel", "numer pesel"],
        scan: true,
    },
    NationalId {
        id: "se_pnr",
        country: "SE",
        name: "Swedish personnummer",
        check: "birth date and Luhn check digit",
        label: T::NationalId,
        validate: se_personnummer,
        shape: shape((10, 13), (10, 12), (0, 0)),
        checksum: true,
        base_rate: 0.0074,
        digits: Some(10),
        cues: &[
            "personnummer",
            "~personnummer",
            "personnr",
            "samordningsnummer",
        ],
        scan: true,
    },
    NationalId {
        id: "dk_cpr",
        country: "DK",
        name: "Danish CPR number",
        check: "birth date with century from the seventh digit (no mod-11 since 2007)",
        label: T::NationalId,
        validate: dk_cpr,
        shape: shape((10, 11), (10, 10), (0, 0)),
        checksum: false,
        base_rate: 0.036,
        digits: Some(10),
        cues: &["cpr", "cpr nr", "cpr nummer", "~cprnummer"],
        scan: true,
    },
    NationalId {
        id: "fi_hetu",
        country: "FI",
        name: "Finnish personal identity code (HETU)",
        check: "birth date, century sign and mod-31 check character",
        label: T::NationalId,
        validate: fi_hetu,
        shape: shape((11, 11), (9, 10), (0, 2)),
        checksum: true,
        base_rate: 0.0012,
        digits: None,
        cues: &[
            "hetu",
            "henkilotunnus",
            "~henkilotunnus",
            "sotu",
            "personbeteckning",
        ],
        scan: true,
    },
    NationalId {
        id: "no_fnr",
        country: "NO",
        name: "Norwegian fødselsnummer",
        check: "birth date (D- and H-numbers) and two mod-11 check digits",
        label: T::NationalId,
        validate: no_fodselsnummer,
        shape: shape((11, 12), (11, 11), (0, 0)),
        checksum: true,
        base_rate: 0.001,
        digits: Some(11),
        cues: &["fodselsnummer", "~fodselsnummer", "?fnr", "d nummer"],
        scan: true,
    },
    NationalId {
        id: "pt_nif",
        country: "PT",
        name: "Portuguese NIF",
        check: "mod-11 check digit",
        label: T::TaxId,
        validate: pt_nif,
        shape: shape((9, 11), (9, 9), (0, 0)),
        checksum: true,
        base_rate: 0.081,
        digits: Some(9),
        cues: &[
            "nif",
            "numero identificacao fiscal",
            "contribuinte",
            "numero contribuinte",
            "~contribuinte",
        ],
        scan: true,
    },
    NationalId {
        id: "ie_pps",
        country: "IE",
        name: "Irish PPS number",
        check: "mod-23 check letter",
        label: T::NationalId,
        validate: ie_pps,
        shape: shape((8, 10), (7, 7), (1, 2)),
        checksum: true,
        base_rate: 0.043,
        digits: None,
        cues: &[
            "?pps",
            "ppsn",
            "pps number",
            "pps no",
            "personal public service",
        ],
        scan: true,
    },
    NationalId {
        id: "ch_ahv",
        country: "CH",
        name: "Swiss social security number (AHV/AVS)",
        check: "756 prefix and EAN-13 check digit",
        label: T::NationalId,
        validate: ch_ahv,
        shape: shape((13, 16), (13, 13), (0, 0)),
        checksum: true,
        base_rate: 0.0001,
        digits: Some(13),
        cues: &[
            "ahv",
            "?avs",
            "ahv nummer",
            "ahv nr",
            "numero avs",
            "~ahvnummer",
            "~ahvn13",
        ],
        scan: true,
    },
    NationalId {
        id: "at_svnr",
        country: "AT",
        name: "Austrian social insurance number",
        check: "birth date and weighted mod-11 check digit",
        label: T::NationalId,
        validate: at_svnr,
        shape: shape((10, 11), (10, 10), (0, 0)),
        checksum: true,
        base_rate: 0.004,
        digits: Some(10),
        cues: &["svnr", "sv nr", "e card nummer"],
        scan: true,
    },
    // ----- Asia-Pacific and Africa -----
    NationalId {
        id: "in_aadhaar",
        country: "IN",
        name: "Indian Aadhaar number",
        check: "Verhoeff check digit",
        label: T::NationalId,
        validate: in_aadhaar,
        shape: shape((12, 14), (12, 12), (0, 0)),
        checksum: true,
        base_rate: 0.08,
        digits: Some(12),
        cues: &[
            "aadhaar",
            "aadhar",
            "~aadhaar",
            "~aadhar",
            "uid aadhaar",
            "uidai",
        ],
        scan: true,
    },
    NationalId {
        id: "in_pan",
        country: "IN",
        name: "Indian PAN",
        check: "format with holder-type letter",
        label: T::TaxId,
        validate: in_pan,
        shape: shape((10, 10), (4, 4), (6, 6)),
        checksum: false,
        base_rate: 0.42,
        digits: None,
        cues: &[
            "pan card",
            "pan card number",
            "pan card no",
            "permanent account number",
            "income tax pan",
        ],
        scan: true,
    },
    NationalId {
        id: "cn_ric",
        country: "CN",
        name: "Chinese resident identity number",
        check: "birth date and ISO 7064 mod 11-2 check character",
        label: T::NationalId,
        validate: cn_resident_id,
        shape: shape((18, 18), (17, 18), (0, 1)),
        checksum: true,
        base_rate: 0.0002,
        digits: None,
        cues: &[
            "shenfenzheng",
            "shenfenzheng hao",
            "sfz",
            "sfzh",
            "?resident id",
            "resident identity",
            "id card no",
        ],
        scan: true,
    },
    NationalId {
        id: "jp_my_number",
        country: "JP",
        name: "Japanese Individual Number (My Number)",
        check: "mod-11 check digit",
        label: T::NationalId,
        validate: jp_my_number,
        shape: shape((12, 14), (12, 12), (0, 0)),
        checksum: true,
        base_rate: 0.1,
        digits: Some(12),
        cues: &[
            "my number",
            "mynumber",
            "kojin bango",
            "kojinbango",
            "individual number",
        ],
        scan: true,
    },
    NationalId {
        id: "kr_rrn",
        country: "KR",
        name: "Korean resident registration number",
        check:
            "birth date, sex/century digit and mod-11 check digit (numbers issued before Oct 2020)",
        label: T::NationalId,
        validate: kr_rrn,
        shape: shape((13, 14), (13, 13), (0, 0)),
        checksum: true,
        base_rate: 0.0036,
        digits: Some(13),
        cues: &[
            "?rrn",
            "jumin",
            "jumin bunho",
            "jumin deungnok",
            "resident registration number",
        ],
        scan: true,
    },
    NationalId {
        id: "sg_nric",
        country: "SG",
        name: "Singapore NRIC/FIN",
        check: "prefix and weighted mod-11 check letter",
        label: T::NationalId,
        validate: sg_nric,
        shape: shape((9, 9), (7, 7), (2, 2)),
        checksum: true,
        base_rate: 0.038,
        digits: None,
        cues: &["nric", "fin number", "nric fin", "~nric"],
        scan: true,
    },
    NationalId {
        id: "au_tfn",
        country: "AU",
        name: "Australian tax file number (TFN)",
        check: "weighted mod-11 check",
        label: T::TaxId,
        validate: au_tfn,
        shape: shape((9, 11), (9, 9), (0, 0)),
        checksum: true,
        base_rate: 0.091,
        digits: Some(9),
        cues: &["tax file number", "?tfn", "tfn number"],
        scan: true,
    },
    NationalId {
        id: "au_medicare",
        country: "AU",
        name: "Australian Medicare card number",
        check: "first digit 2–6 and weighted mod-10 check digit",
        label: T::MedicalRecordNumber,
        validate: au_medicare,
        shape: shape((10, 14), (10, 11), (0, 0)),
        checksum: true,
        base_rate: 0.045,
        digits: Some(10),
        cues: &[
            "medicare",
            "medicare number",
            "medicare no",
            "medicare card",
        ],
        scan: true,
    },
    NationalId {
        id: "za_id",
        country: "ZA",
        name: "South African identity number",
        check: "birth date, citizenship digit and Luhn check digit",
        label: T::NationalId,
        validate: za_id,
        shape: shape((13, 15), (13, 13), (0, 0)),
        checksum: true,
        base_rate: 0.0011,
        digits: Some(13),
        cues: &["rsa id", "za id", "south african id", "id nommer"],
        scan: true,
    },
];

/// The registry entries with a given detector id.
pub fn by_id(id: &str) -> Option<&'static NationalId> {
    REGISTRY.iter().find(|e| e.id == id)
}

// ---------------------------------------------------------------------------------------------
// Value detection.

/// Runs the registry's validators over one value: `hit(i)` for each entry `i` (index into
/// [`REGISTRY`]) whose shape the value has and whose validator accepts it. Most values are
/// refused by the first comparison: only ASCII values of 8–21 characters with at least four
/// digits reach the per-entry shapes.
pub fn detect(f: &Facts<'_>, mut hit: impl FnMut(usize)) {
    if !f.ascii || f.digits < 4 || !(8..=21).contains(&f.chars) || f.spaces > 6 {
        return;
    }
    // `+` only inside a number (Swedish centenarians, Finnish 1800s); a leading `+` is a phone.
    if f.at + f.colons + f.dollars + f.underscores + f.parens + f.commas > 0 || f.s.starts_with('+')
    {
        return;
    }
    let Some(candidates) = BY_DIGITS.get(f.digits) else {
        return;
    };
    for &i in candidates {
        let entry = &REGISTRY[usize::from(i)];
        if entry.shape.fits(f) && (entry.validate)(f.s) {
            hit(usize::from(i));
        }
    }
}

/// Per count of digits in a value, the scanned entries whose shape allows that many: most
/// values then try two or three validators' shapes rather than all of them.
static BY_DIGITS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut by = vec![Vec::new(); 25];
    for (i, e) in REGISTRY.iter().enumerate().filter(|(_, e)| e.scan) {
        for n in e.shape.digits.0..=e.shape.digits.1 {
            by[usize::from(n)].push(i as u8);
        }
    }
    by
});

/// Registry index by detector id, for reading a profile's counters.
static INDEX: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    REGISTRY
        .iter()
        .enumerate()
        .map(|(i, e)| (e.id, i))
        .collect()
});

// ---------------------------------------------------------------------------------------------
// Evidence.

/// The identifier of a type that the most sampled values pass (ties: the rarer chance pass).
pub struct Passing {
    pub entry: &'static NationalId,
    pub hits: u32,
    pub ratio: f64,
}

fn best_passing(p: &ColumnProfile, keep: impl Fn(&NationalId) -> bool) -> Option<Passing> {
    let n = p.non_null();
    // A profile keeps only the counters that accepted something: read those, not the registry.
    p.detector_hits
        .iter()
        .filter(|(_, &hits)| hits > 0 && n > 0)
        .filter_map(|(id, &hits)| {
            let entry = &REGISTRY[*INDEX.get(id.as_str())?];
            keep(entry).then(|| Passing {
                entry,
                hits,
                ratio: f64::from(hits) / f64::from(n),
            })
        })
        .max_by(|a, b| {
            a.hits
                .cmp(&b.hits)
                .then(b.entry.base_rate.total_cmp(&a.entry.base_rate))
        })
}

/// Share of sampled values whose masked shape is written like the all-digit identifier (its
/// digits, with at most separators): computed from the profile's most common shapes.
/// Per number of digits, the share of sampled values whose masked shape holds only that many
/// digits and separators (read from the profile's most common shapes).
fn digit_shapes(p: &ColumnProfile) -> [f64; 25] {
    let mut out = [0.0; 25];
    let n = p.non_null();
    if n == 0 {
        return out;
    }
    for s in &p.shapes {
        let only_digits = s
            .shape
            .bytes()
            .all(|c| matches!(c, b'9' | b' ' | b'-' | b'.' | b'/'));
        let digits = s.shape.bytes().filter(|&c| c == b'9').count();
        if only_digits && digits < out.len() {
            out[digits] += f64::from(s.count) / f64::from(n);
        }
    }
    out
}

/// "1 in 11": how often random values of the shape pass.
fn one_in(base_rate: f64) -> String {
    let n = (1.0 / base_rate.max(1e-6)).round();
    if n >= 10_000.0 {
        "fewer than 1 in 10,000".to_owned()
    } else {
        format!("about 1 in {n}")
    }
}

/// What the registry concluded about a column for one type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Most values pass an identifier of the type.
    Pass,
    /// The values are written like an identifier of the type but pass its check no more often
    /// than chance.
    Chance,
    /// Nothing to say.
    Silent,
}

/// Value evidence of the registry for `label` (`NATIONAL_ID`, `TAX_ID`, `MEDICAL_RECORD_NUMBER`):
/// the identifier most values pass, weighted by how rarely chance passes its check; or, in a
/// column whose name does not ask for the type, when the values are written like one of its
/// check-digit numbers but pass no more often than random digits do, evidence against. (A named
/// column is not held against: its numbers may be of a country without a validator here.)
pub fn evidence(label: T, p: &ColumnProfile, named: bool, ev: &mut Evidence) -> Verdict {
    let n = p.non_null();
    if n == 0 {
        return Verdict::Silent;
    }
    if let Some(best) = best_passing(p, |e| e.label == label) {
        let e = best.entry;
        let strong = e.base_rate <= 0.02;
        if best.ratio >= 0.8 {
            let w = match (n >= 5, strong, e.checksum) {
                (false, _, _) => 3.0,
                (true, true, _) => 6.5,
                (true, false, true) => 5.0,
                (true, false, false) => 4.0,
            };
            ev.add(
                Tier::Rule,
                w,
                format!(
                    "{} of {n} sampled non-null values are valid {} numbers ({}; random values of that shape pass {})",
                    best.hits,
                    e.name,
                    e.check,
                    one_in(e.base_rate)
                ),
            );
            return Verdict::Pass;
        }
        if best.ratio >= 0.5 && best.ratio >= 4.0 * e.base_rate {
            ev.add(
                Tier::Rule,
                if strong { 3.0 } else { 2.0 },
                format!(
                    "{} of {n} sampled non-null values are valid {} numbers ({})",
                    best.hits, e.name, e.check
                ),
            );
            return Verdict::Pass;
        }
    }
    if n < 5 || named {
        return Verdict::Silent;
    }
    // Written like one of the type's check-digit numbers, passing no more often than chance.
    let shares = digit_shapes(p);
    let chance = REGISTRY
        .iter()
        .filter(|e| e.label == label && e.checksum)
        .filter_map(|e| {
            let share = shares[usize::from(e.digits?)];
            Some((e, share, p.hit_ratio(e.id), p.hits(e.id)))
        })
        .filter(|(e, share, ratio, _)| *share >= 0.8 && *ratio <= (2.5 * e.base_rate).max(0.25))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(a.3.cmp(&b.3)));
    if let Some((e, _, _, k)) = chance {
        ev.add(
            Tier::Rule,
            -3.0,
            format!(
                "values are written like {} numbers but only {k} of {n} pass its {}, as random digits do ({})",
                e.name,
                e.check,
                one_in(e.base_rate)
            ),
        );
        return Verdict::Chance;
    }
    Verdict::Silent
}

/// Nine-digit values that pass another country's check (a Canadian SIN, an Australian TFN, a
/// Portuguese NIF, a US ITIN) are not SSNs, which have no check digit: evidence against
/// [`T::UsSsn`]. (The Dutch BSN has its own rule.)
pub fn not_ssn(p: &ColumnProfile, ev: &mut Evidence) {
    let n = p.non_null();
    if n < 5 {
        return;
    }
    let other = best_passing(p, |e| {
        e.label != T::UsSsn && e.id != "bsn" && e.digits == Some(9) && e.base_rate <= 0.1
    });
    if let Some(best) = other.filter(|b| b.ratio >= 0.9) {
        ev.add(
            Tier::Rule,
            -3.0,
            format!(
                "{} of {n} values are valid {} numbers ({}), which random nine-digit numbers pass {}",
                best.hits,
                best.entry.name,
                best.entry.check,
                one_in(best.entry.base_rate)
            ),
        );
    }
}

/// Checksum beats order: when most of a column's values pass an identifier's check that chance
/// passes rarely, they are that identifier even if they are also written like phone numbers
/// (a Swedish `811218-9876`, an NHS `943 476 5919`, an Aadhaar `2345 6789 0124`). Adds the
/// evidence against [`T::PhoneNumber`] and returns whether it did.
pub fn phone_conflict(p: &ColumnProfile, ev: &mut Evidence) -> bool {
    let n = p.non_null();
    if n < 5 {
        return false;
    }
    let Some(best) = best_passing(p, |e| e.base_rate <= 0.1 && e.shape.digits.0 >= 9) else {
        return false;
    };
    if best.ratio < 0.8 {
        return false;
    }
    let e = best.entry;
    ev.add(
        Tier::Rule,
        -5.0,
        format!(
            "{} of {n} values pass the {} check ({}), which random numbers of that length pass {}: {}, not phone numbers",
            best.hits,
            e.name,
            e.check,
            one_in(e.base_rate),
            describe(e.label)
        ),
    );
    true
}

// ---------------------------------------------------------------------------------------------
// Validators. Each accepts the number as commonly written (spaces, dashes, dots or slashes
// where its notation has them) and allocates nothing.

/// Copies the ASCII letters and digits of `s` (upper-cased) into `buf`, skipping the given
/// separators; `None` if another character occurs or the value is too long.
fn compact<'b>(s: &str, separators: &[u8], buf: &'b mut [u8; 24]) -> Option<&'b [u8]> {
    let mut n = 0;
    for &b in s.trim().as_bytes() {
        if b.is_ascii_alphanumeric() {
            if n == buf.len() {
                return None;
            }
            buf[n] = b.to_ascii_uppercase();
            n += 1;
        } else if !separators.contains(&b) {
            return None;
        }
    }
    Some(&buf[..n])
}

/// The compact digits of an all-digit number of exactly `len` digits.
fn digits_of<'b>(
    s: &str,
    len: usize,
    separators: &[u8],
    buf: &'b mut [u8; 24],
) -> Option<&'b [u8]> {
    let c = compact(s, separators, buf)?;
    if c.len() != len || !c.iter().all(u8::is_ascii_digit) {
        return None;
    }
    for d in buf[..len].iter_mut() {
        *d -= b'0';
    }
    Some(&buf[..len])
}

fn num(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, &x| acc * 10 + u32::from(x))
}

fn weighted(d: &[u8], weights: &[u32]) -> u32 {
    d.iter().zip(weights).map(|(&x, &w)| u32::from(x) * w).sum()
}

fn leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Whether a calendar date exists.
pub fn valid_date(year: u32, month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(year) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// US ITIN: nine digits `9XX-XX-XXXX` whose middle group the IRS assigns (50–65, 70–88, 90–92,
/// 94–99).
pub fn us_itin(s: &str) -> bool {
    let Some((area, group, _, _)) = validators::ssn_parts(s) else {
        return false;
    };
    (900..=999).contains(&area) && matches!(group, 50..=65 | 70..=88 | 90..=92 | 94..=99)
}

/// Canadian SIN: nine digits passing Luhn; 0 (never issued) and 8 (unused) cannot lead.
pub fn ca_sin(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 9, b" -", &mut buf) else {
        return false;
    };
    d[0] != 0 && d[0] != 8 && luhn(d)
}

fn mod11_br(d: &[u8], weights: &[u32]) -> u8 {
    let r = weighted(d, weights) % 11;
    if r < 2 {
        0
    } else {
        (11 - r) as u8
    }
}

/// Brazilian CPF: eleven digits (`999.999.999-99`) with two mod-11 check digits; repeated digits
/// (`111.111.111-11`) pass the arithmetic but are not issued.
pub fn br_cpf(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 11, b" .-", &mut buf) else {
        return false;
    };
    if d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let d1 = mod11_br(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    let d2 = mod11_br(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    d[9] == d1 && d[10] == d2
}

/// Brazilian PIS/PASEP/NIT (social integration number): eleven digits (`999.99999.99-9`), the
/// last a check digit: 11 minus the sum weighted 3, 2, 9, 8, 7, 6, 5, 4, 3, 2 modulo 11, and 0 when
/// that is 10 or 11. Repeated digits are not issued.
pub fn br_pis(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 11, b" .-", &mut buf) else {
        return false;
    };
    if d.iter().all(|&x| x == d[0]) {
        return false;
    }
    let check = 11 - weighted(&d[..10], &[3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    u32::from(d[10]) == if check >= 10 { 0 } else { check }
}

/// Brazilian national health card number (Cartão Nacional de Saúde): fifteen digits starting
/// with 1 or 2 (definitive, derived from a PIS) or 7, 8 or 9 (provisional), whose digits weighted
/// 15 down to 1 sum to a multiple of 11.
pub fn br_cns(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 15, b" .-", &mut buf) else {
        return false;
    };
    if !matches!(d[0], 1 | 2 | 7 | 8 | 9) {
        return false;
    }
    let weights: [u32; 15] = std::array::from_fn(|i| 15 - i as u32);
    weighted(d, &weights).is_multiple_of(11)
}

/// Mexican social security number (IMSS NSS): eleven digits (subdelegation, registration year,
/// birth year, serial) ending in a Luhn check digit.
pub fn mx_nss(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 11, b" -", &mut buf) else {
        return false;
    };
    !d.iter().all(|&x| x == d[0]) && luhn(d)
}

/// Brazilian CNPJ: fourteen characters (`99.999.999/9999-99`) with two mod-11 check digits. The
/// first twelve may be letters (the alphanumeric CNPJ of July 2026), each worth its ASCII code
/// minus 48.
pub fn br_cnpj(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact(s, b" ./-", &mut buf) else {
        return false;
    };
    if c.len() != 14 || !c[12..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let v: [u8; 14] = std::array::from_fn(|i| c[i] - b'0');
    if v.iter().all(|&x| x == v[0]) {
        return false;
    }
    let d1 = mod11_br(&v[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    let d2 = mod11_br(&v[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]);
    v[12] == d1 && v[13] == d2
}

/// Value of a CURP character: digits 0–9, then A–N 10–23, Ñ (written `&` in ASCII) 24, O–Z
/// 25–36.
fn curp_value(c: u8) -> Option<u32> {
    Some(match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A'..=b'N' => u32::from(c - b'A') + 10,
        b'&' => 24,
        b'O'..=b'Z' => u32::from(c - b'O') + 25,
        _ => return None,
    })
}

const MX_STATES: &[&[u8; 2]] = &[
    b"AS", b"BC", b"BS", b"CC", b"CH", b"CL", b"CM", b"CS", b"DF", b"DG", b"GR", b"GT", b"HG",
    b"JC", b"MC", b"MN", b"MS", b"NE", b"NL", b"NT", b"OC", b"PL", b"QR", b"QT", b"SL", b"SP",
    b"SR", b"TC", b"TL", b"TS", b"VZ", b"YN", b"ZS",
];

/// Mexican CURP: four letters, birth date `YYMMDD`, sex (H, M or X), a state code, three
/// consonants, a homonym character (a digit for births before 2000) and a mod-10 check digit
/// over weights 18..2.
pub fn mx_curp(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 18 {
        return false;
    }
    let mut c = [0u8; 18];
    for (slot, &x) in c.iter_mut().zip(b) {
        *slot = x.to_ascii_uppercase();
    }
    let letters = |r: &[u8]| r.iter().all(u8::is_ascii_uppercase);
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    if !letters(&c[..4]) || !digits(&c[4..10]) || !letters(&c[10..16]) || !digits(&c[17..]) {
        return false;
    }
    if !b"HMX".contains(&c[10]) || !MX_STATES.contains(&&[c[11], c[12]]) {
        return false;
    }
    if !c[16].is_ascii_alphanumeric() {
        return false;
    }
    let d: [u8; 6] = std::array::from_fn(|i| c[4 + i] - b'0');
    let century = if c[16].is_ascii_digit() { 1900 } else { 2000 };
    if !valid_date(century + num(&d[..2]), num(&d[2..4]), num(&d[4..])) {
        return false;
    }
    let mut sum = 0;
    for (i, &x) in c[..17].iter().enumerate() {
        let Some(v) = curp_value(x) else {
            return false;
        };
        sum += v * (18 - i as u32);
    }
    u32::from(c[17] - b'0') == (10 - sum % 10) % 10
}

/// Value of an RFC character in the SAT alphabet `0-9 A-N & O-Z (space) Ñ`.
fn rfc_value(c: u8) -> Option<u32> {
    match c {
        b' ' => Some(37),
        _ => curp_value(c),
    }
}

/// Mexican RFC: a person's (four letters) or company's (three letters) name code, the date
/// `YYMMDD`, a two-character homonym code and a mod-11 check character.
pub fn mx_rfc(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact_rfc(s, &mut buf) else {
        return false;
    };
    let letters = match c.len() {
        13 => 4,
        12 => 3,
        _ => return false,
    };
    let name_ok = c[..letters]
        .iter()
        .all(|&x| x.is_ascii_uppercase() || x == b'&');
    let date = &c[letters..letters + 6];
    if !name_ok || !date.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: [u8; 6] = std::array::from_fn(|i| date[i] - b'0');
    // The two-digit year may be either century; the date must exist in one of them.
    let (m, day) = (num(&d[2..4]), num(&d[4..]));
    if !valid_date(2000 + num(&d[..2]), m, day) && !valid_date(1900 + num(&d[..2]), m, day) {
        return false;
    }
    let tail = &c[letters + 6..];
    if !tail.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    // Pad a company's RFC with a leading space to twelve characters, weights 13..2.
    let mut padded = [b' '; 12];
    padded[12 - (c.len() - 1)..].copy_from_slice(&c[..c.len() - 1]);
    let mut sum = 0;
    for (i, &x) in padded.iter().enumerate() {
        let Some(v) = rfc_value(x) else {
            return false;
        };
        sum += v * (13 - i as u32);
    }
    let check = (11 - sum % 11) % 11;
    let expected = if check == 10 {
        b'A'
    } else {
        b'0' + check as u8
    };
    c[c.len() - 1] == expected
}

/// An RFC compacted: letters, digits and `&`, separators (space, dash) dropped.
fn compact_rfc<'b>(s: &str, buf: &'b mut [u8; 24]) -> Option<&'b [u8]> {
    let mut n = 0;
    for &b in s.trim().as_bytes() {
        if b.is_ascii_alphanumeric() || b == b'&' {
            if n == buf.len() {
                return None;
            }
            buf[n] = b.to_ascii_uppercase();
            n += 1;
        } else if b != b' ' && b != b'-' {
            return None;
        }
    }
    Some(&buf[..n])
}

/// Chilean RUT/RUN: seven or eight digits and a check character (0–9 or K) from weights 2..7
/// repeating from the right, mod 11 (`12.345.678-5`).
pub fn cl_rut(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact(s, b".- ", &mut buf) else {
        return false;
    };
    if !(8..=9).contains(&c.len()) {
        return false;
    }
    let (body, check) = c.split_at(c.len() - 1);
    if !body.iter().all(u8::is_ascii_digit) || body[0] == b'0' {
        return false;
    }
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| u32::from(x - b'0') * (2 + (i as u32 % 6)))
        .sum();
    let expected = match 11 - sum % 11 {
        11 => b'0',
        10 => b'K',
        r => b'0' + r as u8,
    };
    check[0] == expected
}

/// Argentine CUIT/CUIL: eleven digits (`20-12345678-6`) with a type prefix (20, 23, 24, 27
/// people; 30, 33, 34 companies; 50, 51, 55 international) and a mod-11 check digit (a result of
/// 10 is never issued: the prefix changes to 23 or 33 instead).
pub fn ar_cuit(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 11, b"- ", &mut buf) else {
        return false;
    };
    if !matches!(
        num(&d[..2]),
        20 | 23 | 24 | 27 | 30 | 33 | 34 | 50 | 51 | 55
    ) {
        return false;
    }
    let r = weighted(&d[..10], &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11;
    let check = match 11 - r {
        11 => 0,
        10 => return false,
        c => c as u8,
    };
    d[10] == check
}

/// UK NHS number: ten digits (`943 476 5919`) whose weighted sum (10..1) is divisible by 11; a
/// check value of 10 is never issued.
pub fn gb_nhs(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 10, b" -", &mut buf) else {
        return false;
    };
    let r = weighted(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    let check = match 11 - r {
        11 => 0,
        10 => return false,
        c => c as u8,
    };
    d[9] == check
}

/// German tax identification number (Steuer-IdNr): eleven digits, no leading zero; in the first
/// ten one digit occurs twice or three times (never three times in a row) and the others at
/// most once; the last is an ISO 7064 MOD 11,10 check digit.
pub fn de_tax_id(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 11, b" /", &mut buf) else {
        return false;
    };
    if d[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        counts[usize::from(x)] += 1;
    }
    let repeated = counts.iter().filter(|&&c| c > 1).count();
    let max = counts.iter().copied().max().unwrap_or(0);
    if repeated != 1 || !(2..=3).contains(&max) {
        return false;
    }
    if d[..10].windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return false;
    }
    d[10] == iso7064_mod11_10(&d[..10])
}

/// The ISO 7064 MOD 11,10 check digit of a digit string.
fn iso7064_mod11_10(d: &[u8]) -> u8 {
    let mut product = 10u32;
    for &x in d {
        let mut sum = (u32::from(x) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (2 * sum) % 11;
    }
    ((11 - product) % 10) as u8
}

/// German pension insurance number (Rentenversicherungsnummer, VKVV § 2): area number, birth date
/// `DDMMYY`, the initial of the birth name, a two-digit serial and a check digit: the letter
/// becomes its two-digit alphabet position, weights 2 1 2 5 7 1 2 1 2 1 2 1, digit sums of the
/// products added, mod 10.
pub fn de_pension(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact(s, b" ", &mut buf) else {
        return false;
    };
    if c.len() != 12
        || !c[..8].iter().all(u8::is_ascii_digit)
        || !c[8].is_ascii_uppercase()
        || !c[9..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let d = |i: usize| u32::from(c[i] - b'0');
    let (day, month) = (d(2) * 10 + d(3), d(4) * 10 + d(5));
    // The day may be raised for numbers assigned beyond a day's serials; the month never is.
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    let letter = u32::from(c[8] - b'A') + 1;
    let digits: [u32; 12] = [
        d(0),
        d(1),
        d(2),
        d(3),
        d(4),
        d(5),
        d(6),
        d(7),
        letter / 10,
        letter % 10,
        d(9),
        d(10),
    ];
    let weights = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(&x, w)| {
            let p = x * w;
            p / 10 + p % 10
        })
        .sum();
    d(11) == sum % 10
}

/// French NIR (numéro de sécurité sociale): sex (1, 2; 3, 4, 7, 8 for provisional numbers), year,
/// month (01–12, 20–42 or 50–99 when unknown), department (01–99, 2A, 2B), commune, order and
/// the key 97 − (n mod 97), where Corsica's 2A and 2B count as 19 and 18.
pub fn fr_nir(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact(s, b" .", &mut buf) else {
        return false;
    };
    if c.len() != 15 {
        return false;
    }
    let dept: [u8; 2] = [c[5], c[6]];
    let corsica = match &dept {
        b"2A" => Some(b"19"),
        b"2B" => Some(b"18"),
        _ => None,
    };
    let digit_at = |i: usize| -> Option<u64> {
        let x = if (5..7).contains(&i) {
            corsica.map_or(c[i], |r| r[i - 5])
        } else {
            c[i]
        };
        x.is_ascii_digit().then(|| u64::from(x - b'0'))
    };
    let mut n = 0u64;
    for i in 0..13 {
        let Some(x) = digit_at(i) else {
            return false;
        };
        n = n * 10 + x;
    }
    let Some(key) = digit_at(13).zip(digit_at(14)).map(|(a, b)| a * 10 + b) else {
        return false;
    };
    let sex = c[0] - b'0';
    let month = u32::from(c[3] - b'0') * 10 + u32::from(c[4] - b'0');
    let month_ok = matches!(month, 1..=12 | 20..=42 | 50..=99);
    let dept_ok = corsica.is_some() || dept != *b"00";
    matches!(sex, 1 | 2 | 3 | 4 | 7 | 8) && month_ok && dept_ok && key == 97 - n % 97
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Spanish DNI (eight digits and a letter) or NIE (X, Y or Z for 0, 1, 2, seven digits and a
/// letter); the letter is the number mod 23 in `TRWAGMYFPDXBNJZSQVHLCKE`.
pub fn es_dni(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact(s, b" -", &mut buf) else {
        return false;
    };
    if c.len() != 9 || !c[8].is_ascii_uppercase() || !c[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let lead = match c[0] {
        b'0'..=b'9' => u32::from(c[0] - b'0'),
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        _ => return false,
    };
    let n = c[1..8]
        .iter()
        .fold(lead, |acc, &x| acc * 10 + u32::from(x - b'0'));
    DNI_LETTERS[(n % 23) as usize] == c[8]
}

/// Odd-position (1st, 3rd, …) values of codice fiscale characters, digits and letters alike.
const CF_ODD: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];
const CF_MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// Letters standing for digits in a codice fiscale changed for homonyms (omocodia).
const CF_OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";

/// Italian codice fiscale: six letters of the name, year, month letter, day (+40 for women), the
/// place code and a check letter; digits may be replaced by letters for homonyms (omocodia).
pub fn it_codice_fiscale(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 16 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let c: [u8; 16] = std::array::from_fn(|i| b[i].to_ascii_uppercase());
    if !c[..6].iter().all(u8::is_ascii_uppercase) || !c[8].is_ascii_uppercase() {
        return false;
    }
    if !c[11].is_ascii_uppercase() || !c[15].is_ascii_uppercase() {
        return false;
    }
    // Positions that hold digits, possibly as omocodia letters.
    let digit = |i: usize| -> Option<u32> {
        let x = c[i];
        if x.is_ascii_digit() {
            Some(u32::from(x - b'0'))
        } else {
            CF_OMOCODIA.iter().position(|&l| l == x).map(|p| p as u32)
        }
    };
    let mut numeric = [0u32; 7];
    for (slot, i) in numeric.iter_mut().zip([6, 7, 9, 10, 12, 13, 14]) {
        let Some(v) = digit(i) else {
            return false;
        };
        *slot = v;
    }
    let Some(month) = CF_MONTHS.iter().position(|&m| m == c[8]) else {
        return false;
    };
    let mut day = numeric[2] * 10 + numeric[3];
    if day > 40 {
        day -= 40;
    }
    // The year's century is unknown: 29 February must exist in some century (2000 is leap).
    if !valid_date(2000, month as u32 + 1, day) {
        return false;
    }
    let value = |x: u8| -> u32 {
        if x.is_ascii_digit() {
            u32::from(x - b'0')
        } else {
            u32::from(x - b'A')
        }
    };
    let sum: u32 = c[..15]
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 0 {
                CF_ODD[value(x) as usize]
            } else {
                value(x)
            }
        })
        .sum();
    c[15] == b'A' + (sum % 26) as u8
}

/// Belgian national number (rijksregisternummer / numéro national): `YYMMDD` (month 0 or day 0
/// when unknown; +20 or +40 for bis numbers), a serial and the check 97 − (first nine digits mod
/// 97) — for people born from 2000 on, with a 2 put in front of the nine digits.
pub fn be_national_number(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 11, b" .-", &mut buf) else {
        return false;
    };
    let month = num(&d[2..4]);
    let day = num(&d[4..6]);
    if !matches!(month % 20, 0..=12) || month > 52 || day > 31 {
        return false;
    }
    let body = u64::from(num(&d[..9]));
    let check = u64::from(num(&d[9..]));
    97 - body % 97 == check || 97 - (2_000_000_000 + body) % 97 == check
}

/// Polish PESEL: `YYMMDD` with the century in the month (+80 1800s, +0 1900s, +20 2000s, +40
/// 2100s, +60 2200s), a serial and a check digit from weights 1 3 7 9 1 3 7 9 1 3.
pub fn pl_pesel(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 11, b"", &mut buf) else {
        return false;
    };
    let (yy, mm, dd) = (num(&d[..2]), num(&d[2..4]), num(&d[4..6]));
    let (century, month) = match mm {
        81..=92 => (1800, mm - 80),
        1..=12 => (1900, mm),
        21..=32 => (2000, mm - 20),
        41..=52 => (2100, mm - 40),
        61..=72 => (2200, mm - 60),
        _ => return false,
    };
    if !valid_date(century + yy, month, dd) {
        return false;
    }
    let sum = weighted(&d[..10], &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]);
    u32::from(d[10]) == (10 - sum % 10) % 10
}

/// Swedish personnummer: `YYMMDD-NNNC` (`+` for people over 100) or with a four-digit year; the
/// day is +60 for a samordningsnummer; the last digit is Luhn over the ten-digit form.
pub fn se_personnummer(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact(s, b"-+ ", &mut buf) else {
        return false;
    };
    if c.len() > 12 || !c.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut d = [0u8; 12];
    for (slot, x) in d.iter_mut().zip(c) {
        *slot = x - b'0';
    }
    let d = &d[..c.len()];
    let (year, ten) = match d.len() {
        10 => (1900 + num(&d[..2]), d),
        12 => {
            let century = num(&d[..2]);
            if !(18..=20).contains(&century) {
                return false;
            }
            (num(&d[..4]), &d[2..])
        }
        _ => return false,
    };
    let month = num(&ten[2..4]);
    let mut day = num(&ten[4..6]);
    if day > 60 {
        day -= 60;
    }
    // With a two-digit year the century is unknown: accept a date valid in 1900 or 2000.
    let date_ok = valid_date(year, month, day) || valid_date(year + 100, month, day);
    date_ok && luhn(ten)
}

/// Danish CPR number: `DDMMYY-SSSS` whose date exists in the century the seventh digit gives
/// (0–3: 1900s; 4, 9: 2000s up to 36, else 1900s; 5–8: 2000s up to 57, else 1800s). Numbers
/// issued since 2007 need not pass the old mod-11 check, so it is not required.
pub fn dk_cpr(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 10, b"- ", &mut buf) else {
        return false;
    };
    let (dd, mm, yy) = (num(&d[..2]), num(&d[2..4]), num(&d[4..6]));
    let century = match d[6] {
        0..=3 => 1900,
        4 | 9 => {
            if yy <= 36 {
                2000
            } else {
                1900
            }
        }
        _ => {
            if yy <= 57 {
                2000
            } else {
                1800
            }
        }
    };
    valid_date(century + yy, mm, dd)
}

const HETU_CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";

/// Finnish HETU: `DDMMYY`, a century sign (`+` 1800s; `-`, Y, X, W, V, U 1900s; A–F 2000s), an
/// individual number 002–899 and the check character (the nine digits mod 31).
pub fn fi_hetu(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 11 || !b[..6].iter().all(u8::is_ascii_digit) {
        return false;
    }
    if !b[7..10].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let century = match b[6].to_ascii_uppercase() {
        b'+' => 1800,
        b'-' | b'Y' | b'X' | b'W' | b'V' | b'U' => 1900,
        b'A'..=b'F' => 2000,
        _ => return false,
    };
    let d: [u8; 9] = std::array::from_fn(|i| if i < 6 { b[i] } else { b[i + 1] } - b'0');
    if !valid_date(century + num(&d[4..6]), num(&d[2..4]), num(&d[..2])) {
        return false;
    }
    if !(2..=899).contains(&num(&d[6..])) {
        return false;
    }
    HETU_CHECK[(num(&d) % 31) as usize] == b[10].to_ascii_uppercase()
}

/// Norwegian fødselsnummer: `DDMMYY` (+40 on the day for D-numbers, +40 on the month for
/// H-numbers), a three-digit individual number that fixes the century and two mod-11 check
/// digits.
pub fn no_fodselsnummer(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 11, b" ", &mut buf) else {
        return false;
    };
    let mod11 = |digits: &[u8], weights: &[u32]| -> Option<u8> {
        match 11 - weighted(digits, weights) % 11 {
            11 => Some(0),
            10 => None,
            c => Some(c as u8),
        }
    };
    if mod11(&d[..9], &[3, 7, 6, 1, 8, 9, 4, 5, 2]) != Some(d[9])
        || mod11(&d[..10], &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) != Some(d[10])
    {
        return false;
    }
    let mut day = num(&d[..2]);
    let mut month = num(&d[2..4]);
    let yy = num(&d[4..6]);
    let individual = num(&d[6..9]);
    if day > 40 {
        day -= 40;
    }
    if month > 40 {
        month -= 40;
    }
    let century = match individual {
        0..=499 => 1900,
        500..=749 if yy >= 54 => 1800,
        500..=999 if yy < 40 => 2000,
        900..=999 if yy >= 40 => 1900,
        _ => return false,
    };
    valid_date(century + yy, month, day)
}

/// Portuguese NIF: nine digits, first 1–3, 5, 6, 8 or 9 (4 and 7 only in the 45 and 70–79
/// ranges), last a mod-11 check digit (10 and 11 become 0).
pub fn pt_nif(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 9, b" ", &mut buf) else {
        return false;
    };
    let lead_ok = match d[0] {
        1 | 2 | 3 | 5 | 6 | 8 | 9 => true,
        4 => d[1] == 5,
        7 => true,
        _ => false,
    };
    let r = weighted(&d[..8], &[9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    let check = if r < 2 { 0 } else { (11 - r) as u8 };
    lead_ok && d[8] == check
}

const PPS_LETTERS: &[u8; 23] = b"WABCDEFGHIJKLMNOPQRSTUV";

/// Irish PPS number: seven digits, a check letter and optionally a second letter (A, B, H, W);
/// weights 8..2 on the digits and 9 on the second letter (W or none counting 0), mod 23.
pub fn ie_pps(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact(s, b" -", &mut buf) else {
        return false;
    };
    if !(8..=9).contains(&c.len()) || !c[..7].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let second = match c.get(8) {
        None | Some(b'W') => 0,
        Some(&l @ (b'A' | b'B' | b'H')) => u32::from(l - b'A') + 1,
        Some(_) => return false,
    };
    let digits: [u8; 7] = std::array::from_fn(|i| c[i] - b'0');
    let sum = weighted(&digits, &[8, 7, 6, 5, 4, 3, 2]) + 9 * second;
    PPS_LETTERS[(sum % 23) as usize] == c[7]
}

/// Swiss AHV/AVS number: `756.XXXX.XXXX.XC`, thirteen digits with the EAN-13 check digit.
pub fn ch_ahv(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 13, b". ", &mut buf) else {
        return false;
    };
    if d[..3] != [7, 5, 6] {
        return false;
    }
    let sum: u32 = d[..12]
        .iter()
        .enumerate()
        .map(|(i, &x)| u32::from(x) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    u32::from(d[12]) == (10 - sum % 10) % 10
}

/// Austrian social insurance number: a serial of three digits, a check digit, then the birth
/// date `DDMMYY`; weights 3 7 9 · 5 8 4 2 1 6, mod 11 (10 is never issued). The month may be
/// 13–15 for people whose birth date was unknown.
pub fn at_svnr(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 10, b" ", &mut buf) else {
        return false;
    };
    if d[0] == 0 {
        return false;
    }
    let (day, month) = (num(&d[4..6]), num(&d[6..8]));
    if !(1..=31).contains(&day) || !(1..=15).contains(&month) {
        return false;
    }
    let r = weighted(d, &[3, 7, 9, 0, 5, 8, 4, 2, 1, 6]) % 11;
    r != 10 && u32::from(d[3]) == r
}

const VERHOEFF_D: [[u8; 10]; 10] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
    [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
    [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
    [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
    [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
    [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
    [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
    [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const VERHOEFF_P: [[u8; 10]; 8] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
    [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
    [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
    [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
    [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
    [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
    [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

/// The Verhoeff check (dihedral group D5) over digits, check digit last.
pub fn verhoeff(d: &[u8]) -> bool {
    let mut c = 0u8;
    for (i, &x) in d.iter().rev().enumerate() {
        c = VERHOEFF_D[usize::from(c)][usize::from(VERHOEFF_P[i % 8][usize::from(x)])];
    }
    c == 0
}

/// Indian Aadhaar: twelve digits (`2345 6789 0124`), first 2–9, not a palindrome, passing
/// Verhoeff.
pub fn in_aadhaar(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 12, b" -", &mut buf) else {
        return false;
    };
    let palindrome = d.iter().eq(d.iter().rev());
    d[0] >= 2 && !palindrome && verhoeff(d)
}

/// Indian PAN: `AAAAA9999A`, the fourth letter the holder type (P person, C company, H HUF, F
/// firm, A, B, G, J, L, T, K), the serial not 0000.
pub fn in_pan(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 10 {
        return false;
    }
    let c: [u8; 10] = std::array::from_fn(|i| b[i].to_ascii_uppercase());
    c[..5].iter().all(u8::is_ascii_uppercase)
        && c[5..9].iter().all(u8::is_ascii_digit)
        && c[9].is_ascii_uppercase()
        && b"ABCFGHJLPTK".contains(&c[3])
        && c[5..9] != *b"0000"
}

/// Chinese resident identity number: a six-digit region code (first digit 1–9), the birth date
/// `YYYYMMDD` (1900 or later), a serial and an ISO 7064 MOD 11-2 check character (0–9 or X).
pub fn cn_resident_id(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: [u8; 17] = std::array::from_fn(|i| b[i] - b'0');
    if d[0] == 0 {
        return false;
    }
    let year = num(&d[6..10]);
    if !(1900..=2100).contains(&year) || !valid_date(year, num(&d[10..12]), num(&d[12..14])) {
        return false;
    }
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let r = weighted(&d, &W) % 11;
    let check = b"10X98765432"[r as usize];
    b[17].to_ascii_uppercase() == check
}

/// Japanese Individual Number (My Number): twelve digits, the last a mod-11 check digit over
/// weights 6 5 4 3 2 7 6 5 4 3 2 (remainders 0 and 1 give 0).
pub fn jp_my_number(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 12, b" -", &mut buf) else {
        return false;
    };
    let r = weighted(&d[..11], &[6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11;
    let check = if r <= 1 { 0 } else { (11 - r) as u8 };
    d[11] == check
}

/// Korean resident registration number: `YYMMDD-GNNNNNC`, the seventh digit giving sex and
/// century (1, 2, 5, 6: 1900s; 3, 4, 7, 8: 2000s; 9, 0: 1800s), the last a mod-11 check digit.
/// Numbers issued since October 2020 have random digits after the seventh and no check digit;
/// they are not recognised by value.
pub fn kr_rrn(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 13, b"- ", &mut buf) else {
        return false;
    };
    let century = match d[6] {
        1 | 2 | 5 | 6 => 1900,
        3 | 4 | 7 | 8 => 2000,
        _ => 1800,
    };
    if !valid_date(century + num(&d[..2]), num(&d[2..4]), num(&d[4..6])) {
        return false;
    }
    let r = weighted(&d[..12], &[2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11;
    u32::from(d[12]) == (11 - r) % 10
}

/// Singapore NRIC/FIN: a prefix (S, T citizens and PRs; F, G, M foreigners), seven digits and a
/// check letter: weights 2 7 6 5 4 3 2, +4 for T and G, +3 for M, mod 11, read from the prefix's
/// letter table.
pub fn sg_nric(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 9 || !b[1..8].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let prefix = b[0].to_ascii_uppercase();
    let digits: [u8; 7] = std::array::from_fn(|i| b[1 + i] - b'0');
    let offset = match prefix {
        b'S' | b'F' => 0,
        b'T' | b'G' => 4,
        b'M' => 3,
        _ => return false,
    };
    let r = ((weighted(&digits, &[2, 7, 6, 5, 4, 3, 2]) + offset) % 11) as usize;
    // Tables indexed by 11 − r − 1 (ICA's P − 1), as published.
    let table: &[u8; 11] = match prefix {
        b'S' | b'T' => b"ABCDEFGHIZJ",
        b'F' | b'G' => b"KLMNPQRTUWX",
        _ => b"KLJNPQRTUWX",
    };
    table[10 - r] == b[8].to_ascii_uppercase()
}

/// Australian tax file number: nine digits whose weighted sum (1 4 3 7 5 8 6 9 10) is divisible
/// by 11. (The old eight-digit numbers are not recognised by value.)
pub fn au_tfn(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 9, b" -", &mut buf) else {
        return false;
    };
    weighted(d, &[1, 4, 3, 7, 5, 8, 6, 9, 10]).is_multiple_of(11) && d.iter().any(|&x| x != 0)
}

/// Australian Medicare card number: ten digits (an eleventh, the individual reference 1–9, may
/// follow), first 2–6, the ninth a check digit (weights 1 3 7 9 1 3 7 9, mod 10), the tenth the
/// card's issue number.
pub fn au_medicare(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(c) = compact(s, b" -/", &mut buf) else {
        return false;
    };
    if !(10..=11).contains(&c.len()) || !c.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: [u8; 11] = std::array::from_fn(|i| c.get(i).map_or(1, |x| x - b'0'));
    (2..=6).contains(&d[0])
        && weighted(&d[..8], &[1, 3, 7, 9, 1, 3, 7, 9]) % 10 == u32::from(d[8])
        && d[9] != 0
        && d[10] != 0
}

/// South African identity number: `YYMMDD`, a four-digit sequence, citizenship (0 citizen, 1
/// permanent resident, 2 refugee), a digit and a Luhn check digit.
pub fn za_id(s: &str) -> bool {
    let mut buf = [0; 24];
    let Some(d) = digits_of(s, 13, b" -", &mut buf) else {
        return false;
    };
    let (yy, mm, dd) = (num(&d[..2]), num(&d[2..4]), num(&d[4..6]));
    let date_ok = valid_date(1900 + yy, mm, dd) || valid_date(2000 + yy, mm, dd);
    date_ok && d[10] <= 2 && luhn(d)
}

#[cfg(test)]
mod tests;
