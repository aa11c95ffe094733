//! Synthetic values for the labeled corpora (`domain/src/classification/corpora`): one small,
//! deterministic generator per value kind named in the corpus files. Its word lists and formats
//! are our own and independent of any evaluation set; identifiers carry valid check digits
//! (Luhn, mod 97, 11-proof, …) so validators see what real data holds.

/// A small deterministic generator (SplitMix64): the same corpus gives the same values on every
/// machine and run.
pub struct Rng(u64);

impl Rng {
    /// Seeded from a text (FNV-1a), e.g. `corpus.table.column`.
    pub fn seeded(text: &str) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(super) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    pub(super) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    fn chars_of(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| chars[self.below(chars.len() as u64) as usize])
            .collect()
    }
}

const HEX: &str = "0123456789abcdef";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

pub(super) fn first_names(locale: &str) -> &'static [&'static str] {
    match locale {
        "de" => &[
            "Jürgen", "Sabine", "Uwe", "Heike", "Torsten", "Kerstin", "Lukas", "Annika", "Dieter",
            "Ingrid", "Mathis", "Greta", "Volker", "Birgit", "Jannik", "Frauke",
        ],
        "fr" => &[
            "Amélie",
            "Thibault",
            "Océane",
            "Gaëtan",
            "Solène",
            "Baptiste",
            "Margaux",
            "Yannick",
            "Clémence",
            "Benoît",
            "Maëlle",
            "Régis",
            "Capucine",
            "Loïc",
        ],
        "es" => &[
            "Alejandro",
            "Lucía",
            "Javier",
            "Carmen",
            "Sergio",
            "Pilar",
            "Andrés",
            "Rocío",
            "Iñaki",
            "Nerea",
            "Guillermo",
            "Ainhoa",
            "Ramón",
            "Begoña",
        ],
        "pt" => &[
            "João",
            "Ana Clara",
            "Thiago",
            "Fernanda",
            "Rodrigo",
            "Juliana",
            "Matheus",
            "Luana",
            "Caio",
            "Beatriz",
            "Gustavo",
            "Raimunda",
            "Vinícius",
            "Tainá",
        ],
        "nl" => &[
            "Sanne", "Joost", "Femke", "Bram", "Lieke", "Thijs", "Marloes", "Wouter", "Ilse",
            "Gijs", "Anouk", "Sjoerd", "Noor", "Maarten",
        ],
        "en" => &[
            "Harold", "Brenda", "Clifford", "Tamara", "Dwayne", "Gloria", "Russell", "Wendy",
            "Travis", "Janice", "Clayton", "Megan", "Darnell", "Rosalind",
        ],
        _ => &[
            "Aiko",
            "Harold",
            "Sabine",
            "Lucía",
            "Thiago",
            "Femke",
            "Amélie",
            "Mehmet",
            "Priya",
            "Olumide",
            "Wendy",
            "Sven",
            "Katarzyna",
            "Dmitri",
            "Chiara",
            "Ravi",
        ],
    }
}

pub(super) fn last_names(locale: &str) -> &'static [&'static str] {
    match locale {
        "de" => &[
            "Brandt",
            "Küster",
            "Lehmann",
            "Vogt",
            "Seidel",
            "Brückner",
            "Haas",
            "Pohl",
            "Engel",
            "Voigt",
            "Ziegler",
            "Kuhn",
            "Thiele",
            "Günther",
        ],
        "fr" => &[
            "Lefèvre",
            "Garnier",
            "Chevalier",
            "Rousseau",
            "Faure",
            "Mercier",
            "Blanchard",
            "Gauthier",
            "Perrin",
            "Morel",
            "Girard",
            "Boyer",
        ],
        "es" => &[
            "Castillo", "Ortega", "Delgado", "Navarro", "Vázquez", "Serrano", "Ibáñez", "Molina",
            "Herrero", "Cabrera", "Fuentes", "Peña",
        ],
        "pt" => &[
            "Souza",
            "Carvalho",
            "Ribeiro",
            "Almeida",
            "Nascimento",
            "Araújo",
            "Barbosa",
            "Cardoso",
            "Teixeira",
            "Moreira",
            "Cavalcanti",
            "Rocha",
        ],
        "nl" => &[
            "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Dekker", "Jansen",
            "Hendriks", "Kuipers", "Brouwer",
        ],
        "en" => &[
            "Whitaker",
            "Holloway",
            "Barnes",
            "Fletcher",
            "Marsh",
            "Pritchard",
            "Coleman",
            "Draper",
            "Hughes",
            "Lawson",
            "Sutton",
            "Griffin",
        ],
        _ => &[
            "Whitaker",
            "Lehmann",
            "Ortega",
            "Souza",
            "Visser",
            "Faure",
            "Yilmaz",
            "Nakamura",
            "Okafor",
            "Kowalski",
            "Iyer",
            "Lindqvist",
            "Rossi",
            "Petrov",
        ],
    }
}

fn cities(locale: &str) -> &'static [&'static str] {
    match locale {
        "de" => &[
            "Bielefeld",
            "Kassel",
            "Rostock",
            "Augsburg",
            "Würzburg",
            "Göttingen",
            "Erfurt",
            "Osnabrück",
            "Regensburg",
            "Oldenburg",
        ],
        "fr" => &[
            "Besançon",
            "Limoges",
            "Angers",
            "Perpignan",
            "Clermont-Ferrand",
            "Brest",
            "Nancy",
            "Rouen",
            "Poitiers",
            "Annecy",
        ],
        "es" => &[
            "Albacete",
            "Valladolid",
            "Córdoba",
            "Santander",
            "Logroño",
            "Cáceres",
            "Almería",
            "Pamplona",
            "Huesca",
            "Vigo",
        ],
        "pt" => &[
            "Campinas",
            "Feira de Santana",
            "Londrina",
            "Juiz de Fora",
            "Caruaru",
            "Maringá",
            "Petrolina",
            "Uberlândia",
            "Sobral",
            "Joinville",
        ],
        "nl" => &[
            "Zwolle",
            "Apeldoorn",
            "Leeuwarden",
            "Amersfoort",
            "Venlo",
            "Deventer",
            "Helmond",
            "Alkmaar",
            "Assen",
            "Middelburg",
        ],
        "en" => &[
            "Springfield",
            "Fayetteville",
            "Bakersfield",
            "Tacoma",
            "Knoxville",
            "Spokane",
            "Akron",
            "Boise",
            "Dayton",
            "Savannah",
        ],
        _ => &[
            "Springfield",
            "Kassel",
            "Córdoba",
            "Campinas",
            "Zwolle",
            "Limoges",
            "Osaka",
            "Lagos",
            "Pune",
            "Gdańsk",
            "Uppsala",
            "Turin",
        ],
    }
}

