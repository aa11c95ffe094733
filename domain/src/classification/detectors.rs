//! Value detectors: for one sampled value, which kinds of data it could be (an e-mail address, a
//! Luhn-valid card number, a phone number in some national notation, a person-name shape, …).
//!
//! [`detect`] runs every detector over one value and bumps a counter per detector that accepts it;
//! [`super::profile::ColumnProfile::build`] sums these over a sample. A cheap pass over the value
//! first counts its character classes ([`Facts`]) so that each detector can refuse most values
//! without parsing them: the engine has to profile millions of values per scan.

use super::content;
use super::free_text;
use super::national_ids;
use super::validators;
use super::vocab;

/// Detector ids, in the order of the counters [`detect`] fills.
pub const DETECTORS: &[&str] = &[
    "email",
    "luhn_card",
    "pan_shape",
    "iban",
    "us_ssn",
    "us_ssn_formatted",
    "ipv4",
    "ipv6",
    "version_string",
    "mac",
    "mac_separated",
    "uuid",
    "jwt",
    "api_key",
    "password_hash",
    "hex_digest",
    "random_token",
    "phone",
    "phone_bare",
    "postal_code",
    "postal_code_format",
    "date",
    "birth_date",
    "timestamp",
    "vin",
    "vin_shape",
    "nino",
    "bsn",
    "ein",
    "eu_vat",
    "aba_routing",
    "icd10",
    "gender_code",
    "geo_lat",
    "geo_lon",
    "geo_pair",
    "person_name_shape",
    "given_name",
    // A capitalised name with a common family name of one of the countries in
    // [`vocab::SURNAMES`].
    "family_name",
    "full_name",
    "org_name",
    "address_line",
    "street_name",
    "ethnicity",
    "religion",
    "health_term",
    "medication",
    "username",
    // A login handle built from a common given or family name (`jnowak`, `imke.korhonen`,
    // SAP-style `MUELLERK`), in any letter case.
    "name_handle",
    // An upper-case user id of at most twelve characters, letters then digits (`MUELLERK`,
    // `JVIRTANEN`, `KJELL7`), as SAP (`BNAME`, 12 characters) and other ERP systems write them;
    // a value that is just a common name (`KORHONEN`) is a name, not counted.
    "upper_handle",
    // A calendar date before 1980 (and from 1900): with the others of a column, how far back
    // its dates reach, as adults' dates of birth do and event dates rarely.
    "date_before_1980",
    "ean13",
    "uk_driving_licence",
    "document_number",
    "boolean",
    "integer",
    "decimal",
    "free_text",
    "url",
    "card_expiry",
    // Accounts of processes rather than people (`system`, `etl`, `cron`, `svc_backup`).
    "service_account",
    // Binary content by its magic number ([`content`]): images, documents, sound recordings.
    "image_content",
    "document_content",
    "audio_content",
    // Personal data inside prose ([`free_text`]): values that read as sentences, and of those
    // the ones that mention each kind of personal data (and any kind).
    "prose",
    "text_email",
    "text_phone",
    "text_national_id",
    "text_payment",
    "text_person",
    "text_health",
    "text_pii",
    // National and tax identifiers of [`national_ids::REGISTRY`] that have no detector above.
    "us_itin",
    "ca_sin",
    "br_cpf",
    "br_cnpj",
    "br_pis",
    "br_cns",
    "mx_curp",
    "mx_rfc",
    "mx_nss",
    "cl_rut",
    "ar_cuit",
    "gb_nhs",
    "de_tax_id",
    "de_pension",
    "fr_nir",
    "es_dni",
    "it_cf",
    "be_nn",
    "pl_pesel",
    "se_pnr",
    "dk_cpr",
    "fi_hetu",
    "no_fnr",
    "pt_nif",
    "ie_pps",
    "ch_ahv",
    "at_svnr",
    "in_aadhaar",
    "in_pan",
    "cn_ric",
    "jp_my_number",
    "kr_rrn",
    "sg_nric",
    "au_tfn",
    "au_medicare",
    "za_id",
];

/// Number of detectors.
pub const N: usize = DETECTORS.len();

/// Index of a detector id in [`DETECTORS`] (compile-time checked by the tests).
pub const fn index(id: &str) -> usize {
    let mut i = 0;
    while i < DETECTORS.len() {
        if const_eq(DETECTORS[i], id) {
            return i;
        }
        i += 1;
    }
    panic!("unknown detector id");
}

const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

macro_rules! ids {
    ($($name:ident = $id:literal;)*) => { $(const $name: usize = index($id);)* };
}

ids! {
    EMAIL = "email"; LUHN_CARD = "luhn_card"; PAN_SHAPE = "pan_shape"; IBAN = "iban";
    US_SSN = "us_ssn"; US_SSN_FORMATTED = "us_ssn_formatted"; IPV4 = "ipv4"; IPV6 = "ipv6";
    VERSION = "version_string"; MAC = "mac"; MAC_SEP = "mac_separated"; UUID = "uuid"; JWT = "jwt";
    API_KEY = "api_key"; PASSWORD_HASH = "password_hash"; HEX_DIGEST = "hex_digest";
    RANDOM_TOKEN = "random_token"; PHONE = "phone"; PHONE_BARE = "phone_bare";
    POSTAL = "postal_code"; POSTAL_FORMAT = "postal_code_format"; DATE = "date";
    BIRTH_DATE = "birth_date"; TIMESTAMP = "timestamp"; VIN = "vin"; VIN_SHAPE = "vin_shape";
    NINO = "nino"; BSN = "bsn"; EIN = "ein"; EU_VAT = "eu_vat"; ABA = "aba_routing";
    ICD10 = "icd10"; GENDER = "gender_code"; GEO_LAT = "geo_lat"; GEO_LON = "geo_lon";
    GEO_PAIR = "geo_pair"; NAME_SHAPE = "person_name_shape"; GIVEN_NAME = "given_name"; FAMILY_NAME = "family_name";
    FULL_NAME = "full_name"; ORG_NAME = "org_name"; ADDRESS_LINE = "address_line";
    STREET_NAME = "street_name"; ETHNICITY = "ethnicity"; RELIGION = "religion"; HEALTH_TERM = "health_term";
    MEDICATION = "medication"; USERNAME = "username"; NAME_HANDLE = "name_handle"; UPPER_HANDLE = "upper_handle";
    DATE_BEFORE_1980 = "date_before_1980"; EAN13 = "ean13";
    UK_DL = "uk_driving_licence"; DOC_NUMBER = "document_number"; BOOLEAN = "boolean";
    INTEGER = "integer"; DECIMAL = "decimal"; FREE_TEXT = "free_text"; URL = "url";
    CARD_EXPIRY = "card_expiry"; SERVICE_ACCOUNT = "service_account"; IMAGE_CONTENT = "image_content";
    DOCUMENT_CONTENT = "document_content"; AUDIO_CONTENT = "audio_content"; PROSE = "prose"; TEXT_EMAIL = "text_email";
    TEXT_PHONE = "text_phone"; TEXT_NATIONAL_ID = "text_national_id";
    TEXT_PAYMENT = "text_payment"; TEXT_PERSON = "text_person"; TEXT_HEALTH = "text_health";
    TEXT_PII = "text_pii";
}

