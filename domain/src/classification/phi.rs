//! Where HIPAA applies. Protected health information is individually identifiable *health*
//! information: a medical record number or a diagnosis is health data wherever it is, but a
//! name, an e-mail address or a date of birth is PHI only where it sits with health data. A
//! customer's name in a video-rental database is GDPR personal data, not HIPAA PHI.
//!
//! So a label carries the `hipaa_phi` framework when its type is health data itself
//! ([`is_health_data`]), or when its type is one of HIPAA's identifiers (the types whose
//! [`frameworks`](ClassificationType::frameworks) list `HipaaPhi`) *and* the column is in a
//! health context ([`health_context`]): the source, schema or table is named after health care
//! (`patient_visits`, a `clinic` schema, a source called "Lakeside Hospital"), or a column beside
//! it holds or names health data (a diagnosis, a medical record number, a `medication` column).
//! The reason is worded for a person: the classifier records it as a signal of the label
//! ([`hipaa_signal`]), and compliance facts cite it.

use super::engine::{Signal, Tier};
use super::names::NameTokens;
use super::types::{ClassificationType, Framework};

/// The start of the signal that says why HIPAA applies to a label.
pub const HIPAA_SIGNAL: &str = "HIPAA applies: ";

/// Words that make a source, schema or table name a health-care one.
const HEALTH_PLACES: &[&str] = &[
    "patient",
    "clinic",
    "clinical",
    "hospital",
    "medical",
    "medicine",
    "health",
    "healthcare",
    "pharmacy",
    "prescription",
    "diagnosis",
    "diagnose",
    "ehr",
    "emr",
    "treatment",
    "medication",
    "allergy",
    "immunization",
    "vaccination",
    "physician",
    "therapy",
    "dental",
    "radiology",
    "oncology",
    "cardiology",
    "pathology",
    "telehealth",
    "nursing",
];

/// Words beside `health` that make it about systems, not people (`service_health_checks`).
const SYSTEM_HEALTH: &[&str] = &["check", "status", "monitor", "probe", "ping", "heartbeat"];

/// Words that make a column name a health-data one.
const HEALTH_COLUMNS: &[&str] = &[
    "patient",
    "diagnosis",
    "diagnose",
    "icd",
    "medication",
    "prescription",
    "allergy",
    "symptom",
    "treatment",
    "dosage",
    "vaccination",
    "immunization",
    "mrn",
    "blood",
];

/// Whether the type is health data wherever it appears (HIPAA PHI and GDPR special category).
pub fn is_health_data(t: ClassificationType) -> bool {
    matches!(
        t,
        ClassificationType::MedicalRecordNumber | ClassificationType::HealthDiagnosis
    )
}

/// `medications` → `medication`; `-ies` plurals are matched as `-y` by the caller.
fn singular(word: &str) -> &str {
    if word.ends_with("ies") {
        return word;
    }
    word.strip_suffix('s').unwrap_or(word)
}

