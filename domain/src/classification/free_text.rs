//! Personal data inside free text: notes, comments, complaints and messages whose values are
//! sentences rather than one datum each. [`spot`] tokenises one value and says which kinds of
//! personal data it mentions; the value detectors count the values per kind
//! ([`super::detectors`]) and the rule tier decides the `FREE_TEXT_PII` label from the counts
//! ([`super::rules`]), so no sampled text is kept.
//!
//! Each kind is recognised by the checks a whole-value column already trusts, applied to the
//! words and word runs of the sentence: e-mail addresses by the e-mail validator, phone numbers
//! by the phone notation rules (trunk prefix, `+`, grouping), identifiers by their check digits
//! ([`super::national_ids`]), card numbers by Luhn and IBANs by mod 97. Person names need a
//! cue, since a capitalised word in a sentence is usually not a name: a title (`Dr.`, `Frau`,
//! `Mme`), a greeting (`Dear`, `Hallo`), or a common given name followed by a capitalised
//! family name. Health conditions count only where the same text speaks of a person (a pronoun,
//! a relative, `patient`, `diagnosed`): a product "for people with diabetes" is not anybody's
//! health data. An identifier with a weak check (a mod-11 digit passes one random number in
//! eleven) also needs a cue word before it (`BSN`, `DNI`, `CPF`, `SSN`, …).
//!
//! The work per value is bounded: only the first [`MAX_CHARS`] characters are read.

use super::detectors::{self, Facts};
use super::national_ids::{self, REGISTRY};
use super::validators;
use super::vocab;
use foldhash::HashSet;
use std::sync::LazyLock;

/// How much of a value is read: notes can be long, the engine samples many of them.
pub const MAX_CHARS: usize = 2000;

/// The kinds of personal data one text mentions.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Entities {
    pub email: bool,
    pub phone: bool,
    pub national_id: bool,
    /// A card number or an IBAN.
    pub payment: bool,
    pub person: bool,
    pub health: bool,
}

impl Entities {
    pub fn any(&self) -> bool {
        self.email || self.phone || self.national_id || self.payment || self.person || self.health
    }
}

/// One word of a text: as written, and without the punctuation around it.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    raw: &'a str,
    word: &'a str,
}

/// Characters that surround words without being part of them.
fn is_wrapping(c: char) -> bool {
    matches!(
        c,
        ',' | '.'
            | ';'
            | ':'
            | '!'
            | '?'
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '"'
            | '\''
            | '<'
            | '>'
            | '«'
            | '»'
            | '“'
            | '”'
            | '‘'
            | '’'
            | '¿'
            | '¡'
    )
}

fn tokens(s: &str) -> Vec<Token<'_>> {
    let end = s.char_indices().nth(MAX_CHARS).map_or(s.len(), |(i, _)| i);
    s[..end]
        .split_whitespace()
        .map(|raw| Token {
            raw,
            word: raw.trim_matches(is_wrapping),
        })
        .collect()
}

/// Whether a value reads as prose: at least four words, of which at least two are lowercase
/// words that are not name particles. Names (`Anna van der Berg`), addresses, codes and single
/// words are not prose; their columns are judged by the whole-value detectors.
pub fn is_prose(f: &Facts<'_>) -> bool {
    if f.spaces < 3 || f.letters < 8 {
        return false;
    }
    let toks = tokens(f.s);
    if toks.len() < 4 {
        return false;
    }
    let lower_words = toks
        .iter()
        .filter(|t| {
            t.word.chars().count() >= 2
                && t.word
                    .chars()
                    .all(|c| c.is_alphabetic() && c.is_lowercase())
                && !vocab::contains(&vocab::NAME_PARTS, t.word)
        })
        .count();
    lower_words >= 2
}

/// The kinds of personal data a prose value mentions (see the module documentation).
pub fn spot(s: &str) -> Entities {
    let toks = tokens(s);
    let mut found = Entities::default();
    for (i, t) in toks.iter().enumerate() {
        if t.word.contains('@') {
            let w = t.word.strip_prefix("mailto:").unwrap_or(t.word);
            if validators::email(w) {
                found.email = true;
            }
        }
        if !found.person && person_at(&toks, i) {
            found.person = true;
        }
    }
    let mut used = vec![false; toks.len()];
    found.payment = ibans(&toks, &mut used);
    numbers(&toks, &used, &mut found);
    if conditions(&toks) && (found.person || personal_cue(&toks)) {
        found.health = true;
    }
    found
}

