//! The built-in classification types, their sensitivity and the frameworks they matter to, and
//! [`Label`]: a built-in type or a custom one defined by a scan rule set.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How much harm exposure of the data does.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    Low,
    Medium,
    High,
    Critical,
}

impl Sensitivity {
    /// Every level, least harmful first.
    pub const ALL: [Sensitivity; 4] = [
        Sensitivity::Low,
        Sensitivity::Medium,
        Sensitivity::High,
        Sensitivity::Critical,
    ];

    /// The wire name, e.g. `critical` (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Low => "low",
            Sensitivity::Medium => "medium",
            Sensitivity::High => "high",
            Sensitivity::Critical => "critical",
        }
    }
}

/// A compliance framework (or category within one) a type matters to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Framework {
    /// GDPR personal data (Art. 4(1)).
    GdprPersonal,
    /// GDPR special category data (Art. 9).
    GdprSpecialCategory,
    /// HIPAA protected health information.
    HipaaPhi,
    /// PCI-DSS cardholder data or sensitive authentication data.
    PciCardholder,
    /// SOC2 credentials and secrets.
    Soc2Credentials,
}

impl Framework {
    /// Every framework category.
    pub const ALL: [Framework; 5] = [
        Framework::GdprPersonal,
        Framework::GdprSpecialCategory,
        Framework::HipaaPhi,
        Framework::PciCardholder,
        Framework::Soc2Credentials,
    ];

    /// The wire name, e.g. `pci_cardholder` (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::GdprPersonal => "gdpr_personal",
            Framework::GdprSpecialCategory => "gdpr_special_category",
            Framework::HipaaPhi => "hipaa_phi",
            Framework::PciCardholder => "pci_cardholder",
            Framework::Soc2Credentials => "soc2_credentials",
        }
    }
}

macro_rules! classification_types {
    ($($variant:ident => $name:literal, $sensitivity:ident, [$($framework:ident),*];)*) => {
        /// A built-in classification type. Definitions: `../shared/datasets/pii-dev/README.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum ClassificationType {
            $($variant,)*
        }

        impl ClassificationType {
            /// Every built-in type, in declaration order.
            pub const ALL: &'static [ClassificationType] = &[$(ClassificationType::$variant,)*];

            /// The wire name, e.g. `CREDIT_CARD_NUMBER`.
            pub fn as_str(self) -> &'static str {
                match self { $(ClassificationType::$variant => $name,)* }
            }

            /// Parses a wire name.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some(ClassificationType::$variant),)* _ => None }
            }

            pub fn sensitivity(self) -> Sensitivity {
                match self { $(ClassificationType::$variant => Sensitivity::$sensitivity,)* }
            }

            /// The frameworks the type may matter to. `HipaaPhi` here marks HIPAA's identifiers
            /// and health data: an identifier is PHI only in a health context, so a label's
            /// frameworks come from [`phi::frameworks_in_context`](super::phi::frameworks_in_context).
            pub fn frameworks(self) -> &'static [Framework] {
                match self { $(ClassificationType::$variant => &[$(Framework::$framework),*],)* }
            }
        }
    };
}

