//! [`MongoTarget`]: the `mongodb://` connection string of a MongoDB source.
//!
//! Hosts are the primary followed by every `replica_members` entry (the primary first when it is
//! not itself listed), `replicaSet` names the set, TLS follows [`TlsSettings`] (`tls`,
//! `tlsCAFile`, `tlsCertificateKeyFile`), and the read preference is `primaryPreferred` unless the
//! caller allows replica reads ([`ReadRouting::ReplicaAllowed`] → `secondaryPreferred`). With
//! credentials, users authenticate against `admin`.
//!
//! MongoDB drivers take the client certificate and key from one PEM file
//! (`tlsCertificateKeyFile`): `ssl_cert` is passed there, so it must hold the key too; the separate
//! `ssl_key` path is kept in [`MongoTarget::tls`] for a connector that combines the two.

use crate::options::uri::{encode, userinfo, Query, REDACTED};
use crate::options::{
    database, primary_endpoint, CloudAuth, ConfigError, PoolOptions, ReadRouting, TlsMode,
    TlsSettings,
};
use crate::secrets::SecretValue;
use domain::datasource::{DataSourceConfig, HostPort};
use std::fmt;

/// Everything needed to connect to a MongoDB deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct MongoTarget {
    /// The seed list: primary first unless listed among the members, then the members in order.
    pub hosts: Vec<HostPort>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub password: Option<SecretValue>,
    pub replica_set: Option<String>,
    pub tls: TlsSettings,
    /// `admin` when credentials are given.
    pub auth_source: Option<String>,
    pub pool: PoolOptions,
    pub auth: CloudAuth,
}

impl MongoTarget {
    pub const APP_NAME: &'static str = "pursight";

    pub fn from_config(
        config: &DataSourceConfig,
        password: Option<&SecretValue>,
    ) -> Result<Self, ConfigError> {
        let primary = primary_endpoint(config)?;
        let (members, replica_set) = match &config.replica_config {
            Some(replica) => (replica.replica_members.clone(), replica.replica_set.clone()),
            None => (Vec::new(), None),
        };
        let mut hosts = Vec::with_capacity(members.len() + 1);
        if !members.contains(&primary) {
            hosts.push(primary);
        }
        for member in members {
            if !hosts.contains(&member) {
                hosts.push(member);
            }
        }
        let has_credentials = config.username.is_some() || password.is_some();
        Ok(Self {
            hosts,
            database: database(config),
            user: config.username.clone(),
            password: password.cloned(),
            replica_set,
            tls: TlsSettings::from_config(config),
            auth_source: has_credentials.then(|| "admin".to_owned()),
            pool: PoolOptions::from_settings(&config.pool),
            auth: CloudAuth::from_config(config)?,
        })
    }

    /// The connection string for discovery and everything that must be fresh
    /// (`readPreference=primaryPreferred`).
    pub fn to_uri(&self) -> String {
        self.to_uri_for(ReadRouting::Primary)
    }

    /// The connection string for `routing`; `secondaryPreferred` only for
    /// [`ReadRouting::ReplicaAllowed`].
    pub fn to_uri_for(&self, routing: ReadRouting) -> String {
        self.render(self.password.as_ref().map(|p| encode(p.expose())), routing)
    }

    fn render(&self, password: Option<String>, routing: ReadRouting) -> String {
        let hosts = self
            .hosts
            .iter()
            .map(HostPort::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut query = Query::default();
        query.push_opt("replicaSet", self.replica_set.as_deref());
        match self.tls.mode {
            TlsMode::Disabled => {
                query.push("tls", "false");
            }
            TlsMode::Preferred => {}
            TlsMode::Required | TlsMode::VerifyCa | TlsMode::VerifyFull => {
                query
                    .push("tls", "true")
                    .push_opt("tlsCAFile", self.tls.ca_file.as_deref())
                    .push_opt("tlsCertificateKeyFile", self.tls.cert_file.as_deref());
            }
        }
        let read_preference = match routing {
            ReadRouting::Primary => "primaryPreferred",
            ReadRouting::ReplicaAllowed => "secondaryPreferred",
        };
        query
            .push("readPreference", read_preference)
            .push_opt("authSource", self.auth_source.as_deref())
            .push("appName", Self::APP_NAME)
            .push(
                "connectTimeoutMS",
                self.pool.acquire_timeout.as_millis().to_string(),
            )
            .push(
                "serverSelectionTimeoutMS",
                self.pool.acquire_timeout.as_millis().to_string(),
            )
            .push("maxPoolSize", self.pool.max_connections.to_string())
            .push("minPoolSize", self.pool.min_connections.to_string());
        format!(
            "mongodb://{}{}/{}{}",
            userinfo(self.user.as_deref(), password.as_deref()),
            hosts,
            self.database.as_deref().map(encode).unwrap_or_default(),
            query.render()
        )
    }
}

/// The primary-preferred connection string with the password shown as `***`.
impl fmt::Display for MongoTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let password = self.password.as_ref().map(|_| REDACTED.to_owned());
        f.write_str(&self.render(password, ReadRouting::Primary))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::test_support::*;
    use domain::datasource::ReplicaConfigInput;

