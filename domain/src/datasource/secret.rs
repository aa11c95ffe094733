//! [`SecretRef`]: where a credential lives, never the credential itself.
//!
//! Every credential field of a data source (`password_secret`, the cloud client secret, access key
//! and service-account key) holds one of these. The connectors resolve it at connection time; the
//! event log and the read models only ever see the reference. A `fernet:` reference is the one
//! exception that carries material: the token is ciphertext, acceptable in the event log but shown
//! as `fernet:***` everywhere else ([`SecretRef::redacted`], `Debug`).
//!
//! Parse errors never repeat the rejected input: the most common mistake is pasting the password
//! itself, and an error message travels to logs and API responses.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The store a [`SecretRef`] points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretScheme {
    /// `env:VAR` — an environment variable of the process that connects.
    Env,
    /// `file:PATH` — a file (e.g. a mounted Kubernetes secret), absolute or relative.
    File,
    /// `vault:PATH#FIELD` — a HashiCorp Vault secret and the field inside it.
    Vault,
    /// `aws-sm:NAME` — an AWS Secrets Manager secret name or ARN.
    AwsSecretsManager,
    /// `azure-kv:VAULT/NAME` — an Azure Key Vault and the secret name in it.
    AzureKeyVault,
    /// `fernet:TOKEN` — the secret encrypted with `PURSIGHT_FERNET_KEY`.
    Fernet,
}

impl SecretScheme {
    pub const ALL: [SecretScheme; 6] = [
        SecretScheme::Env,
        SecretScheme::File,
        SecretScheme::Vault,
        SecretScheme::AwsSecretsManager,
        SecretScheme::AzureKeyVault,
        SecretScheme::Fernet,
    ];

    /// The prefix before the `:`.
    pub fn prefix(self) -> &'static str {
        match self {
            SecretScheme::Env => "env",
            SecretScheme::File => "file",
            SecretScheme::Vault => "vault",
            SecretScheme::AwsSecretsManager => "aws-sm",
            SecretScheme::AzureKeyVault => "azure-kv",
            SecretScheme::Fernet => "fernet",
        }
    }
}

