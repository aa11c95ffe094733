//! [`SnowflakeTarget`]: the account, context and SQL API base URL of a Snowflake source.
//!
//! The account is `cloud_config.account`, or the host without `.snowflakecomputing.com`. The base
//! URL is `cloud_config.endpoint_url` when given, else `https://{host}` when a host is given, else
//! `https://{account}.snowflakecomputing.com`; statements go to `{base}/api/v2/statements`.
//!
//! The model has one `database` field, so the session context is written in it the way
//! Snowflake's own connection URLs do: `DATABASE[/SCHEMA][?warehouse=WH&role=ROLE]`.
//!
//! The SQL API accepts two credentials, both carried by `password_secret` (resolved into
//! `password`) for the `username`: a key pair (the default; the secret is the user's RSA private
//! key in PEM) or an OAuth access token, chosen with `authenticator=oauth` in the same parameters
//! (`authenticator=snowflake_jwt` names the default), as in Snowflake's connection URLs. The
//! model's `cloud_config` has no field for this, and the domain need not know about it.

use crate::options::uri::{encode, userinfo, Query, REDACTED};
use crate::options::{database, CloudAuth, ConfigError, PoolOptions, TlsSettings};
use crate::secrets::SecretValue;
use domain::datasource::DataSourceConfig;
use std::fmt;
use std::time::Duration;

const DOMAIN: &str = ".snowflakecomputing.com";

/// Everything needed to call the SQL API of one Snowflake account.
#[derive(Debug, Clone, PartialEq)]
pub struct SnowflakeTarget {
    pub account: String,
    /// `https://{account}.snowflakecomputing.com` unless overridden; no trailing `/`.
    pub base_url: String,
    pub database: Option<String>,
    pub schema: Option<String>,
    pub warehouse: Option<String>,
    pub role: Option<String>,
    pub user: Option<String>,
    pub password: Option<SecretValue>,
    pub tls: TlsSettings,
    /// From `pool_timeout`.
    pub request_timeout: Duration,
    /// `max_connections` bounds concurrent statements.
    pub pool: PoolOptions,
    pub auth: CloudAuth,
    /// Which credential `password` holds.
    pub authenticator: SnowflakeAuthenticator,
}

/// The credential a Snowflake source authenticates with (`authenticator=` in the context).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SnowflakeAuthenticator {
    /// Key-pair authentication: `password` is the RSA private key (PEM, PKCS#8 or PKCS#1,
    /// unencrypted) whose public key is set on the user; each operation signs a JWT with it.
    #[default]
    KeyPair,
    /// `password` is an OAuth access token issued for the user.
    OAuth,
}

impl SnowflakeAuthenticator {
    /// The value of the `authenticator` parameter.
    pub fn as_str(&self) -> &'static str {
        match self {
            SnowflakeAuthenticator::KeyPair => "snowflake_jwt",
            SnowflakeAuthenticator::OAuth => "oauth",
        }
    }
}

impl SnowflakeTarget {
    pub fn from_config(
        config: &DataSourceConfig,
        password: Option<&SecretValue>,
    ) -> Result<Self, ConfigError> {
        let cloud = config.cloud_config.as_ref();
        let host = config.host.as_ref().map(|h| h.as_str());
        let account = cloud
            .and_then(|c| c.account.clone())
            .or_else(|| {
                host.and_then(|h| h.strip_suffix(DOMAIN))
                    .map(str::to_owned)
            })
            .ok_or_else(|| {
                ConfigError::new(
                    "cloud_config.account",
                    "is required for a snowflake source unless host is ACCOUNT.snowflakecomputing.com",
                )
            })?;
        let base_url = match (cloud.and_then(|c| c.endpoint_url.as_deref()), &config.host) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(host)) if config.port == 443 => format!("https://{}", host.to_uri_host()),
            (None, Some(host)) => format!("https://{}:{}", host.to_uri_host(), config.port),
            (None, None) => format!("https://{account}{DOMAIN}"),
        };
        let context = parse_context(database(config).as_deref())?;
        let pool = PoolOptions::from_settings(&config.pool);
        Ok(Self {
            account,
            base_url,
            database: context.database,
            schema: context.schema,
            warehouse: context.warehouse,
            role: context.role,
            user: config.username.clone(),
            password: password.cloned(),
            tls: TlsSettings::from_config(config),
            request_timeout: pool.acquire_timeout,
            pool,
            auth: CloudAuth::from_config(config)?,
            authenticator: context.authenticator,
        })
    }

    /// `{base}/api/v2/statements`, where the SQL API takes statements.
    pub fn statements_url(&self) -> String {
        format!("{}/api/v2/statements", self.base_url)
    }
}

