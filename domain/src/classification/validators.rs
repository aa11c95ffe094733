//! Validators: checks that a single value really is an identifier of a kind, by its check digits
//! and issuing rules rather than its shape alone (Luhn with card-network prefixes, IBAN mod-97
//! with per-country lengths, SSA rules for SSNs, the VIN check digit, …).
//!
//! Every validator is a plain `fn(&str) -> bool` that allocates nothing; [`VALIDATORS`] names the
//! ones a custom rule may ask for by id. Separators (spaces, dashes, dots) are accepted where the
//! identifier is commonly written with them.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A validator: whether one value is a valid identifier of its kind.
pub type Validator = fn(&str) -> bool;

/// The validators a custom rule may name in its `validator` field.
pub const VALIDATORS: &[(&str, Validator)] = &[
    ("luhn", luhn),
    ("credit_card", luhn_card),
    ("iban", iban),
    ("us_ssn", us_ssn),
    ("vin", vin),
    ("nino", uk_nino),
    ("bsn", nl_bsn),
    ("ein", us_ein),
    ("eu_vat", eu_vat),
    ("aba_routing", aba_routing),
    ("ipv4", ipv4),
    ("ipv6", ipv6),
    ("ip", ip_address),
    ("mac", mac_address),
    ("icd10", icd10),
    ("email", email),
    ("uuid", uuid),
    ("jwt", jwt),
    ("ean13", ean13),
    ("uk_driving_licence", uk_driving_licence),
];

/// Looks a validator up by id: one of [`VALIDATORS`] or a national or tax identifier of
/// [`super::national_ids::REGISTRY`] by its detector id (`pl_pesel`, `de_tax_id`, …).
pub fn by_id(id: &str) -> Option<Validator> {
    VALIDATORS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(id))
        .map(|(_, f)| *f)
        .or_else(|| {
            super::national_ids::REGISTRY
                .iter()
                .find(|e| e.id.eq_ignore_ascii_case(id))
                .map(|e| e.validate)
        })
}

/// Collects the digits of `s` into `buf` when `s` holds only digits and the given separators;
/// returns how many digits there were, or `None` if another character (or too many digits) occurs.
fn digits_with_separators(s: &str, separators: &[u8], buf: &mut [u8]) -> Option<usize> {
    let mut n = 0;
    for &b in s.trim().as_bytes() {
        if b.is_ascii_digit() {
            if n == buf.len() {
                return None;
            }
            buf[n] = b - b'0';
            n += 1;
        } else if !separators.contains(&b) {
            return None;
        }
    }
    Some(n)
}

fn luhn_digits(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut d = u32::from(d);
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// The Luhn (mod 10) check over the digits of a value (spaces and dashes ignored).
pub fn luhn(s: &str) -> bool {
    let mut buf = [0u8; 32];
    match digits_with_separators(s, b" -", &mut buf) {
        Some(n) if n >= 2 => luhn_digits(&buf[..n]),
        _ => false,
    }
}

fn prefix_number(digits: &[u8], len: usize) -> u32 {
    digits
        .iter()
        .take(len)
        .fold(0u32, |acc, &d| acc * 10 + u32::from(d))
}

/// The payment-card network a PAN's prefix and length belong to, if any.
pub fn card_network(digits: &[u8]) -> Option<&'static str> {
    let len = digits.len();
    if !(12..=19).contains(&len) {
        return None;
    }
    let p1 = prefix_number(digits, 1);
    let p2 = prefix_number(digits, 2);
    let p3 = prefix_number(digits, 3);
    let p4 = prefix_number(digits, 4);
    let p6 = prefix_number(digits, 6);
    if p1 == 4 && matches!(len, 13 | 16 | 19) {
        return Some("Visa");
    }
    if ((51..=55).contains(&p2) || (2221..=2720).contains(&p4)) && len == 16 {
        return Some("Mastercard");
    }
    if (p2 == 34 || p2 == 37) && len == 15 {
        return Some("American Express");
    }
    if (p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622126..=622925).contains(&p6))
        && (16..=19).contains(&len)
    {
        return Some("Discover");
    }
    if (3528..=3589).contains(&p4) && (16..=19).contains(&len) {
        return Some("JCB");
    }
    if ((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39) && (14..=19).contains(&len) {
        return Some("Diners Club");
    }
    if p2 == 62 && (16..=19).contains(&len) {
        return Some("UnionPay");
    }
    if (2200..=2204).contains(&p4) && len == 16 {
        return Some("Mir");
    }
    if matches!(
        p4,
        5018 | 5020 | 5038 | 5893 | 6304 | 6759 | 6761 | 6762 | 6763
    ) {
        return Some("Maestro");
    }
    None
}