fn street_words(locale: &str) -> (&'static [&'static str], &'static [&'static str], bool) {
    // (names, kinds, number first)
    match locale {
        "de" => (
            &[
                "Linden", "Birken", "Garten", "Mühlen", "Kirch", "Schul", "Berg", "Wiesen",
            ],
            &["straße", "weg", "allee", "gasse", "ring"],
            false,
        ),
        "fr" => (
            &[
                "de la Paix",
                "des Lilas",
                "du Moulin",
                "Victor Hugo",
                "des Écoles",
                "Pasteur",
            ],
            &["rue", "avenue", "boulevard", "impasse", "chemin"],
            true,
        ),
        "es" => (
            &[
                "Mayor",
                "del Prado",
                "de la Constitución",
                "San Isidro",
                "Real",
                "de los Olivos",
            ],
            &["Calle", "Avenida", "Paseo", "Plaza", "Camino"],
            false,
        ),
        "pt" => (
            &[
                "das Flores",
                "Sete de Setembro",
                "Dom Pedro II",
                "do Comércio",
                "Santos Dumont",
                "XV de Novembro",
            ],
            &["Rua", "Avenida", "Travessa", "Alameda"],
            false,
        ),
        "nl" => (
            &[
                "Linden", "Kerk", "Molen", "Beuken", "School", "Dorps", "Wilgen",
            ],
            &["straat", "laan", "weg", "gracht", "plein"],
            false,
        ),
        _ => (
            &[
                "Maple", "Oak", "Cedar", "Hillside", "Quarry", "Sunset", "Park", "Elm",
            ],
            &["Street", "Avenue", "Road", "Lane", "Drive", "Court"],
            true,
        ),
    }
}

fn street_name(r: &mut Rng, locale: &str) -> String {
    let (names, kinds, _) = street_words(locale);
    let (name, kind) = (r.pick(names), r.pick(kinds));
    match locale {
        "de" | "nl" => format!("{name}{kind}"),
        "fr" => format!("{kind} {name}"),
        "es" | "pt" => format!("{kind} {name}"),
        _ => format!("{name} {kind}"),
    }
}

fn street(r: &mut Rng, locale: &str) -> String {
    let locale = if locale == "mixed" {
        r.pick(&["en", "de", "fr", "es", "nl", "pt"])
    } else {
        locale
    };
    let name = street_name(r, locale);
    let n = r.range(1, 240);
    match locale {
        "fr" => format!("{n} {name}"),
        "es" => format!("{name}, {n}"),
        "pt" => format!("{name}, {n}"),
        "de" | "nl" => format!("{name} {n}"),
        _ => format!("{n} {name}"),
    }
}

fn postcode(r: &mut Rng, locale: &str) -> String {
    let locale = if locale == "mixed" {
        r.pick(&["us", "de", "fr", "gb", "nl", "br", "ca", "es"])
    } else {
        locale
    };
    match locale {
        "de" | "fr" | "es" | "mx" => format!("{:05}", r.range(1000, 99999)),
        "us" => {
            if r.chance(20) {
                format!("{:05}-{:04}", r.range(1000, 99999), r.below(10000))
            } else {
                format!("{:05}", r.range(1000, 99999))
            }
        }
        "nl" => format!(
            "{} {}",
            r.range(1000, 9999),
            r.chars_of("ABCEGHJKLMNPRSTVWXZ", 2)
        ),
        "br" => format!("{:05}-{:03}", r.range(1000, 99999), r.below(1000)),
        "gb" => format!(
            "{}{} {}{}",
            r.pick(&["SW", "NW", "LS", "M", "B", "EH", "CF", "BS"]),
            r.range(1, 19),
            r.below(10),
            r.chars_of("ABDEFGHJLNPQRSTUWXYZ", 2)
        ),
        "ca" => format!(
            "{}{}{} {}{}{}",
            r.chars_of("ABCEGHJKLMNPRSTVXY", 1),
            r.below(10),
            r.chars_of("ABCEGHJKLMNPRSTVWXYZ", 1),
            r.below(10),
            r.chars_of("ABCEGHJKLMNPRSTVWXYZ", 1),
            r.below(10)
        ),
        _ => format!("{:05}", r.range(1000, 99999)),
    }
}

pub(super) fn phone(r: &mut Rng, locale: &str) -> String {
    let locale = if locale == "mixed" {
        r.pick(&["us", "de", "fr", "gb", "nl", "br", "es", "it"])
    } else {
        locale
    };
    let intl = r.chance(40);
    match locale {
        "us" => {
            let (a, b, c) = (r.range(201, 989), r.range(200, 999), r.below(10000));
            if intl {
                format!("+1 {a} {b} {c:04}")
            } else {
                format!("({a}) {b}-{c:04}")
            }
        }
        "dotted" => format!(
            "{}.{}.{:04}",
            r.range(201, 989),
            r.range(200, 999),
            r.below(10000)
        ),
        "de" => {
            let area = r.pick(&["30", "40", "89", "221", "511", "371", "761", "151"]);
            let sub = r.digits(7);
            if intl {
                format!("+49 {area} {sub}")
            } else {
                format!("0{area} {sub}")
            }
        }
        "fr" => {
            let d = r.pick(&["1", "2", "3", "4", "5", "6", "7"]);
            let rest: Vec<String> = (0..4).map(|_| r.digits(2)).collect();
            if intl {
                format!("+33 {d} {}", rest.join(" "))
            } else {
                format!("0{d} {}", rest.join(" "))
            }
        }
        "gb" => {
            if intl {
                format!("+44 7{} {}", r.digits(3), r.digits(6))
            } else {
                format!("020 {} {}", r.digits(4), r.digits(4))
            }
        }
        "nl" => {
            if intl {
                format!("+31 6 {}", r.digits(8))
            } else {
                format!("06-{}", r.digits(8))
            }
        }
        "br" => {
            let ddd = r.range(11, 99);
            if intl {
                format!("+55 {ddd} 9{}-{}", r.digits(4), r.digits(4))
            } else {
                format!("({ddd}) 9{}-{}", r.digits(4), r.digits(4))
            }
        }
        "br_local" => format!("9{}{}", r.digits(4), r.digits(4)),
        "es" => {
            let first = r.pick(&["6", "7", "9"]);
            if intl {
                format!("+34 {first}{} {} {}", r.digits(2), r.digits(3), r.digits(3))
            } else {
                format!("{first}{} {} {}", r.digits(2), r.digits(3), r.digits(3))
            }
        }
        "mx" => format!("+52 {} {} {}", r.range(33, 99), r.digits(4), r.digits(4)),
        "it" => format!("+39 3{} {}", r.digits(2), r.digits(7)),
        _ => format!("+1 {} {}", r.digits(3), r.digits(7)),
    }
}