// ---------------------------------------------------------------------------------------------
// Numbers: phones, identifiers, cards.

/// A word that can be (part of) a written number: digits with `+ - ( ) . /`.
fn numeric(raw: &str) -> Option<&str> {
    let w = raw.trim_end_matches([',', ';', ':', '!', '?', '.']);
    let w = w.trim_start_matches(['"', '\'', '[']);
    (!w.is_empty()
        && w.bytes().any(|b| b.is_ascii_digit())
        && w.bytes()
            .all(|b| b.is_ascii_digit() || b"+-()./".contains(&b)))
    .then_some(w)
}

/// An identifier-like word: letters and digits (`12345678Z`, `AB123456C`), possibly with dashes.
fn alphanumeric(word: &str) -> bool {
    (8..=21).contains(&word.len())
        && word.bytes().any(|b| b.is_ascii_digit())
        && word.bytes().any(|b| b.is_ascii_alphabetic())
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

/// The lowercase words of the (at most) three words before `i`.
fn before<'a>(toks: &'a [Token<'_>], i: usize) -> impl Iterator<Item = String> + 'a {
    toks[i.saturating_sub(3)..i]
        .iter()
        .map(|t| t.word.to_lowercase())
}

fn cued(toks: &[Token<'_>], i: usize, cues: &HashSet<&str>) -> bool {
    before(toks, i).any(|w| {
        cues.contains(w.as_str())
            || w.split(['-', '/', '.', ':'])
                .any(|part| cues.contains(part))
    })
}

fn numbers(toks: &[Token<'_>], skip: &[bool], found: &mut Entities) {
    let mut i = 0;
    while i < toks.len() {
        if skip[i] {
            i += 1;
            continue;
        }
        let Some(first) = numeric(toks[i].raw) else {
            if alphanumeric(toks[i].word) && identifier(toks[i].word, cued(toks, i, &ID_CUES)) {
                found.national_id = true;
            }
            i += 1;
            continue;
        };
        // A run of number words: each sub-run of up to seven words is tried as one number. A
        // run that holds an identifier or a card number is that, not also a phone number.
        let mut run = vec![first];
        let mut j = i + 1;
        while j < toks.len() && !skip[j] && run.len() < 8 {
            match numeric(toks[j].raw) {
                Some(w) => run.push(w),
                None => break,
            }
            j += 1;
        }
        let id_cue = cued(toks, i, &ID_CUES);
        let card_cue = cued(toks, i, &CARD_CUES);
        let sub_runs =
            || (0..run.len()).flat_map(|a| (a + 1..=run.len().min(a + 7)).map(move |b| (a, b)));
        let (mut id, mut paid) = (false, false);
        for (a, b) in sub_runs() {
            let joined = run[a..b].join(" ");
            id |= identifier(&joined, id_cue);
            paid |= card(&Facts::of(&joined), card_cue);
        }
        found.national_id |= id;
        found.payment |= paid;
        if !id && !paid {
            let phone_cue = cued(toks, i, &PHONE_CUES);
            for (a, b) in sub_runs() {
                let joined = run[a..b].join(" ");
                let (strict, bare) = detectors::phone(&Facts::of(&joined));
                if strict || (bare && phone_cue) {
                    found.phone = true;
                }
            }
        }
        i = j;
    }
}

/// A national or tax identifier: a formatted US SSN, or an identifier of the registry whose
/// check passes and which either has a strong check (one random value in a hundred or fewer
/// passes) or follows a cue word.
fn identifier(written: &str, cue: bool) -> bool {
    let f = Facts::of(written);
    if f.chars == 11 && f.dashes == 2 && f.digits == 9 && validators::us_ssn(written) {
        return true;
    }
    if cue
        && f.digits == 9
        && f.digits == f.chars
        && (validators::us_ssn(written) || validators::nl_bsn(written))
    {
        return true;
    }
    if cue && validators::uk_nino(written) {
        return true;
    }
    let mut hit = false;
    national_ids::detect(&f, |i| {
        let entry = &REGISTRY[i];
        if entry.checksum && (entry.base_rate <= 0.01 || (cue && entry.base_rate <= 0.1)) {
            hit = true;
        }
    });
    hit
}

/// A card number: Luhn-valid with a network prefix, and either grouped in fours (16 digits) or
/// after a card word (a bare 13-digit Luhn number is as often a barcode).
fn card(f: &Facts<'_>, cue: bool) -> bool {
    if !(13..=19).contains(&f.digits) || f.digits + f.spaces + f.dashes != f.chars {
        return false;
    }
    let grouped = f.digits == 16 && f.spaces + f.dashes == 3;
    (grouped || cue) && validators::luhn_card(f.s)
}

/// An IBAN written compact or in groups of four (`DE89 3704 0044 0532 0130 00`): marks its
/// words in `used` and says whether there was one.
fn ibans(toks: &[Token<'_>], used: &mut [bool]) -> bool {
    let mut any = false;
    for (i, t) in toks.iter().enumerate() {
        let w = t.word.as_bytes();
        if w.len() < 4
            || !w[0].is_ascii_uppercase()
            || !w[1].is_ascii_uppercase()
            || !w[2].is_ascii_digit()
            || !w[3].is_ascii_digit()
        {
            continue;
        }
        let mut joined = t.word.to_owned();
        let mut last = i;
        let mut valid = joined.len() >= 15 && validators::iban(&joined);
        for (k, next) in toks.iter().enumerate().skip(i + 1).take(8) {
            if valid || next.word.len() > 4 || !next.word.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                break;
            }
            joined.push_str(next.word);
            last = k;
            valid = joined.len() >= 15 && validators::iban(&joined);
        }
        if valid {
            any = true;
            used[i..=last].iter_mut().for_each(|u| *u = true);
        }
    }
    any
}

// ---------------------------------------------------------------------------------------------
// Person names.

/// A capitalised word that can be a family name: letters (and `-`/`'`), not a word that is
/// capitalised for another reason (a weekday, a month, a street or company word).
fn surname_like(word: &str) -> bool {
    let mut chars = word.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_uppercase()
        && word.chars().count() >= 2
        && word
            .chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
        && word.chars().skip(1).any(|c| c.is_lowercase())
        && !vocab::contains(&CAPITALISED_WORDS, word)
        && !vocab::contains(&vocab::STREET_WORDS, word)
        && !vocab::contains(&vocab::ORG_WORDS, word)
}

/// A common given name, capitalised, that is not also a common word (`Grace`, `Mark`).
fn given_name(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
        && vocab::contains(&vocab::GIVEN_NAMES, word)
        && !vocab::contains(&AMBIGUOUS_GIVEN, word)
}

/// Whether a person's name starts at word `i`: a title before a family name, a greeting or a
/// contact word before a given name, or a given name before a family name (name particles
/// between them allowed).
fn person_at(toks: &[Token<'_>], i: usize) -> bool {
    let t = toks[i];
    let next = |k: usize| toks.get(i + k).map(|t| t.word);
    // A sentence ends at the current word: what follows does not belong to it.
    let ends = t.raw.ends_with(['.', '!', '?', ':']) && !is_title_abbreviation(t.raw);
    let lower = t.word.to_lowercase();
    if vocab::contains(&TITLES, &lower) && !t.raw.ends_with(['!', '?', ':']) {
        // `Dr. Weber`, `Frau Schulte`, `Mme Lefebvre`, `Sr. Ortega` (particles allowed).
        let mut k = 1;
        while next(k).is_some_and(|w| {
            vocab::contains(&vocab::NAME_PARTS, w)
                && w.chars().next().is_some_and(char::is_lowercase)
        }) {
            k += 1;
        }
        return next(k).is_some_and(|w| surname_like(w) || given_name(w));
    }
    if ends {
        return false;
    }
    if GREETINGS.contains(lower.as_str()) {
        // `Dear Sanne`, `Hallo Herr …` (the title is matched at the next word), but not
        // `Dear Customer` or `Hello Team`.
        return next(1).is_some_and(|w| {
            given_name(w) || (surname_like(w) && !vocab::contains(&ADDRESSEES, w))
        });
    }
    if CONTACT_WORDS.contains(lower.as_str()) {
        return next(1).is_some_and(given_name);
    }
    if given_name(t.word) {
        let mut k = 1;
        while next(k).is_some_and(|w| {
            vocab::contains(&vocab::NAME_PARTS, w)
                && w.chars().next().is_some_and(char::is_lowercase)
        }) {
            k += 1;
        }
        // `Anna Schulte`, but not the middle of a run of capitalised words (`Rose Gold Edition`
        // in a product title), unless the run is the name itself followed by punctuation.
        let surname = next(k).filter(|w| surname_like(w));
        let run_goes_on = toks.get(i + k + 1).is_some_and(|t| {
            surname_like(t.word) && !toks[i + k].raw.ends_with([',', '.', ':', ';'])
        });
        let run_before = i > 0
            && surname_like(toks[i - 1].word)
            && !toks[i - 1].raw.ends_with([',', '.', ':', ';', '!', '?']);
        return surname.is_some() && !run_goes_on && !run_before;
    }
    false
}

/// `Dr.`, `Mr.`, `Sra.`: a period that abbreviates rather than ends a sentence.
fn is_title_abbreviation(raw: &str) -> bool {
    let w = raw.trim_end_matches('.');
    vocab::contains(&TITLES, w)
}

// ---------------------------------------------------------------------------------------------
// Health conditions.

/// Whether the text names a health condition: a word of [`CONDITIONS`], or a medical
/// inflammation word (`-itis`).
fn conditions(toks: &[Token<'_>]) -> bool {
    toks.iter().any(|t| {
        let mut buf = [0u8; 48];
        let Some(w) = vocab::fold(t.word, &mut buf) else {
            return false;
        };
        CONDITIONS.contains(w) || (w.len() > 7 && w.ends_with("itis"))
    })
}

/// Whether the text speaks of a person: a personal pronoun, a relative, a patient or client, or
/// a word of being diagnosed or suffering.
fn personal_cue(toks: &[Token<'_>]) -> bool {
    toks.iter().any(|t| {
        let mut buf = [0u8; 48];
        vocab::fold(t.word, &mut buf).is_some_and(|w| PERSONAL_CUES.contains(w))
    })
}

fn set(words: &'static str) -> HashSet<&'static str> {
    words.split_whitespace().collect()
}

/// Titles and forms of address, several languages (folded, without the period).
static TITLES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    mr mrs ms miss mx dr prof sir madam
    herr frau hr fr
    mme mlle monsieur madame
    dhr mevr meneer mevrouw
    sr sra srta senor senora senorita don dona
    senhor senhora
    sig sig.ra signor signora dott dott.ssa
    ")
});

/// Greetings that are followed by the addressee's given name.
static GREETINGS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    dear hi hello hey
    hallo liebe lieber moin
    beste hoi
    bonjour salut cher chere
    hola querida querido estimada estimado
    ola oi prezada prezado
    ciao gentile
    ")
});

/// Generic addressees of a greeting.
static ADDRESSEES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    customer customers client clients sir madam team all everyone colleagues world friends user
    users member members partner partners support service
    kunde kunden kundin team kollegen damen herren
    klant klanten collega collegas heer mevrouw
    cliente clientes equipo equipe colegas senor senora
    client clients equipe collegues monsieur madame
    ")
});

/// Words after which a given name is a person spoken to or about.
static CONTACT_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    with by from to per cc
    mit von an
    met van aan
    avec par
    con por
    com
    ")
});