/// `snowflake://user:***@ACCOUNT/DB/SCHEMA?warehouse=…&role=… via BASE_URL`.
impl fmt::Display for SnowflakeTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = self.password.as_ref().map(|_| REDACTED);
        let mut path = String::new();
        if let Some(database) = &self.database {
            path.push('/');
            path.push_str(&encode(database));
            if let Some(schema) = &self.schema {
                path.push('/');
                path.push_str(&encode(schema));
            }
        }
        let mut query = Query::default();
        let authenticator = (self.authenticator != SnowflakeAuthenticator::default())
            .then(|| self.authenticator.as_str());
        query
            .push_opt("warehouse", self.warehouse.as_deref())
            .push_opt("role", self.role.as_deref())
            .push_opt("authenticator", authenticator);
        write!(
            f,
            "snowflake://{}{}{path}{} via {}",
            userinfo(self.user.as_deref(), password),
            encode(&self.account),
            query.render(),
            self.base_url
        )
    }
}

#[derive(Default)]
struct Context {
    database: Option<String>,
    schema: Option<String>,
    warehouse: Option<String>,
    role: Option<String>,
    authenticator: SnowflakeAuthenticator,
}

fn parse_context(raw: Option<&str>) -> Result<Context, ConfigError> {
    let mut context = Context::default();
    let Some(raw) = raw else {
        return Ok(context);
    };
    let (path, params) = raw.split_once('?').unwrap_or((raw, ""));
    let mut parts = path.split('/').map(str::trim);
    let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
    context.database = non_empty(parts.next());
    context.schema = non_empty(parts.next());
    if parts.next().is_some() {
        return Err(ConfigError::new(
            "database",
            "must be DATABASE[/SCHEMA][?warehouse=WH&role=ROLE&authenticator=…] for a snowflake \
             source",
        ));
    }
    for pair in params.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = non_empty(Some(value.trim()));
        match key.trim().to_ascii_lowercase().as_str() {
            "warehouse" => context.warehouse = value,
            "role" => context.role = value,
            "authenticator" => {
                context.authenticator = match value.as_deref().map(str::to_ascii_lowercase) {
                    None => SnowflakeAuthenticator::default(),
                    Some(value) if value == "snowflake_jwt" => SnowflakeAuthenticator::KeyPair,
                    Some(value) if value == "oauth" => SnowflakeAuthenticator::OAuth,
                    Some(_) => {
                        return Err(ConfigError::new(
                            "database",
                            "authenticator must be snowflake_jwt (key pair) or oauth for a \
                             snowflake source",
                        ))
                    }
                }
            }
            _ => {
                return Err(ConfigError::new(
                    "database",
                    "accepts only warehouse, role and authenticator parameters for a snowflake \
                     source",
                ))
            }
        }
    }
    Ok(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::test_support::*;
    use domain::datasource::CloudConfigInput;

    #[test]
    fn account_from_cloud_config_gives_the_default_base_url() {
        let mut input = input("snowflake", None);
        input.location = Some("cloud".into());
        input.cloud_provider = Some("aws".into());
        input.cloud_config = Some(CloudConfigInput {
            account: Some("xy12345.eu-west-1".into()),
            ..Default::default()
        });
        input.database = Some("ANALYTICS/PUBLIC?warehouse=SCAN_WH&role=GOVERNANCE".into());
        input.username = Some("PURSIGHT".into());
        input.password_secret = Some("env:SF_PASSWORD".into());
        let password = SecretValue::new("p@ss:w/rd");
        let target = SnowflakeTarget::from_config(&parse(input), Some(&password)).unwrap();
        assert_eq!(target.account, "xy12345.eu-west-1");
        assert_eq!(
            target.base_url,
            "https://xy12345.eu-west-1.snowflakecomputing.com"
        );
        assert_eq!(
            target.statements_url(),
            "https://xy12345.eu-west-1.snowflakecomputing.com/api/v2/statements"
        );
        assert_eq!(target.database.as_deref(), Some("ANALYTICS"));
        assert_eq!(target.schema.as_deref(), Some("PUBLIC"));
        assert_eq!(target.warehouse.as_deref(), Some("SCAN_WH"));
        assert_eq!(target.role.as_deref(), Some("GOVERNANCE"));
        assert_eq!(
            target.to_string(),
            "snowflake://PURSIGHT:***@xy12345.eu-west-1/ANALYTICS/PUBLIC?warehouse=SCAN_WH\
             &role=GOVERNANCE via https://xy12345.eu-west-1.snowflakecomputing.com"
        );
        assert!(!format!("{target:?}").contains("p@ss"));
    }

    #[test]
    fn the_account_comes_from_the_host_and_the_endpoint_can_be_overridden() {
        let mut input = input("snowflake", Some("XY12345.snowflakecomputing.com"));
        let target = SnowflakeTarget::from_config(&parse(input.clone()), None).unwrap();
        assert_eq!(target.account, "xy12345");
        assert_eq!(target.base_url, "https://xy12345.snowflakecomputing.com");
        assert_eq!(target.database, None);
        assert_eq!(target.authenticator, SnowflakeAuthenticator::KeyPair);

        input.cloud_config = Some(CloudConfigInput {
            endpoint_url: Some("http://127.0.0.1:8085/".into()),
            ..Default::default()
        });
        let target = SnowflakeTarget::from_config(&parse(input), None).unwrap();
        assert_eq!(target.base_url, "http://127.0.0.1:8085");
        assert_eq!(
            target.statements_url(),
            "http://127.0.0.1:8085/api/v2/statements"
        );
    }

    #[test]
    fn the_authenticator_parameter_picks_oauth() {
        let mut input = input("snowflake", Some("acct.snowflakecomputing.com"));
        input.database = Some("DB?authenticator=OAuth&role=R".into());
        let target = SnowflakeTarget::from_config(&parse(input.clone()), None).unwrap();
        assert_eq!(target.authenticator, SnowflakeAuthenticator::OAuth);
        assert_eq!(target.role.as_deref(), Some("R"));
        assert!(target.to_string().contains("authenticator=oauth"));
        input.database = Some("DB?authenticator=snowflake_jwt".into());
        let target = SnowflakeTarget::from_config(&parse(input), None).unwrap();
        assert_eq!(target.authenticator, SnowflakeAuthenticator::KeyPair);
    }

    #[test]
    fn an_unknown_account_or_context_is_a_config_error() {
        let error =
            SnowflakeTarget::from_config(&parse(input("snowflake", Some("proxy.internal"))), None)
                .unwrap_err();
        assert_eq!(error.field, "cloud_config.account");
        for bad in [
            "DB/SCHEMA/EXTRA",
            "DB?warehouse=W&colour=blue",
            "DB?authenticator=password",
        ] {
            let mut input = input("snowflake", Some("acct.snowflakecomputing.com"));
            input.database = Some(bad.into());
            let error = SnowflakeTarget::from_config(&parse(input), None).unwrap_err();
            assert_eq!(error.field, "database", "{bad}");
        }
    }
}