pub(super) fn full_name(r: &mut Rng, locale: &str) -> String {
    let first = r.pick(first_names(locale));
    let last = r.pick(last_names(locale));
    match locale {
        "es" | "pt" => format!("{first} {last} {}", r.pick(last_names(locale))),
        "nl" if r.chance(30) => format!(
            "{first} {} {last}",
            r.pick(&["de", "van", "van der", "van den"])
        ),
        _ => format!("{first} {last}"),
    }
}

fn ascii_lower(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = c.to_lowercase().next()?;
            Some(match c {
                'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'í' | 'ï' | 'î' => 'i',
                'ó' | 'ô' | 'õ' | 'ö' => 'o',
                'ú' | 'ü' | 'û' => 'u',
                'ç' => 'c',
                'ñ' => 'n',
                'ß' => 's',
                c if c.is_ascii_alphanumeric() => c,
                _ => return None,
            })
        })
        .collect()
}

pub(super) fn email(r: &mut Rng) -> String {
    let first = ascii_lower(r.pick(first_names("mixed")));
    let last = ascii_lower(r.pick(last_names("mixed")));
    let domain = r.pick(&[
        "mailbox.org",
        "example.net",
        "post.de",
        "correo.es",
        "webmail.fr",
        "provider.com.br",
        "postbus.example.nl",
        "outlook.example",
    ]);
    match r.below(3) {
        0 => format!("{first}.{last}@{domain}"),
        1 => format!("{}{last}{}@{domain}", &first[..1], r.below(100)),
        _ => format!("{last}_{first}@{domain}"),
    }
}

fn username(r: &mut Rng) -> String {
    let first = ascii_lower(r.pick(first_names("mixed")));
    let last = ascii_lower(r.pick(last_names("mixed")));
    match r.below(4) {
        0 => format!("{}{last}", &first[..1]),
        1 => format!("{first}.{last}"),
        2 => format!("{first}{}", r.below(1000)),
        _ => format!("{last}_{}", &first[..2.min(first.len())]),
    }
}

fn luhn_digit(body: &str) -> u32 {
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap_or(0);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

fn with_luhn(body: String) -> String {
    let d = luhn_digit(&body);
    format!("{body}{d}")
}

fn iban(r: &mut Rng) -> String {
    let (country, bban) = match r.below(5) {
        0 => ("DE", r.digits(18)),
        1 => ("FR", format!("{}{}", r.digits(21), r.digits(2))),
        2 => ("ES", r.digits(20)),
        3 => ("NL", format!("{}{}", r.chars_of(UPPER, 4), r.digits(10))),
        _ => ("BE", r.digits(12)),
    };
    let rearranged = format!("{bban}{country}00");
    let numeric: String = rearranged
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                c.to_string()
            } else {
                (c as u32 - 'A' as u32 + 10).to_string()
            }
        })
        .collect();
    let rem = numeric
        .chars()
        .fold(0u32, |acc, c| (acc * 10 + c.to_digit(10).unwrap_or(0)) % 97);
    let check = 98 - rem;
    let compact = format!("{country}{check:02}{bban}");
    compact
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn bsn(r: &mut Rng) -> String {
    loop {
        let body: Vec<u32> = (0..8).map(|_| r.below(10) as u32).collect();
        let sum: u32 = body
            .iter()
            .enumerate()
            .map(|(i, d)| d * (9 - i as u32))
            .sum();
        let last = sum % 11;
        if last < 10 && body[0] != 0 {
            let s: String = body.iter().map(|d| char::from(b'0' + *d as u8)).collect();
            return format!("{s}{last}");
        }
    }
}

pub(super) fn cpf(r: &mut Rng) -> String {
    let mut d: Vec<u32> = (0..9).map(|_| r.below(10) as u32).collect();
    for len in [9usize, 10] {
        let sum: u32 = d
            .iter()
            .enumerate()
            .map(|(i, x)| x * (len as u32 + 1 - i as u32))
            .sum();
        let rem = (sum * 10) % 11;
        d.push(if rem == 10 { 0 } else { rem });
    }
    let s: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
    format!("{}.{}.{}-{}", &s[0..3], &s[3..6], &s[6..9], &s[9..11])
}

fn pis(r: &mut Rng) -> String {
    let weights = [3u32, 2, 9, 8, 7, 6, 5, 4, 3, 2];
    loop {
        let d: Vec<u32> = (0..10).map(|_| r.below(10) as u32).collect();
        let sum: u32 = d.iter().zip(weights).map(|(a, w)| a * w).sum();
        let check = 11 - sum % 11;
        let check = if check >= 10 { 0 } else { check };
        let s: String = d.iter().map(|x| char::from(b'0' + *x as u8)).collect();
        if d[0] != 0 {
            return format!("{}.{}.{}-{check}", &s[0..3], &s[3..8], &s[8..10]);
        }
    }
}

fn cns(r: &mut Rng) -> String {
    // Definitive card numbers start with 1 or 2: 11-digit PIS part, then "000"/"001" and a
    // mod-11 check; retried until no adjustment is needed.
    loop {
        let pis: String = format!("{}{}", r.range(1, 2), r.digits(10));
        let sum: u32 = pis
            .chars()
            .enumerate()
            .map(|(i, c)| c.to_digit(10).unwrap_or(0) * (15 - i as u32))
            .sum();
        let dv = 11 - sum % 11;
        if dv == 11 {
            return format!("{pis}0000");
        }
        if dv < 10 {
            return format!("{pis}000{dv}");
        }
    }
}

pub(super) fn dni(r: &mut Rng) -> String {
    const LETTERS: &[u8] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let n = r.range(1_000_000, 99_999_999);
    format!("{n:08}{}", char::from(LETTERS[(n % 23) as usize]))
}

fn cif(r: &mut Rng) -> String {
    let letter = r.pick(&["A", "B", "B", "G"]);
    let digits = r.digits(7);
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    let even: u32 = d.iter().skip(1).step_by(2).sum();
    let odd: u32 = d
        .iter()
        .step_by(2)
        .map(|x| {
            let y = x * 2;
            y / 10 + y % 10
        })
        .sum();
    let check = (10 - (even + odd) % 10) % 10;
    format!("{letter}{digits}{check}")
}

