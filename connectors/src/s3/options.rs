//! [`S3Target`]: where an S3 source lives and how to sign for it.
//!
//! `database` is `BUCKET` or `BUCKET/PREFIX` (the scope of the source). The endpoint is
//! `cloud_config.endpoint_url` when given (S3-compatible stores, private endpoints; path-style
//! addressing), else `https://{host}[:port]` when a host is given (`http://` when TLS is disabled),
//! else AWS's regional endpoint, chosen by the client from `region` (`us-east-1` by default).
//! Credentials come from [`CloudAuth`]: static keys are resolved by the connector, IAM uses the
//! environment's credential chain.

use crate::options::{database, CloudAuth, ConfigError, PoolOptions, TlsMode, TlsSettings};
use crate::secrets::SecretValue;
use domain::datasource::DataSourceConfig;
use std::fmt;
use std::time::Duration;

/// Everything needed to talk to one bucket (or all buckets when `bucket` is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Target {
    pub bucket: Option<String>,
    /// Keys under this prefix only, without a leading `/`.
    pub prefix: Option<String>,
    pub region: String,
    /// `None`: AWS's endpoint for `region`.
    pub endpoint_url: Option<String>,
    /// Address buckets as `endpoint/bucket` rather than `bucket.endpoint` (custom endpoints).
    pub path_style: bool,
    pub tls: TlsSettings,
    /// From `pool_timeout`.
    pub request_timeout: Duration,
    /// `max_connections` bounds concurrent requests.
    pub pool: PoolOptions,
    pub auth: CloudAuth,
    /// The secret access key of [`CloudAuth::AwsStaticKeys`], resolved by the caller.
    pub secret_access_key: Option<SecretValue>,
}

impl S3Target {
    pub const DEFAULT_REGION: &'static str = "us-east-1";

    /// The target of `config`; `secret_access_key` is its `cloud_config.secret_access_key`
    /// resolved (see [`SourceSecrets`](crate::options::SourceSecrets)).
    pub fn from_config(
        config: &DataSourceConfig,
        secret_access_key: Option<&SecretValue>,
    ) -> Result<Self, ConfigError> {
        let (bucket, prefix) = match database(config) {
            None => (None, None),
            Some(scope) => {
                let scope = scope.trim_start_matches('/');
                let (bucket, prefix) = scope.split_once('/').unwrap_or((scope, ""));
                if !is_bucket_name(bucket) {
                    return Err(ConfigError::new(
                        "database",
                        "must be BUCKET or BUCKET/PREFIX with an S3 bucket name \
                         (3 to 63 lowercase letters, digits, '.' and '-')",
                    ));
                }
                let prefix = prefix.trim_matches('/');
                (
                    Some(bucket.to_owned()),
                    (!prefix.is_empty()).then(|| prefix.to_owned()),
                )
            }
        };
        let tls = TlsSettings::from_config(config);
        let cloud = config.cloud_config.as_ref();
        let endpoint_url = match (cloud.and_then(|c| c.endpoint_url.clone()), &config.host) {
            (Some(url), _) => Some(url.trim_end_matches('/').to_owned()),
            (None, Some(host)) => {
                let (scheme, default_port) = if tls.mode == TlsMode::Disabled {
                    ("http", 80)
                } else {
                    ("https", 443)
                };
                Some(if config.port == default_port {
                    format!("{scheme}://{}", host.to_uri_host())
                } else {
                    format!("{scheme}://{}:{}", host.to_uri_host(), config.port)
                })
            }
            (None, None) => None,
        };
        let pool = PoolOptions::from_settings(&config.pool);
        Ok(Self {
            bucket,
            prefix,
            region: cloud
                .and_then(|c| c.region.clone())
                .unwrap_or_else(|| Self::DEFAULT_REGION.to_owned()),
            path_style: endpoint_url.is_some(),
            endpoint_url,
            tls,
            request_timeout: pool.acquire_timeout,
            pool,
            auth: CloudAuth::from_config(config)?,
            secret_access_key: secret_access_key.cloned(),
        })
    }