/// For each entry of [`national_ids::REGISTRY`], the index of its counter (checked at compile
/// time: an id missing from [`DETECTORS`] does not build).
const NATIONAL_ID_COUNTERS: [usize; national_ids::REGISTRY.len()] = {
    let mut out = [0; national_ids::REGISTRY.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = index(national_ids::REGISTRY[i].id);
        i += 1;
    }
    out
};

/// Character-class counts of one (trimmed) value, computed in one pass.
#[derive(Debug, Default, Clone, Copy)]
pub struct Facts<'a> {
    pub s: &'a str,
    pub chars: usize,
    pub digits: usize,
    pub upper: usize,
    pub lower: usize,
    /// Letters of any script (ASCII included).
    pub letters: usize,
    pub spaces: usize,
    pub ascii: bool,
    pub at: usize,
    pub dots: usize,
    pub colons: usize,
    pub dashes: usize,
    pub slashes: usize,
    pub plus: usize,
    pub parens: usize,
    pub dollars: usize,
    pub underscores: usize,
    pub commas: usize,
    /// Characters other than letters, digits, space and the punctuation counted above.
    pub other: usize,
}

impl<'a> Facts<'a> {
    pub fn of(raw: &'a str) -> Self {
        let s = raw.trim();
        let mut f = Facts {
            s,
            ascii: s.is_ascii(),
            ..Facts::default()
        };
        if f.ascii {
            f.chars = s.len();
            for &b in s.as_bytes() {
                f.count(b as char);
            }
        } else {
            for c in s.chars() {
                f.chars += 1;
                f.count(c);
            }
        }
        f
    }

    fn count(&mut self, c: char) {
        match c {
            '0'..='9' => self.digits += 1,
            'A'..='Z' => {
                self.upper += 1;
                self.letters += 1;
            }
            'a'..='z' => {
                self.lower += 1;
                self.letters += 1;
            }
            ' ' | '\t' => self.spaces += 1,
            '@' => self.at += 1,
            '.' => self.dots += 1,
            ':' => self.colons += 1,
            '-' => self.dashes += 1,
            '/' => self.slashes += 1,
            '+' => self.plus += 1,
            '(' | ')' => self.parens += 1,
            '$' => self.dollars += 1,
            '_' => self.underscores += 1,
            ',' => self.commas += 1,
            c if c.is_alphabetic() => {
                self.letters += 1;
                if c.is_uppercase() {
                    self.upper += 1;
                } else {
                    self.lower += 1;
                }
            }
            _ => self.other += 1,
        }
    }

    fn only_digits_and(&self, separators: usize) -> bool {
        self.digits + separators == self.chars
    }
}