fn curp(r: &mut Rng) -> String {
    const DICT: &str = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ";
    let body = format!(
        "{}{}{}{:02}{:02}{:02}{}{}{}",
        r.chars_of("BCDFGHLMPRSTV", 1),
        r.chars_of("AEIOU", 1),
        r.chars_of("BCDFGHLMPRSTV", 2),
        r.range(40, 99),
        r.range(1, 12),
        r.range(1, 28),
        r.pick(&["H", "M"]),
        r.pick(&["DF", "JC", "NL", "PL", "VZ", "GT", "MC"]),
        r.chars_of("BCDFGHLMNPRSTVZ", 3),
    );
    let body = format!("{body}{}", r.below(10));
    let sum: usize = body
        .chars()
        .enumerate()
        .map(|(i, c)| DICT.chars().position(|x| x == c).unwrap_or(0) * (18 - i))
        .sum();
    let check = (10 - sum % 10) % 10;
    format!("{body}{check}")
}

fn rfc(r: &mut Rng) -> String {
    // Person RFC: four letters, YYMMDD, two homonym characters, and the SAT mod-11 check
    // character over weights 13..2 (digits 0–9, A–N 10–23, & 24, O–Z 25–36).
    let body = format!(
        "{}{:02}{:02}{:02}{}",
        r.chars_of(UPPER, 4),
        r.range(40, 99),
        r.range(1, 12),
        r.range(1, 28),
        r.chars_of("ABCDEFGHJKLMNPQRSTUVWXYZ123456789", 2)
    );
    let value = |c: char| -> u32 {
        match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='N' => c as u32 - 'A' as u32 + 10,
            '&' => 24,
            'O'..='Z' => c as u32 - 'O' as u32 + 25,
            _ => 37,
        }
    };
    let sum: u32 = body
        .chars()
        .enumerate()
        .map(|(i, c)| value(c) * (13 - i as u32))
        .sum();
    let check = match (11 - sum % 11) % 11 {
        10 => 'A',
        d => char::from(b'0' + d as u8),
    };
    format!("{body}{check}")
}

fn nss_mx(r: &mut Rng) -> String {
    with_luhn(format!(
        "{:02}{:02}{:02}{}",
        r.range(1, 99),
        r.range(60, 99),
        r.range(40, 99),
        r.digits(4)
    ))
}

fn siren(r: &mut Rng) -> String {
    with_luhn(format!("{}{}", r.range(1, 9), r.digits(7)))
}

fn vat_fr(r: &mut Rng) -> String {
    let s = siren(r);
    let n: u64 = s.parse().unwrap_or(0);
    format!("FR{:02}{s}", (12 + 3 * (n % 97)) % 97)
}

fn vat_de(r: &mut Rng) -> String {
    // ISO 7064 MOD 11,10 over eight digits.
    let body = format!("{}{}", r.range(1, 9), r.digits(7));
    let mut product = 10u32;
    for c in body.chars() {
        let mut sum = (c.to_digit(10).unwrap_or(0) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (2 * sum) % 11;
    }
    let check = (11 - product) % 10;
    format!("DE{body}{check}")
}

fn svnr_de(r: &mut Rng) -> String {
    // area (2) + birth date DDMMYY + initial letter + serial (2) + check digit.
    let letter = r.chars_of("ABDEGHKLMNPRSTW", 1);
    let body = format!(
        "{:02}{:02}{:02}{:02}",
        r.range(10, 89),
        r.range(1, 28),
        r.range(1, 12),
        r.range(40, 99)
    );
    let serial = format!("{:02}", r.range(0, 49));
    let letter_value = letter
        .chars()
        .next()
        .map_or(1, |c| c as u32 - 'A' as u32 + 1);
    let digits: Vec<u32> = format!("{body}{letter_value:02}{serial}")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let weights = [2u32, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(d, w)| {
            let p = d * w;
            p / 10 + p % 10
        })
        .sum();
    format!("{body}{letter}{serial}{}", sum % 10)
}

fn kvnr(r: &mut Rng) -> String {
    let letter = r.chars_of(UPPER, 1);
    let value = letter
        .chars()
        .next()
        .map_or(1, |c| c as u32 - 'A' as u32 + 1);
    let body = r.digits(8);
    let digits: Vec<u32> = format!("{value:02}{body}")
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let p = d * if i % 2 == 0 { 1 } else { 2 };
            p / 10 + p % 10
        })
        .sum();
    format!("{letter}{body}{}", sum % 10)
}

pub(super) fn ssn(r: &mut Rng) -> String {
    let area = loop {
        let a = r.range(1, 899);
        if a != 666 {
            break a;
        }
    };
    format!("{area:03}-{:02}-{:04}", r.range(1, 99), r.range(1, 9999))
}

fn passport(r: &mut Rng) -> String {
    match r.below(4) {
        0 => r.digits(9),
        1 => format!("{}{}", r.chars_of("CFGHJKLMNPRTVWXYZ", 2), r.digits(7)),
        2 => format!("{}{}", r.chars_of(UPPER, 2), r.digits(7)),
        _ => format!(
            "{}{}",
            r.chars_of("CFGHJK", 1),
            r.chars_of("CFGHJKLMNPRTVWXYZ0123456789", 8)
        ),
    }
}

fn date(r: &mut Rng, from_year: u64, to_year: u64) -> (u64, u64, u64) {
    (r.range(from_year, to_year), r.range(1, 12), r.range(1, 28))
}

fn icd10(r: &mut Rng) -> String {
    format!(
        "{}{:02}.{}",
        r.chars_of("ABCDEFGIJKLMNORST", 1),
        r.range(0, 99),
        r.below(10)
    )
}

