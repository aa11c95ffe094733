//! Column names: splitting a name into folded tokens (`customerEMail_2` → `customer`, `e`,
//! `mail`, `2`) and the multilingual dictionary of name patterns per type — full words,
//! abbreviations and German, French, Spanish, Portuguese, Dutch and Italian names.
//!
//! A pattern is a run of tokens (`first name`), a token prefix (`passw*`) or a stem searched in
//! the squashed name (`~geboorte`, for compounds such as `geboortedatum`). Modifier tokens turn a
//! match into metadata *about* the thing (`phone_confirmed`, `email_count`, `card_network`), which is
//! evidence against it rather than for it.

use super::national_ids;
use super::types::ClassificationType;
use super::vocab;
use foldhash::{HashMap, HashMapExt};
use std::sync::LazyLock;

/// A column (or table) name split into lowercase ASCII-folded tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct NameTokens {
    pub tokens: Vec<String>,
    /// The tokens joined without separators (`firstname`, `geboortedatum`).
    pub squashed: String,
}

impl NameTokens {
    pub fn new(name: &str) -> Self {
        let mut tokens: Vec<String> = Vec::new();
        let mut cur = String::new();
        let chars: Vec<char> = name.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            if !c.is_alphanumeric() {
                if !cur.is_empty() {
                    tokens.push(std::mem::take(&mut cur));
                }
                continue;
            }
            if !cur.is_empty() {
                // `cur` is non-empty, so the previous character was alphanumeric and i > 0.
                let prev = chars[i - 1];
                let boundary = (prev.is_lowercase() && c.is_uppercase())
                    || (prev.is_alphabetic() && c.is_numeric())
                    || (prev.is_numeric() && c.is_alphabetic())
                    || (prev.is_uppercase()
                        && c.is_uppercase()
                        && chars.get(i + 1).is_some_and(|n| n.is_lowercase()));
                if boundary {
                    tokens.push(std::mem::take(&mut cur));
                }
            }
            cur.push(c);
        }
        if !cur.is_empty() {
            tokens.push(cur);
        }
        let tokens: Vec<String> = tokens
            .iter()
            .map(|t| {
                let mut buf = [0u8; 48];
                vocab::fold(t, &mut buf)
                    .map(str::to_owned)
                    .unwrap_or_else(|| t.to_lowercase())
            })
            // Dutch ordinal/ordinal suffixes such as `2e` stay tokens; a lone digit is kept too
            // (`addr1` → `addr`, `1`).
            .collect();
        let squashed = tokens.concat();
        Self { tokens, squashed }
    }

    pub fn has(&self, token: &str) -> bool {
        self.tokens.iter().any(|t| t == token)
    }

    /// Tokens that are words (not bare digits).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.tokens
            .iter()
            .map(String::as_str)
            .filter(|t| !t.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// How a dictionary pattern matches.
#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    /// Consecutive tokens.
    Tokens(Vec<&'static str>),
    /// One token starting with the text.
    Prefix(&'static str),
    /// Substring of the squashed name.
    Stem(&'static str),
}

/// One dictionary entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NamePattern {
    pub label: ClassificationType,
    /// Log-odds the match adds.
    pub weight: f64,
    /// The pattern as written in the dictionary, for signals.
    pub text: &'static str,
    matcher: Matcher,
}

/// A pattern that matched a column name.
#[derive(Debug, Clone, PartialEq)]
pub struct NameHit {
    pub label: ClassificationType,
    pub weight: f64,
    pub pattern: &'static str,
    /// A modifier token that makes the column describe the thing rather than hold it.
    pub modifier: Option<String>,
    /// Tokens of the name the pattern covered.
    pub covered: Vec<usize>,
}

/// Strong, medium and weak name evidence (log-odds).
pub const STRONG: f64 = 4.5;
pub const MEDIUM: f64 = 3.0;
pub const WEAK: f64 = 1.5;

/// The dictionary: `LABEL strength: pattern, pattern, …` (strength S/M/W).
const DICTIONARY: &str = "
PERSON_NAME S: first name, firstname, last name, lastname, surname, surnames, given name, givenname, family name, familyname, full name, fullname, middle name, middlename, maiden name, forename, forenames, fname, lname, mname, first nm, last nm, given nm, family nm, full nm, sur nm, person name, cardholder name, card holder name, holder name, account holder name, owner name, contact name, customer name, client name, patient name, employee name, emp name, member name, recipient name, beneficiary name, payee name, payer name, sender name, guardian name, spouse name, parent name, mother name, father name, student name, driver name, passenger name, applicant name, insured name, subscriber name, signer name, signatory name, emergency contact name, contact person, agent name, staff name, nurse name, doctor name, physician name, manager name, supervisor name, buyer name, seller name, traveler name, traveller name, guest name, tenant name, landlord name, witness name, author name, requester name, ~firstname, ~lastname, ~surname, ~fullname, ~givenname, ~familyname, vorname, vornamen, nachname, familienname, geburtsname, rufname, ~vorname, ~nachname, voornaam, voornamen, achternaam, tussenvoegsel, roepnaam, geslachtsnaam, ~voornaam, ~achternaam, prenom, prenoms, nom de famille, nom famille, nom complet, nom prenom, apellido, apellidos, primer apellido, segundo apellido, nombre completo, nombre y apellido, sobrenome, nome completo, cognome, nome e cognome, ~cognome, ~apellido, ~sobrenome, ~prenom
PERSON_NAME M: cardholder, card holder, account holder, holder, recipient, addressee, beneficiary, payee, physician, doctor, nurse, signatory, signer, guarantor, insured, policyholder, policy holder, next of kin, emergency contact, attn, attention, ansprechpartner, contactpersoon, naam, nombre, nome, nom, display name, displayname, real name, legal name, contact, assignee, reporter, referrer name
PERSON_NAME W: name, owner, customer, patient, employee, author, signature, manager, driver, passenger, guest, tenant, member, person, requester, requestor, applicant, candidate, student, teacher, user full
EMAIL_ADDRESS S: email, e mail, mail, email address, emailaddress, mail address, mailaddress, ~email, courriel, correo, correo electronico, posta elettronica, mailadres, emailadres, e post, epost, inbox, mailbox, ~mailadres, ~mailadresse
EMAIL_ADDRESS M: reply to, replyto, contact email
PHONE_NUMBER S: phone, phones, telephone, tel, tel no, telno, telefon, telefono, telefone, telefoon, telephone number, phone number, phone no, phone nr, mobile, mobile number, mobile no, mobil, mobilnummer, cell, cellphone, cell phone, cellular, handy, handynummer, gsm, msisdn, fax, faxnummer, mob, portable, cellulare, celular, movil, whatsapp, landline, contact number, contact no, ~phone, ~telefon, ~telephon, ~telefoon, ~telefono, ~mobilenumber, ~cellphone, numero de telephone, numero telefono, numero di telefono, numero de telefone, telefoonnummer, rufnummer, sms number
PHONE_NUMBER M: phn, tlf, tfn, callback, callback number, call back, dial, sms, hotline, contact phone
POSTAL_ADDRESS S: address, addresses, addr, address line, addressline, address1, street, street address, streetaddress, street name, streetname, ~streetaddress, ~addressline, straat, straatnaam, strasse, strase, ~strasse, ~adresse, adresse, adres, direccion, indirizzo, endereco, morada, domicilio, logradouro, residence, home address, mailing address, shipping address, billing address, delivery address, postal address, house number, housenumber, huisnummer, hausnummer, numero civico, apartment, apt, flat number, anschrift, woonadres, ~woonadres, ~huisnummer, calle, rue, dwelling
POSTAL_ADDRESS M: line1, line2, line 1, line 2, suite, unit number, po box, pobox, postbus
POSTAL_ADDRESS W: city, town, stadt, ort, woonplaats, plaats, ville, ciudad, cidade, citta, municipality, county, province, provincia, region, district, locality, suburb, neighborhood, neighbourhood, bundesland, state province
POSTAL_CODE S: zip, zipcode, zip code, zip4, postcode, postal code, postalcode, post code, postcodes, plz, postleitzahl, cep, code postal, codepostal, codigo postal, codice postale, eircode, postnummer, postnr, ~zipcode, ~postcode, ~postalcode, ~postleitzahl, ~codigopostal
POSTAL_CODE M: cap, pincode, pin code, cp, zip5
DATE_OF_BIRTH S: dob, birth, birthdate, birth date, date of birth, birthday, bday, born, born on, d o b, geburtsdatum, geburtstag, geboortedatum, geboren, naissance, date naissance, date de naissance, fecha nacimiento, fecha de nacimiento, nacimiento, data nascimento, data de nascimento, nascimento, data di nascita, nascita, ~birth, ~geburt, ~geboorte, ~naissance, ~nacimiento, ~nascimento, ~nascita, ~bday, ~dob
GENDER S: gender, sex, sex at birth, gender at birth, assigned sex, gender identity, geschlecht, geslacht, sexe, sexo, genero, sesso, ~gender, ~geschlecht, ~geslacht
GENDER M: genre, genere, salutation, anrede, aanhef
US_SSN S: ssn, social security, social security number, social security no, socsec, soc sec, ~socialsecurity, ~socsec, ss number, ss num, ssnum
US_SSN M: ss no, ssno
PASSPORT_NUMBER S: passport, passport number, passport no, passport num, ~passport, reisepass, reisepassnummer, ~reisepass, paspoort, paspoortnummer, ~paspoort, passeport, ~passeport, pasaporte, ~pasaporte, passaporto, ~passaporto, passaporte, travel document
DRIVERS_LICENSE S: drivers license, driver license, drivers licence, driver licence, driving licence, driving license, dl number, dl no, dl num, ~driverslicen, ~driverlicen, ~drivinglicen, fuhrerschein, fuehrerschein, ~fuhrerschein, ~fuehrerschein, rijbewijs, ~rijbewijs, permis de conduire, permis conduire, carnet de conducir, licencia de conducir, licencia conducir, carta de conducao, carta conducao, patente di guida, patente guida, cnh
DRIVERS_LICENSE M: license number, licence number, license no, licence no, licence num, license num, patente, permis
DRIVERS_LICENSE W: license, licence, dl
NATIONAL_ID S: national id, nationalid, national identity, national identity number, national insurance, national insurance number, ni number, ni no, nino, nin, bsn, burgerservicenummer, ~burgerservice, sofinummer, sofi, insee, nir, numero securite sociale, securite sociale, secu, dni, nie, aadhaar, aadhar, personnummer, pesel, cpr, social insurance, social insurance number, sozialversicherungsnummer, svnr, sv nummer, id card, identity card, identity number, identity no, personalausweis, ausweisnummer, ausweis, carte identite, carte d identite, cni, documento identidad, documento de identidad, cedula, curp, nric, hkid, citizen id, national number, identificatienummer, ~nationalid, ~personalausweis, ~identitycard, ~idcard, rijksregisternummer, ~rijksregister
NATIONAL_ID M: sin, id number, id no, personal id, personal number, identification number, document number, id document, govt id, government id, gov id
TAX_ID S: tax id, taxid, tax ids, tin, ein, fein, itin, vat, vat number, vat id, vat no, vat nr, vatin, vat reg, tax number, tax no, tax nr, tax identification, tax identification number, federal tax, federal tax id, federal tax no, steuernummer, steuer id, steueridentifikationsnummer, ~steuernummer, ~steuerid, ust id, ustid, ust idnr, umsatzsteuer id, ~umsatzsteuer, btw, btw nummer, btwnummer, ~btwnummer, fiscaal nummer, rsin, fiscal code, fiscal number, codice fiscale, partita iva, piva, numero tva, tva, tva intracom, siret, siren, nif, cif, rfc, cnpj, cpf, abn, gstin, gst number, ~vatnumber, ~taxid, ~taxnumber
TAX_ID M: tax code, tax ref, tax reference, utr, vat code
CREDIT_CARD_NUMBER S: credit card, creditcard, credit card number, card number, cardnumber, card no, card num, card nr, cc number, cc num, ccnum, cc no, ccn, pan, primary account number, kreditkarte, kreditkartennummer, kartennummer, creditcardnummer, numero carte, carte bancaire, numero de carte, numero tarjeta, tarjeta, numero de tarjeta, numero cartao, cartao, numero carta, carta di credito, debit card, debitcard, ~creditcard, ~cardnumber, ~ccnumber, ~kreditkart, payment card
CREDIT_CARD_NUMBER M: card, cc, card pan
CARD_SECURITY_CODE S: cvv, cvv2, cvc, cvc2, csc, cav2, cvn, cid code, security code, card code, card verification, card verification value, card verification code, cryptogramme, code securite, codigo seguridad, codice sicurezza, kartenprufnummer, ~cvv, ~cvc
CARD_SECURITY_CODE M: cid, verification code, card security
IBAN S: iban, ~iban, international bank account, iban number, iban nr
BANK_ACCOUNT_NUMBER S: account number, acct number, account no, acct no, acct num, account num, account nr, bank account, bank account number, bankaccount, accountnumber, ~accountnumber, ~acctnumber, ~bankaccount, kontonummer, ~kontonummer, rekeningnummer, ~rekeningnummer, rekening, konto, kontonr, numero de compte, numero compte, numero cuenta, numero de cuenta, cuenta bancaria, conto corrente, numero conto, numero conta, conta bancaria, dda, checking account, savings account, ach account, bban, deposit account
BANK_ACCOUNT_NUMBER M: routing, routing number, routing no, aba, aba number, sort code, sortcode, bsb, transit number, bankleitzahl, blz
BANK_ACCOUNT_NUMBER W: account, acct
IP_ADDRESS S: ip, ip address, ipaddress, ip addr, ipaddr, ipv4, ipv6, ~ipaddr, ~ipaddress, remote addr, remote address, client ip, host ip, source ip, src ip, dst ip, dest ip, inet, ip adres, adresse ip, direccion ip, indirizzo ip, endereco ip, ~ipv4, ~ipv6
MAC_ADDRESS S: mac, mac address, macaddress, macaddr, ~macaddr, ~macaddress, hwaddr, hw addr, hardware address, bssid, ethernet address, wifi mac, bluetooth address, eui, eui48, eui64
GEO_COORDINATE S: latitude, longitude, lat, lng, lon, latlng, latlon, lat lng, lat lon, coordinates, coords, coordinate, geolocation, geo location, gps, geopoint, geo point, breitengrad, laengengrad, langengrad, breedtegraad, lengtegraad, latitud, longitud, latitudine, longitudine, ~latitud, ~longitud, ~breitengrad, ~langengrad
GEO_COORDINATE M: long, geo, location, geom, geometry, position, coord, point
USERNAME S: username, user name, usernames, login, login name, loginname, login id, user login, userlogin, handle, screen name, screenname, account name, sam account name, samaccountname, user principal name, benutzername, ~benutzername, gebruikersnaam, ~gebruikersnaam, nom utilisateur, nom d utilisateur, identifiant, nombre usuario, nombre de usuario, nome utente, nome usuario, nome de usuario, ~username, ~loginname, uname, user handle, login user
USERNAME M: nickname, nick, userid, user id, benutzer, gebruiker, utilisateur, usuario, utente, usr, user, alias, principal, account, pseudo
PASSWORD S: password, passwords, passwd, pwd, passcode, passphrase, pass word, kennwort, passwort, wachtwoord, mot de passe, motdepasse, mdp, contrasena, senha, parola d ordine, password hash, password digest, hashed password, ~passw, ~kennwort, ~wachtwoord, ~contrasen, ~passcode, ~pwd
PASSWORD M: pass, pw, pin, pin code, pincode, credential, credentials, security answer, secret answer
SECRET_KEY S: secret, secrets, api key, apikey, api secret, access key, secret key, private key, client secret, signing secret, signing key, webhook secret, token, tokens, access token, refresh token, auth token, bearer token, session token, api token, oauth token, jwt, bearer, encryption key, master key, hmac key, shared secret, app secret, consumer secret, ssh key, pgp key, gpg key, aes key, ~apikey, ~secret, ~token, ~privatekey, ~accesskey
SECRET_KEY W: key
MEDICAL_RECORD_NUMBER S: mrn, medical record, medical record number, medical record no, med rec, medrec, ~medicalrecord, ~medrec, patient number, patient no, patient nr, chart number, chart no, chart id, chart nr, health record, health record number, ehr id, emr id, emr number, hospital number, nhs number, patientennummer, patientnummer, ~patientennummer, ~patientnummer, numero dossier, numero paciente, historia clinica, cartella clinica, prontuario
MEDICAL_RECORD_NUMBER M: patient id, chart, dossiernummer, case number patient, health id, medical id, patient ref, patient reference
HEALTH_DIAGNOSIS S: diagnosis, diagnoses, dx, icd, icd10, icd 10, icd code, icd9, diagnosis code, diagnosis text, medical condition, health condition, disease, diseases, illness, ailment, disorder, symptoms, symptom, allergy, allergies, comorbidity, comorbidities, chronic condition, medical history, diagnose, diagnosen, ~diagnos, krankheit, erkrankung, aandoening, ziekte, maladie, pathologie, enfermedad, diagnostico, doenca, malattia, patologia, ~icd10
HEALTH_DIAGNOSIS M: condition, conditions, problem list, reason for visit, chief complaint, indication, medical
ETHNICITY S: ethnicity, ethnic, ethnic origin, ethnic group, ethnic background, ethnicities, race, racial, ethnie, etnia, etnicidad, etniciteit, ethnische herkunft, ~ethnic, ~ethnie, ~etnia
ETHNICITY M: ancestry, origin, heritage, herkunft
RELIGION S: religion, religious, religions, faith, denomination, konfession, religionszugehorigkeit, religie, geloof, godsdienst, religione, religiao, religious affiliation, ~religi
RELIGION M: belief, beliefs, confession, church
VEHICLE_ID S: vin, vehicle identification, vehicle identification number, chassis, chassis number, chassis no, fahrgestellnummer, ~fahrgestell, chassisnummer, ~chassis, numero chassis, numero de bastidor, bastidor, numero telaio, telaio, chassi, ~vinnumber
VEHICLE_ID M: vehicle id, vehicle number, frame number, fin
DATE_OF_BIRTH S: dt nasc, dtnasc, data nasc, dt nascimento, fec nac, fecha nac, fecnac, f nac, fnac, fech nac, date naiss, dt naiss, dnaiss, gebdat, geb dat, geb datum, gebdatum, geburtsdat, ~gebdat, ~geburtsdat, birth dt, birthdt, brth dt, bdate, dt birth, ~dtnasc, ~fecnac, fodelsedatum, fodselsdato, fodselsdag, syntymaaika, syntymapaiva, data urodzenia, ~urodzeni, datum narozeni
GENDER S: gndr, geschl, plec, kjonn, sukupuoli, sex cd, sex code, gender code, gender cd
GENDER M: kon, kjon, sx
ETHNICITY S: raca, raza, raca cor, racacor, cor raca, ~racacor, etnicidade, ethnicite, ethnizitat, ethnische zugehorigkeit, indigena, indigenous, aboriginal, pochodzenie etniczne
ETHNICITY M: herkomst, afkomst, cor, color piel
RELIGION S: confesion, confesion religiosa, confissao, confissao religiosa, confession religieuse, religionszugehoerigkeit, bekenntnis, kirchenzugehorigkeit, religionsgemeinschaft, wyznanie, uskonto, trossamfund, religionszug
RELIGION M: creencia, credo, culto, kerk, kirche
HEALTH_DIAGNOSIS S: diabetes, diabetic, hypertension, hipertension, hipertensao, hypertonie, hypertensie, asthma, asma, astma, copd, epoc, dpoc, bpco, obesity, obesidad, obesidade, adipositas, obesite, obesitas, cancer, hiv, aids, vih, tuberculosis, tuberculose, tuberkulose, hepatitis, hepatite, dementia, demencia, demenz, epilepsy, epilepsia, epilepsie, renal cronica, insuficiencia renal, chronic kidney, ckd, pregnant, pregnancy, embarazo, embarazada, gestante, gravidez, schwanger, schwangerschaft, zwanger, zwangerschap, enceinte, grossesse, disability, disabilities, behinderung, schwerbehinderung, discapacidad, deficiencia, handicap, invalidite, comorbilidad, comorbidade, cid10, cie10, cim10, cid 10, cie 10, cim 10, agravo, cause of death, causa basica, causa obito, causa muerte, causa de muerte, todesursache, doodsoorzaak, cause deces, hospitalisation reason, motivo consulta, motivo ingreso, ~diabet, ~hipertens, ~hypertens, ~obesi, ~tubercul
HEALTH_DIAGNOSIS M: cid, cie, cim, cardiovascular, cardiopatia, neumonia, pneumonia, intubado, inmunosupresion, imunossupressao, immunosuppression, infection, infeccion
MEDICAL_RECORD_NUMBER S: expediente clinico, numero expediente, num expediente, nhc, num historia, numero historia, historia clinica numero, patientennr, patienten nr, pat nr, patnr, patient nr, patientnr, dossier medical, dossier patient, numero prontuario, medical record no, cartella
MEDICAL_RECORD_NUMBER M: expediente, patient identifier, patient ident
NATIONAL_ID S: cartao sus, cartao nacional saude, cartao nacional de saude, cns sus, nss, numero seguridad social, numero seguro social, seguridad social, nuss, pis pasep, pispasep, pasep, registro geral, carteira identidade, numero identidad, a nummer, anummer, administratienummer, sozialversicherung, rentenversicherungsnummer, ~sozialversicherung
NATIONAL_ID M: pis, nis, nit, rg, identidade, identidad, dui, cns
TAX_ID S: stnr, st nr, steuer nr, steuernr, ~steuernr, numero fiscal, numero contribuinte, contribuinte, nif cif, identificacion fiscal, id fiscal, partita iva, codigo fiscal
USERNAME S: loginid, logon name, logonname, logon id, logonid, login user id
USERNAME M: created by, changed by, modified by, updated by, approved by, entered by, deleted by, owner login, angelegt von, geandert von, erfasst von, aangemaakt door, gewijzigd door, cree par, modifie par, creado por, modificado por, criado por, alterado por
SECRET_KEY S: activation key, activation token, reset token, reset key, remember token, verification token, session key, service key, webservice key, webservices key, otp secret, mfa secret, 2fa secret, invite token, invitation token
SECRET_KEY M: session id, sessionid
PHOTO M: photo, photos, photograph, portrait, headshot, head shot, selfie, mugshot, avatar, profile picture, profile photo, profile pic, passport photo, id photo, face image, face photo, picture, pic, foto, fotos, fotografie, fotografia, lichtbild, passbild, portret, zdjecie, kuva, ~photo, ~foto
PHOTO W: image, img, face, bild, imagen, immagine, imagem, afbeelding
DOCUMENT M: document, documents, scan, scanned, scanned document, attachment, attachments, pdf, contract, certificate, resume, cv, payslip, id scan, passport scan, dokument, dokumente, documento, documentos, bijlage, anhang, piece jointe, allegato, anexo, ~dokument, ~scan
AUDIO_RECORDING M: voice, voice recording, audio, recording, recordings, voicemail, voice message, call recording, dictation, speech, sprachaufnahme, aufnahme, opname, enregistrement, grabacion, gravacao, registrazione, nagranie
";

/// Modifier tokens: a name with one of these (outside the matched pattern) describes the thing
/// (`phone_confirmed`, `email_count`, `card_network`, `password_updated_at`) instead of holding it.
const MODIFIERS: &[&str] = &[
    "verified",
    "verification",
    "verify",
    "confirmed",
    "confirmation",
    "consent",
    "optin",
    "opt",
    "optout",
    "status",
    "type",
    "types",
    "kind",
    "count",
    "cnt",
    "counter",
    "flag",
    "enabled",
    "disabled",
    "changed",
    "updated",
    "modified",
    "created",
    "sent",
    "attempts",
    "attempt",
    "limit",
    "limits",
    "rate",
    "policy",
    "hint",
    "format",
    "template",
    "provider",
    "brand",
    "length",
    "len",
    "valid",
    "validated",
    "validation",
    "visible",
    "visibility",
    "hidden",
    "allowed",
    "blocked",
    "required",
    "mask",
    "masked",
    "last4",
    "salt",
    "at",
    "ts",
    "timestamp",
    "time",
    "since",
    "until",
    "expires",
    "expiry",
    "expiration",
    "expired",
    "domain",
    "prefix",
    "suffix",
    "network",
    "scheme",
    "issuer",
    "fee",
    "fees",
    "score",
    "quality",
    "source",
    "accuracy",
    "precision",
    "method",
    "version",
    "reset",
    "rotation",
    "rotated",
    "due",
    "age",
    "strength",
    "history",
    "changes",
    "change",
    "bounced",
    "bounce",
    "opened",
    "clicks",
    "unsubscribed",
    "subscribed",
    "notify",
    "notifications",
    "notification",
    "reminder",
    "is",
    "has",
    "can",
    "should",
    "must",
    "needs",
    "hash",
    "hashed",
    "digest",
    "encoded",
    "level",
    "category",
    "class",
    "group",
    "range",
    "list",
    "check",
    "checked",
    "checksum",
    "fingerprint",
    "lookup",
    "percent",
    "pct",
    "ratio",
    "amount",
    "total",
    "sum",
    "avg",
    "min",
    "max",
    "days",
    "hours",
    "minutes",
    "seconds",
    "duration",
    "interval",
    "url",
    "link",
    "template",
    "language",
    "lang",
    "locale",
    "country",
    "region",
    "zone",
    "timezone",
    "distance",
    "radius",
    "precision",
    "used",
    "usage",
    "sync",
    "synced",
    "failed",
    "failure",
    "error",
    "errors",
    "success",
    "exists",
    "missing",
    "present",
    "plate",
    "expected",
];

/// Modifiers that only concern one type (`birth_place`, `card_holder`, `dedup_key`).
fn label_modifiers(label: ClassificationType) -> &'static [&'static str] {
    use ClassificationType as T;
    match label {
        T::DateOfBirth => &[
            "place",
            "city",
            "country",
            "weight",
            "certificate",
            "name",
            "town",
            "location",
            "state",
            "province",
            "registration",
            "rank",
            "order",
            "sequence",
        ],
        T::CreditCardNumber => &[
            "holder", "cvv", "cvc", "token", "bin", "iin", "last", "four", "first6", "name",
            "owner",
        ],
        T::SecretKey => &[
            "id",
            "idempotency",
            "idem",
            "cache",
            "sort",
            "partition",
            "foreign",
            "lookup",
            "natural",
            "surrogate",
            "public",
            "row",
            "composite",
            "dedup",
            "dedupe",
            "unique",
            "business",
            "external",
            "object",
            "storage",
            "map",
            "translation",
            "i18n",
            "message",
            "config",
            "setting",
            "feature",
            "routing",
            "shard",
            "join",
            "search",
            "index",
            "entity",
            "record",
            "tracking",
            "correlation",
            "request",
            "trace",
            "s3",
            "bucket",
            "file",
            "path",
            "name",
            "alias",
            "label",
            "kid",
            "pub",
            "item",
            "product",
            "order",
            "csrf",
            "page",
            "pagination",
            "cursor",
            "next",
            "continuation",
            "sequence",
        ],
        T::Password => &[
            "salt", "reset", "hint", "policy", "strength", "rotation", "expiry",
        ],
        T::BankAccountNumber => &["name", "holder", "owner", "manager", "balance", "id"],
        T::Username => &["ip", "url", "page", "method"],
        // Where content is kept or what is said about it, not the content itself.
        T::Photo | T::Document | T::AudioRecording => &[
            "url", "uri", "link", "href", "path", "filename", "name", "id", "type", "size",
            "width", "height", "length", "duration", "count", "date", "caption", "alt", "mime",
            "format", "status", "key", "hash", "checksum", "number", "no", "nr", "taken", "credit",
            "consent",
        ],
        _ => &[],
    }
}

/// Whether a token of a name (outside the matched pattern) makes it metadata about `label`.
fn is_modifier(label: ClassificationType, token: &str) -> bool {
    if label_modifiers(label).contains(&token) {
        return true;
    }
    if !MODIFIERS.contains(&token) {
        return false;
    }
    let allowed = match token {
        "hash" | "hashed" | "digest" | "history" | "encoded" => {
            label == ClassificationType::Password
        }
        "at" => label == ClassificationType::DateOfBirth,
        // `asthma_flag`, `hiv_status`, `is_diabetic`, `has_hiv`: whether the person has the
        // condition is the health fact.
        "flag" | "status" | "is" | "has" => label == ClassificationType::HealthDiagnosis,
        _ => false,
    };
    !allowed
}

/// Tokens that, standing before `name`, make it something other than a person's name.
pub const NON_PERSON_QUALIFIERS: &[&str] = &[
    "product",
    "products",
    "shop",
    "store",
    "team",
    "company",
    "business",
    "org",
    "organisation",
    "organization",
    "brand",
    "model",
    "file",
    "filename",
    "table",
    "column",
    "field",
    "host",
    "hostname",
    "server",
    "device",
    "app",
    "application",
    "project",
    "city",
    "country",
    "state",
    "region",
    "street",
    "category",
    "dept",
    "department",
    "role",
    "plan",
    "tier",
    "event",
    "campaign",
    "course",
    "bank",
    "branch",
    "site",
    "domain",
    "trade",
    "key",
    "bucket",
    "queue",
    "topic",
    "service",
    "job",
    "task",
    "module",
    "package",
    "tag",
    "label",
    "template",
    "menu",
    "page",
    "screen",
    "item",
    "article",
    "sku",
    "variant",
    "vendor",
    "supplier",
    "merchant",
    "partner",
    "carrier",
    "warehouse",
    "location",
    "venue",
    "hotel",
    "airline",
    "airport",
    "station",
    "school",
    "university",
    "hospital",
    "clinic",
    "pharmacy",
    "drug",
    "medication",
    "medicine",
    "test",
    "lab",
    "diagnosis",
    "procedure",
    "plugin",
    "image",
    "document",
    "doc",
    "report",
    "dataset",
    "schema",
    "database",
    "db",
    "index",
    "metric",
    "feature",
    "setting",
    "config",
    "env",
    "environment",
    "cluster",
    "node",
    "region",
    "zone",
    "policy",
    "rule",
    "group",
    "list",
    "channel",
    "room",
    "building",
    "floor",
    "asset",
    "resource",
    "account",
    "workspace",
    "folder",
    "directory",
    "path",
    "bucket",
    "object",
    "container",
    "image",
    "pipeline",
    "stage",
    "step",
    "status",
    "type",
    "kind",
    "class",
    "unit",
    "currency",
    "language",
    "lang",
    "locale",
    "timezone",
    "color",
    "colour",
    "size",
    "material",
    "style",
    "collection",
    "season",
    "game",
    "team",
    "league",
    "club",
    "shop",
    "restaurant",
    "dish",
    "recipe",
    "ingredient",
    "insurer",
    "employer",
    "institution",
    "facility",
    "provider",
    "plan",
    "policy",
    "network",
    "vessel",
    "ship",
    "vehicle",
    "route",
    "port",
    "terminal",
    "gate",
    "flight",
    "train",
    "bus",
    "manufacturer",
    "make",
    "part",
    "component",
    "sensor",
    "software",
    "os",
    "browser",
    "user",
    "login",
    "screen",
    "nick",
    "legal entity",
    "entity",
    "trading",
    "registered",
    "business",
    "fund",
    "stock",
    "ticker",
    "security",
    "instrument",
    "asset",
    "portfolio",
    "ledger",
    "contract",
    "tariff",
];

static PATTERNS: LazyLock<Vec<NamePattern>> = LazyLock::new(|| {
    let mut out = Vec::new();
    for line in DICTIONARY.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((head, body)) = line.split_once(':') else {
            continue;
        };
        let mut head = head.split_whitespace();
        let (Some(label), Some(strength)) = (head.next(), head.next()) else {
            continue;
        };
        let Some(label) = ClassificationType::parse(label) else {
            continue;
        };
        let weight = match strength {
            "S" => STRONG,
            "M" => MEDIUM,
            _ => WEAK,
        };
        for text in body.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            out.push(NamePattern {
                label,
                weight,
                text,
                matcher: matcher(text),
            });
        }
    }
    // The cues of the national and tax identifiers, each for its identifier's type: strong, or
    // medium when marked ambiguous with `?`.
    for entry in national_ids::REGISTRY {
        for cue in entry.cues {
            let (text, weight) = match cue.strip_prefix('?') {
                Some(text) => (text, MEDIUM),
                None => (*cue, STRONG),
            };
            out.push(NamePattern {
                label: entry.label,
                weight,
                text,
                matcher: matcher(text),
            });
        }
    }
    out
});