/// Given names that are also common words and so need a title or greeting to be names.
static AMBIGUOUS_GIVEN: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    amber april bill chase dawn dean don grace holly iris jack jade lily mark max rose ray rob robin
    sandy crystal olive violet hope faith joy angel austin jordan lee kay summer gene guy drew pat
    will may june august rich frank art gay hanna china paris florence victoria sky stone bud
    ")
});

/// Capitalised words that are not family names: weekdays, months, greetings' companions.
static CAPITALISED_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    montag dienstag mittwoch donnerstag freitag samstag sonntag
    januar februar marz juni juli oktober dezember
    lundi mardi mercredi jeudi vendredi samedi dimanche
    lunes martes miercoles jueves viernes sabado domingo
    the and a an this that please thanks thank
    ")
});

/// Words that announce a phone number.
static PHONE_CUES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    tel tel. phone telephone call ring mobile cell cellphone fax whatsapp sms
    telefon handy anrufen ruf rufnummer mobil
    telefoon bel bellen mobiel gsm
    telephone tél portable appeler
    telefono movil llamar celular
    telefone ligar
    cellulare chiamare
    ")
});

/// Words that announce a card number.
static CARD_CUES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    card cc visa mastercard amex kreditkarte karte carte tarjeta cartao carta creditcard pan
    ")
});