fn sentence(r: &mut Rng, lang: &str) -> String {
    let (subjects, verbs, objects): (&[&str], &[&str], &[&str]) = match lang {
        "de" => (
            &[
                "Die Lieferung",
                "Der Auftrag",
                "Das Angebot",
                "Die Rechnung",
            ],
            &[
                "wurde geprüft",
                "ist unterwegs",
                "wartet auf Freigabe",
                "wurde angepasst",
            ],
            &[
                "laut Vereinbarung.",
                "bis Monatsende.",
                "nach Rücksprache.",
                "im Lager.",
            ],
        ),
        "fr" => (
            &["La commande", "Le devis", "La livraison", "Le dossier"],
            &[
                "a été validé",
                "est en attente",
                "sera expédié",
                "a été modifié",
            ],
            &[
                "selon le contrat.",
                "avant la fin du mois.",
                "après relance.",
                "par le service achats.",
            ],
        ),
        "es" => (
            &["El pedido", "La factura", "El presupuesto", "El envío"],
            &[
                "fue revisado",
                "está pendiente",
                "se enviará",
                "fue modificado",
            ],
            &[
                "según lo acordado.",
                "antes de fin de mes.",
                "tras la llamada.",
                "desde el almacén.",
            ],
        ),
        "nl" => (
            &["De bestelling", "Het verzoek", "De factuur", "De melding"],
            &[
                "is verwerkt",
                "staat open",
                "wordt verzonden",
                "is aangepast",
            ],
            &[
                "volgens afspraak.",
                "voor het einde van de maand.",
                "na overleg.",
                "door de afdeling.",
            ],
        ),
        _ => (
            &[
                "The shipment",
                "This item",
                "The request",
                "The invoice",
                "Our team",
            ],
            &[
                "was reviewed",
                "is pending",
                "will ship",
                "was updated",
                "needs approval",
            ],
            &[
                "as agreed.",
                "before month end.",
                "after the call.",
                "from the warehouse.",
                "per the contract.",
            ],
        ),
    };
    format!("{} {} {}", r.pick(subjects), r.pick(verbs), r.pick(objects))
}

fn hex(r: &mut Rng, n: usize) -> String {
    r.chars_of(HEX, n)
}

