//! [`CloudAuth`]: how a connection authenticates to its cloud, derived from `cloud_provider` and
//! `cloud_config` only, and carried into every target so the live connector (not the call site)
//! acts on it.
//!
//! | provider | `cloud_config` | mode |
//! |---|---|---|
//! | `aws` | `use_iam_auth` | `AwsIam` (instance role / RDS IAM token) |
//! | `aws` or none | `access_key_id` + `secret_access_key` | `AwsStaticKeys` (none: S3-compatible stores) |
//! | `azure` | `use_managed_identity` | `AzureManagedIdentity` (`client_id` picks a user-assigned one) |
//! | `azure` | `tenant_id` + `client_id` + `client_secret` | `AzureClientCredentials` |
//! | `gcp` | `service_account_key` | `GcpServiceAccount` |
//! | otherwise | | `None` (the engine's own user and password) |

use super::ConfigError;
use domain::datasource::{CloudProvider, DataSourceConfig, SecretRef};
use std::fmt;

/// The cloud identity a connection uses. Secrets stay references here; the ones a connector
/// signs with are resolved by [`SourceSecrets::resolve`](super::SourceSecrets::resolve) before
/// the target is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudAuth {
    /// No cloud identity: the engine's user and password (if any).
    None,
    /// AWS credentials of the environment (instance profile, IRSA…); RDS IAM tokens for databases.
    AwsIam,
    /// AWS static keys; the secret key is resolved from `secret_ref`.
    AwsStaticKeys {
        access_key_id: String,
        secret_ref: SecretRef,
    },
    /// The managed identity of the host; `client_id` selects a user-assigned identity.
    AzureManagedIdentity { client_id: Option<String> },
    /// An Azure AD application; its secret is resolved from `secret_ref`.
    AzureClientCredentials {
        tenant_id: String,
        client_id: String,
        secret_ref: SecretRef,
    },
    /// A GCP service account whose JSON key is resolved from `key_ref`.
    GcpServiceAccount {
        key_ref: SecretRef,
        project_id: Option<String>,
    },
}

impl CloudAuth {
    /// The mode of the table in the module docs.
    pub fn from_config(config: &DataSourceConfig) -> Result<Self, ConfigError> {
        let Some(cloud) = &config.cloud_config else {
            return Ok(CloudAuth::None);
        };
        let static_keys = || match (&cloud.access_key_id, &cloud.secret_access_key) {
            (Some(access_key_id), Some(secret_ref)) => Some(CloudAuth::AwsStaticKeys {
                access_key_id: access_key_id.clone(),
                secret_ref: secret_ref.clone(),
            }),
            _ => None,
        };
        let auth = match config.cloud_provider {
            Some(CloudProvider::Aws) if cloud.use_iam_auth => CloudAuth::AwsIam,
            Some(CloudProvider::Aws) | None => static_keys().unwrap_or(CloudAuth::None),
            Some(CloudProvider::Azure) if cloud.use_managed_identity => {
                CloudAuth::AzureManagedIdentity {
                    client_id: cloud.client_id.clone(),
                }
            }
            Some(CloudProvider::Azure) => match (&cloud.client_id, &cloud.client_secret) {
                (Some(client_id), Some(secret_ref)) => {
                    let tenant_id = cloud.tenant_id.clone().ok_or_else(|| {
                        ConfigError::new(
                            "cloud_config.tenant_id",
                            "is required for Azure client credentials",
                        )
                    })?;
                    CloudAuth::AzureClientCredentials {
                        tenant_id,
                        client_id: client_id.clone(),
                        secret_ref: secret_ref.clone(),
                    }
                }
                _ => CloudAuth::None,
            },
            Some(CloudProvider::Gcp) => match &cloud.service_account_key {
                Some(key_ref) => CloudAuth::GcpServiceAccount {
                    key_ref: key_ref.clone(),
                    project_id: cloud.project_id.clone(),
                },
                None => CloudAuth::None,
            },
        };
        Ok(auth)
    }

    /// The reference the connector has to resolve for this mode, if any.
    pub fn secret_ref(&self) -> Option<&SecretRef> {
        match self {
            CloudAuth::AwsStaticKeys { secret_ref, .. }
            | CloudAuth::AzureClientCredentials { secret_ref, .. } => Some(secret_ref),
            CloudAuth::GcpServiceAccount { key_ref, .. } => Some(key_ref),
            CloudAuth::None | CloudAuth::AwsIam | CloudAuth::AzureManagedIdentity { .. } => None,
        }
    }

    /// A short name for logs and health reports.
    pub fn as_str(&self) -> &'static str {
        match self {
            CloudAuth::None => "none",
            CloudAuth::AwsIam => "aws_iam",
            CloudAuth::AwsStaticKeys { .. } => "aws_static_keys",
            CloudAuth::AzureManagedIdentity { .. } => "azure_managed_identity",
            CloudAuth::AzureClientCredentials { .. } => "azure_client_credentials",
            CloudAuth::GcpServiceAccount { .. } => "gcp_service_account",
        }
    }
}

impl fmt::Display for CloudAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