/// The health word of a name, if it has one.
fn health_word<'a>(name: &str, words: &'a [&'a str]) -> Option<&'a str> {
    let tokens = NameTokens::new(name);
    let lower: Vec<String> = tokens.words().map(str::to_lowercase).collect();
    let system = lower
        .iter()
        .any(|w| SYSTEM_HEALTH.contains(&singular(w)) || SYSTEM_HEALTH.contains(&w.as_str()));
    lower.iter().find_map(|w| {
        let plural_y = w.strip_suffix("ies").map(|stem| format!("{stem}y"));
        let found = words.iter().copied().find(|candidate| {
            *candidate == w.as_str()
                || *candidate == singular(w)
                || plural_y.as_deref() == Some(*candidate)
        })?;
        (!(system && found == "health")).then_some(found)
    })
}

/// Why a column is in a health context, or `None`.
///
/// `places` are the names around it, each with what it is: `("source", "Lakeside Hospital")`,
/// `("schema", "clinic")`, `("table", "patient_visits")`. `columns` are the columns of its table
/// with the built-in type each is labelled with (if any); the column itself may be among them.
///
/// ```
/// use domain::classification::phi::health_context;
/// use domain::classification::ClassificationType as T;
/// let reason = health_context(&[("table", "ward_patients")], &[("full_name", Some(T::PersonName))]);
/// assert_eq!(reason.as_deref(), Some("table `ward_patients` names health care (patient)"));
/// assert_eq!(health_context(&[("table", "film_rentals")], &[("renter", Some(T::PersonName))]), None);
/// ```
pub fn health_context(
    places: &[(&str, &str)],
    columns: &[(&str, Option<ClassificationType>)],
) -> Option<String> {
    for (what, name) in places {
        if let Some(word) = health_word(name, HEALTH_PLACES) {
            return Some(format!("{what} `{name}` names health care ({word})"));
        }
    }
    for (name, label) in columns {
        if let Some(t) = label.filter(|t| is_health_data(*t)) {
            return Some(format!("column `{name}` beside it holds health data ({t})"));
        }
    }
    for (name, _) in columns {
        if let Some(word) = health_word(name, HEALTH_COLUMNS) {
            return Some(format!("column `{name}` names health data ({word})"));
        }
    }
    None
}

/// The frameworks a label of type `t` carries where `health` says whether its column is in a
/// health context: the type's frameworks, with `hipaa_phi` only for health data itself or in a
/// health context.
///
/// ```
/// use domain::classification::phi::frameworks_in_context;
/// use domain::classification::{ClassificationType as T, Framework};
/// assert_eq!(frameworks_in_context(T::PersonName, false), [Framework::GdprPersonal]);
/// assert!(frameworks_in_context(T::PersonName, true).contains(&Framework::HipaaPhi));
/// assert!(frameworks_in_context(T::HealthDiagnosis, false).contains(&Framework::HipaaPhi));
/// ```
pub fn frameworks_in_context(t: ClassificationType, health: bool) -> Vec<Framework> {
    t.frameworks()
        .iter()
        .copied()
        .filter(|f| *f != Framework::HipaaPhi || is_health_data(t) || health)
        .collect()
}

/// Whether HIPAA's identifiers include the type (it is PHI in a health context).
pub fn is_hipaa_identifier(t: ClassificationType) -> bool {
    !is_health_data(t) && t.frameworks().contains(&Framework::HipaaPhi)
}

/// The signal a label carries when HIPAA applies to it because of its context (no weight: it
/// says where the label matters, not whether it is right).
pub fn hipaa_signal(reason: &str) -> Signal {
    Signal {
        tier: Tier::Context,
        detail: format!("{HIPAA_SIGNAL}{reason}"),
        weight: 0.0,
    }
}

/// The start of the signal that says a label's values are GDPR special-category data although
/// its type is not one (free text that speaks of people's health).
pub const SPECIAL_CATEGORY_SIGNAL: &str = "GDPR special category: ";

/// The signal a label carries when its values are special-category data (GDPR Art. 9) by what
/// they say, not by its type (no weight: it says where the label matters).
pub fn special_category_signal(reason: &str) -> Signal {
    Signal {
        tier: Tier::Context,
        detail: format!("{SPECIAL_CATEGORY_SIGNAL}{reason}"),
        weight: 0.0,
    }
}

/// Why a label's values are special-category data, from its signals (see
/// [`special_category_signal`]).
pub fn special_category_reason(signals: &[Signal]) -> Option<&str> {
    signals
        .iter()
        .filter(|s| s.tier == Tier::Context)
        .find_map(|s| s.detail.strip_prefix(SPECIAL_CATEGORY_SIGNAL))
}

/// The frameworks of one label of type `t`: its type's, with `hipaa_phi` where the column is in a
/// health context (`health_place`: the source, schema or table says so) or the label's signals
/// say HIPAA applies, and `gdpr_special_category` where its signals say its values are
/// special-category data. The one place the read side (API, compliance facts) decides it.
pub fn label_frameworks(
    t: ClassificationType,
    signals: &[Signal],
    health_place: bool,
) -> Vec<Framework> {
    let health = health_place
        || hipaa_reason(signals).is_some()
        || special_category_reason(signals).is_some();
    let mut frameworks = frameworks_in_context(t, health);
    if special_category_reason(signals).is_some()
        && !frameworks.contains(&Framework::GdprSpecialCategory)
    {
        frameworks.push(Framework::GdprSpecialCategory);
    }
    frameworks
}

/// The reason HIPAA applies, from a label's signals (see [`hipaa_signal`]).
pub fn hipaa_reason(signals: &[Signal]) -> Option<&str> {
    signals
        .iter()
        .filter(|s| s.tier == Tier::Context)
        .find_map(|s| s.detail.strip_prefix(HIPAA_SIGNAL))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClassificationType as T;

    #[test]
    fn free_text_about_peoples_health_is_special_category_and_phi() {
        let plain = label_frameworks(T::FreeTextPii, &[], false);
        assert_eq!(plain, [Framework::GdprPersonal]);
        let health = label_frameworks(
            T::FreeTextPii,
            &[special_category_signal(
                "12 of 80 sampled values mention a person's health condition",
            )],
            false,
        );
        assert!(
            health.contains(&Framework::GdprSpecialCategory),
            "{health:?}"
        );
        assert!(health.contains(&Framework::HipaaPhi), "{health:?}");
        // A scored signal with the same words is not the classifier's verdict.
        let forged = label_frameworks(
            T::FreeTextPii,
            &[Signal {
                tier: Tier::Rule,
                detail: format!("{SPECIAL_CATEGORY_SIGNAL}typed by hand"),
                weight: 1.0,
            }],
            false,
        );
        assert_eq!(forged, [Framework::GdprPersonal]);
    }

    #[test]
    fn a_name_in_a_rental_shop_is_personal_data_and_in_a_clinic_it_is_phi() {
        let rental = health_context(
            &[
                ("source", "Corner Video Store"),
                ("schema", "store"),
                ("table", "borrowers"),
            ],
            &[
                ("given_name", Some(T::PersonName)),
                ("contact_mail", Some(T::EmailAddress)),
                ("late_fee", None),
            ],
        );
        assert_eq!(rental, None);
        assert_eq!(
            frameworks_in_context(T::PersonName, rental.is_some()),
            [Framework::GdprPersonal]
        );

        let clinic = health_context(
            &[
                ("source", "Hillcrest Podiatry"),
                ("schema", "intake"),
                ("table", "visitors"),
            ],
            &[("given_name", Some(T::PersonName)), ("icd_code", None)],
        );
        assert_eq!(
            clinic.as_deref(),
            Some("column `icd_code` names health data (icd)")
        );
        assert_eq!(
            frameworks_in_context(T::PersonName, true),
            [Framework::GdprPersonal, Framework::HipaaPhi]
        );
    }

    #[test]
    fn the_source_schema_or_table_name_or_a_health_column_beside_make_the_context() {
        assert_eq!(
            health_context(&[("source", "Lakeside Hospital Records")], &[]).as_deref(),
            Some("source `Lakeside Hospital Records` names health care (hospital)")
        );
        assert_eq!(
            health_context(&[("schema", "pharmacies")], &[]).as_deref(),
            Some("schema `pharmacies` names health care (pharmacy)")
        );
        assert_eq!(
            health_context(&[("table", "ClinicAppointments")], &[]).as_deref(),
            Some("table `ClinicAppointments` names health care (clinic)")
        );
        assert_eq!(
            health_context(
                &[("table", "members")],
                &[("ref_code", Some(T::MedicalRecordNumber))]
            )
            .as_deref(),
            Some("column `ref_code` beside it holds health data (MEDICAL_RECORD_NUMBER)")
        );
        assert_eq!(
            health_context(&[("table", "members")], &[("current_medications", None)]).as_deref(),
            Some("column `current_medications` names health data (medication)")
        );
    }

    #[test]
    fn system_health_and_unrelated_names_are_no_health_context() {
        assert_eq!(
            health_context(&[("table", "service_health_checks")], &[]),
            None
        );
        assert_eq!(
            health_context(
                &[("source", "Game Night Rentals"), ("table", "subscribers")],
                &[
                    ("display_name", Some(T::PersonName)),
                    ("ip", Some(T::IpAddress))
                ]
            ),
            None
        );
    }

    #[test]
    fn health_data_types_are_phi_anywhere_and_other_types_never() {
        for t in ClassificationType::ALL.iter().copied() {
            let anywhere = frameworks_in_context(t, false).contains(&Framework::HipaaPhi);
            assert_eq!(anywhere, is_health_data(t), "{t}");
            let in_health = frameworks_in_context(t, true).contains(&Framework::HipaaPhi);
            assert_eq!(
                in_health,
                is_health_data(t) || is_hipaa_identifier(t),
                "{t}"
            );
        }
        assert!(!frameworks_in_context(T::CreditCardNumber, true).contains(&Framework::HipaaPhi));
        // The other frameworks never depend on the context.
        assert_eq!(
            frameworks_in_context(T::Password, true),
            T::Password.frameworks()
        );
    }

    #[test]
    fn the_reason_travels_in_a_signal_without_weight() {
        let signal = hipaa_signal("table `ward_patients` names health care (patient)");
        assert_eq!(signal.weight, 0.0);
        assert_eq!(
            hipaa_reason(&[signal]),
            Some("table `ward_patients` names health care (patient)")
        );
        assert_eq!(hipaa_reason(&[]), None);
    }
}