/// One value of a kind (`email`, `postcode:de`, …). Unknown kinds give `None` so a corpus
/// with a typo fails its test rather than silently measuring nothing.
pub fn value(kind: &str, r: &mut Rng, row: u64) -> Option<String> {
    let (kind, locale) = kind.split_once(':').unwrap_or((kind, "mixed"));
    Some(match kind {
        "seq" => (row + 1).to_string(),
        "int" => r.range(1, 5000).to_string(),
        "small_int" => r.range(0, 40).to_string(),
        "digit1" => r.range(1, 9).to_string(),
        "digits2" => r.digits(2),
        "digits3" => r.digits(3),
        "digits4" => r.digits(4),
        "digits5" => format!("{}", r.range(10000, 99999)),
        "digits6" => r.digits(6),
        "digits7" => r.digits(7),
        "digits8" => r.digits(8),
        "digits9" => r.digits(9),
        "digits10" => r.digits(10),
        "year" => r.range(1995, 2025).to_string(),
        "month" => r.range(1, 12).to_string(),
        "age" => r.range(0, 95).to_string(),
        "age_code" => format!("4{:03}", r.range(0, 95)),
        "birth_year" => r.range(1930, 2015).to_string(),
        "money" => format!("{}.{:02}", r.range(0, 2500), r.below(100)),
        "salary" => format!("{}", r.range(1800, 12000) * 10),
        "decimal" => format!("{}.{}", r.range(0, 300), r.below(1000)),
        "ratio" => format!("0.{:02}", r.below(100)),
        "bool" => (if r.chance(50) { "true" } else { "false" }).into(),
        "flag01" => r.below(2).to_string(),
        "yes_no_code" => r.pick(&["1", "2", "2", "2", "97", "99"]).into(),
        "epoch" => r.range(1_500_000_000, 1_750_000_000).to_string(),
        "date" => {
            let (y, m, d) = date(r, 2005, 2025);
            format!("{y}-{m:02}-{d:02}")
        }
        "datetime" => {
            let (y, m, d) = date(r, 2005, 2025);
            format!(
                "{y}-{m:02}-{d:02} {:02}:{:02}:{:02}",
                r.below(24),
                r.below(60),
                r.below(60)
            )
        }
        "datetime_compact" => {
            let (y, m, d) = date(r, 2015, 2025);
            format!("{y}{m:02}{d:02}{:02}{:02}", r.below(24), r.below(60))
        }
        "date_yyyymmdd" => {
            let (y, m, d) = date(r, 2000, 2025);
            format!("{y}{m:02}{d:02}")
        }
        "date_ddmmyyyy" => {
            let (y, m, d) = date(r, 2010, 2025);
            format!("{d:02}{m:02}{y}")
        }
        "time" => format!("{:02}:{:02}:00", r.below(24), r.below(60)),
        "dob" => {
            let (y, m, d) = date(r, 1935, 2006);
            format!("{y}-{m:02}-{d:02}")
        }
        "dob_ts" => {
            let (y, m, d) = date(r, 1945, 2002);
            format!("{y}-{m:02}-{d:02} 00:00:00")
        }
        "dob_yyyymmdd" => {
            let (y, m, d) = date(r, 1935, 2006);
            format!("{y}{m:02}{d:02}")
        }
        "dob_ddmmyyyy" => {
            let (y, m, d) = date(r, 1920, 2010);
            format!("{d:02}{m:02}{y}")
        }
        "first_name" => r.pick(first_names(locale)).into(),
        "last_name" => r.pick(last_names(locale)).into(),
        "full_name" => full_name(r, locale),
        "initial" => r.chars_of("ABCDEFGHJKLMNPRSTW", 1),
        "initials" => {
            let n = r.range(1, 3) as usize;
            (0..n)
                .map(|_| format!("{}.", r.chars_of("ABCDEFGHJKLMNPRSTW", 1)))
                .collect()
        }
        "name_prefix" | "name_prefix_nl" => r
            .pick(&["van", "de", "van der", "van den", "ter", "den"])
            .into(),
        "courtesy" => r.pick(&["Mr.", "Ms.", "Mrs.", "Dr."]).into(),
        "courtesy_nl" => r.pick(&["Geachte heer", "Geachte mevrouw", "Beste"]).into(),
        "civility_fr" => r.pick(&["MR", "MME", "MLE"]).into(),
        "anrede_de" => r.pick(&["herr", "frau", "firma"]).into(),
        "academic_title" => r.pick(&["Dr.", "Prof. Dr.", "Dipl.-Ing.", ""]).into(),
        "city" => r.pick(cities(locale)).into(),
        "region" => match locale {
            "es" => r
                .pick(&[
                    "Castilla y León",
                    "Andalucía",
                    "Galicia",
                    "Aragón",
                    "Navarra",
                ])
                .into(),
            _ => r
                .pick(&[
                    "Ohio",
                    "Oregon",
                    "Quebec",
                    "Bavaria",
                    "Ontario",
                    "Texas",
                    "Queensland",
                ])
                .into(),
        },
        "uf_br" => r
            .pick(&["SP", "RJ", "MG", "BA", "PE", "CE", "PR", "RS"])
            .into(),
        "country" => r
            .pick(&[
                "Germany", "Brazil", "Canada", "France", "Spain", "Japan", "Kenya", "Poland",
            ])
            .into(),
        "country_es" => r
            .pick(&[
                "México",
                "Guatemala",
                "Colombia",
                "España",
                "Honduras",
                "Estados Unidos",
            ])
            .into(),
        "country_nl" => r
            .pick(&[
                "Nederland",
                "België",
                "Duitsland",
                "Marokko",
                "Turkije",
                "Suriname",
            ])
            .into(),
        "country_code" => r
            .pick(&["DE", "FR", "NL", "ES", "BR", "US", "PL", "IT"])
            .into(),
        "country_code3" => r.pick(&["ESP", "FRA", "PRT", "MEX", "ARG", "DEU"]).into(),
        "street" => street(r, locale),
        "street_name" => street_name(r, locale),
        "street2" => r
            .pick(&[
                "Apt 4B",
                "Suite 210",
                "2º izq.",
                "Bâtiment C",
                "Hinterhaus",
                "Bloco 3",
            ])
            .into(),
        "house_no" => r.range(1, 220).to_string(),
        "postcode" => postcode(r, locale),
        "latlon" => format!(
            "POINT({:.6} {:.6})",
            r.below(360_000_000) as f64 / 1e6 - 180.0,
            r.below(180_000_000) as f64 / 1e6 - 90.0
        ),
        "lat" => format!("{:.6}", r.below(180_000_000) as f64 / 1e6 - 90.0),
        "lon" => format!("{:.6}", r.below(360_000_000) as f64 / 1e6 - 180.0),
        "phone" => phone(r, locale),
        "extension" => r.range(100, 9999).to_string(),
        "email" => email(r),
        "email_handle" => ascii_lower(&format!(
            "{}{}",
            &r.pick(first_names("en"))[..1],
            r.pick(last_names("en"))
        ))
        .to_uppercase(),
        "username" => username(r),
        "username_upper" => username(r)
            .replace(['.', '_'], "")
            .to_uppercase()
            .chars()
            .take(12)
            .collect(),
        "domain_login" => format!("corp\\{}", username(r)),
        "slug_name" => username(r).replace(['.', '_'], "-"),
        "system_id" => format!("{}-{}", r.range(1, 9999), r.below(10)),
        "company" => format!(
            "{} {}",
            r.pick(&[
                "Northgate",
                "Bluefin",
                "Apex",
                "Riverside",
                "Summit",
                "Ironwood",
                "Crescent"
            ]),
            r.pick(&[
                "Traders",
                "Supply Co.",
                "Logistics",
                "Industries",
                "Partners"
            ])
        ),
        "company_de" => format!(
            "{} {}",
            r.pick(&["Nordlicht", "Feldmann", "Rheintal", "Alpen", "Hanse"]),
            r.pick(&["GmbH", "AG", "KG", "GmbH & Co. KG"])
        ),
        "company_fr" => format!(
            "{} {}",
            r.pick(&["Atelier", "Compagnie", "Maison", "Groupe"]),
            r.pick(&["Durance", "Beaulieu", "Armor", "Vauban"])
        ),
        "company_es" => format!(
            "{} {}",
            r.pick(&[
                "Distribuciones",
                "Talleres",
                "Suministros",
                "Construcciones"
            ]),
            r.pick(&["Ebro S.L.", "Levante S.A.", "Atlántico S.L.", "Sierra S.A."])
        ),
        "company_nl" => format!(
            "{} {}",
            r.pick(&["Polder", "Duin", "Zuidwal", "Groenhof"]),
            r.pick(&["B.V.", "Holding B.V.", "V.O.F."])
        ),
        "job_title" => r
            .pick(&[
                "Sales Manager",
                "Accountant",
                "Warehouse Clerk",
                "Buyer",
                "Engineer",
                "Analyst",
            ])
            .into(),
        "job_title_fr" => r
            .pick(&[
                "Comptable",
                "Responsable achats",
                "Technicien",
                "Assistante de direction",
            ])
            .into(),
        "job_title_es" => r
            .pick(&["Contable", "Jefe de compras", "Técnico", "Administrativo"])
            .into(),
        "job_title_nl" => r
            .pick(&["Boekhouder", "Inkoper", "Adviseur", "Projectleider"])
            .into(),
        "title" => format!(
            "{} {}",
            r.pick(&["Silent", "Golden", "Northern", "Broken", "Velvet", "Hidden"]),
            r.pick(&["Harbor", "Orchard", "Signal", "Lantern", "Meadow", "Engine"])
        ),
        "word" => r
            .pick(&[
                "standard", "premium", "basic", "archived", "default", "other", "primary",
            ])
            .into(),
        "word_code" => r.pick(&["EM", "IN", "SC", "VC", "GC", "SP"]).into(),
        "word_de" => r
            .pick(&["Vertrieb", "Einkauf", "Lager", "Verwaltung", "Technik"])
            .into(),
        "word_es" => r
            .pick(&["general", "exento", "recargo", "nif", "otro"])
            .into(),
        "word_nl" => r
            .pick(&["telefoon", "balie", "internet", "post", "klant", "gemeente"])
            .into(),
        "sentence" => sentence(r, "en"),
        "note_pii" => super::corpus_text::note(r, locale, 55),
        "note_plain" => super::corpus_text::note(r, locale, 0),
        "product_text" => super::corpus_text::product(r),
        "review_text" => super::corpus_text::review(r),
        "log_line" => super::corpus_text::log_line(r),
        "sentence_de" => sentence(r, "de"),
        "sentence_fr" => sentence(r, "fr"),
        "sentence_es" => sentence(r, "es"),
        "sentence_nl" => sentence(r, "nl"),
        "status" => r
            .pick(&["publish", "draft", "pending", "private", "trash"])
            .into(),
        "meta_key" => r
            .pick(&[
                "nickname",
                "rich_editing",
                "show_admin_bar",
                "locale",
                "session_tokens_count",
            ])
            .into(),
        "morphy" => r.pick(&["phy", "mor"]).into(),
        "lang" => r
            .pick(&["en_US", "fr_FR", "de_DE", "es_ES", "pt_BR", "nl_NL"])
            .into(),
        "lang_code" => r.pick(&["D", "E", "F", "S"]).into(),
        "timezone" => r
            .pick(&[
                "Europe/Berlin",
                "America/Chicago",
                "Europe/Madrid",
                "America/Sao_Paulo",
                "UTC",
            ])
            .into(),
        "letter" => r.chars_of("ABCDEFGHKLMNPRST", 1),
        "letters2" => r.chars_of(UPPER, 2),
        "letters3" => r.chars_of(UPPER, 3),
        "letters4" => r.chars_of(UPPER, 4),
        "code" => format!("{}{}", r.chars_of(UPPER, 2), r.digits(4)),
        "account_code" => format!("AW{}", r.digits(8)),
        "po_number" => format!("PO{}", r.digits(11)),
        "invoice_no" => format!("INV/{}/{:05}", r.range(2018, 2025), r.range(1, 99999)),
        "case_no" => format!("{}{}", r.range(2019, 2025), r.digits(6)),
        "badge" => r.digits(13),
        "ean" => with_luhn_ean(r),
        "side_code" => r.pick(&["L", "R", "B", ""]).into(),
        "hex6" => hex(r, 6),
        "hex16" => hex(r, 16).to_uppercase(),
        "sha1" => hex(r, 40),
        "md5" => hex(r, 32),
        "sha512" => hex(r, 128),
        "uuid" => format!(
            "{}-{}-4{}-a{}-{}",
            hex(r, 8),
            hex(r, 4),
            hex(r, 3),
            hex(r, 3),
            hex(r, 12)
        ),
        "base64_hash" => format!("{}=", r.chars_of(B64, 43)),
        "base64_salt" => format!("{}=", r.chars_of(B64, 7)),
        "bcrypt" => format!("$2y$10${}", r.chars_of(&format!("{ALNUM}./"), 53)),
        "phpass" => format!("$P$B{}", r.chars_of(&format!("{ALNUM}./"), 30)),
        "drupal_hash" => format!("$S$E{}", r.chars_of(&format!("{ALNUM}./"), 51)),
        "pbkdf2" => format!(
            "$pbkdf2-sha512$25000${}${}",
            r.chars_of(&format!("{ALNUM}./"), 22),
            r.chars_of(&format!("{ALNUM}./"), 86)
        ),
        "ssha" => format!("{{x-issha, 1024}}{}", r.chars_of(B64, 40)),
        "password_plain" => format!(
            "{}{}{}",
            r.pick(&["Sommer", "blue", "Maracuja", "winter", "Tiger", "soleil"]),
            r.range(1, 2024),
            r.pick(&["!", "#", "", "?"])
        ),
        "pin" => r.digits(4),
        "token_hex" => hex(r, 40),
        "token_b64" => r.chars_of(&format!("{ALNUM}-_"), 43),
        "token_alnum" => r.chars_of(ALNUM, 32),
        "base32" => r.chars_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 32),
        "json" => format!(
            "{{\"cart\":{},\"step\":\"{}\"}}",
            r.below(9),
            r.pick(&["pay", "ship", "review"])
        ),
        "xml" => format!(
            "<IndividualSurvey><TotalPurchaseYTD>{}</TotalPurchaseYTD></IndividualSurvey>",
            r.below(9000)
        ),
        "html_sig" => format!(
            "<p>--<br>{}</p>",
            r.pick(&["Kind regards", "Best", "Cordialement", "Saludos"])
        ),
        "url" => format!(
            "https://www.{}.example/{}",
            r.pick(&["northgate", "bluefin", "apexsupply", "riverside"]),
            r.pick(&["", "contact", "about", "p/123"])
        ),
        "user_agent" => format!(
            "Mozilla/5.0 ({}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0 Safari/537.36",
            r.pick(&[
                "Windows NT 10.0; Win64; x64",
                "X11; Linux x86_64",
                "Macintosh; Intel Mac OS X 10_15_7"
            ]),
            r.range(90, 130)
        ),
        "mime" => r
            .pick(&["image/jpeg", "application/pdf", "image/png", ""])
            .into(),
        "slug" => r
            .pick(&[
                "hello-world",
                "about-us",
                "summer-sale",
                "contact",
                "news-2024",
            ])
            .into(),
        "color_hex" => hex(r, 6),
        "blob" => format!("\\x{}", hex(r, 64)),
        "ip" => {
            if r.chance(15) {
                format!("2001:db8:{}::{}", hex(r, 4), hex(r, 4))
            } else {
                format!(
                    "{}.{}.{}.{}",
                    r.range(11, 223),
                    r.below(256),
                    r.below(256),
                    r.range(1, 254)
                )
            }
        }
        "gender_mf" => r.pick(&["M", "F"]).into(),
        "gender_mfi" => r.pick(&["M", "F", "I"]).into(),
        "gender_12" => r.pick(&["1", "2"]).into(),
        "gender_01" => r.pick(&["0", "1"]).into(),
        "gender_mvo" => r.pick(&["M", "V", "O"]).into(),
        "gender_mwdx" => r.pick(&["m", "w", "d", "x"]).into(),
        "gender_word" => r.pick(&["male", "female", "other"]).into(),
        "gender_word_fr" => r.pick(&["man", "woman"]).into(),
        "marital_code" => r.pick(&["M", "S"]).into(),
        "marital_word" => r
            .pick(&["single", "married", "divorced", "widower", "cohabitant"])
            .into(),
        "religion_code_de" => r.pick(&["RK", "EV", "--", "IS", "AK", "JD"]).into(),
        "religion_es" => r
            .pick(&[
                "Católica",
                "Ninguna",
                "Evangélica",
                "Testigo de Jehová",
                "Judía",
            ])
            .into(),
        "ethnicity_code" => r.pick(&["1", "2", "3", "4", "5", "6", "9"]).into(),
        "race_code_br" => r.pick(&["1", "2", "3", "4", "5", "9"]).into(),
        "race_word_pt" => r
            .pick(&["Branca", "Preta", "Parda", "Amarela", "Indígena"])
            .into(),
        "ethnicity_word_pt" => r
            .pick(&[
                "Guarani", "Tikuna", "Kaingang", "Yanomami", "Terena", "Pataxó",
            ])
            .into(),
        "diagnosis" => r
            .pick(&[
                "Type 2 diabetes mellitus",
                "Essential hypertension",
                "Asthma",
                "Major depressive disorder",
                "Chronic kidney disease",
                "Pulmonary tuberculosis",
            ])
            .into(),
        "diagnosis_pt" => r
            .pick(&[
                "Diabetes mellitus tipo 2",
                "Hipertensão arterial",
                "Asma",
                "Tuberculose pulmonar",
                "Hanseníase",
                "Doença renal crônica",
            ])
            .into(),
        "diagnosis_es" => r
            .pick(&[
                "Diabetes mellitus tipo 2",
                "Hipertensión arterial",
                "Asma bronquial",
                "Insuficiencia renal crónica",
                "Neumonía",
                "Depresión mayor",
            ])
            .into(),
        "clinical_note" => format!(
            "{} {}",
            r.pick(&["Patient reports", "Known history of", "Follow-up for"]),
            r.pick(&[
                "type 2 diabetes.",
                "hypertension, on medication.",
                "asthma since childhood.",
                "chronic back pain."
            ])
        ),
        "icd10" => icd10(r),
        "icd10_compact" => icd10(r).replace('.', ""),
        "icd10_starred" => format!("*{}", icd10(r).replace('.', "")),
        "ops_code" => format!(
            "{}-{}{}.{}",
            r.range(1, 9),
            r.digits(2),
            r.chars_of("0123456789abcdef", 1),
            r.digits(1)
        ),
        "mrn" => format!("{}{}", r.pick(&["MRN", "", "P", "HC-"]), r.digits(8)),
        "ssn" => ssn(r),
        "ssn_digits" => ssn(r).replace('-', ""),
        "sin_ca" => {
            let s = with_luhn(format!("{}{}", r.range(1, 7), r.digits(7)));
            format!("{} {} {}", &s[0..3], &s[3..6], &s[6..9])
        }
        "national_id_mixed" => match r.below(4) {
            0 => bsn(r),
            1 => dni(r),
            2 => ssn(r),
            _ => cpf(r),
        },
        "bsn" => bsn(r),
        "cpf" => cpf(r),
        "pis" => pis(r),
        "cns" => cns(r),
        "rg_br" => format!(
            "{}.{}.{}-{}",
            r.digits(2),
            r.digits(3),
            r.digits(3),
            r.chars_of("0123456789X", 1)
        ),
        "dni" => dni(r),
        "cif_es" => cif(r),
        "curp" => curp(r),
        "rfc" => rfc(r),
        "nss_mx" => nss_mx(r),
        "siren" => siren(r),
        "siret" => with_luhn(format!("{}{}", siren(r), r.digits(4))),
        "ape" => format!(
            "{}{}",
            r.digits(4),
            r.chars_of("ABCDEFGHJKLMNPQRSTUVWXYZ", 1)
        ),
        "vat" => {
            if r.chance(50) {
                vat_de(r)
            } else {
                vat_fr(r)
            }
        }
        "vat_de" => vat_de(r),
        "vat_fr" => vat_fr(r),
        "steuernummer_de" => format!("{}/{}/{}", r.digits(2), r.digits(3), r.digits(5)),
        "svnr_de" => svnr_de(r),
        "kvnr" => kvnr(r),
        "passport" => passport(r),
        "iban" => iban(r),
        "iban_compact" => iban(r).replace(' ', ""),
        "bic" => format!(
            "{}{}{}",
            r.chars_of(UPPER, 4),
            r.pick(&["DE", "FR", "ES", "NL", "BE"]),
            r.chars_of("ABCDEFGHJKLMNPRSTUVWXYZ23456789", 2)
        ),
        "blz" => format!("{}{}", r.range(1, 8), r.digits(7)),
        "account_de" => format!("{}", r.range(1_000_000, 9_999_999_999)),
        "account_fr" => format!("{}{}", r.digits(10), r.chars_of(UPPER, 1)),
        "digits5_bank" => r.digits(5),
        "credit_card" => {
            let prefix = r.pick(&["4", "51", "53", "37", "6011"]);
            let len = if prefix == "37" { 15 } else { 16 };
            with_luhn(format!("{prefix}{}", r.digits(len - 1 - prefix.len())))
        }
        "card_brand" => r
            .pick(&["Vista", "SuperiorCard", "Distinguish", "ColonialVoice"])
            .into(),
        _ => return None,
    })
}