/// A full payment-card number: 12–19 digits (spaces or dashes allowed) that pass Luhn and carry
/// a known network prefix for their length.
pub fn luhn_card(s: &str) -> bool {
    let mut buf = [0u8; 24];
    match digits_with_separators(s, b" -", &mut buf) {
        Some(n) if (12..=19).contains(&n) => {
            luhn_digits(&buf[..n]) && card_network(&buf[..n]).is_some()
        }
        _ => false,
    }
}

/// IBAN lengths per country (SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// An IBAN: known country, that country's length, and the ISO 7064 mod-97 check (spaces allowed,
/// any letter case).
pub fn iban(s: &str) -> bool {
    let mut buf = [0u8; 34];
    let mut n = 0;
    for &b in s.trim().as_bytes() {
        match b {
            b' ' | b'-' => continue,
            b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                if n == buf.len() {
                    return false;
                }
                buf[n] = b.to_ascii_uppercase();
                n += 1;
            }
            _ => return false,
        }
    }
    if n < 15 || !buf[0].is_ascii_uppercase() || !buf[1].is_ascii_uppercase() {
        return false;
    }
    if !buf[2].is_ascii_digit() || !buf[3].is_ascii_digit() {
        return false;
    }
    let country = [buf[0], buf[1]];
    let Some(&(_, expected)) = IBAN_LENGTHS.iter().find(|(c, _)| **c == country) else {
        return false;
    };
    if n != expected {
        return false;
    }
    // Move the first four characters to the end and read letters as 10..35, mod 97 on the fly.
    let mut rem = 0u32;
    for &b in buf[4..n].iter().chain(buf[..4].iter()) {
        if b.is_ascii_digit() {
            rem = (rem * 10 + u32::from(b - b'0')) % 97;
        } else {
            rem = (rem * 100 + u32::from(b - b'A' + 10)) % 97;
        }
    }
    rem == 1
}

/// The parts of an SSN-shaped value: `ddd-dd-dddd`, `ddd dd dddd` or nine bare digits.
/// Returns `(area, group, serial, separated)`.
pub fn ssn_parts(s: &str) -> Option<(u32, u32, u32, bool)> {
    let b = s.trim().as_bytes();
    let digits: [u8; 9];
    let separated;
    if b.len() == 9 && b.iter().all(u8::is_ascii_digit) {
        digits = std::array::from_fn(|i| b[i] - b'0');
        separated = false;
    } else if b.len() == 11
        && (b[3] == b'-' || b[3] == b' ')
        && b[6] == b[3]
        && b[..3]
            .iter()
            .chain(&b[4..6])
            .chain(&b[7..])
            .all(u8::is_ascii_digit)
    {
        let mut d = [0u8; 9];
        for (slot, &c) in d
            .iter_mut()
            .zip(b[..3].iter().chain(&b[4..6]).chain(&b[7..]))
        {
            *slot = c - b'0';
        }
        digits = d;
        separated = true;
    } else {
        return None;
    }
    let area = prefix_number(&digits, 3);
    let group = prefix_number(&digits[3..], 2);
    let serial = prefix_number(&digits[5..], 4);
    Some((area, group, serial, separated))
}

/// A US Social Security Number that follows the SSA's rules: area 001–899 except 666, group
/// 01–99, serial 0001–9999, and none of the numbers published in advertising.
pub fn us_ssn(s: &str) -> bool {
    let Some((area, group, serial, _)) = ssn_parts(s) else {
        return false;
    };
    let advertised = matches!(
        (area, group, serial),
        (78, 5, 1120) | (219, 9, 9999) | (457, 55, 5462)
    );
    (1..=899).contains(&area) && area != 666 && group != 0 && serial != 0 && !advertised
}

fn vin_value(c: u8) -> Option<u32> {
    Some(match c {
        b'0'..=b'9' => u32::from(c - b'0'),
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => return None,
    })
}

/// Seventeen characters from the VIN alphabet (digits and capitals except I, O, Q).
pub fn vin_shape(s: &str) -> bool {
    let b = s.trim().as_bytes();
    b.len() == 17 && b.iter().all(|&c| vin_value(c).is_some())
}

/// A vehicle identification number whose ninth character is the ISO 3779 / FMVSS 115 check digit.
pub fn vin(s: &str) -> bool {
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let b = s.trim().as_bytes();
    if b.len() != 17 {
        return false;
    }
    let mut sum = 0;
    for (i, &c) in b.iter().enumerate() {
        let Some(v) = vin_value(c) else {
            return false;
        };
        sum += v * WEIGHTS[i];
    }
    let check = sum % 11;
    let expected = if check == 10 {
        b'X'
    } else {
        b'0' + check as u8
    };
    b[8] == expected
}