/// Words that announce an identity or tax number: generic words, and every word of the column
/// cues of [`national_ids::REGISTRY`] that is not a generic one (`number`, `no`).
static ID_CUES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let mut cues = set("
    id ssn bsn dni nie nif cpf rg curp rfc nss nir insee pesel cpr hetu fnr aadhaar nric tfn
    medicare nhs ahv svnr sozialversicherungsnummer steuer-id steueridentifikationsnummer idnr
    passport pasaporte reisepass paspoort passeport passaporto passaporte ausweis personalausweis
    burgerservicenummer codice fiscale personnummer sofinummer cuit cuil rut pps sin itin
    ");
    const GENERIC: &[&str] = &[
        "number", "no", "nr", "num", "code", "of", "the", "de", "du", "la", "el", "do", "da",
        "number:", "nummer", "numero", "tax", "national", "social", "card", "security",
    ];
    for entry in REGISTRY {
        for cue in entry.cues {
            for word in cue.trim_start_matches(['~', '?']).split([' ', '_', '-']) {
                if word.len() >= 3 && !GENERIC.contains(&word) {
                    cues.insert(word);
                }
            }
        }
    }
    cues
});

/// Health conditions by name, in English, German, French, Spanish, Portuguese, Dutch and
/// Italian (folded). The English entries are common names of MeSH disease descriptors (U.S.
/// National Library of Medicine, public domain); the other languages are our translations.
/// Deliberately specific: words such as `pain` or `heart` also occur in ordinary prose.
static CONDITIONS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    diabetes diabetic asthma asthmatic hypertension migraine migraines cancer carcinoma tumour tumor
    leukemia leukaemia lymphoma melanoma dementia alzheimer alzheimer's parkinson parkinson's
    epilepsy epileptic depression schizophrenia bipolar adhd autism ptsd anorexia bulimia
    pneumonia tuberculosis hiv hepatitis covid covid-19 influenza stroke cirrhosis
    osteoporosis fibromyalgia psoriasis eczema dermatitis insomnia apnea apnoea copd emphysema
    angina arrhythmia cardiomyopathy obesity anaemia anemia hypothyroidism hyperthyroidism
    sclerosis lupus gout endometriosis infertility miscarriage pregnant pregnancy
    chemotherapy dialysis radiotherapy concussion fracture allergy allergic celiac coeliac
    zuckerkrankheit diabetiker asthmatiker bluthochdruck krebs demenz depressionen epilepsie
    schlaganfall lungenentzundung herzinfarkt rheuma migrane schwanger schwangerschaft allergie
    diabete diabetique asthme cancer demence depression epilepsie avc pneumonie grossesse enceinte
    allergie hypertension
    diabetes diabetico diabetica asma hipertension cancer demencia depresion epilepsia ictus
    neumonia embarazo embarazada alergia infarto
    diabete hipertensao demencia depressao epilepsia pneumonia gravidez gravida alergia avc
    suikerziekte diabetes astma bloeddruk kanker dementie depressie epilepsie beroerte
    longontsteking zwanger zwangerschap allergie
    diabete asma ipertensione cancro tumore demenza depressione epilessia ictus polmonite
    gravidanza incinta allergia infarto
    ")
});

