//! Configuration updates: what changes the lifecycle, what does not, and when updates are refused.

use super::*;
use crate::{Rejection, RejectionKind};
use DataSourceCommand as C;
use LifecycleState as S;

fn new_port() -> DataSourceConfig {
    config_with(DataSourceConfigInput {
        port: Some(6432),
        ..Default::default()
    })
}

fn new_description() -> DataSourceConfig {
    config_with(DataSourceConfigInput {
        description: Some("Orders and invoices".into()),
        tags: Some(vec!["finance".into()]),
        ..Default::default()
    })
}

fn configured(
    config: DataSourceConfig,
    connection_changed: bool,
    requires_revalidation: bool,
) -> DataSourceEvent {
    DataSourceEvent::SourceConfigured(SourceConfigured {
        config,
        connection_changed,
        requires_revalidation,
    })
}

#[test]
fn a_connection_change_after_a_connection_result_needs_revalidation() {
    for from in [
        S::Connected,
        S::Scanned,
        S::Classified,
        S::Validated,
        S::Cataloged,
        S::Monitoring,
        S::Failed,
        S::ScanFailed,
    ] {
        let state = given(history_to(from))
            .when(C::UpdateConfig { config: new_port() })
            .then(vec![configured(new_port(), true, true)])
            .and_lifecycle(S::Configuring);
        assert_eq!(state.config.unwrap().port, 6432);
    }
}

#[test]
fn a_connection_change_before_any_connection_result_keeps_the_state() {
    for from in [S::Registered, S::Configuring] {
        given(history_to(from))
            .when(C::UpdateConfig { config: new_port() })
            .then(vec![configured(new_port(), true, false)])
            .and_lifecycle(from);
    }
}

#[test]
fn a_metadata_change_keeps_the_state() {
    for from in [
        S::Registered,
        S::Connected,
        S::Cataloged,
        S::Monitoring,
        S::Failed,
    ] {
        given(history_to(from))
            .when(C::UpdateConfig {
                config: new_description(),
            })
            .then(vec![configured(new_description(), false, false)])
            .and_lifecycle(from);
    }
}

#[test]
fn every_connection_field_counts_as_a_connection_change() {
    let patches = [
        DataSourceConfigInput {
            host: Some("db2.internal".into()),
            ..Default::default()
        },
        DataSourceConfigInput {
            database: Some("sales_v2".into()),
            ..Default::default()
        },
        DataSourceConfigInput {
            username: Some("reader".into()),
            ..Default::default()
        },
        DataSourceConfigInput {
            password_secret: Some("vault:secret/pg#password".into()),
            ..Default::default()
        },
        DataSourceConfigInput {
            location: Some("cloud".into()),
            cloud_provider: Some("aws".into()),
            ..Default::default()
        },
        DataSourceConfigInput {
            cloud_config: Some(CloudConfigInput {
                region: Some("eu-west-1".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        DataSourceConfigInput {
            replica_config: Some(ReplicaConfigInput {
                replica_host: Some("replica.internal".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        DataSourceConfigInput {
            ssl_config: Some(SslConfigInput {
                mode: Some("require".into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        DataSourceConfigInput {
            pool: Some(PoolSettingsInput {
                pool_size: Some(20),
                ..Default::default()
            }),
            ..Default::default()
        },
        DataSourceConfigInput {
            use_encryption: Some(true),
            ..Default::default()
        },
    ];
    for patch in patches {
        let debug = format!("{patch:?}");
        assert!(config().connection_differs(&config_with(patch)), "{debug}");
    }
    let metadata = [
        DataSourceConfigInput {
            name: Some("Sales (EU)".into()),
            ..Default::default()
        },
        DataSourceConfigInput {
            owner: Some("data-platform".into()),
            ..Default::default()
        },
        DataSourceConfigInput {
            environment: Some("production".into()),
            ..Default::default()
        },
    ];
    for patch in metadata {
        let debug = format!("{patch:?}");
        let changed = config_with(patch);
        assert_ne!(changed, config());
        assert!(!config().connection_differs(&changed), "{debug}");
    }
}

#[test]
fn an_identical_configuration_records_nothing() {
    given(history_to(S::Connected))
        .when(C::UpdateConfig { config: config() })
        .then(vec![])
        .and_lifecycle(S::Connected);
}

#[test]
fn updates_wait_for_running_work_and_stop_at_archive() {
    for from in [S::Scanning, S::Classifying, S::Validating, S::Archived] {
        given(history_to(from))
            .when(C::UpdateConfig {
                config: new_description(),
            })
            .then_error(DataSourceError::InvalidTransition {
                command: "UpdateConfig",
                state: from,
            });
    }
}

#[test]
fn the_kind_of_a_source_cannot_change() {
    let mysql = config_with(DataSourceConfigInput {
        kind: Some("mysql".into()),
        ..Default::default()
    });
    let error = DataSourceError::KindChanged {
        from: DataSourceKind::Postgresql,
        to: DataSourceKind::Mysql,
    };
    assert_eq!(error.kind(), RejectionKind::Invalid);
    assert!(error
        .to_string()
        .contains("it is postgresql, the update says mysql"));
    given(history_to(S::Connected))
        .when(C::UpdateConfig { config: mysql })
        .then_error(error);
}

#[test]
fn an_update_on_an_unknown_source_is_not_found() {
    given(vec![])
        .when(C::UpdateConfig { config: config() })
        .then_error(DataSourceError::NotFound);
}