/// Runs every detector over one value and increments `hits[i]` for each detector `i` that accepts
/// it.
pub fn detect(f: &Facts<'_>, hits: &mut [u32; N]) {
    let s = f.s;
    if s.is_empty() {
        return;
    }
    let mut hit = |i: usize| hits[i] += 1;

    // Plain scalars first: they also decide which of the costlier detectors can apply.
    let is_integer = f.digits > 0
        && f.digits <= 19
        && (f.only_digits_and(0)
            || (f.only_digits_and(1) && (s.starts_with('-') || s.starts_with('+'))));
    if is_integer {
        hit(INTEGER);
    }
    if boolean(s) {
        hit(BOOLEAN);
    }
    let decimal = parse_decimal(f);
    if let Some((_, frac)) = decimal {
        if frac > 0 {
            hit(DECIMAL);
        }
    }
    if let Some((v, frac)) = decimal {
        if frac >= 3 {
            if v.abs() <= 90.0 {
                hit(GEO_LAT);
            }
            if v.abs() <= 180.0 {
                hit(GEO_LON);
            }
        }
    }

    if f.digits >= 4 && f.dots >= 2 && f.letters <= 7 && geo_pair(s) {
        hit(GEO_PAIR);
    }
    if f.at == 1 && f.spaces == 0 && validators::email(s) {
        hit(EMAIL);
    }

    // Digit strings with separators: cards, SSNs, phones, routing and national numbers.
    let digit_string = f.digits > 0 && f.letters == 0 && f.only_digits_and(f.spaces + f.dashes);
    if digit_string && (12..=19).contains(&f.digits) {
        hit(PAN_SHAPE);
        if validators::luhn_card(s) {
            hit(LUHN_CARD);
        }
    }
    if digit_string && f.digits == 9 {
        if validators::us_ssn(s) {
            hit(US_SSN);
            if f.chars == 11 {
                hit(US_SSN_FORMATTED);
            }
        }
        if f.chars == 9 && validators::aba_routing(s) {
            hit(ABA);
        }
    }
    if f.digits >= 8 && f.digits <= 9 && f.only_digits_and(0) && validators::nl_bsn(s) {
        hit(BSN);
    }
    if f.chars == 10 && f.dashes == 1 && f.digits == 9 && validators::us_ein(s) {
        hit(EIN);
    }
    if f.chars == 13 && f.digits == 13 && validators::ean13(s) {
        hit(EAN13);
    }

    // National and tax identifiers by their check algorithms (shape pre-filter inside).
    national_ids::detect(f, |i| hit(NATIONAL_ID_COUNTERS[i]));

    let (phone, bare) = phone(f);
    if phone {
        hit(PHONE);
    } else if bare {
        hit(PHONE_BARE);
    }

    if f.ascii && f.chars <= 12 && f.digits >= 2 {
        let (postal, format) = postal_code(f);
        if postal {
            hit(POSTAL);
        }
        if format {
            hit(POSTAL_FORMAT);
        }
    }

    if f.ascii && f.digits >= 4 && f.letters <= 12 {
        if let Some((year, has_time)) = parse_date(s).or_else(|| compact_date(s)) {
            if has_time {
                hit(TIMESTAMP);
            }
            // A timestamp at midnight is a calendar date stored in a timestamp column, as
            // dates of birth often are.
            if !has_time || at_midnight(s) {
                hit(DATE);
                if (1900..=2015).contains(&year) {
                    hit(BIRTH_DATE);
                }
                if (1900..1980).contains(&year) {
                    hit(DATE_BEFORE_1980);
                }
            }
        }
        if f.chars <= 7 && f.slashes == 1 && card_expiry(s) {
            hit(CARD_EXPIRY);
        }
    }

    // Network identifiers.
    if f.dots >= 1 && f.letters <= 1 && f.digits >= 2 {
        if f.dots == 3 && validators::ipv4(s) {
            hit(IPV4);
            if s.split('.')
                .next()
                .and_then(|p| p.parse::<u32>().ok())
                .is_some_and(|p| p < 10)
            {
                hit(VERSION);
            }
        } else if version_string(s) {
            hit(VERSION);
        }
    } else if s.starts_with(['v', 'V']) && f.dots >= 1 && version_string(&s[1..]) {
        hit(VERSION);
    }
    if f.colons >= 2 && f.spaces == 0 && validators::ipv6(s) {
        hit(IPV6);
    }
    if (12..=17).contains(&f.chars) && validators::mac_address(s) {
        hit(MAC);
        if validators::mac_separated(s) {
            hit(MAC_SEP);
        }
    }
    if f.chars >= 36 && f.dashes == 4 && validators::uuid(s) {
        hit(UUID);
    }

    // Binary content (hex as the connectors sample it, or base64 in text).
    if f.spaces == 0 && f.ascii && f.chars >= 8 {
        if let Some(found) = content::sniff(s) {
            hit(match found.kind {
                content::ContentKind::Image => IMAGE_CONTENT,
                content::ContentKind::Document => DOCUMENT_CONTENT,
                content::ContentKind::Audio => AUDIO_CONTENT,
            });
        }
    }

    // Secrets and credentials.
    if f.spaces == 0 && f.ascii && f.chars >= 20 {
        if f.dots >= 2 && validators::jwt(s) {
            hit(JWT);
        }
        if (f.dollars >= 2
            || s.starts_with('{')
            || s.starts_with("pbkdf2")
            || s.starts_with("scrypt")
            || s.starts_with("sha1$")
            || s.starts_with("md5$")
            || s.starts_with("bcrypt"))
            && validators::password_hash(s)
        {
            hit(PASSWORD_HASH);
        }
        if f.letters + f.digits == f.chars && validators::hex_digest(s) {
            hit(HEX_DIGEST);
        }
        if random_token(f) {
            hit(RANDOM_TOKEN);
        }
    }
    // SAP's salted hashes carry a space in their `{x-issha, 1024}` prefix.
    if f.spaces > 0 && f.ascii && s.starts_with("{x-is") && validators::password_hash(s) {
        hit(PASSWORD_HASH);
    }
    if f.ascii && f.chars >= 20 && validators::api_key(s) {
        hit(API_KEY);
    }

    // Structured identifiers with letters.
    if f.chars == 17 && f.upper + f.digits == 17 && validators::vin_shape(s) {
        hit(VIN_SHAPE);
        if validators::vin(s) {
            hit(VIN);
        }
    }
    if (9..=13).contains(&f.chars) && f.digits == 6 && f.letters == 3 && validators::uk_nino(s) {
        hit(NINO);
    }
    if (6..=18).contains(&f.chars)
        && f.letters >= 2
        && f.digits >= 2
        && f.spaces <= 3
        && validators::eu_vat(s)
    {
        hit(EU_VAT);
    }
    if (15..=42).contains(&f.chars) && f.letters >= 2 && validators::iban(s) {
        hit(IBAN);
    }
    if (3..=8).contains(&f.chars) && f.upper >= 1 && f.digits >= 1 && validators::icd10(s) {
        hit(ICD10);
    }
    if f.chars == 16 && validators::uk_driving_licence(s) {
        hit(UK_DL);
    }
    if (6..=12).contains(&f.chars)
        && f.lower == 0
        && f.digits >= 1
        && f.upper + f.digits + f.dashes == f.chars
        && f.dashes <= 1
    {
        hit(DOC_NUMBER);
    }

    // Words: names, addresses, categories.
    if f.letters > 0 {
        words(f, &mut hit);
    }
    if f.ascii
        && (s.starts_with("http://")
            || s.starts_with("https://")
            || s.starts_with("www.")
            || s.starts_with("ftp://"))
    {
        hit(URL);
    }
    if username(f) {
        hit(USERNAME);
    }
    if name_handle(f) {
        hit(NAME_HANDLE);
    }
    if upper_handle(f) {
        hit(UPPER_HANDLE);
    }
    if service_account(s) {
        hit(SERVICE_ACCOUNT);
    }
    if f.spaces >= 3 && f.letters >= 8 && free_text::is_prose(f) {
        hit(PROSE);
        let e = free_text::spot(s);
        for (found, id) in [
            (e.email, TEXT_EMAIL),
            (e.phone, TEXT_PHONE),
            (e.national_id, TEXT_NATIONAL_ID),
            (e.payment, TEXT_PAYMENT),
            (e.person, TEXT_PERSON),
            (e.health, TEXT_HEALTH),
            (e.any(), TEXT_PII),
        ] {
            if found {
                hit(id);
            }
        }
    }
}

fn boolean(s: &str) -> bool {
    matches!(s.len(), 1..=5)
        && ["true", "false", "t", "f", "yes", "no", "y", "n", "0", "1"]
            .iter()
            .any(|b| s.eq_ignore_ascii_case(b))
}

/// Parses a plain decimal number (`-12.3456`, `52,5`); returns it with its count of fraction
/// digits.
fn parse_decimal(f: &Facts<'_>) -> Option<(f64, usize)> {
    if f.digits == 0
        || f.letters > 0
        || f.spaces > 0
        || f.digits + f.dots + f.commas + f.dashes + f.plus != f.chars
    {
        return None;
    }
    if f.dots + f.commas > 1 || f.dashes + f.plus > 1 {
        return None;
    }
    let s = f.s;
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.contains(['-', '+']) {
        return None;
    }
    let (int, frac) = match body.find(['.', ',']) {
        Some(i) => (&body[..i], &body[i + 1..]),
        None => (body, ""),
    };
    if int.is_empty() || int.len() > 15 {
        return None;
    }
    let mut v: f64 = int.parse::<u64>().ok()? as f64;
    if !frac.is_empty() {
        let mut scale = 0.1;
        for b in frac.bytes() {
            v += f64::from(b - b'0') * scale;
            scale /= 10.0;
        }
    }
    if s.starts_with('-') {
        v = -v;
    }
    Some((v, frac.len()))
}