/// A UK National Insurance number: two prefix letters under HMRC's rules, six digits and a suffix
/// A–D (spaces allowed).
pub fn uk_nino(s: &str) -> bool {
    let mut buf = [0u8; 9];
    let mut n = 0;
    for &b in s.trim().as_bytes() {
        if b == b' ' {
            continue;
        }
        if n == buf.len() {
            return false;
        }
        buf[n] = b.to_ascii_uppercase();
        n += 1;
    }
    if n != 9 {
        return false;
    }
    let (a, b) = (buf[0], buf[1]);
    let first_ok = a.is_ascii_uppercase() && !b"DFIQUV".contains(&a);
    let second_ok = b.is_ascii_uppercase() && !b"DFIOQUV".contains(&b);
    let banned = [*b"BG", *b"GB", *b"NK", *b"KN", *b"TN", *b"NT", *b"ZZ"].contains(&[a, b]);
    first_ok
        && second_ok
        && !banned
        && buf[2..8].iter().all(u8::is_ascii_digit)
        && (b'A'..=b'D').contains(&buf[8])
}

/// A Dutch citizen service number (BSN): nine digits (eight with the leading zero dropped) that
/// pass the "11-proof" (weights 9..2, last digit −1).
pub fn nl_bsn(s: &str) -> bool {
    let mut buf = [0u8; 9];
    let Some(n) = digits_with_separators(s, b"", &mut buf) else {
        return false;
    };
    if !(8..=9).contains(&n) || s.trim().len() != n {
        return false;
    }
    let mut digits = [0u8; 9];
    digits[9 - n..].copy_from_slice(&buf[..n]);
    if digits.iter().all(|&d| d == 0) {
        return false;
    }
    let mut sum: i32 = 0;
    for (i, &d) in digits[..8].iter().enumerate() {
        sum += i32::from(d) * (9 - i as i32);
    }
    sum -= i32::from(digits[8]);
    sum % 11 == 0
}

/// A US Employer Identification Number written `dd-ddddddd` with a prefix the IRS assigns.
pub fn us_ein(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 10 || b[2] != b'-' || !b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit) {
        return false;
    }
    let prefix = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    matches!(prefix, 1..=6 | 10..=16 | 20..=27 | 30..=48 | 50..=68 | 71..=77 | 80..=88 | 90..=95 | 98 | 99)
}

/// An ABA routing transit number: nine digits with a Federal Reserve prefix and the 3-7-1
/// checksum.
pub fn aba_routing(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 9 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let d: [u32; 9] = std::array::from_fn(|i| u32::from(b[i] - b'0'));
    let prefix = d[0] * 10 + d[1];
    if !matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80) || d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
    sum.is_multiple_of(10)
}

/// An EU (or UK, Swiss, Norwegian) VAT number: a country prefix and that country's format.
pub fn eu_vat(s: &str) -> bool {
    let mut buf = [0u8; 20];
    let mut n = 0;
    for &b in s.trim().as_bytes() {
        match b {
            b' ' | b'.' | b'-' => continue,
            b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'+' | b'*' => {
                if n == buf.len() {
                    return false;
                }
                buf[n] = b.to_ascii_uppercase();
                n += 1;
            }
            _ => return false,
        }
    }
    if n < 4 {
        return false;
    }
    let (cc, rest) = buf[..n].split_at(2);
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    let len = rest.len();
    match cc {
        b"AT" => len == 9 && rest[0] == b'U' && digits(&rest[1..]),
        b"BE" => len == 10 && (rest[0] == b'0' || rest[0] == b'1') && digits(rest),
        b"BG" => (9..=10).contains(&len) && digits(rest),
        b"CY" => len == 9 && digits(&rest[..8]) && rest[8].is_ascii_uppercase(),
        b"CZ" => (8..=10).contains(&len) && digits(rest),
        b"DE" | b"EE" | b"EL" | b"GR" | b"PT" => len == 9 && digits(rest),
        b"DK" | b"FI" | b"HU" | b"LU" | b"MT" | b"SI" => len == 8 && digits(rest),
        b"ES" => {
            len == 9
                && rest[0].is_ascii_alphanumeric()
                && digits(&rest[1..8])
                && rest[8].is_ascii_alphanumeric()
                && !(rest[0].is_ascii_digit() && rest[8].is_ascii_digit())
        }
        b"FR" => {
            len == 11
                && rest[..2]
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() && *c != b'I' && *c != b'O')
                && digits(&rest[2..])
        }
        b"GB" | b"XI" => {
            ((len == 9 || len == 12) && digits(rest))
                || (len == 5
                    && (rest.starts_with(b"GD") || rest.starts_with(b"HA"))
                    && digits(&rest[2..]))
        }
        b"HR" | b"IT" | b"LV" => len == 11 && digits(rest),
        b"IE" => {
            (len == 8 || len == 9)
                && rest[0].is_ascii_digit()
                && digits(&rest[2..7])
                && rest[7].is_ascii_uppercase()
        }
        b"LT" => (len == 9 || len == 12) && digits(rest),
        b"NL" => len == 12 && digits(&rest[..9]) && rest[9] == b'B' && digits(&rest[10..]),
        b"PL" | b"SK" => len == 10 && digits(rest),
        b"RO" => (2..=10).contains(&len) && digits(rest) && rest[0] != b'0',
        b"SE" => len == 12 && digits(rest) && rest.ends_with(b"01"),
        b"CH" => {
            rest.starts_with(b"E")
                && len >= 10
                && digits(&rest[1..10])
                && matches!(&rest[10..], b"" | b"MWST" | b"TVA" | b"IVA")
        }
        b"NO" => len == 12 && digits(&rest[..9]) && &rest[9..] == b"MVA",
        _ => false,
    }
}

