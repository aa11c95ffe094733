//! NATS server URLs without their credentials.
//!
//! `PURSIGHT_NATS_URL` may carry credentials (`nats://user:password@host:4222`,
//! `nats://token@host`). async-nats logs the server address it connects to (at debug level, with
//! the URL's password) and error messages would repeat the URL, so the store takes the
//! credentials out of the URL, hands them to async-nats as connect options and only ever shows
//! [`NatsUrl::redacted`].

use percent_encoding::percent_decode_str;

/// Credentials taken out of a NATS URL.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    UserPassword { user: String, password: String },
    Token(String),
}

/// Never shows the secret part.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UserPassword { user, .. } => write!(f, "UserPassword({user}:***)"),
            Self::Token(_) => f.write_str("Token(***)"),
        }
    }
}

/// A NATS URL (or comma-separated list of them) split into servers and credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsUrl {
    servers: String,
    redacted: String,
    credentials: Option<Credentials>,
}

impl NatsUrl {
    /// Splits `url`; each comma-separated server loses its `userinfo@`. The first server's
    /// credentials are used for all (PurSight connects with one identity).
    pub fn parse(url: &str) -> Self {
        let mut servers = Vec::new();
        let mut redacted = Vec::new();
        let mut credentials = None;
        for part in url.split(',') {
            let part = part.trim();
            let (scheme, rest) = match part.find("://") {
                Some(at) => part.split_at(at + 3),
                None => ("", part),
            };
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, tail) = rest.split_at(authority_end);
            match authority.rfind('@') {
                Some(at) => {
                    let (userinfo, host) = (&authority[..at], &authority[at + 1..]);
                    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
                    let (shown, found) = match userinfo.split_once(':') {
                        Some((user, password)) => (
                            format!("{user}:***"),
                            Credentials::UserPassword {
                                user: decode(user),
                                password: decode(password),
                            },
                        ),
                        None => ("***".to_owned(), Credentials::Token(decode(userinfo))),
                    };
                    credentials.get_or_insert(found);
                    servers.push(format!("{scheme}{host}{tail}"));
                    redacted.push(format!("{scheme}{shown}@{host}{tail}"));
                }
                None => {
                    servers.push(part.to_owned());
                    redacted.push(part.to_owned());
                }
            }
        }
        Self {
            servers: servers.join(","),
            redacted: redacted.join(","),
            credentials,
        }
    }

    /// The servers to connect to, without credentials.
    pub fn servers(&self) -> &str {
        &self.servers
    }

    /// For messages and logs: the URL with every password or token replaced by `***`.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }
}

/// `url` with every password or token replaced by `***`, for messages and logs.
pub fn redacted(url: &str) -> String {
    NatsUrl::parse(url).redacted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens_are_taken_out_and_hidden() {
        let url = NatsUrl::parse("nats://alice:s3cr%40t@nats.internal:4222");
        assert_eq!(url.servers(), "nats://nats.internal:4222");
        assert_eq!(url.redacted(), "nats://alice:***@nats.internal:4222");
        assert_eq!(
            url.credentials(),
            Some(&Credentials::UserPassword {
                user: "alice".into(),
                password: "s3cr@t".into()
            })
        );
        assert!(!format!("{url:?}").contains("s3cr"));

        let token = NatsUrl::parse("tls://t0ken-value@a:4222, nats://b:4222");
        assert_eq!(token.servers(), "tls://a:4222,nats://b:4222");
        assert_eq!(token.redacted(), "tls://***@a:4222,nats://b:4222");
        assert_eq!(
            token.credentials(),
            Some(&Credentials::Token("t0ken-value".into()))
        );

        // A password containing '@' is still hidden entirely; no scheme works too.
        assert_eq!(
            redacted("bob:p@ss@127.0.0.1:4222"),
            "bob:***@127.0.0.1:4222"
        );
        let plain = NatsUrl::parse("nats://127.0.0.1:4222");
        assert_eq!(plain.servers(), "nats://127.0.0.1:4222");
        assert_eq!(plain.credentials(), None);
    }
}