/// Phone-number notations: `(strict, bare)`. Strict: international (`+`, `00`), national with a
/// trunk `0`, a bracketed area code, or grouped digits; bare: ten or eleven unseparated digits
/// that could be a North-American number without punctuation.
pub(super) fn phone(f: &Facts<'_>) -> (bool, bool) {
    if f.digits < 7 || f.letters > 3 || !f.ascii || f.chars > 26 {
        return (false, false);
    }
    let s = f.s;
    // Cut an extension (`x123`, `ext. 12`).
    let (main, letters_ok) = match s.find(['x', 'X', 'e']) {
        Some(i) => {
            let tail = s[i..]
                .trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == '.' || c == ' ');
            (
                s[..i].trim_end(),
                !tail.is_empty() && tail.bytes().all(|c| c.is_ascii_digit()),
            )
        }
        None => (s, f.letters == 0),
    };
    if !letters_ok {
        return (false, false);
    }
    let mut digits = 0usize;
    let mut seps = 0usize;
    let mut groups = [0usize; 8];
    let mut g = 0usize;
    let mut in_group = false;
    for (i, b) in main.bytes().enumerate() {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                if g < groups.len() {
                    groups[g] += 1;
                }
                in_group = true;
            }
            b' ' | b'-' | b'.' | b'/' | b'(' | b')' => {
                seps += 1;
                if in_group {
                    g += 1;
                    in_group = false;
                }
            }
            b'+' if i == 0 => {}
            _ => return (false, false),
        }
    }
    let groups_n = g + usize::from(in_group);
    if !(7..=15).contains(&digits) {
        return (false, false);
    }
    // Dates and SSN/EIN groupings are not phones.
    if groups_n == 3
        && (groups[..3] == [4, 2, 2]
            || groups[..3] == [2, 2, 4]
            || groups[..3] == [3, 2, 4]
            || groups[..3] == [1, 2, 4])
    {
        return (false, false);
    }
    if groups_n == 2 && groups[..2] == [2, 7] {
        return (false, false);
    }
    if f.dots > 0 && groups_n >= 4 && f.dots == seps && groups[..groups_n].iter().all(|&g| g <= 3) {
        // Dotted quads (IPs, versions) are not phones.
        return (false, false);
    }
    if main.starts_with('+') {
        return (digits >= 8, false);
    }
    if main.starts_with("00") {
        return (digits >= 11, false);
    }
    if main.starts_with('0') {
        return ((9..=12).contains(&digits), false);
    }
    if main.starts_with('(') {
        return ((10..=12).contains(&digits), false);
    }
    if seps > 0 {
        // Spain and Portugal dial nine digits without a trunk prefix, written in groups of two
        // and three (`612 34 56 78`, `912 345 678`); the first digit is 6/7 for mobiles, 8/9
        // (ES) or 2 (PT) for fixed lines.
        let iberian = digits == 9
            && groups_n >= 3
            && groups[0] == 3
            && groups[1..groups_n].iter().all(|g| (2..=3).contains(g))
            && matches!(main.as_bytes()[0], b'2' | b'6'..=b'9');
        if iberian {
            return (true, false);
        }
        let us = groups_n == 3 && groups[..3] == [3, 3, 4];
        let us1 = groups_n == 4 && groups[..4] == [1, 3, 3, 4];
        return (
            us || us1 || (groups_n >= 2 && (10..=12).contains(&digits)),
            false,
        );
    }
    // Bare: a North-American ten-digit number, or an MSISDN (E.164 without `+`, 11–13 digits).
    let first = main.as_bytes()[0];
    (
        false,
        (digits == 10 && first >= b'2') || (11..=13).contains(&digits),
    )
}

/// Postcode notations: `(any, distinctive)`. Bare four-to-six-digit numbers count as `any` only;
/// formats with letters or a country-specific dash (UK, NL, CA, IE, ZIP+4, PT, BR, PL, JP, SE) are
/// distinctive too.
fn postal_code(f: &Facts<'_>) -> (bool, bool) {
    let b = f.s.as_bytes();
    let n = b.len();
    let d = |i: usize| b[i].is_ascii_digit();
    let l = |i: usize| b[i].is_ascii_alphabetic();
    let all_digits = f.digits == n;
    if all_digits {
        return ((4..=6).contains(&n), false);
    }
    let upper_ok = f.lower == 0;
    let format = match n {
        // ZIP+4, BR CEP, PT, JP, PL, SE
        10 if b[5] == b'-' && f.digits == 9 => true,
        9 if b[5] == b'-' && f.digits == 8 => true,
        8 if b[4] == b'-' && f.digits == 7 => true,
        8 if b[3] == b'-' && f.digits == 7 => true,
        6 if b[2] == b'-' && f.digits == 5 => true,
        6 if b[3] == b' ' && f.digits == 5 => true,
        _ => false,
    } || (upper_ok && {
        // NL: 9999AA / 9999 AA
        let nl = (n == 6 && (0..4).all(d) && l(4) && l(5))
            || (n == 7 && (0..4).all(d) && b[4] == b' ' && l(5) && l(6));
        // CA: A9A 9A9
        let ca = (n == 6 && l(0) && d(1) && l(2) && d(3) && l(4) && d(5))
            || (n == 7 && l(0) && d(1) && l(2) && b[3] == b' ' && d(4) && l(5) && d(6));
        // IE Eircode: A99 XXXX
        let ie = n == 8
            && l(0)
            && d(1)
            && d(2)
            && b[3] == b' '
            && b[4..].iter().all(u8::is_ascii_alphanumeric)
            && f.digits >= 3;
        nl || ca || ie || uk_postcode(b) || country_prefixed(b)
    });
    (format, format)
}

/// UK postcode: outward code (A9, A99, AA9, AA99, A9A, AA9A), optional space, inward code 9AA.
fn uk_postcode(b: &[u8]) -> bool {
    let compact: Vec<u8> = b.iter().copied().filter(|c| *c != b' ').collect();
    let spaces = b.len() - compact.len();
    if spaces > 1 || !(5..=7).contains(&compact.len()) {
        return false;
    }
    let n = compact.len();
    let inward = &compact[n - 3..];
    if !(inward[0].is_ascii_digit()
        && inward[1].is_ascii_uppercase()
        && inward[2].is_ascii_uppercase())
    {
        return false;
    }
    let out = &compact[..n - 3];
    let a = |c: u8| c.is_ascii_uppercase();
    let d = |c: u8| c.is_ascii_digit();
    match out.len() {
        2 => a(out[0]) && d(out[1]),
        3 => a(out[0]) && ((d(out[1]) && (d(out[2]) || a(out[2]))) || (a(out[1]) && d(out[2]))),
        4 => a(out[0]) && a(out[1]) && d(out[2]) && (d(out[3]) || a(out[3])),
        _ => false,
    }
}