/// Words that make a text about a person (so a condition it names is that person's).
static PERSONAL_CUES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    set("
    he she his her him my patient patients client customer caller son daughter mother father
    wife husband child baby diagnosed suffers suffering treated
    er sie ihr ihm sein seine seiner mein meine patient patientin kunde kundin sohn tochter mutter
    vater frau mann diagnostiziert leidet behandelt
    elle lui sa ses mon ma mes patiente client cliente fils fille pere epouse mari enfant
    diagnostique souffre traite
    ella mi mis paciente hijo hija madre padre esposa esposo nino nina diagnosticado
    diagnosticada sufre tratado
    ele ela dele dela meu minha filho filha mae pai marido sofre
    hij zij haar mijn patient patiente klant zoon dochter moeder vader echtgenote
    gediagnosticeerd lijdt
    lui lei suo sua mio mia figlio figlia marito moglie diagnosticato diagnosticata soffre
    ")
});

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Entities {
        assert!(is_prose(&Facts::of(s)), "not prose: {s}");
        spot(s)
    }

    #[test]
    fn entities_inside_sentences_of_several_languages_are_found() {
        let e = kinds("Customer asked us to send the invoice to a.weber@example.org instead.");
        assert!(e.email && !e.phone && !e.person);
        let e =
            kinds("Rückruf erbeten unter 030 4412 7788, Frau Brenneke ist ab 14 Uhr erreichbar.");
        assert!(e.phone && e.person, "{e:?}");
        let e = kinds("Mme Lefebvre a appelé, merci de la rappeler au +33 6 12 34 56 78.");
        assert!(e.phone && e.person, "{e:?}");
        let e = kinds("El paciente refiere asma desde la infancia y su madre tiene diabetes.");
        assert!(e.health && !e.person, "{e:?}");
        let e = kinds("Spoke with Daniel Okafor about the late delivery, he will call back.");
        assert!(e.person && !e.health, "{e:?}");
        let e = kinds("Cliente informou o CPF 529.982.247-25 para emissão da nota.");
        assert!(e.national_id, "{e:?}");
        let e = kinds("Klant heeft BSN 111222333 doorgegeven voor de aanvraag.");
        assert!(e.national_id, "{e:?}");
        let e = kinds("Refund to IBAN GB82 WEST 1234 5698 7654 32 was approved today.");
        assert!(e.payment, "{e:?}");
        let e = kinds("Caller gave card 4111 1111 1111 1111 over the phone, please redact.");
        assert!(e.payment, "{e:?}");
        let e = kinds("Beste Sanne, bedankt voor je bericht over de levering van vandaag.");
        assert!(e.person, "{e:?}");
        let e = kinds("His SSN 536-22-8726 was printed on the form by mistake.");
        assert!(e.national_id, "{e:?}");
    }

    #[test]
    fn prose_product_text_and_log_lines_mention_nobody() {
        for s in [
            "The quarterly report shows that shipping times improved across all regions.",
            "Rose Gold Edition with a brushed aluminium case and a two year warranty.",
            "Lightweight running shoe, breathable mesh, EAN 4006381333931, sizes 38 to 46.",
            "Sugar-free chocolate, suitable for people with diabetes, 100 g bar.",
            "2024-03-01T12:00:01Z INFO worker 7 finished job 88123 in 1532 ms from 10.0.0.12",
            "ERROR connection to db-replica-2:5432 refused after 3 retries, backing off 2000 ms",
            "Der Lieferant hat die Rechnung Nr. 2024-0117 am Montag geschickt.",
            "Commande 123456789 expédiée le 12.03.2024 par transporteur express.",
            "Version 2.14.3 fixes the memory leak reported in issue 4812.",
        ] {
            assert!(is_prose(&Facts::of(s)), "{s}");
            assert_eq!(spot(s), Entities::default(), "{s}");
        }
    }

    #[test]
    fn single_words_names_and_addresses_are_not_prose() {
        for s in [
            "a.weber@example.org",
            "Anna van der Berg",
            "Lindenallee 12, 04109 Leipzig",
            "+49 30 4412 7788",
            "diabetes",
            "Dr. Maria Schulte",
        ] {
            assert!(!is_prose(&Facts::of(s)), "{s}");
        }
    }

    #[test]
    fn only_the_first_characters_of_a_long_value_are_read() {
        let filler = "the parcel was handed to the carrier today and ".repeat(200);
        assert!(filler.chars().count() > MAX_CHARS);
        let late = format!("{filler}write to a.weber@example.org please");
        assert!(!spot(&late).email);
        let early = format!("write to a.weber@example.org please {filler}");
        assert!(spot(&early).email);
    }
}
