//! Synthetic free text for the `freetext_gen` corpus: notes, messages and complaints of several
//! languages of which about half mention a person (a name, an e-mail address, a phone number, an
//! identifier or a health condition), and texts that mention nobody (internal notes, product
//! descriptions, reviews, log lines). Sentence templates and words are our own; names, e-mail
//! addresses, phone numbers and identifiers come from the corpus generator
//! ([`super::corpus_values`]), whose lists are independent of the classifier's.

use super::corpus_values::{self as cv, Rng};

/// Templates of one language: sentences without personal data, and sentences with a slot each
/// (`{name}`, `{first}`, `{last}`, `{email}`, `{phone}`, `{id}`, `{cond}`).
struct Lang {
    plain: &'static [&'static str],
    personal: &'static [&'static str],
    conditions: &'static [&'static str],
    /// The identifier generator of the language's country.
    id: fn(&mut Rng) -> String,
    locale: &'static str,
}

fn lang(code: &str) -> Lang {
    match code {
        "de" => Lang {
            plain: &[
                "Lieferung wurde heute vom Lager bestätigt, Versand folgt morgen.",
                "Reklamation geprüft, Ersatzteil ist bestellt und kommt nächste Woche.",
                "Der Vertrag wurde verlängert, die neuen Konditionen gelten ab Januar.",
                "Bitte Rechnung nochmals prüfen, der Rabatt fehlt auf Position drei.",
                "Ticket an die zweite Ebene weitergegeben, Rückmeldung steht noch aus.",
            ],
            personal: &[
                "Rückruf erbeten, Frau {last} ist unter {phone} erreichbar.",
                "Kunde bittet um Antwort per Mail an {email}, nicht per Post.",
                "Gespräch mit {name} geführt, sie wünscht eine Gutschrift.",
                "Herr {last} hat sich erneut über die Verspätung beschwert.",
                "Seine Sozialversicherungsnummer {id} wurde für die Abrechnung hinterlegt.",
                "Kundin teilte mit, dass ihr Sohn an {cond} leidet und Termine verschieben muss.",
                "Bitte {first} {last} zurückrufen: {phone}.",
            ],
            conditions: &["Asthma", "Diabetes", "Epilepsie", "Migräne", "Demenz"],
            id: |r| cv::value("svnr_de", r, 0).unwrap_or_default(),
            locale: "de",
        },
        "fr" => Lang {
            plain: &[
                "La commande a été préparée et partira demain matin.",
                "Le devis révisé a été envoyé au service achats pour validation.",
                "Retour accepté, le remboursement sera fait sous dix jours.",
                "Le colis est resté bloqué au dépôt à cause de la grève.",
            ],
            personal: &[
                "Mme {last} a appelé, merci de la rappeler au {phone}.",
                "Le client demande une réponse écrite à {email}.",
                "Échange avec {name} au sujet de la facture contestée.",
                "M. {last} souhaite annuler son abonnement avant la fin du mois.",
                "Le patient signale une {cond} et demande un report du rendez-vous.",
                "Remboursement à faire sur son IBAN {id} sous huit jours.",
            ],
            conditions: &["épilepsie", "dépression", "grossesse", "pneumonie"],
            id: |r| cv::value("iban", r, 0).unwrap_or_default(),
            locale: "fr",
        },
        "es" => Lang {
            plain: &[
                "El pedido salió del almacén y llegará el jueves.",
                "Se revisó la incidencia y se cambió la pieza defectuosa.",
                "La oferta se actualizó con los nuevos precios de temporada.",
                "Pendiente de aprobación por parte del departamento de compras.",
            ],
            personal: &[
                "Llamar a la Sra. {last} al {phone} antes de las cinco.",
                "El cliente pide que le escriban a {email} con la factura.",
                "Hablé con {name} sobre el retraso en la entrega.",
                "Su DNI {id} no coincide con el de la reserva.",
                "La paciente tiene {cond} y necesita cita por la tarde.",
            ],
            conditions: &["asma", "diabetes", "epilepsia", "hipertensión"],
            id: cv::dni,
            locale: "es",
        },
        "nl" => Lang {
            plain: &[
                "De levering is vandaag door het magazijn bevestigd.",
                "Offerte aangepast na overleg, wacht op akkoord van inkoop.",
                "Storing verholpen, monteur komt volgende week voor controle.",
                "Factuur opnieuw verstuurd omdat het adres onjuist was.",
            ],
            personal: &[
                "Mevrouw {last} vraagt om terugbellen op {phone}.",
                "Klant wil de bevestiging ontvangen op {email}.",
                "Gesprek gehad met {name} over de opzegging.",
                "Klant heeft BSN {id} doorgegeven voor de aanvraag.",
                "Meneer {last} meldt dat zijn dochter {cond} heeft.",
            ],
            conditions: &["astma", "diabetes", "epilepsie", "dementie"],
            id: cv::bsn,
            locale: "nl",
        },
        "pt" => Lang {
            plain: &[
                "O pedido foi separado e segue amanhã pela transportadora.",
                "Orçamento revisado e enviado para aprovação do setor de compras.",
                "A troca foi autorizada depois da análise do produto.",
                "Entrega reagendada por causa da chuva na região.",
            ],
            personal: &[
                "Cliente informou o CPF {id} para emissão da nota.",
                "Ligar para a Sra. {last} no número {phone}.",
                "Enviar o boleto para {email} até sexta.",
                "Conversei com {name} sobre o atraso.",
                "A paciente relata {cond} desde o ano passado.",
            ],
            conditions: &["asma", "diabetes", "epilepsia", "depressão"],
            id: cv::cpf,
            locale: "pt",
        },
        _ => Lang {
            plain: &[
                "Order was packed this morning and leaves the warehouse tomorrow.",
                "Replacement part ordered, the technician will fit it next week.",
                "Contract renewed for another year with the same terms.",
                "Invoice corrected because the discount was missing on line two.",
                "Escalated to second-line support, waiting for their analysis.",
                "Customer is happy with the fix and the ticket can be closed.",
            ],
            personal: &[
                "Please call {name} back on {phone} about the refund.",
                "Customer asked us to send the invoice to {email} instead.",
                "Spoke with {name}, she wants the delivery moved to Friday.",
                "Mr. {last} complained again about the late delivery.",
                "His SSN {id} was written on the form by mistake, please redact.",
                "Caller said her husband has {cond} and cannot attend in person.",
                "Dear {first}, thank you for your message about the missing parcel.",
            ],
            conditions: &["diabetes", "asthma", "dementia", "epilepsy", "cancer"],
            id: cv::ssn,
            locale: "en",
        },
    }
}