/// `D-12345`, `NL-1234`, `L-1234`: a European country code, a dash, four or five digits.
fn country_prefixed(b: &[u8]) -> bool {
    const CODES: &[&[u8]] = &[
        b"A", b"B", b"D", b"F", b"I", b"L", b"E", b"P", b"H", b"S", b"N", b"CH", b"NL", b"DK",
        b"FI", b"PL", b"CZ", b"SK", b"SI", b"HR", b"GR", b"LT", b"LV", b"EE", b"RO", b"BG", b"AT",
        b"BE", b"DE", b"FR", b"IT", b"LU", b"ES", b"PT", b"SE", b"NO",
    ];
    let Some(dash) = b.iter().position(|&c| c == b'-') else {
        return false;
    };
    CODES.contains(&&b[..dash])
        && (4..=5).contains(&(b.len() - dash - 1))
        && b[dash + 1..].iter().all(u8::is_ascii_digit)
}

const MONTHS: &[&str] = &[
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "mrt",
    "mei", "okt", "mai", "dez", "fev", "avr", "juin", "juil", "aou", "gen", "mag", "giu", "lug",
    "ago", "set", "ott", "dic", "ene", "abr",
];

/// Parses a calendar date (ISO, day/month/year with `/`, `-` or `.`, US month/day/year, `12 Mar
/// 1985`), optionally followed by a time. Returns `(year, has_time)`.
pub fn parse_date(s: &str) -> Option<(i32, bool)> {
    let b = s.as_bytes();
    if b.len() < 8 {
        return None;
    }
    let num = |r: &[u8]| -> Option<u32> {
        if r.is_empty() || !r.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(r.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')))
    };
    let valid = |y: u32, m: u32, d: u32| {
        (1..=12).contains(&m) && (1..=31).contains(&d) && (1800..=2200).contains(&y)
    };
    // Split the date part from a time part.
    let (date, rest) = match s.find(['T', ' ']) {
        Some(i) if i >= 8 => (&s[..i], &s[i + 1..]),
        _ => (s, ""),
    };
    let has_time = !rest.is_empty() && {
        let r = rest.as_bytes();
        r.len() >= 4 && r[0].is_ascii_digit() && (r[1] == b':' || (r.len() > 2 && r[2] == b':'))
    };
    let textual = b
        .iter()
        .any(|c| c.is_ascii_alphabetic() && *c != b'T' && *c != b'Z');
    if textual || (!rest.is_empty() && !has_time) {
        // Textual month: `12 Mar 1985`, `12 March 1985`.
        let parts: Vec<&str> = s.split([' ', ',']).filter(|p| !p.is_empty()).collect();
        if parts.len() == 3 {
            let (d, m, y) = (parts[0], parts[1], parts[2]);
            let month_ok = m.len() >= 3
                && m.is_char_boundary(3)
                && MONTHS
                    .iter()
                    .any(|mm| m[..3].eq_ignore_ascii_case(&mm[..3]));
            if let (Some(d), Some(y)) = (num(d.as_bytes()), num(y.as_bytes())) {
                if month_ok && (1..=31).contains(&d) && (1800..=2200).contains(&y) {
                    return Some((y as i32, false));
                }
            }
        }
        return None;
    }
    let db = date.as_bytes();
    let sep = *db.iter().find(|c| !c.is_ascii_digit())?;
    if !matches!(sep, b'-' | b'/' | b'.') {
        return None;
    }
    let mut it = db.split(|&c| c == sep);
    let (a, m, c) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let (an, mn, cn) = (num(a)?, num(m)?, num(c)?);
    let year = if a.len() == 4 && m.len() <= 2 && c.len() <= 2 && valid(an, mn, cn) {
        an
    } else if c.len() == 4
        && a.len() <= 2
        && m.len() <= 2
        && (valid(cn, mn, an) || valid(cn, an, mn))
    {
        cn
    } else {
        return None;
    };
    Some((year as i32, has_time))
}

/// A date written without separators, as legacy systems store them: `YYYYMMDD` (SAP, HL7,
/// mainframe exports) or `DDMMYYYY`. Eight digits only; random eight-digit numbers form a valid
/// date in well under 1 % of cases.
fn compact_date(s: &str) -> Option<(i32, bool)> {
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: &[u8]| r.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0'));
    let valid = |y: u32, m: u32, d: u32| {
        (1..=12).contains(&m) && (1..=31).contains(&d) && (1850..=2100).contains(&y)
    };
    let (y, m, d) = (n(&b[..4]), n(&b[4..6]), n(&b[6..]));
    if valid(y, m, d) {
        return Some((y as i32, false));
    }
    let (d, m, y) = (n(&b[..2]), n(&b[2..4]), n(&b[4..]));
    valid(y, m, d).then_some((y as i32, false))
}

/// Whether a timestamp's time part is midnight (`00:00`, `00:00:00`, `00:00:00.000`).
fn at_midnight(s: &str) -> bool {
    s.find(['T', ' ']).is_some_and(|i| {
        let time = s[i + 1..].trim_end_matches('Z');
        time.len() >= 5 && time.chars().all(|c| matches!(c, '0' | ':' | '.'))
    })
}

fn card_expiry(s: &str) -> bool {
    let b = s.as_bytes();
    let ok_month = |m: &[u8]| {
        m.len() == 2 && m.iter().all(u8::is_ascii_digit) && (&b"01"[..]..=&b"12"[..]).contains(&m)
    };
    match b.len() {
        5 => b[2] == b'/' && ok_month(&b[..2]) && b[3..].iter().all(u8::is_ascii_digit),
        7 => b[2] == b'/' && ok_month(&b[..2]) && b[3..].iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

/// `1.2`, `4.12.0.7`, `2.4.1-beta`: dotted release numbers.
fn version_string(s: &str) -> bool {
    let core = s.split(['-', '+']).next().unwrap_or(s);
    let parts: Vec<&str> = core.split('.').collect();
    (2..=4).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|c| c.is_ascii_digit()))
        && parts[0].len() <= 2
        && (parts.len() >= 3 || s.len() < core.len() + 1)
}

/// A coordinate pair in one value: `52.3676, 4.9041`, `52.3676 4.9041` or `POINT(4.9041 52.3676)`.
fn geo_pair(s: &str) -> bool {
    let (body, point) = match s
        .strip_prefix("POINT(")
        .or_else(|| s.strip_prefix("POINT ("))
        .and_then(|r| r.strip_suffix(')'))
    {
        Some(inner) => (inner, true),
        None => (s, false),
    };
    let mut parts = body.split([',', ' ', ';']).filter(|p| !p.is_empty());
    let (Some(a), Some(b), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let num = |t: &str| -> Option<f64> {
        let (_, frac) = t.split_once('.')?;
        (frac.len() >= 2).then(|| t.parse::<f64>().ok()).flatten()
    };
    let (Some(x), Some(y)) = (num(a), num(b)) else {
        return false;
    };
    let (lat, lon) = if point { (y, x) } else { (x, y) };
    lat.abs() <= 90.0 && lon.abs() <= 180.0
}

/// A random-looking token: long, no spaces, mixed case and digits, only token characters.
fn random_token(f: &Facts<'_>) -> bool {
    f.chars >= 16
        && f.upper >= 2
        && f.lower >= 2
        && f.digits >= 1
        && f.letters + f.digits + f.plus + f.slashes + f.underscores + f.dashes + f.dots + f.other
            == f.chars
        && f.other <= 2
        && f.s
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"+/=_-.".contains(&c))
        && {
            // Words (CamelCase identifiers, passphrases) have long lowercase runs; random base62
            // has few: count the characters in lowercase runs of three or more.
            let mut in_words = 0;
            let mut run = 0;
            for &c in f.s.as_bytes().iter().chain(std::iter::once(&b' ')) {
                if c.is_ascii_lowercase() {
                    run += 1;
                } else {
                    if run >= 3 {
                        in_words += run;
                    }
                    run = 0;
                }
            }
            in_words * 5 <= f.chars * 2
        }
}

/// Words that name a process, a job or the system itself where an audit column would name a
/// person (`created_by = 'etl'`), and the prefixes of service accounts (`svc_backup`).
const SERVICE_ACCOUNTS: &[&str] = &[
    "system",
    "sys",
    "etl",
    "cron",
    "crontab",
    "batch",
    "job",
    "jobs",
    "scheduler",
    "schedule",
    "daemon",
    "service",
    "services",
    "bot",
    "robot",
    "automation",
    "automated",
    "auto",
    "script",
    "scripts",
    "migration",
    "migrations",
    "import",
    "importer",
    "export",
    "sync",
    "synchronizer",
    "integration",
    "api",
    "worker",
    "trigger",
    "root",
    "postgres",
    "dbo",
    "sa",
    "admin",
    "administrator",
    "internal",
    "default",
    "unknown",
    "anonymous",
    "nobody",
    "airflow",
    "jenkins",
    "dbt",
    "loader",
    "ingest",
    "pipeline",
    "sistema",
    "systeem",
    "job_runner",
    "system_user",
    "sysadmin",
    "batch_user",
    "etl_user",
    "app",
    "application",
    "backend",
    "server",
];

fn service_account(s: &str) -> bool {
    if s.len() > 24 || !s.is_ascii() {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    SERVICE_ACCOUNTS.contains(&lower.as_str())
        || [
            "svc_", "svc-", "svc.", "srv_", "sys_", "bot_", "etl_", "cron_",
        ]
        .iter()
        .any(|p| lower.starts_with(p) && lower.len() > p.len())
}

fn username(f: &Facts<'_>) -> bool {
    // A Windows domain login, `CORP\jdoe`: a domain and a handle.
    if let Some((domain, user)) = f.s.split_once('\\') {
        let part = |t: &str, max: usize| {
            (2..=max).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        };
        return part(domain, 15) && part(user, 32) && user.bytes().any(|b| b.is_ascii_alphabetic());
    }
    (3..=32).contains(&f.chars)
        && f.ascii
        && f.spaces == 0
        && f.at == 0
        && f.letters >= 2
        && f.letters + f.digits + f.dots + f.underscores + f.dashes == f.chars
        && f.s.as_bytes()[0].is_ascii_alphanumeric()
        && f.upper * 2 <= f.letters
}

/// Whether a word (lowercase ASCII) is a common given or family name of at least three letters.
fn known_name(word: &str) -> bool {
    word.len() >= 3 && (vocab::GIVEN_NAMES.contains(word) || vocab::SURNAMES.contains(word))
}

/// An upper-case user id: 3–12 characters, upper-case letters (at least three) then optional
/// digits, and not itself a common name.
fn upper_handle(f: &Facts<'_>) -> bool {
    if !(3..=12).contains(&f.chars) || f.upper < 3 || f.upper + f.digits != f.chars {
        return false;
    }
    let b = f.s.as_bytes();
    let letters = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if letters < 3 || !b[letters..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut buf = [0u8; 12];
    let lower = &mut buf[..letters];
    lower.copy_from_slice(&b[..letters]);
    lower.make_ascii_lowercase();
    std::str::from_utf8(lower).is_ok_and(|w| !known_name(w) || letters < f.chars)
}

/// A login handle built from a person's name, as directories and ERP systems make them:
/// `imke.korhonen`, `kjell_lind2`, `jnowak` (initial and family name), `muellerk` / SAP-style
/// `MUELLERK` (family name and one or two initials), `imkenowak` (given and family name), in
/// any case.
fn name_handle(f: &Facts<'_>) -> bool {
    if !(3..=32).contains(&f.chars)
        || !f.ascii
        || f.spaces > 0
        || f.at > 0
        || f.letters < 4
        || f.letters + f.digits + f.dots + f.underscores + f.dashes != f.chars
        || !f.s.as_bytes()[0].is_ascii_alphabetic()
    {
        return false;
    }
    let mut buf = [0u8; 32];
    let lower = &mut buf[..f.chars];
    lower.copy_from_slice(f.s.as_bytes());
    lower.make_ascii_lowercase();
    let Ok(lower) = std::str::from_utf8(lower) else {
        return false;
    };
    let body = lower.trim_end_matches(|c: char| c.is_ascii_digit());
    let parts: Vec<&str> = body
        .split(['.', '_', '-'])
        .filter(|p| !p.is_empty())
        .collect();
    match parts.as_slice() {
        [] => false,
        [word] => {
            let w = *word;
            if !w.bytes().all(|b| b.is_ascii_lowercase()) || w.len() < 4 {
                return false;
            }
            // `jnowak`, `nowakj`, `nowakjo`, `jknowak`, `imkenowak`.
            // A common name alone is a handle in lower case (`imke`); in upper case it is the
            // name as legacy systems write names (`KORHONEN`).
            (known_name(w) && f.upper == 0)
                || vocab::SURNAMES.contains(&w[1..])
                || vocab::SURNAMES.contains(&w[..w.len() - 1])
                || (w.len() >= 6 && vocab::SURNAMES.contains(&w[..w.len() - 2]))
                || (w.len() >= 6 && vocab::SURNAMES.contains(&w[2..]))
                || (3..=w.len().saturating_sub(3)).any(|i| {
                    vocab::GIVEN_NAMES.contains(&w[..i]) && vocab::SURNAMES.contains(&w[i..])
                })
        }
        // `imke.korhonen`, `j.nowak`, `nowak_p`: one of the parts is a known name, and every
        // part is letters.
        parts => {
            parts.len() <= 3
                && parts
                    .iter()
                    .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
                && parts.iter().any(|p| known_name(p))
        }
    }
}

/// Detectors over the words of a value: person names, organisations, addresses, gender,
/// religion, ethnicity, health terms.
fn words(f: &Facts<'_>, hit: &mut impl FnMut(usize)) {
    let s = f.s;
    if f.chars <= 24 {
        let mut buf = [0u8; 48];
        if vocab::fold(s, &mut buf).is_some_and(|w| vocab::GENDER_VALUES.contains(w)) {
            hit(GENDER);
        }
    }

    if f.chars > 80 {
        if f.spaces >= 4 {
            hit(FREE_TEXT);
        }
        return;
    }

    let mut tokens = 0usize;
    let mut real = 0usize;
    let mut initials = 0usize;
    let mut name_shape = f.digits == 0
        && f.at == 0
        && f.slashes == 0
        && f.underscores == 0
        && f.chars <= 60
        && f.other <= 2;
    let mut given = false;
    let mut family = false;
    let mut org = false;
    let mut street = false;
    let mut dwelling = false;
    let mut religion_words = 0usize;
    let mut ethnic_words = 0usize;
    let mut filler_words = 0usize;
    let mut other_words = 0usize;
    let mut health = false;
    for raw in s
        .split([' ', ',', '/', '(', ')', ';'])
        .filter(|t| !t.is_empty())
    {
        tokens += 1;
        let tok = raw.trim_matches(|c: char| c == '.' || c == '\'' || c == '"' || c == ':');
        let mut fb = [0u8; 48];
        let folded = vocab::fold(tok, &mut fb).unwrap_or("");
        if vocab::ORG_WORDS.contains(folded) || raw.ends_with("'s") || raw == "&" {
            org = true;
        }
        if vocab::STREET_WORDS.contains(folded)
            || vocab::STREET_SUFFIXES.iter().any(|suf| {
                folded.len() > suf.len() + 2 && folded.ends_with(suf.trim_end_matches('.'))
            })
        {
            street = true;
        }
        if vocab::DWELLING_WORDS.contains(folded) {
            dwelling = true;
        }
        if raw.starts_with('#') && raw.len() > 1 {
            dwelling = true;
        }
        if vocab::HEALTH_TERMS.contains(folded)
            || (folded.len() > 6
                && ["itis", "osis", "emia", "algia", "pathy", "ectomy"]
                    .iter()
                    .any(|x| folded.ends_with(x)))
        {
            health = true;
        }
        let is_religion = vocab::RELIGIONS.contains(folded);
        let is_ethnic = vocab::ETHNICITIES.contains(folded);
        let is_filler = !is_religion && !is_ethnic && (FILLER.contains(&folded) || folded == "-");
        religion_words += usize::from(is_religion);
        ethnic_words += usize::from(is_ethnic);
        if is_filler {
            filler_words += 1;
        } else if !is_religion && !is_ethnic {
            other_words += 1;
        }

        if !name_shape {
            continue;
        }
        let first = tok.chars().next().unwrap_or(' ');
        let is_part = vocab::NAME_PARTS.contains(folded);
        let letters_only = !tok.is_empty()
            && tok
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'');
        let n_chars = tok.chars().count();
        if n_chars == 1 && first.is_uppercase() {
            initials += 1;
        } else if is_part {
            // particles and titles
        } else if n_chars == 1 && raw.ends_with('.') {
            initials += 1;
        } else if letters_only && first.is_uppercase() {
            real += 1;
            if vocab::GIVEN_NAMES.contains(folded) {
                given = true;
            }
            if vocab::SURNAMES.contains(folded)
                || (folded.contains('-') && folded.split('-').any(|p| vocab::SURNAMES.contains(p)))
            {
                family = true;
            }
        } else {
            name_shape = false;
        }
    }
    if name_shape && (1..=4).contains(&real) && tokens <= 6 {
        hit(NAME_SHAPE);
        if given {
            hit(GIVEN_NAME);
        }
        if family {
            hit(FAMILY_NAME);
        }
        if real >= 2 || (real == 1 && initials >= 1) {
            hit(FULL_NAME);
        }
    }
    if org {
        hit(ORG_NAME);
    }
    if f.digits > 0 && f.letters >= 2 && (street || dwelling) {
        hit(ADDRESS_LINE);
    }
    // A street name without its number (`Lindenstraat`, `Rue des Glycines`), as schemas that keep
    // the house number in a column of its own store it.
    if f.digits == 0 && f.letters >= 4 && street && tokens <= 6 {
        hit(STREET_NAME);
    }
    if tokens <= 8 && religion_words > 0 && other_words == 0 && filler_words < tokens {
        hit(RELIGION);
    }
    if tokens <= 12 && ethnic_words > 0 && other_words == 0 {
        hit(ETHNICITY);
    }
    if health && f.chars <= 120 {
        hit(HEALTH_TERM);
    }
    if f.digits > 0 && medication(s) {
        hit(MEDICATION);
    }
    if f.spaces >= 4 || (f.spaces >= 2 && f.chars >= 40) {
        hit(FREE_TEXT);
    }
}

/// Words that may stand beside a religion or an ethnic category in a coded answer.
const FILLER: &[&str] = &[
    "or",
    "and",
    "other",
    "not",
    "no",
    "none",
    "prefer",
    "to",
    "say",
    "declined",
    "state",
    "unknown",
    "two",
    "more",
    "of",
    "the",
    "any",
    "background",
    "group",
    "descent",
    "origin",
    "religion",
    "belief",
    "race",
    "races",
    "ethnic",
    "n/a",
    "other:",
    "latter",
    "day",
    "saints",
    "church",
    "witness",
    "witnesses",
    "faith",
    "answer",
    "disclosed",
    "undisclosed",
    "multiple",
    "mixed",
    "england",
    "scotland",
    "jesus",
    "latter-day",
];

/// A dose: digits followed by a unit (`10 mg`, `50mcg`, `5 ml`).
fn medication(s: &str) -> bool {
    let b = s.as_bytes();
    for (i, w) in b.windows(2).enumerate() {
        if w[0].is_ascii_digit() && !w[1].is_ascii_digit() {
            let rest = s[i + 1..].trim_start();
            let rest = rest.as_bytes();
            for unit in [
                &b"mg"[..],
                b"mcg",
                b"ml",
                b"iu",
                b"units",
                b"g ",
                b"\xc2\xb5g",
            ] {
                if rest.len() >= unit.len() && rest[..unit.len()].eq_ignore_ascii_case(unit) {
                    let after = rest.get(unit.len()).copied();
                    if after.is_none_or(|c| !c.is_ascii_alphabetic()) {
                        return true;
                    }
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(value: &str) -> Vec<&'static str> {
        let mut h = [0u32; N];
        detect(&Facts::of(value), &mut h);
        DETECTORS
            .iter()
            .zip(h)
            .filter(|(_, n)| *n > 0)
            .map(|(id, _)| *id)
            .collect()
    }

    #[test]
    fn phones_in_many_notations() {
        for p in [
            "+1 (614) 555-0143",
            "0171/44926305",
            "06 41 27 90 58",
            "+447700900461",
            "+44 (0)7700 912384",
            "617-555-0182",
            "503.555.0119",
            "06-48213759",
            "(312) 555-0176",
            "347 6120985",
        ] {
            assert!(hits(p).contains(&"phone"), "{p}: {:?}", hits(p));
        }
        assert!(hits("7135550124").contains(&"phone_bare"));
        for not in [
            "412-67-3198",
            "2024-01-15",
            "15/03/1985",
            "46-3187205",
            "7.14.52.203",
            "581930467",
            "3056987412365470",
        ] {
            assert!(!hits(not).contains(&"phone"), "{not}: {:?}", hits(not));
        }
    }

    #[test]
    fn postcodes() {
        for p in [
            "LS2 7HY",
            "CB4 3QN",
            "3581KT",
            "6211 LD",
            "60614-2231",
            "K1A 0B1",
            "1000-205",
            "SW1A 1AA",
        ] {
            assert!(hits(p).contains(&"postal_code_format"), "{p}");
        }
        assert!(hits("41827").contains(&"postal_code"));
        assert!(!hits("41827").contains(&"postal_code_format"));
        assert!(!hits("hello").contains(&"postal_code"));
    }

    #[test]
    fn dates_and_birth_dates() {
        assert_eq!(parse_date("1979-06-23"), Some((1979, false)));
        assert_eq!(parse_date("27/11/1993"), Some((1993, false)));
        assert_eq!(parse_date("08-02-1991"), Some((1991, false)));
        assert_eq!(parse_date("2022-11-03 17:42:09"), Some((2022, true)));
        assert_eq!(parse_date("12 Mar 1985"), Some((1985, false)));
        assert_eq!(parse_date("31/31/1995"), None);
        assert_eq!(parse_date("7.14.52.203"), None);
        assert!(hits("1952-03-14").contains(&"birth_date"));
        assert!(!hits("2023-08-02").contains(&"birth_date"));
        assert!(hits("2023-08-02 10:00:00").contains(&"timestamp"));
        assert!(!hits("2023-08-02 10:00:00").contains(&"date"));
        // Legacy spellings: midnight timestamps and eight digits without separators.
        let midnight = hits("1961-04-17 00:00:00");
        assert!(midnight.contains(&"timestamp") && midnight.contains(&"birth_date"));
        assert!(hits("19610417").contains(&"birth_date"));
        assert!(hits("17041961").contains(&"birth_date"));
        assert!(hits("20230802").contains(&"date") && !hits("20230802").contains(&"birth_date"));
        assert!(!hits("12345678").contains(&"date"));
        assert!(!hits("99999999").contains(&"date"));
        assert!(hits("CORP\\jdoe").contains(&"username"));
        assert!(!hits("C:\\Windows\\System32").contains(&"username"));
    }

    #[test]
    fn names_and_organisations() {
        let h = hits("Marta Lindqvist");
        assert!(
            h.contains(&"person_name_shape")
                && h.contains(&"given_name")
                && h.contains(&"full_name")
        );
        assert!(hits("K. van den Broek").contains(&"full_name"));
        assert!(hits("Dr Helena Marsh").contains(&"given_name"));
        assert!(hits("OLIVIA PRICE").contains(&"given_name"));
        assert!(hits("Wendel Kamp AG").contains(&"org_name"));
        assert!(hits("Harper's Pantry").contains(&"org_name"));
        assert!(!hits("Omega 3 500 MG").contains(&"person_name_shape"));
        assert!(!hits("migraine").contains(&"person_name_shape"));
    }

    #[test]
    fn addresses() {
        for a in [
            "2718 Magnolia Ave",
            "Mühlenweg 17c",
            "42 rue des Tanneurs",
            "Zonnebloemstraat 83a",
            "Unit 7B",
            "Appt 204",
            "5120 Cedar St, # 14C, Tulsa, OK 74105",
        ] {
            assert!(hits(a).contains(&"address_line"), "{a}");
        }
        assert!(!hits("Ring the bell twice").contains(&"address_line"));
    }

    #[test]
    fn categories() {
        assert!(hits("female").contains(&"gender_code"));
        assert!(hits("V").contains(&"gender_code"));
        assert!(!hits("Women").contains(&"gender_code"));
        assert!(hits("Lutheran").contains(&"religion"));
        assert!(hits("Not religious").contains(&"religion"));
        assert!(!hits("Not disclosed").contains(&"religion"));
        assert!(hits("Asian or Pacific Islander").contains(&"ethnicity"));
        assert!(hits("Hispanic - other").contains(&"ethnicity"));
        assert!(hits("Chronic gastritis, unspecified").contains(&"health_term"));
        assert!(hits("Sinusitis").contains(&"health_term"));
        assert!(hits("Metformin 500 mg").contains(&"medication"));
    }

    #[test]
    fn network_and_secret_values() {
        assert!(hits("172.19.84.21").contains(&"ipv4"));
        assert!(!hits("172.19.84.21").contains(&"version_string"));
        assert!(hits("7.14.52.203").contains(&"version_string"));
        assert!(hits("2.4.1").contains(&"version_string"));
        assert!(hits("2001:db8:7f3a::91c4").contains(&"ipv6"));
        assert!(!hits("12:30:45").contains(&"ipv6"));
        assert!(hits("00a1.4c2e.9f31").contains(&"mac_separated"));
        assert!(hits("Qm7XrT2vLp9KdW4sNb8ZyH3cJf6GtA1eRk5UoPxM").contains(&"random_token"));
        assert!(!hits("ThisIsAVeryLongCamelCaseName1").contains(&"random_token"));
        assert!(
            hits("$2b$12$Kx7Vq2mLr9TzP4wYb1NcOeH8sJd3FgA6uQvXn5ZkWp0iRt.yMlEoa")
                .contains(&"password_hash")
        );
        assert!(hits("9f4c2e71a08b3d56c7e1f2a4b9d06e38").contains(&"hex_digest"));
    }

    #[test]
    fn numbers_and_coordinates() {
        assert!(hits("52.5558791").contains(&"geo_lat"));
        assert!(hits("-171.1113280").contains(&"geo_lon"));
        assert!(!hits("-171.1113280").contains(&"geo_lat"));
        assert!(!hits("4.33").contains(&"geo_lat"));
        assert!(hits("4.33").contains(&"decimal"));
        assert!(hits("175").contains(&"integer"));
        assert!(hits("true").contains(&"boolean"));
        assert!(hits("03/28").contains(&"card_expiry"));
        assert!(hits("52.3676, 4.9041").contains(&"geo_pair"));
        assert!(hits("POINT(4.9041 52.3676)").contains(&"geo_pair"));
        assert!(!hits("1.5, 2.5").contains(&"geo_pair"));
    }
}