/// How a dictionary entry matches: `~stem`, `prefix*` or space-separated tokens.
fn matcher(text: &'static str) -> Matcher {
    if let Some(stem) = text.strip_prefix('~') {
        Matcher::Stem(stem)
    } else if let Some(prefix) = text.strip_suffix('*') {
        Matcher::Prefix(prefix)
    } else {
        Matcher::Tokens(text.split(' ').collect())
    }
}

/// Single-token patterns by token, so most names are matched with a few lookups.
static BY_TOKEN: LazyLock<HashMap<&'static str, Vec<usize>>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, Vec<usize>> = HashMap::new();
    for (i, p) in PATTERNS.iter().enumerate() {
        if let Matcher::Tokens(words) = &p.matcher {
            map.entry(words[0]).or_default().push(i);
        }
    }
    map
});

/// Every dictionary pattern that matches a name, with its modifier if any. Per label only the
/// strongest match is kept; a label matched only by a pattern that is a part of a longer pattern
/// of another label (`address` inside `email address`) is dropped.
pub fn match_name(name: &NameTokens) -> Vec<NameHit> {
    let mut hits: Vec<NameHit> = Vec::new();
    let toks: Vec<&str> = name.tokens.iter().map(String::as_str).collect();
    let mut consider = |p: &NamePattern, covered: Vec<usize>| {
        hits.push(NameHit {
            label: p.label,
            weight: p.weight,
            pattern: p.text,
            modifier: None,
            covered,
        });
    };
    for (start, tok) in toks.iter().enumerate() {
        if let Some(ids) = BY_TOKEN.get(tok) {
            for &i in ids {
                let p = &PATTERNS[i];
                if let Matcher::Tokens(words) = &p.matcher {
                    if toks.len() >= start + words.len()
                        && toks[start..start + words.len()] == words[..]
                    {
                        consider(p, (start..start + words.len()).collect());
                    }
                }
            }
        }
    }
    for p in PATTERNS.iter() {
        match &p.matcher {
            Matcher::Stem(stem) => {
                if let Some(pos) = name.squashed.find(stem) {
                    consider(p, covered_by_span(&toks, pos, pos + stem.len()));
                }
            }
            Matcher::Prefix(prefix) => {
                if let Some(i) = toks.iter().position(|t| t.starts_with(prefix)) {
                    consider(p, vec![i]);
                }
            }
            Matcher::Tokens(_) => {}
        }
    }
    // A shorter match inside a longer match of another label loses (`address` in `email address`,
    // `name` in `user name`).
    let spans: Vec<(ClassificationType, Vec<usize>)> =
        hits.iter().map(|h| (h.label, h.covered.clone())).collect();
    hits.retain(|h| {
        !spans.iter().any(|(label, cov)| {
            *label != h.label
                && cov.len() > h.covered.len()
                && h.covered.iter().all(|i| cov.contains(i))
        })
    });
    // Per label keep the strongest (then longest) match.
    hits.sort_by(|a, b| {
        a.label
            .cmp(&b.label)
            .then(b.weight.total_cmp(&a.weight))
            .then(b.covered.len().cmp(&a.covered.len()))
    });
    hits.dedup_by(|later, earlier| later.label == earlier.label);
    for h in &mut hits {
        h.modifier = toks
            .iter()
            .enumerate()
            .filter(|(i, _)| !h.covered.contains(i))
            .map(|(_, t)| *t)
            .find(|t| is_modifier(h.label, t))
            .map(str::to_owned);
    }
    hits
}