/// A borrowed, structured view of a [`SecretRef`] for the code that resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretLocation<'a> {
    Env { var: &'a str },
    File { path: &'a str },
    Vault { path: &'a str, field: &'a str },
    AwsSecretsManager { name: &'a str },
    AzureKeyVault { vault: &'a str, name: &'a str },
    Fernet { token: &'a str },
}

/// A parsed reference to a secret: `env:VAR`, `file:PATH`, `vault:PATH#FIELD`, `aws-sm:NAME`,
/// `azure-kv:VAULT/NAME` or `fernet:TOKEN`.
///
/// ```
/// use domain::datasource::SecretRef;
///
/// let secret = SecretRef::parse("vault:secret/data/pg#password").unwrap();
/// assert_eq!(secret.as_str(), "vault:secret/data/pg#password");
/// assert_eq!(SecretRef::parse("fernet:gAAAAABk").unwrap().redacted(), "fernet:***");
///
/// let error = SecretRef::parse("hunter2").unwrap_err();
/// assert!(!error.contains("hunter2"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct SecretRef {
    scheme: SecretScheme,
    /// The whole reference, `scheme:locator`, as it was parsed (trimmed).
    raw: String,
}

/// The one message for input that is not a reference at all. Names the accepted forms so the
/// user can fix it, and deliberately nothing of what they typed.
pub const NOT_A_SECRET_REFERENCE: &str =
    "must be a secret reference (env:VAR, file:PATH, vault:PATH#FIELD, \
     aws-sm:NAME, azure-kv:VAULT/NAME or fernet:TOKEN), not a literal password";

impl SecretRef {
    /// Parses a reference. The error is a message without a field name (the caller knows which
    /// field it parsed) and never contains the input.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        let Some((prefix, locator)) = raw.split_once(':') else {
            return Err(NOT_A_SECRET_REFERENCE.to_owned());
        };
        let Some(scheme) = SecretScheme::ALL.into_iter().find(|s| s.prefix() == prefix) else {
            return Err(NOT_A_SECRET_REFERENCE.to_owned());
        };
        let valid = match scheme {
            SecretScheme::Env => is_env_var(locator),
            SecretScheme::File => is_path(locator),
            SecretScheme::Vault => locator
                .split_once('#')
                .is_some_and(|(path, field)| is_path(path) && is_word(field, "_-.")),
            SecretScheme::AwsSecretsManager => {
                // Secret names allow `/_+=.@-`; ARNs add `:`.
                locator.len() <= 2048 && is_word(locator, "/_+=.@-:")
            }
            SecretScheme::AzureKeyVault => locator.split_once('/').is_some_and(|(vault, name)| {
                (3..=24).contains(&vault.len())
                    && is_word(vault, "-")
                    && name.len() <= 127
                    && is_word(name, "-")
            }),
            // Fernet tokens are URL-safe base64.
            SecretScheme::Fernet => is_word(locator, "-_="),
        };
        if valid {
            Ok(Self {
                scheme,
                raw: raw.to_owned(),
            })
        } else {
            Err(format!(
                "is not a valid {}: reference; expected {}",
                scheme.prefix(),
                expected_form(scheme)
            ))
        }
    }

    pub fn scheme(&self) -> SecretScheme {
        self.scheme
    }

    /// The full reference, `scheme:locator`. For `fernet:` this includes the ciphertext.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// What follows `scheme:`.
    pub fn locator(&self) -> &str {
        &self.raw[self.scheme.prefix().len() + 1..]
    }

    /// The parts a resolver needs, already split.
    pub fn location(&self) -> SecretLocation<'_> {
        let locator = self.locator();
        match self.scheme {
            SecretScheme::Env => SecretLocation::Env { var: locator },
            SecretScheme::File => SecretLocation::File { path: locator },
            SecretScheme::Vault => {
                let (path, field) = locator.split_once('#').unwrap_or((locator, ""));
                SecretLocation::Vault { path, field }
            }
            SecretScheme::AwsSecretsManager => SecretLocation::AwsSecretsManager { name: locator },
            SecretScheme::AzureKeyVault => {
                let (vault, name) = locator.split_once('/').unwrap_or((locator, ""));
                SecretLocation::AzureKeyVault { vault, name }
            }
            SecretScheme::Fernet => SecretLocation::Fernet { token: locator },
        }
    }

    /// The reference as shown in read models, API responses and logs: the locator of a store
    /// reference is kept (operators need to know where to look), a Fernet token is hidden.
    pub fn redacted(&self) -> String {
        match self.scheme {
            SecretScheme::Fernet => "fernet:***".to_owned(),
            _ => self.raw.clone(),
        }
    }
}

fn expected_form(scheme: SecretScheme) -> &'static str {
    match scheme {
        SecretScheme::Env => "env:VAR with letters, digits and '_', not starting with a digit",
        SecretScheme::File => "file:PATH with a non-empty path",
        SecretScheme::Vault => "vault:PATH#FIELD",
        SecretScheme::AwsSecretsManager => "aws-sm:NAME (a secret name or ARN)",
        SecretScheme::AzureKeyVault => "azure-kv:VAULT/NAME",
        SecretScheme::Fernet => "fernet:TOKEN with a URL-safe base64 token",
    }
}