/// A note, message or complaint: with personal data in about half of the values (`share`
/// percent), otherwise a note about the business.
pub fn note(r: &mut Rng, code: &str, share: u64) -> String {
    let l = lang(code);
    if !r.chance(share) {
        return r.pick(l.plain).to_owned();
    }
    let template = r.pick(l.personal);
    let mut out = template.to_owned();
    if out.contains("{name}") {
        out = out.replace("{name}", &cv::full_name(r, l.locale));
    }
    if out.contains("{first}") {
        out = out.replace("{first}", r.pick(cv::first_names(l.locale)));
    }
    if out.contains("{last}") {
        out = out.replace("{last}", r.pick(cv::last_names(l.locale)));
    }
    if out.contains("{email}") {
        out = out.replace("{email}", &cv::email(r));
    }
    if out.contains("{phone}") {
        out = out.replace("{phone}", &cv::phone(r, cv_phone_locale(l.locale)));
    }
    if out.contains("{id}") {
        out = out.replace("{id}", &(l.id)(r));
    }
    if out.contains("{cond}") {
        out = out.replace("{cond}", r.pick(l.conditions));
    }
    out
}

fn cv_phone_locale(locale: &str) -> &str {
    match locale {
        "en" => "us",
        "pt" => "br",
        other => other,
    }
}

/// A product description: materials, sizes, barcodes and capitalised product words.
pub fn product(r: &mut Rng) -> String {
    let what = r.pick(&[
        "Rose Gold Edition wristwatch",
        "Leather hiking boot",
        "Cast iron skillet",
        "Merino wool scarf",
        "Noise cancelling headphones",
        "Oak dining table",
    ]);
    let detail = r.pick(&[
        "with a brushed aluminium case and a two year warranty",
        "in sizes 38 to 46, breathable mesh upper",
        "pre-seasoned, suitable for all hob types",
        "hand wash only, made in a small family mill",
        "with up to 30 hours of battery life",
        "seats six, finished with natural oil",
    ]);
    let code = format!("EAN {}", ean13(r));
    format!("{what} {detail}. {code}, item {}.", r.range(10_000, 99_999))
}

/// A customer review without personal data.
pub fn review(r: &mut Rng) -> String {
    format!(
        "{} {}",
        r.pick(&[
            "Great quality and it arrived two days early.",
            "Does what it says, although the manual could be clearer.",
            "The colour is a bit darker than in the photos.",
            "Solid build, would buy again from this shop.",
            "Packaging was damaged but the product itself was fine.",
        ]),
        r.pick(&[
            "Four stars.",
            "Recommended.",
            "Good value for the price.",
            "Delivery was quick.",
            "",
        ])
    )
    .trim()
    .to_owned()
}

/// A technical log line: timestamps, hosts, ports, durations and counters, no person.
pub fn log_line(r: &mut Rng) -> String {
    let level = r.pick(&["INFO", "WARN", "ERROR", "DEBUG"]);
    let body = match r.below(4) {
        0 => format!(
            "worker {} finished job {} in {} ms",
            r.range(1, 16),
            r.range(10_000, 999_999),
            r.range(5, 9000)
        ),
        1 => format!(
            "connection to db-replica-{}:5432 refused after {} retries, backing off {} ms",
            r.range(1, 4),
            r.range(1, 5),
            r.range(100, 5000)
        ),
        2 => format!(
            "GET /api/v2/orders/{} returned {} in {} ms from 10.{}.{}.{}",
            r.range(1000, 99_999),
            r.pick(&["200", "404", "500", "304"]),
            r.range(1, 900),
            r.below(256),
            r.below(256),
            r.below(256)
        ),
        _ => format!(
            "cache rebuild took {} s, {} entries evicted, heap at {} MB",
            r.range(1, 60),
            r.range(0, 100_000),
            r.range(120, 4096)
        ),
    };
    format!(
        "2025-0{}-1{}T0{}:1{}:2{}Z {level} {body}",
        r.range(1, 9),
        r.below(10),
        r.below(10),
        r.below(10),
        r.below(10)
    )
}

/// A European article number with its check digit.
fn ean13(r: &mut Rng) -> String {
    let body: Vec<u32> = (0..12).map(|_| r.below(10) as u32).collect();
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { d * 3 })
        .sum();
    let check = (10 - sum % 10) % 10;
    body.iter()
        .chain(std::iter::once(&check))
        .map(|d| char::from(b'0' + *d as u8))
        .collect()
}