/// An IPv4 address in dotted-quad notation (an optional `/prefix` allowed, as `inet` prints it).
pub fn ipv4(s: &str) -> bool {
    let s = s.trim();
    let addr = match s.split_once('/') {
        Some((a, p)) => match p.parse::<u8>() {
            Ok(p) if p <= 32 => a,
            _ => return false,
        },
        None => s,
    };
    addr.len() >= 7 && addr.parse::<Ipv4Addr>().is_ok()
}

/// An IPv6 address (an optional `/prefix` or `%zone` allowed).
pub fn ipv6(s: &str) -> bool {
    let s = s.trim();
    let s = s.split_once('%').map_or(s, |(a, _)| a);
    let addr = match s.split_once('/') {
        Some((a, p)) => match p.parse::<u8>() {
            Ok(p) if p <= 128 => a,
            _ => return false,
        },
        None => s,
    };
    addr.contains(':') && addr.parse::<Ipv6Addr>().is_ok()
}

/// An IPv4 or IPv6 address.
pub fn ip_address(s: &str) -> bool {
    ipv4(s) || ipv6(s)
}

/// Whether a MAC address is written with separators (`:`, `-` or Cisco dots) rather than as
/// twelve bare hex digits, which also look like any hex identifier.
pub fn mac_separated(s: &str) -> bool {
    let b = s.trim().as_bytes();
    (b.len() == 17 && (b[2] == b':' || b[2] == b'-')) || (b.len() == 14 && b[4] == b'.')
}

/// A MAC (EUI-48) address: `aa:bb:cc:dd:ee:ff`, `aa-bb-…`, `aabb.ccdd.eeff` or twelve hex digits.
pub fn mac_address(s: &str) -> bool {
    let b = s.trim().as_bytes();
    match b.len() {
        17 => {
            let sep = b[2];
            (sep == b':' || sep == b'-')
                && (0..6).all(|g| {
                    b[g * 3].is_ascii_hexdigit()
                        && b[g * 3 + 1].is_ascii_hexdigit()
                        && (g == 5 || b[g * 3 + 2] == sep)
                })
        }
        14 => {
            b[4] == b'.'
                && b[9] == b'.'
                && b.iter()
                    .enumerate()
                    .all(|(i, c)| i == 4 || i == 9 || c.is_ascii_hexdigit())
        }
        12 => {
            b.iter().all(u8::is_ascii_hexdigit)
                && b.iter().any(u8::is_ascii_alphabetic)
                && b.iter().any(u8::is_ascii_digit)
        }
        _ => false,
    }
}

/// An ICD-10 (WHO or ICD-10-CM) code: a letter other than U, two characters, optionally a dot
/// and up to four more, e.g. `Q21.1`, `T78.40`, `J45`.
pub fn icd10(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() < 3 || b.len() > 8 {
        return false;
    }
    if !(b[0].is_ascii_uppercase() && b[0] != b'U' && b[1].is_ascii_digit()) {
        return false;
    }
    if !(b[2].is_ascii_digit() || b[2].is_ascii_uppercase()) {
        return false;
    }
    match b.len() {
        3 => true,
        _ => {
            b[3] == b'.'
                && b.len() >= 5
                && b[4..]
                    .iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        }
    }
}

/// An e-mail address: one `@`, a plausible local part and a dotted domain with a letter TLD.
pub fn email(s: &str) -> bool {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty() || local.len() > 64 || domain.len() < 4 || domain.contains('@') {
        return false;
    }
    let local_ok = local
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&c) || c >= 0x80);
    if !local_ok || local.starts_with('.') || local.ends_with('.') {
        return false;
    }
    let Some((host, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    !host.is_empty()
        && tld.len() >= 2
        && tld.bytes().all(|c| c.is_ascii_alphabetic())
        && domain
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c >= 0x80)
        && !domain.contains("..")
}