    const TAIL: &str =
        "appName=pursight&connectTimeoutMS=30000&serverSelectionTimeoutMS=30000&maxPoolSize=15&minPoolSize=0";

    fn members(set: &str, members: &[&str]) -> ReplicaConfigInput {
        ReplicaConfigInput {
            replica_set: Some(set.into()),
            replica_members: Some(members.iter().map(|m| m.to_string()).collect()),
            ..Default::default()
        }
    }

    #[test]
    fn hybrid_replica_set_with_tls_and_credentials() {
        let mut input = input("mongodb", Some("mongo-0.internal"));
        input.location = Some("hybrid".into());
        input.cloud_provider = Some("azure".into());
        input.database = Some("orders".into());
        input.username = Some("scanner".into());
        input.password_secret = Some("vault:secret/mongo#password".into());
        input.replica_config = Some(members("rs0", &["mongo-1.cloud:27018", "mongo-2.cloud"]));
        input.ssl_config = Some(client_cert());
        let password = SecretValue::new("p@ss:w/rd");
        let target = MongoTarget::from_config(&parse(input), Some(&password)).unwrap();
        assert_eq!(
            target.to_uri(),
            format!(
                "mongodb://scanner:p%40ss%3Aw%2Frd@mongo-0.internal:27017,mongo-1.cloud:27018,\
                 mongo-2.cloud:27017/orders?replicaSet=rs0&tls=true&tlsCAFile=/etc/pursight/ca.pem\
                 &tlsCertificateKeyFile=/etc/pursight/client.pem&readPreference=primaryPreferred\
                 &authSource=admin&{TAIL}"
            )
        );
        let shown = target.to_string();
        assert!(shown.starts_with("mongodb://scanner:***@mongo-0.internal:27017,"));
        for output in [shown, format!("{target:?}")] {
            assert!(
                !output.contains("p@ss") && !output.contains("p%40ss"),
                "{output}"
            );
        }
    }

    #[test]
    fn a_listed_primary_keeps_the_members_order() {
        let mut input = input("mongodb", Some("m2"));
        input.replica_config = Some(members("secantus", &["m1:27017", "m2:27017", "m3:27017"]));
        let target = MongoTarget::from_config(&parse(input), None).unwrap();
        let hosts: Vec<String> = target.hosts.iter().map(ToString::to_string).collect();
        assert_eq!(hosts, ["m1:27017", "m2:27017", "m3:27017"]);
        assert_eq!(
            target.to_uri(),
            format!(
                "mongodb://m1:27017,m2:27017,m3:27017/?replicaSet=secantus\
                 &readPreference=primaryPreferred&{TAIL}"
            )
        );
    }

    #[test]
    fn secondary_reads_only_when_allowed() {
        let mut input = input("mongodb", Some("m1"));
        input.replica_config = Some(members("rs0", &["m2"]));
        let target = MongoTarget::from_config(&parse(input), None).unwrap();
        assert!(target.to_uri().contains("readPreference=primaryPreferred"));
        assert!(target
            .to_uri_for(ReadRouting::Primary)
            .contains("readPreference=primaryPreferred"));
        assert!(target
            .to_uri_for(ReadRouting::ReplicaAllowed)
            .contains("readPreference=secondaryPreferred"));
        assert!(!target.to_string().contains("secondaryPreferred"));
    }

    #[test]
    fn tls_spelling_follows_the_policy() {
        let uri = |location: &str, ssl_config| {
            let mut input = input("mongodb", Some("m1"));
            input.location = Some(location.into());
            if location != "on_prem" {
                input.cloud_provider = Some("gcp".into());
            }
            input.ssl_config = ssl_config;
            MongoTarget::from_config(&parse(input), None)
                .unwrap()
                .to_uri()
        };
        assert!(!uri("on_prem", None).contains("tls="));
        assert!(uri("cloud", None).contains("?tls=true&readPreference"));
        assert!(uri("cloud", Some(ssl(Some("disable"), None))).contains("?tls=false&"));
        assert!(
            uri("on_prem", Some(ssl(Some("verify_ca"), Some("/ca.pem"))))
                .contains("?tls=true&tlsCAFile=/ca.pem&readPreference")
        );
    }

    #[test]
    fn without_credentials_there_is_no_auth_source() {
        let target = MongoTarget::from_config(&parse(input("mongodb", Some("m1"))), None).unwrap();
        assert_eq!(target.auth_source, None);
        assert!(target
            .to_uri()
            .starts_with("mongodb://m1:27017/?readPreference"));
    }
}