fn with_luhn_ean(r: &mut Rng) -> String {
    let body = format!(
        "{}{}",
        r.pick(&["400", "590", "760", "871", "789"]),
        r.digits(9)
    );
    let sum: u32 = body
        .chars()
        .enumerate()
        .map(|(i, c)| c.to_digit(10).unwrap_or(0) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// `rows` values of a column: deterministic per `seed`, with a few NULLs in optional columns
/// (never in keys).
pub fn column_values(kind: &str, seed: &str, rows: u64) -> Option<Vec<Option<String>>> {
    let mut r = Rng::seeded(seed);
    let nullable = kind != "seq";
    (0..rows)
        .map(|row| {
            if nullable && r.chance(6) {
                Some(None)
            } else {
                value(kind, &mut r, row).map(Some)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::classification::corpus;

    #[test]
    fn every_kind_named_by_a_corpus_has_a_generator() {
        for c in corpus::corpora() {
            for col in &c.columns {
                let values = column_values(&col.kind, "seed", 5);
                assert!(
                    values.is_some(),
                    "{}: {}.{} kind `{}`",
                    c.name,
                    col.table,
                    col.column,
                    col.kind
                );
            }
        }
    }

    #[test]
    fn identifiers_carry_valid_check_digits_and_values_repeat_per_seed() {
        let mut r = Rng::seeded("check");
        for _ in 0..50 {
            let card = value("credit_card", &mut r, 0).unwrap();
            assert_eq!(
                luhn_digit(&card[..card.len() - 1]).to_string(),
                card[card.len() - 1..]
            );
            let b = bsn(&mut r);
            let sum: i64 = b
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    let d = i64::from(c.to_digit(10).unwrap());
                    if i == 8 {
                        -d
                    } else {
                        d * (9 - i as i64)
                    }
                })
                .sum();
            assert_eq!(sum % 11, 0, "{b}");
            let iban = iban(&mut r).replace(' ', "");
            let moved = format!("{}{}", &iban[4..], &iban[..4]);
            let rem = moved.chars().fold(0u32, |acc, c| {
                let v = c.to_digit(36).unwrap();
                if v > 9 {
                    (acc * 100 + v) % 97
                } else {
                    (acc * 10 + v) % 97
                }
            });
            assert_eq!(rem, 1, "{iban}");
        }
        assert_eq!(
            column_values("email", "x", 10),
            column_values("email", "x", 10)
        );
        assert_ne!(
            column_values("email", "x", 10),
            column_values("email", "y", 10)
        );
    }
}