/// A UUID in its canonical 8-4-4-4-12 form (braces allowed).
pub fn uuid(s: &str) -> bool {
    let s = s.trim().trim_start_matches('{').trim_end_matches('}');
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn base64url_segment(seg: &str) -> bool {
    !seg.is_empty()
        && seg
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'=')
}

/// A JSON Web Token: three base64url segments, the header starting with `eyJ` (`{"`).
pub fn jwt(s: &str) -> bool {
    let s = s.trim();
    let s = s.strip_prefix("Bearer ").unwrap_or(s);
    if !s.starts_with("eyJ") || s.len() < 20 {
        return false;
    }
    let mut parts = s.split('.');
    let (Some(h), Some(p), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    base64url_segment(h) && base64url_segment(p) && (sig.is_empty() || base64url_segment(sig))
}

fn token_tail(s: &str, min: usize) -> bool {
    s.len() >= min
        && s.bytes().all(|c| {
            c.is_ascii_alphanumeric()
                || c == b'_'
                || c == b'-'
                || c == b'+'
                || c == b'/'
                || c == b'='
                || c == b'.'
        })
}

/// The provider, if a value is an API key or secret in a well-known format (Stripe, AWS, GitHub,
/// Slack, SendGrid, Google, GitLab, Shopify, npm, Twilio, PEM private keys, …).
pub fn api_key_kind(s: &str) -> Option<&'static str> {
    let s = s.trim();
    if s.starts_with("-----BEGIN") && s.contains("PRIVATE KEY") {
        return Some("PEM private key");
    }
    const PREFIXES: &[(&str, &str, usize)] = &[
        ("sk_live_", "Stripe secret key", 10),
        ("sk_test_", "Stripe secret key", 10),
        ("rk_live_", "Stripe restricted key", 10),
        ("rk_test_", "Stripe restricted key", 10),
        ("whsec_", "webhook signing secret", 16),
        ("shpss_", "Shopify shared secret", 16),
        ("shpat_", "Shopify access token", 16),
        ("shpca_", "Shopify access token", 16),
        ("shppa_", "Shopify access token", 16),
        ("ghp_", "GitHub token", 30),
        ("gho_", "GitHub token", 30),
        ("ghu_", "GitHub token", 30),
        ("ghs_", "GitHub token", 30),
        ("ghr_", "GitHub token", 30),
        ("github_pat_", "GitHub token", 30),
        ("glpat-", "GitLab token", 16),
        ("xoxb-", "Slack token", 20),
        ("xoxp-", "Slack token", 20),
        ("xoxa-", "Slack token", 20),
        ("xoxr-", "Slack token", 20),
        ("xapp-", "Slack token", 20),
        ("SG.", "SendGrid key", 30),
        ("AIza", "Google API key", 30),
        ("npm_", "npm token", 30),
        ("pypi-", "PyPI token", 30),
        ("sk-", "API secret key", 24),
        ("SK", "Twilio key", 34),
        ("AKIA", "AWS access key id", 20),
        ("ASIA", "AWS access key id", 20),
        ("dop_v1_", "DigitalOcean token", 30),
        ("hf_", "Hugging Face token", 30),
    ];
    for &(prefix, kind, min_len) in PREFIXES {
        if s.starts_with(prefix) && token_tail(s, min_len) {
            match prefix {
                "AKIA" | "ASIA" => {
                    if s.len() == 20
                        && s.bytes()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                    {
                        return Some(kind);
                    }
                }
                "SK" => {
                    if s.len() == 34 && s[2..].bytes().all(|c| c.is_ascii_hexdigit()) {
                        return Some(kind);
                    }
                }
                _ => return Some(kind),
            }
        }
    }
    None
}

/// An API key or secret in a well-known format (see [`api_key_kind`]).
pub fn api_key(s: &str) -> bool {
    api_key_kind(s).is_some()
}