    /// Whether requests go over plain HTTP (local S3-compatible stores).
    pub fn allows_http(&self) -> bool {
        self.endpoint_url
            .as_deref()
            .is_some_and(|url| url.starts_with("http://"))
    }
}

/// `s3://bucket/prefix (region …, endpoint …, auth …)`; holds no secret.
impl fmt::Display for S3Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}", self.bucket.as_deref().unwrap_or(""))?;
        if let Some(prefix) = &self.prefix {
            write!(f, "/{prefix}")?;
        }
        write!(f, " (region {}", self.region)?;
        if let Some(endpoint) = &self.endpoint_url {
            write!(f, ", endpoint {endpoint}")?;
        }
        write!(f, ", auth {})", self.auth)
    }
}

/// S3's bucket naming rules, simplified: 3–63 of `a-z 0-9 . -`, starting and ending alphanumeric.
fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::test_support::*;
    use domain::datasource::{CloudConfigInput, SecretRef};

    #[test]
    fn a_local_s3_compatible_store_with_static_keys() {
        let mut input = input("s3", None);
        input.database = Some("raw-events/landing/2024/".into());
        input.cloud_config = Some(CloudConfigInput {
            endpoint_url: Some("http://127.0.0.1:5000/".into()),
            access_key_id: Some("AKIATEST".into()),
            secret_access_key: Some("env:MOTO_SECRET".into()),
            region: Some("eu-west-1".into()),
            ..Default::default()
        });
        let target = S3Target::from_config(&parse(input), None).unwrap();
        assert_eq!(target.bucket.as_deref(), Some("raw-events"));
        assert_eq!(target.prefix.as_deref(), Some("landing/2024"));
        assert_eq!(
            target.endpoint_url.as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert!(target.path_style && target.allows_http());
        assert_eq!(target.region, "eu-west-1");
        assert_eq!(
            target.auth,
            CloudAuth::AwsStaticKeys {
                access_key_id: "AKIATEST".into(),
                secret_ref: SecretRef::parse("env:MOTO_SECRET").unwrap(),
            }
        );
        assert_eq!(
            target.to_string(),
            "s3://raw-events/landing/2024 (region eu-west-1, endpoint http://127.0.0.1:5000, \
             auth aws_static_keys)"
        );
    }

    #[test]
    fn aws_with_iam_uses_the_regional_endpoint() {
        let mut input = input("s3", None);
        input.database = Some("acme-lake".into());
        input.location = Some("cloud".into());
        input.cloud_provider = Some("aws".into());
        input.cloud_config = Some(CloudConfigInput {
            use_iam_auth: Some(true),
            ..Default::default()
        });
        let target = S3Target::from_config(&parse(input), None).unwrap();
        assert_eq!(target.endpoint_url, None);
        assert!(!target.path_style);
        assert_eq!(target.region, "us-east-1");
        assert_eq!(target.prefix, None);
        assert_eq!(target.auth, CloudAuth::AwsIam);
    }

    #[test]
    fn a_host_becomes_the_endpoint() {
        let mut input = input("s3", Some("minio.internal"));
        input.port = Some(9000);
        let target = S3Target::from_config(&parse(input.clone()), None).unwrap();
        assert_eq!(
            target.endpoint_url.as_deref(),
            Some("https://minio.internal:9000")
        );
        input.ssl_config = Some(ssl(Some("disable"), None));
        let target = S3Target::from_config(&parse(input), None).unwrap();
        assert_eq!(
            target.endpoint_url.as_deref(),
            Some("http://minio.internal:9000")
        );
        let default_port =
            S3Target::from_config(&parse(self::input("s3", Some("s3.local"))), None).unwrap();
        assert_eq!(
            default_port.endpoint_url.as_deref(),
            Some("https://s3.local")
        );
    }

    #[test]
    fn bucket_names_are_checked() {
        for bad in [
            "Bad_Bucket",
            "ab",
            "-leading",
            "x/y".replace('x', "UP").as_str(),
        ] {
            let mut input = input("s3", None);
            input.database = Some(bad.into());
            let error = S3Target::from_config(&parse(input), None).unwrap_err();
            assert_eq!(error.field, "database", "{bad}");
        }
    }
}