fn is_env_var(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_path(s: &str) -> bool {
    !s.is_empty() && s.len() <= 4096 && !s.chars().any(char::is_control)
}

fn is_word(s: &str, extra: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug output ends up in logs and panic messages: never print ciphertext there.
        f.debug_tuple("SecretRef").field(&self.redacted()).finish()
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl TryFrom<String> for SecretRef {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<SecretRef> for String {
    fn from(value: SecretRef) -> Self {
        value.raw
    }
}

// Written from the borrowed text, not through a cloned `String`: every appended event that
// carries a configuration serialises its references.
impl Serialize for SecretRef {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.raw)
    }
}

impl JsonSchema for SecretRef {
    fn schema_name() -> Cow<'static, str> {
        "SecretRef".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A reference to a secret, never its value: env:VAR, file:PATH, vault:PATH#FIELD, aws-sm:NAME, azure-kv:VAULT/NAME or fernet:TOKEN.",
            "pattern": "^(env|file|vault|aws-sm|azure-kv|fernet):.+$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_parses() {
        let cases = [
            (
                "env:PG_PASSWORD",
                SecretLocation::Env { var: "PG_PASSWORD" },
            ),
            (
                "file:/run/secrets/pg",
                SecretLocation::File {
                    path: "/run/secrets/pg",
                },
            ),
            (
                "file:secrets/pg.txt",
                SecretLocation::File {
                    path: "secrets/pg.txt",
                },
            ),
            (
                "vault:secret/data/pg#password",
                SecretLocation::Vault {
                    path: "secret/data/pg",
                    field: "password",
                },
            ),
            (
                "aws-sm:prod/pg",
                SecretLocation::AwsSecretsManager { name: "prod/pg" },
            ),
            (
                "aws-sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-AbCdEf",
                SecretLocation::AwsSecretsManager {
                    name: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:pg-AbCdEf",
                },
            ),
            (
                "azure-kv:acme-kv/pg-password",
                SecretLocation::AzureKeyVault {
                    vault: "acme-kv",
                    name: "pg-password",
                },
            ),
            (
                "fernet:gAAAAABl_x-y=",
                SecretLocation::Fernet {
                    token: "gAAAAABl_x-y=",
                },
            ),
        ];
        for (raw, location) in cases {
            let secret = SecretRef::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(secret.location(), location);
            assert_eq!(secret.as_str(), raw);
        }
    }

    #[test]
    fn literal_passwords_are_refused_without_being_echoed() {
        for password in [
            "hunter2",
            "s3cr3t!",
            "p@ss:word",
            "correct horse battery staple",
            "",
        ] {
            let error = SecretRef::parse(password).unwrap_err();
            assert_eq!(error, NOT_A_SECRET_REFERENCE);
            if !password.is_empty() {
                assert!(!error.contains(password), "{error}");
            }
        }
    }

    #[test]
    fn malformed_references_name_the_expected_form_not_the_input() {
        for raw in [
            "env:",
            "env:1ABC",
            "env:PG PASSWORD",
            "file:",
            "vault:secret/pg",
            "vault:#field",
            "aws-sm:",
            "azure-kv:zzzz",
            "azure-kv:ab/name",
            "fernet:not base64!",
        ] {
            let error = SecretRef::parse(raw).unwrap_err();
            let scheme = raw.split(':').next().unwrap();
            assert!(
                error.starts_with(&format!("is not a valid {scheme}: reference")),
                "{error}"
            );
            let locator = &raw[scheme.len() + 1..];
            if !locator.is_empty() {
                assert!(!error.contains(locator), "{error} echoes {locator}");
            }
        }
    }

    #[test]
    fn fernet_tokens_are_redacted_and_references_are_not() {
        let token = SecretRef::parse("fernet:gAAAAABlSECRETCIPHERTEXT").unwrap();
        assert_eq!(token.redacted(), "fernet:***");
        assert!(!format!("{token:?}").contains("SECRETCIPHERTEXT"));
        assert!(!token.to_string().contains("SECRETCIPHERTEXT"));
        assert_eq!(
            SecretRef::parse("env:PG_PASSWORD").unwrap().redacted(),
            "env:PG_PASSWORD"
        );
    }

    #[test]
    fn serializes_as_the_full_reference_and_refuses_literals_on_the_way_in() {
        let token = SecretRef::parse("fernet:gAAAAABl").unwrap();
        assert_eq!(serde_json::to_value(&token).unwrap(), "fernet:gAAAAABl");
        assert_eq!(
            serde_json::from_value::<SecretRef>("fernet:gAAAAABl".into()).unwrap(),
            token
        );
        let error = serde_json::from_value::<SecretRef>("hunter2".into()).unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
    }
}