/// The scheme, if a value is a password hash in a recognised format: modular crypt (`$2b$`
/// bcrypt, `$argon2id$`, `$6$` sha512-crypt, `$y$` yescrypt, `$scrypt$`, `$pbkdf2-…$`), Django
/// `pbkdf2_sha256$…`, LDAP `{SSHA}…`.
pub fn password_hash_kind(s: &str) -> Option<&'static str> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() == 60 && b.starts_with(b"$2") && b[3] == b'$' && b"abxy".contains(&b[2]) {
        return Some("bcrypt");
    }
    if s.starts_with("$argon2id$") || s.starts_with("$argon2i$") || s.starts_with("$argon2d$") {
        return Some("argon2");
    }
    if (s.starts_with("pbkdf2_sha256$")
        || s.starts_with("pbkdf2_sha1$")
        || s.starts_with("$pbkdf2"))
        && s.matches('$').count() >= 3
    {
        return Some("PBKDF2");
    }
    if s.starts_with("$scrypt$") || s.starts_with("scrypt:") {
        return Some("scrypt");
    }
    for (prefix, kind) in [
        ("$1$", "MD5-crypt"),
        ("$5$", "SHA256-crypt"),
        ("$6$", "SHA512-crypt"),
        ("$y$", "yescrypt"),
        ("$apr1$", "Apache MD5"),
        ("$sha1$", "SHA1-crypt"),
    ] {
        if s.starts_with(prefix) && s.len() > prefix.len() + 8 && s.matches('$').count() >= 3 {
            return Some(kind);
        }
    }
    // The portable PHP hashing framework (phpass: WordPress, phpBB) writes `$P$` or `$H$`, a
    // cost character and 30 characters of salt and hash; Drupal 7 writes `$S$` the same way
    // with 51.
    for (prefix, len, kind) in [
        ("$P$", 34, "phpass"),
        ("$H$", 34, "phpass"),
        ("$S$", 55, "Drupal 7"),
    ] {
        if s.len() == len
            && s.starts_with(prefix)
            && s[3..]
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'/')
        {
            return Some(kind);
        }
    }
    // SAP's salted hashes (USR02-PWDSALTEDHASH): `{x-issha, 1024}` or `{x-isSHA512, 15000, …}`
    // and base64.
    if s.len() > 24 && s[..5].eq_ignore_ascii_case("{x-is") && s.contains('}') {
        return Some("SAP salted hash");
    }
    for prefix in [
        "{SSHA}",
        "{SHA}",
        "{SSHA256}",
        "{SSHA512}",
        "{CRYPT}",
        "{MD5}",
        "{SMD5}",
    ] {
        if s.len() > prefix.len() + 8 && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
            return Some("LDAP hash");
        }
    }
    if (s.starts_with("sha1$") || s.starts_with("md5$") || s.starts_with("bcrypt_sha256$"))
        && s.matches('$').count() >= 2
    {
        return Some("Django hash");
    }
    None
}

/// A password hash in a recognised format (see [`password_hash_kind`]).
pub fn password_hash(s: &str) -> bool {
    password_hash_kind(s).is_some()
}

/// A bare hex digest of a common hash length (MD5 32, SHA-1 40, SHA-224 56, SHA-256 64, SHA-384
/// 96, SHA-512 128). Alone this says nothing about what was hashed: checksums look the same.
pub fn hex_digest(s: &str) -> bool {
    let b = s.trim().as_bytes();
    matches!(b.len(), 32 | 40 | 56 | 64 | 96 | 128)
        && b.iter().all(u8::is_ascii_hexdigit)
        && (b.iter().all(|c| !c.is_ascii_uppercase()) || b.iter().all(|c| !c.is_ascii_lowercase()))
}

/// A GTIN-13 / EAN-13 barcode number (thirteen digits with the GS1 check digit).
pub fn ean13(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 13 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..12]
        .iter()
        .enumerate()
        .map(|(i, &c)| u32::from(c - b'0') * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    (10 - sum % 10) % 10 == u32::from(b[12] - b'0')
}

