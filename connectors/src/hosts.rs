//! Where a source may point, checked when PurSight is about to connect: every host a
//! configuration names is resolved, and the name and all its addresses must pass the operator's
//! [`HostPolicy`] (deny list, allow list, cloud metadata endpoints always denied).
//!
//! The same policy was checked lexically when the configuration was recorded; this second check
//! catches names that resolve to denied addresses (`metadata.attacker.example` → 169.254.169.254,
//! or `2852039166`, which resolvers read as 169.254.169.254) and configurations recorded before
//! a stricter policy. The driver resolves the name once more when it connects, so a name whose
//! records change between the two lookups (DNS rebinding with a zero TTL) is not fully covered;
//! operators who need that guarantee list addresses, not names, in `PURSIGHT_SOURCE_HOSTS_ALLOW`.

use crate::probe::ConnectionFailure;
use domain::datasource::{DataSourceConfig, FailureCategory, HostPolicy};
use std::net::IpAddr;
use std::time::Duration;

/// How long resolving one host may take before the check gives up (and refuses).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Checks every host of `config` against `policy`, resolving names. A refusal is a `Config`
/// failure naming the field and the rule (never an address the name resolved to).
#[tracing::instrument(name = "hosts.admit", skip_all, fields(kind = %config.kind))]
pub async fn admit(
    policy: &HostPolicy,
    config: &DataSourceConfig,
) -> Result<(), ConnectionFailure> {
    for (field, host) in config.network_hosts() {
        let refuse = |rule: String| {
            ConnectionFailure::new(FailureCategory::Config, format!("{field}: {rule}"), None)
        };
        policy.check_name(&host).map_err(refuse)?;
        let addresses = resolve(&host).await;
        policy.check_resolved(&host, &addresses).map_err(refuse)?;
    }
    Ok(())
}

/// The addresses `host` resolves to (itself for a literal address); empty when it does not
/// resolve, which the policy treats as "not shown to be allowed" and the driver reports as
/// unreachable when there is no allow list.
async fn resolve(host: &str) -> Vec<IpAddr> {
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        return vec![ip];
    }
    match tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, 0))).await {
        Ok(Ok(addresses)) => addresses.map(|address| address.ip()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::datasource::DataSourceConfigInput;

    fn config(host: &str) -> DataSourceConfig {
        DataSourceConfigInput {
            name: Some("x".into()),
            kind: Some("postgresql".into()),
            host: Some(host.into()),
            ..Default::default()
        }
        .parse()
        .unwrap()
    }

    #[tokio::test]
    async fn names_that_resolve_to_denied_addresses_are_refused() {
        let open = HostPolicy::default();
        assert!(admit(&open, &config("localhost")).await.is_ok());
        let deny_loopback = HostPolicy::parse("", "127.0.0.0/8, ::1").unwrap();
        let failure = admit(&deny_loopback, &config("localhost"))
            .await
            .unwrap_err();
        assert_eq!(failure.category, FailureCategory::Config);
        assert!(
            failure
                .message
                .starts_with("host: resolves to an address denied"),
            "{failure}"
        );
        // A decimal spelling of the metadata address is what resolvers make of it.
        let failure = admit(&open, &config("2852039166")).await.unwrap_err();
        assert!(failure.message.contains("metadata"), "{failure}");
        let allow_loopback = HostPolicy::parse("127.0.0.0/8", "").unwrap();
        assert!(admit(&allow_loopback, &config("localhost")).await.is_ok());
        assert!(admit(&allow_loopback, &config("192.0.2.1")).await.is_err());
    }
}