/// The tokens a byte span of the squashed name touches.
fn covered_by_span(toks: &[&str], from: usize, to: usize) -> Vec<usize> {
    let mut pos = 0;
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let end = pos + t.len();
        if end > from && pos < to {
            out.push(i);
        }
        pos = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClassificationType as T;

    fn labels(name: &str) -> Vec<(T, bool)> {
        match_name(&NameTokens::new(name))
            .into_iter()
            .map(|h| (h.label, h.modifier.is_some()))
            .collect()
    }

    #[test]
    fn shorthand_and_other_languages_name_special_and_identity_columns() {
        for (name, label) in [
            ("dt_nasc", T::DateOfBirth),
            ("fec_nac", T::DateOfBirth),
            ("gebdat", T::DateOfBirth),
            ("raca_cor", T::Ethnicity),
            ("raza", T::Ethnicity),
            ("plec", T::Gender),
            ("sex_cd", T::Gender),
            ("wyznanie", T::Religion),
            ("confesion_religiosa", T::Religion),
            ("hipertension", T::HealthDiagnosis),
            ("schwangerschaft", T::HealthDiagnosis),
            ("cie10_principal", T::HealthDiagnosis),
            ("num_expediente", T::MedicalRecordNumber),
            ("cartao_sus", T::NationalId),
            ("numero_seguridad_social", T::NationalId),
            ("stnr", T::TaxId),
            ("logon_name", T::Username),
            ("activation_key", T::SecretKey),
            ("reset_token", T::SecretKey),
        ] {
            assert!(
                labels(name).contains(&(label, false)),
                "{name}: {:?}",
                labels(name)
            );
        }
        // Audit columns name a person only as a medium cue: the values decide.
        let by = match_name(&NameTokens::new("created_by"));
        assert!(by
            .iter()
            .any(|h| h.label == T::Username && h.weight < STRONG));
    }

    #[test]
    fn tokenizes_case_digits_and_accents() {
        assert_eq!(
            NameTokens::new("customerEMail_2").tokens,
            ["customer", "e", "mail", "2"]
        );
        assert_eq!(NameTokens::new("IPAddress").tokens, ["ip", "address"]);
        assert_eq!(NameTokens::new("addr1").tokens, ["addr", "1"]);
        assert_eq!(NameTokens::new("Straße").tokens, ["strasse"]);
        assert_eq!(NameTokens::new("geboorte-datum").squashed, "geboortedatum");
    }

    #[test]
    fn multilingual_and_compound_names() {
        assert!(labels("geboortedatum").contains(&(T::DateOfBirth, false)));
        assert!(labels("telefoonnummer").contains(&(T::PhoneNumber, false)));
        assert!(labels("voornaam").contains(&(T::PersonName, false)));
        assert!(labels("Nachname").contains(&(T::PersonName, false)));
        assert!(labels("codice_fiscale").contains(&(T::TaxId, false)));
        assert!(labels("fecha_nacimiento").contains(&(T::DateOfBirth, false)));
        assert!(labels("customerEmailAddress").contains(&(T::EmailAddress, false)));
        assert!(!labels("email_address")
            .iter()
            .any(|(l, _)| *l == T::PostalAddress));
    }

    #[test]
    fn modifiers_turn_names_into_metadata() {
        assert!(labels("phone_confirmed").contains(&(T::PhoneNumber, true)));
        assert!(labels("email_count").contains(&(T::EmailAddress, true)));
        assert!(labels("password_updated_at").contains(&(T::Password, true)));
        assert!(labels("card_network").contains(&(T::CreditCardNumber, true)));
        assert!(labels("password_hash").contains(&(T::Password, false)));
        assert!(labels("phone_number").contains(&(T::PhoneNumber, false)));
    }
}