/// A GB driving-licence number (DVLA): five surname characters, the encoded date of birth
/// (decade, month +50 for women, day, year), two initials, a digit and two check characters.
pub fn uk_driving_licence(s: &str) -> bool {
    let b = s.trim().as_bytes();
    if b.len() != 16 {
        return false;
    }
    let surname =
        b[..5].iter().all(|&c| c.is_ascii_uppercase() || c == b'9') && b[0].is_ascii_uppercase();
    if !surname || !b[5..11].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let month = u32::from(b[6] - b'0') * 10 + u32::from(b[7] - b'0');
    let day = u32::from(b[8] - b'0') * 10 + u32::from(b[9] - b'0');
    let month_ok = (1..=12).contains(&month) || (51..=62).contains(&month);
    month_ok
        && (1..=31).contains(&day)
        && b[11..13]
            .iter()
            .all(|&c| c.is_ascii_uppercase() || c == b'9')
        && b[13].is_ascii_digit()
        && b[14..].iter().all(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_cards_need_checksum_and_network() {
        assert!(luhn_card("4111 1111 1111 1111"));
        assert!(luhn_card("5555-5555-5555-4444"));
        assert!(luhn_card("378282246310005"));
        assert!(luhn_card("2223000048400011"));
        assert!(luhn_card("6011111111111117"));
        // Luhn-valid but no network has this prefix/length.
        assert!(luhn("1234567812345670"));
        assert!(!luhn_card("1234567812345670"));
        // A 16-digit order number that fails Luhn.
        assert!(!luhn_card("3056987412365470"));
        assert!(!luhn_card("4111 1111 1111 1112"));
        assert!(!luhn_card("4111-1111-abcd-1111"));
        assert!(!luhn_card("411111"));
    }

    #[test]
    fn iban_checks_country_length_and_mod97() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(iban("nl91abna0417164300"));
        assert!(iban("BE68 5390 0754 7034"));
        assert!(!iban("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban("DE8937040044053201300"));
        assert!(!iban("XX89370400440532013000"));
        assert!(!iban("hello world"));
    }

    #[test]
    fn ssn_follows_ssa_rules() {
        assert!(us_ssn("412-67-3198"));
        assert!(us_ssn("219 54 8817"));
        assert!(us_ssn("287561943"));
        assert!(!us_ssn("000-12-3456"));
        assert!(!us_ssn("666-12-3456"));
        assert!(!us_ssn("912-12-3456"));
        assert!(!us_ssn("123-00-3456"));
        assert!(!us_ssn("123-45-0000"));
        assert!(!us_ssn("078-05-1120"));
        assert!(!us_ssn("123-45 6789"));
        assert!(!us_ssn("12345678"));
    }

    #[test]
    fn vin_check_digit() {
        assert!(vin("1M8GDM9AXKP042788"));
        assert!(vin("11111111111111111"));
        assert!(vin_shape("WF0DXXGAKDLM38217"));
        assert!(!vin("1M8GDM9A1KP042788"));
        assert!(!vin("1M8GDM9AXKP04278"));
        assert!(!vin("IM8GDM9AXKP042788"));
    }

    #[test]
    fn nino_prefix_rules() {
        assert!(uk_nino("AB123456C"));
        assert!(uk_nino("ab 12 34 56 c"));
        assert!(!uk_nino("GB123456A"));
        assert!(!uk_nino("DA123456A"));
        assert!(!uk_nino("AB123456E"));
        assert!(!uk_nino("AB12345C"));
    }

    #[test]
    fn bsn_eleven_proof() {
        assert!(nl_bsn("111222333"));
        assert!(nl_bsn("583140725"));
        assert!(nl_bsn("12345672"));
        assert!(!nl_bsn("111222334"));
        assert!(!nl_bsn("000000000"));
        assert!(!nl_bsn("1112223333"));
        assert!(!nl_bsn("11122233a"));
    }

    #[test]
    fn ein_prefixes() {
        assert!(us_ein("46-3187205"));
        assert!(us_ein("27-4418093"));
        assert!(!us_ein("07-1234567"));
        assert!(!us_ein("89-1234567"));
        assert!(!us_ein("123456789"));
        assert!(!us_ein("12-345678"));
    }

    #[test]
    fn eu_vat_shapes() {
        assert!(eu_vat("GB296374815"));
        assert!(eu_vat("DE287410936"));
        assert!(eu_vat("FR61823409174"));
        assert!(eu_vat("NL847201563B07"));
        assert!(eu_vat("IT07412830156"));
        assert!(eu_vat("ATU12345678"));
        assert!(eu_vat("ESX1234567L"));
        assert!(!eu_vat("DE28741093"));
        assert!(!eu_vat("NL847201563C07"));
        assert!(!eu_vat("US123456789"));
        assert!(!eu_vat("DE89370400440532013000"));
    }

    #[test]
    fn aba_routing_checksum() {
        assert!(aba_routing("011000015"));
        assert!(aba_routing("021000021"));
        assert!(aba_routing("026009593"));
        assert!(!aba_routing("021000022"));
        assert!(!aba_routing("991000021"));
        assert!(!aba_routing("02100002"));
    }

    #[test]
    fn ip_addresses_and_versions() {
        assert!(ipv4("192.168.0.1"));
        assert!(ipv4("10.0.0.0/8"));
        assert!(!ipv4("256.1.1.1"));
        assert!(!ipv4("1.2.3"));
        assert!(!ipv4("01.2.3.4"));
        assert!(ipv6("2001:db8:7f3a::91c4"));
        assert!(ipv6("::1"));
        assert!(ipv6("fe80::1%eth0"));
        assert!(!ipv6("2001:db8:7f3a:::91c4"));
        assert!(!ipv6("12:30"));
        assert!(ip_address("2001:0db8:85a3:0042:1000:8a2e:0370:7334"));
    }

    #[test]
    fn mac_notations() {
        assert!(mac_address("7A:2F:C1:19:E2:07"));
        assert!(mac_address("7a-2f-c1-19-e2-07"));
        assert!(mac_address("00a1.4c2e.9f31"));
        assert!(mac_address("F0D5BF7A2C61"));
        assert!(mac_separated("00a1.4c2e.9f31"));
        assert!(!mac_separated("F0D5BF7A2C61"));
        assert!(!mac_address("7A:2F:C1:19:E2"));
        assert!(!mac_address("7A:2F-C1:19:E2:07"));
        assert!(!mac_address("123456789012"));
        assert!(!mac_address("GG:2F:C1:19:E2:07"));
    }

    #[test]
    fn icd10_codes() {
        assert!(icd10("Q21.1"));
        assert!(icd10("T78.40"));
        assert!(icd10("J45"));
        assert!(icd10("S72.001A"));
        assert!(!icd10("U09.9"));
        assert!(!icd10("q21.1"));
        assert!(!icd10("E03."));
        assert!(!icd10("1234"));
    }

    #[test]
    fn emails() {
        assert!(email("lotte.vermeulen@posteo.example"));
        assert!(email("front-desk@harbourline.example"));
        assert!(!email("not an email"));
        assert!(!email("a@b"));
        assert!(!email("a@@b.com"));
        assert!(!email("@example.com"));
        assert!(!email("john@example.c0m"));
    }

    #[test]
    fn uuids_and_tokens() {
        assert!(uuid("8c3f1e27-5b94-4d06-a2e1-7f90c4b3d58e"));
        assert!(!uuid("8c3f1e27-5b94-4d06-a2e1-7f90c4b3d58"));
        assert!(jwt(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
        ));
        assert!(!jwt("eyJhbGciOiJIUzI1NiJ9"));
        assert_eq!(
            api_key_kind("sk_live_51HxYzAbCdEfGhIjKlMn"),
            Some("Stripe secret key")
        );
        assert!(api_key("AKIAQ7RZ3TWX8LMNB2CD"));
        assert!(api_key("ghp_7fTqR2xLm9ZcV4bNk8WjH3sYd6PaE1uGo5Ki"));
        assert!(api_key("xoxb-637098568856-5167435281786-xfnlpkMrWYQpiK2J"));
        assert!(api_key("SG.b-EGI7w6xq2h39vNa0F6bI._jHH4E87NiGqes2LxafV1CS"));
        assert!(api_key("whsec_Pq4Lz8Vn2Rt6Xw0Mk3Hs7Jd1Fb5Gc9Ya"));
        assert!(api_key("-----BEGIN RSA PRIVATE KEY-----\nMIIE..."));
        assert!(!api_key("AKIA1234"));
        assert!(!api_key("sk_live"));
        assert!(!api_key("skipper"));
    }

    #[test]
    fn password_hashes_and_digests() {
        assert_eq!(
            password_hash_kind("$2b$12$Kx7Vq2mLr9TzP4wYb1NcOeH8sJd3FgA6uQvXn5ZkWp0iRt.yMlEoa"),
            Some("bcrypt")
        );
        assert!(password_hash(
            "$argon2id$v=19$m=65536,t=3,p=4$fGQNKAn+R0S0jh+jT394UA$TUS6FZ"
        ));
        assert!(password_hash(
            "pbkdf2_sha256$720000$CUFoBPehfGnCH1jQCaWI7I$7+4qpP1eComdR7cU"
        ));
        assert!(password_hash("$6$rounds=5000$saltsalt$hashhashhashhash"));
        assert!(!password_hash("$2b$12$short"));
        assert!(!password_hash("plain text"));
        assert!(hex_digest("9f4c2e71a08b3d56c7e1f2a4b9d06e38"));
        assert!(hex_digest("7c1e9a04d3b28f65e0c47a19d2b5f83e6a0c4d17"));
        assert!(!hex_digest("9f4c2e71a08b3d56c7e1f2a4b9d06e3"));
        assert!(!hex_digest("9F4c2e71a08b3d56c7e1f2a4b9d06e38"));
        assert!(!hex_digest("zf4c2e71a08b3d56c7e1f2a4b9d06e38"));
    }

    #[test]
    fn ean13_check_digit() {
        assert!(ean13("4006381333931"));
        assert!(ean13("5901234123457"));
        assert!(!ean13("4006381333932"));
        assert!(!ean13("400638133393"));
    }

    #[test]
    fn uk_driving_licences() {
        assert!(uk_driving_licence("HARTE606241JK8MN"));
        assert!(uk_driving_licence("MORGA753116SM9IJ"));
        assert!(!uk_driving_licence("HARTE696241JK8MN"));
        assert!(!uk_driving_licence("491027365"));
    }

    #[test]
    fn validators_are_listed_by_id() {
        assert!(by_id("luhn").is_some_and(|f| f("1234567812345670")));
        assert!(
            by_id("credit_card").is_some_and(|f| !f("1234567812345670") && f("4111111111111111"))
        );
        assert!(by_id("IBAN").is_some());
        assert!(by_id("nope").is_none());
        // National and tax identifiers are named by their registry id.
        assert!(by_id("pl_pesel").is_some_and(|f| f("44051401359") && !f("44051401358")));
        assert!(by_id("DE_TAX_ID").is_some());
        for (id, _) in VALIDATORS {
            assert!(by_id(id).is_some());
        }
    }
}
