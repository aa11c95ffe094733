//! [`TlsSettings`]: how strictly a connection is encrypted, decided once from the model for every
//! engine; each engine then spells it in its own terms (`sslmode`, `ssl-mode`, `tls=true`,
//! `rediss://`).
//!
//! | `ssl_config` | location | [`TlsMode`] |
//! |---|---|---|
//! | absent | `on_prem` | `Preferred` (encrypt if the server offers it) |
//! | absent | `cloud`, `hybrid` | `Required` |
//! | `mode: disable` | any | `Disabled` |
//! | `mode: require`, no CA | any | `Required` |
//! | `mode: require` with `ssl_ca` | any | `VerifyCa` — a CA given is a CA used (libpq does the same) |
//! | `mode: verify_ca` | any | `VerifyCa` (the model's default when only `ssl_ca` is given) |
//! | `mode: verify_full` | any | `VerifyFull`: the CA and the host name checked, always explicit |
//!
//! The CA, client certificate and key paths travel with the mode, except when TLS is disabled.

use domain::datasource::{DataSourceConfig, Location, SslMode};
use std::fmt;

/// The encryption policy of one connection, engine-neutral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TlsMode {
    /// Plain text.
    Disabled,
    /// TLS when the server offers it, plain text otherwise (engines without this fall back to
    /// plain text).
    Preferred,
    /// TLS always; the server certificate is checked against the system roots where the engine's
    /// driver cannot skip it (MongoDB, Redis, HTTP), not at all where it can (PostgreSQL, MySQL).
    Required,
    /// TLS with the server certificate checked against `ssl_ca`, not the host name.
    VerifyCa,
    /// TLS with the certificate checked against `ssl_ca` and the host name.
    VerifyFull,
}

impl TlsMode {
    /// Whether the connection must be encrypted.
    pub fn is_required(&self) -> bool {
        matches!(
            self,
            TlsMode::Required | TlsMode::VerifyCa | TlsMode::VerifyFull
        )
    }

    /// Whether the server certificate is checked against the configured CA.
    pub fn verifies_ca(&self) -> bool {
        matches!(self, TlsMode::VerifyCa | TlsMode::VerifyFull)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            TlsMode::Disabled => "disabled",
            TlsMode::Preferred => "preferred",
            TlsMode::Required => "required",
            TlsMode::VerifyCa => "verify_ca",
            TlsMode::VerifyFull => "verify_full",
        }
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The TLS policy and material (file paths on the connecting host) of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: TlsMode,
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
}

impl TlsSettings {
    /// The policy of the table in the module docs.
    pub fn from_config(config: &DataSourceConfig) -> Self {
        let Some(ssl) = &config.ssl_config else {
            let mode = match config.location {
                Location::OnPrem => TlsMode::Preferred,
                Location::Cloud | Location::Hybrid => TlsMode::Required,
            };
            return Self::without_files(mode);
        };
        let mode = match ssl.mode {
            SslMode::Disable => return Self::without_files(TlsMode::Disabled),
            SslMode::Require if ssl.ssl_ca.is_some() => TlsMode::VerifyCa,
            SslMode::Require => TlsMode::Required,
            SslMode::VerifyCa => TlsMode::VerifyCa,
            SslMode::VerifyFull => TlsMode::VerifyFull,
        };
        Self {
            mode,
            ca_file: ssl.ssl_ca.clone(),
            cert_file: ssl.ssl_cert.clone(),
            key_file: ssl.ssl_key.clone(),
        }
    }

    fn without_files(mode: TlsMode) -> Self {
        Self {
            mode,
            ca_file: None,
            cert_file: None,
            key_file: None,
        }
    }
}