classification_types! {
    PersonName => "PERSON_NAME", Medium, [GdprPersonal, HipaaPhi];
    EmailAddress => "EMAIL_ADDRESS", Medium, [GdprPersonal, HipaaPhi];
    PhoneNumber => "PHONE_NUMBER", Medium, [GdprPersonal, HipaaPhi];
    PostalAddress => "POSTAL_ADDRESS", Medium, [GdprPersonal, HipaaPhi];
    PostalCode => "POSTAL_CODE", Low, [GdprPersonal, HipaaPhi];
    DateOfBirth => "DATE_OF_BIRTH", High, [GdprPersonal, HipaaPhi];
    Gender => "GENDER", Medium, [GdprPersonal];
    UsSsn => "US_SSN", Critical, [GdprPersonal, HipaaPhi];
    PassportNumber => "PASSPORT_NUMBER", Critical, [GdprPersonal];
    DriversLicense => "DRIVERS_LICENSE", High, [GdprPersonal, HipaaPhi];
    NationalId => "NATIONAL_ID", Critical, [GdprPersonal];
    TaxId => "TAX_ID", High, [GdprPersonal];
    CreditCardNumber => "CREDIT_CARD_NUMBER", Critical, [PciCardholder, GdprPersonal];
    CardSecurityCode => "CARD_SECURITY_CODE", Critical, [PciCardholder];
    Iban => "IBAN", High, [GdprPersonal];
    BankAccountNumber => "BANK_ACCOUNT_NUMBER", High, [GdprPersonal, HipaaPhi];
    IpAddress => "IP_ADDRESS", Medium, [GdprPersonal, HipaaPhi];
    MacAddress => "MAC_ADDRESS", Medium, [GdprPersonal, HipaaPhi];
    GeoCoordinate => "GEO_COORDINATE", Medium, [GdprPersonal, HipaaPhi];
    Username => "USERNAME", Medium, [GdprPersonal, Soc2Credentials];
    Password => "PASSWORD", Critical, [Soc2Credentials];
    SecretKey => "SECRET_KEY", Critical, [Soc2Credentials];
    MedicalRecordNumber => "MEDICAL_RECORD_NUMBER", High, [HipaaPhi, GdprSpecialCategory];
    HealthDiagnosis => "HEALTH_DIAGNOSIS", Critical, [HipaaPhi, GdprSpecialCategory];
    Ethnicity => "ETHNICITY", High, [GdprSpecialCategory];
    Religion => "RELIGION", High, [GdprSpecialCategory];
    VehicleId => "VEHICLE_ID", Medium, [GdprPersonal];
    FreeTextPii => "FREE_TEXT_PII", High, [GdprPersonal, HipaaPhi];
    // Binary content found by its magic number (see `content`): a photo of a person (HIPAA
    // counts full-face photographs among its identifiers), a scanned or stored document (an
    // identity document, a contract, a CV), a recording of a voice.
    Photo => "PHOTO", High, [GdprPersonal, HipaaPhi];
    Document => "DOCUMENT", High, [GdprPersonal];
    AudioRecording => "AUDIO_RECORDING", Medium, [GdprPersonal];
}

impl fmt::Display for ClassificationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label on a column: a built-in type or a custom classification named by a scan rule set.
/// On the wire both are the plain name (custom names may not reuse a built-in name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
#[schemars(with = "String")]
pub enum Label {
    BuiltIn(ClassificationType),
    Custom(String),
}

impl Label {
    /// Reads a wire name: a built-in name, otherwise a custom one (any non-empty name).
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.trim();
        if name.is_empty() {
            return None;
        }
        Some(match ClassificationType::parse(name) {
            Some(t) => Label::BuiltIn(t),
            None => Label::Custom(name.to_owned()),
        })
    }

    pub fn as_str(&self) -> &str {
        match self {
            Label::BuiltIn(t) => t.as_str(),
            Label::Custom(name) => name,
        }
    }

    pub fn built_in(&self) -> Option<ClassificationType> {
        match self {
            Label::BuiltIn(t) => Some(*t),
            Label::Custom(_) => None,
        }
    }
}

impl From<ClassificationType> for Label {
    fn from(t: ClassificationType) -> Self {
        Label::BuiltIn(t)
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Label {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Label::parse(&name).ok_or_else(|| serde::de::Error::custom("a label name may not be empty"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_the_serialised_names_and_all_holds_every_level_and_framework() {
        for level in Sensitivity::ALL {
            assert_eq!(serde_json::to_value(level).unwrap(), level.as_str());
        }
        for framework in Framework::ALL {
            assert_eq!(serde_json::to_value(framework).unwrap(), framework.as_str());
        }
        assert!(Sensitivity::ALL.windows(2).all(|pair| pair[0] < pair[1]));
        for t in ClassificationType::ALL {
            assert!(Sensitivity::ALL.contains(&t.sensitivity()), "{t:?}");
            for framework in t.frameworks() {
                assert!(Framework::ALL.contains(framework), "{t:?}");
            }
        }
    }
}
