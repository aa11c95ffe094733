//! Parsing configuration input: every rule names its field, secrets are never echoed, updates
//! overlay cleanly and read models never see Fernet ciphertext.

use super::*;

fn parse(patch: DataSourceConfigInput) -> Result<DataSourceConfig, ValidationError> {
    postgres_input().overlay(patch).parse()
}

#[track_caller]
fn error_for(patch: DataSourceConfigInput, field: &str) -> String {
    let error = parse(patch).expect_err("input was accepted");
    error
        .message_for(field)
        .unwrap_or_else(|| panic!("no error for {field}: {error}"))
        .to_owned()
}

#[test]
fn a_minimal_source_takes_the_defaults() {
    let config = config();
    assert_eq!(config.name.as_str(), "Sales");
    assert_eq!(config.kind, DataSourceKind::Postgresql);
    assert_eq!(config.port, 5432);
    assert_eq!(config.location, Location::OnPrem);
    assert_eq!(config.pool, PoolSettings::default());
    assert_eq!(
        (
            config.pool.pool_size,
            config.pool.max_overflow,
            config.pool.pool_timeout_secs
        ),
        (5, 10, 30)
    );
    assert!(!config.use_encryption);
    assert!(config.tags.is_empty());
    assert_eq!(
        config.password_secret.unwrap().as_str(),
        "env:PURSIGHT_SOURCE_SECRET_SALES_PG"
    );
}

#[test]
fn every_kind_defaults_its_port() {
    for kind in DataSourceKind::ALL {
        let config = parse(DataSourceConfigInput {
            kind: Some(kind.as_str().into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(config.port, kind.default_port());
    }
}

#[test]
fn a_port_out_of_range_is_refused() {
    let patch = DataSourceConfigInput {
        port: Some(70000),
        ..Default::default()
    };
    assert_eq!(
        error_for(patch, "port"),
        "must be between 1 and 65535 (got 70000)"
    );
}

#[test]
fn an_empty_name_is_refused() {
    let patch = DataSourceConfigInput {
        name: Some("   ".into()),
        ..Default::default()
    };
    assert_eq!(error_for(patch, "name"), "must not be empty");
}

#[test]
fn name_and_kind_are_required() {
    let error = DataSourceConfigInput::default().parse().unwrap_err();
    assert_eq!(error.message_for("name"), Some("is required"));
    assert!(error
        .message_for("kind")
        .unwrap()
        .starts_with("is required"));
}

#[test]
fn an_unknown_kind_is_refused_with_the_choices() {
    let error = parse(DataSourceConfigInput {
        kind: Some("oracle".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "kind: unknown kind \"oracle\"; expected one of postgresql, mysql, mongodb, redis, s3, snowflake"
    );
}

#[test]
fn a_literal_password_is_refused_without_being_echoed() {
    for password in ["hunter2", "s3cr3t!"] {
        let patch = DataSourceConfigInput {
            password_secret: Some(password.into()),
            ..Default::default()
        };
        let debug = format!("{patch:?}");
        assert!(
            !debug.contains(password),
            "Debug of the input shows the password: {debug}"
        );
        let error = parse(patch).unwrap_err();
        assert_eq!(
            error.to_string(),
            "password_secret: must be a secret reference (env:VAR, file:PATH, vault:PATH#FIELD, \
             aws-sm:NAME, azure-kv:VAULT/NAME or fernet:TOKEN), not a literal password"
        );
        assert!(!error.to_string().contains(password));
        assert!(!format!("{error:?}").contains(password));
    }
}

#[test]
fn cloud_credentials_must_be_references_too() {
    let patch = DataSourceConfigInput {
        cloud_config: Some(CloudConfigInput {
            client_id: Some("app-1".into()),
            client_secret: Some("Sup3rS3cret".into()),
            access_key_id: Some("AKIAEXAMPLE".into()),
            secret_access_key: Some("wJalrXUtnFEMI/K7MDENG".into()),
            service_account_key: Some("{\"private_key\": \"x\"}".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let debug = format!("{patch:?}");
    let error = parse(patch).unwrap_err();
    let fields: Vec<&str> = error.fields().collect();
    assert_eq!(
        fields,
        [
            "cloud_config.client_secret",
            "cloud_config.secret_access_key",
            "cloud_config.service_account_key"
        ]
    );
    for secret in ["Sup3rS3cret", "wJalrXUtnFEMI", "private_key"] {
        assert!(!error.to_string().contains(secret), "{error}");
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[test]
fn a_bad_tag_is_named_by_its_position() {
    let patch = DataSourceConfigInput {
        tags: Some(vec!["pii".into(), "credit card".into()]),
        ..Default::default()
    };
    assert_eq!(
        error_for(patch, "tags[1]"),
        "\"credit card\" may only contain lowercase letters, digits, '_', ':', '-' and '.'"
    );
}

#[test]
fn tags_are_lowercased_deduplicated_and_bounded() {
    let config = parse(DataSourceConfigInput {
        tags: Some(vec!["PII".into(), "finance".into(), " pii ".into()]),
        ..Default::default()
    })
    .unwrap();
    let tags: Vec<&str> = config.tags.iter().map(Tag::as_str).collect();
    assert_eq!(tags, ["pii", "finance"]);

    let too_many = DataSourceConfigInput {
        tags: Some((0..51).map(|i| format!("t{i}")).collect()),
        ..Default::default()
    };
    assert_eq!(
        error_for(too_many, "tags"),
        "must be at most 50 tags (got 51)"
    );
}

#[test]
fn verify_ca_needs_a_ca() {
    let patch = DataSourceConfigInput {
        ssl_config: Some(SslConfigInput {
            mode: Some("verify_ca".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        error_for(patch, "ssl_config.ssl_ca"),
        "is required when mode is verify_ca"
    );
}

#[test]
fn client_certificate_and_key_come_together() {
    let patch = DataSourceConfigInput {
        ssl_config: Some(SslConfigInput {
            ssl_cert: Some("/etc/pursight/client.crt".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        error_for(patch, "ssl_config.ssl_key"),
        "is required when ssl_cert is set"
    );
}

#[test]
fn tls_mode_defaults_from_the_material_given() {
    let with_ca = parse(DataSourceConfigInput {
        ssl_config: Some(SslConfigInput {
            ssl_ca: Some("/etc/ssl/rds-ca.pem".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
    .unwrap();
    // A CA alone verifies the chain; the host name is checked only when asked for.
    assert_eq!(with_ca.ssl_config.unwrap().mode, SslMode::VerifyCa);
    let hostname_checked = parse(DataSourceConfigInput {
        ssl_config: Some(SslConfigInput {
            mode: Some("verify_full".into()),
            ssl_ca: Some("/etc/ssl/rds-ca.pem".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        hostname_checked.ssl_config.unwrap().mode,
        SslMode::VerifyFull
    );
    let mode_only = parse(DataSourceConfigInput {
        ssl_config: Some(SslConfigInput {
            mode: Some("require".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(mode_only.ssl_config.unwrap().mode, SslMode::Require);
}

#[test]
fn a_cloud_location_needs_a_provider() {
    let patch = DataSourceConfigInput {
        location: Some("hybrid".into()),
        ..Default::default()
    };
    assert_eq!(
        error_for(patch, "cloud_provider"),
        "is required when location is hybrid (one of aws, azure, gcp)"
    );
    let ok = parse(DataSourceConfigInput {
        location: Some("cloud".into()),
        cloud_provider: Some("Azure".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(ok.cloud_provider, Some(CloudProvider::Azure));
}

#[test]
fn a_host_is_required_except_for_object_stores_and_snowflake_accounts() {
    let no_host = || DataSourceConfigInput {
        host: Some(String::new()),
        ..Default::default()
    };
    assert_eq!(
        error_for(no_host(), "host"),
        "is required for a postgresql source"
    );
    let s3 = parse(DataSourceConfigInput {
        kind: Some("s3".into()),
        ..no_host()
    })
    .unwrap();
    assert_eq!((s3.host, s3.port), (None, 443));
    let snowflake = DataSourceConfigInput {
        kind: Some("snowflake".into()),
        ..no_host()
    };
    assert!(error_for(snowflake.clone(), "host").contains("cloud_config.account"));
    let with_account = parse(DataSourceConfigInput {
        cloud_config: Some(CloudConfigInput {
            account: Some("acme-eu1".into()),
            ..Default::default()
        }),
        ..snowflake
    })
    .unwrap();
    assert_eq!(
        with_account.cloud_config.unwrap().account.as_deref(),
        Some("acme-eu1")
    );
}

#[test]
fn a_bad_host_is_refused() {
    let patch = DataSourceConfigInput {
        host: Some("postgres://db.internal:5432".into()),
        ..Default::default()
    };
    assert!(error_for(patch, "host").starts_with("must be a hostname or IP address"));
}

#[test]
fn replica_sets_are_for_mongodb_only() {
    let replica = || ReplicaConfigInput {
        replica_set: Some("rs0".into()),
        replica_members: Some(vec!["mongo-1:27018".into(), "mongo-2".into()]),
        ..Default::default()
    };
    let error = parse(DataSourceConfigInput {
        replica_config: Some(replica()),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        error.message_for("replica_config.replica_set"),
        Some("only applies to mongodb sources (this source is postgresql)")
    );
    assert!(error
        .message_for("replica_config.replica_members")
        .is_some());

    let mongo = parse(DataSourceConfigInput {
        kind: Some("mongodb".into()),
        replica_config: Some(replica()),
        ..Default::default()
    })
    .unwrap();
    let members: Vec<String> = mongo
        .replica_config
        .unwrap()
        .replica_members
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(members, ["mongo-1:27018", "mongo-2:27017"]);
}

#[test]
fn failover_thresholds_are_checked_and_kept() {
    let thresholds = |latency, percent| ReplicaConfigInput {
        replica_host: Some("replica.internal".into()),
        failover_latency_ms: Some(latency),
        failover_consecutive_errors: Some(5),
        failover_error_percent: Some(percent),
        failover_cool_down_secs: Some(0),
        ..Default::default()
    };
    let config = parse(DataSourceConfigInput {
        replica_config: Some(thresholds(2_500, 30)),
        ..Default::default()
    })
    .unwrap();
    let replica = config.replica_config.clone().unwrap();
    assert_eq!(
        (
            replica.failover_latency_ms,
            replica.failover_consecutive_errors,
            replica.failover_error_percent,
            replica.failover_cool_down_secs
        ),
        (Some(2_500), Some(5), Some(30), Some(0))
    );
    // An update is a patch over what is there: the thresholds survive a change of the host.
    let patched = config
        .to_input()
        .overlay(DataSourceConfigInput {
            host: Some("db2.internal".into()),
            ..Default::default()
        })
        .parse()
        .unwrap();
    assert_eq!(patched.replica_config, config.replica_config);

    // Every bad value is named in one answer.
    let error = parse(DataSourceConfigInput {
        replica_config: Some(thresholds(50, 101)),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        error.message_for("replica_config.failover_latency_ms"),
        Some("must be between 100 and 600000 (got 50)")
    );
    assert_eq!(
        error.message_for("replica_config.failover_error_percent"),
        Some("must be between 1 and 100 (got 101)")
    );

    // Thresholds without a replica to fail over to, or for an engine that does not fail over.
    let no_replica = ReplicaConfigInput {
        failover_latency_ms: Some(2_500),
        ..Default::default()
    };
    assert_eq!(
        error_for(
            DataSourceConfigInput {
                replica_config: Some(no_replica),
                ..Default::default()
            },
            "replica_config.failover_latency_ms"
        ),
        "needs replica_host: reads fail over to the read replica"
    );
    let error = parse(DataSourceConfigInput {
        kind: Some("mysql".into()),
        replica_config: Some(thresholds(2_500, 30)),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        error.message_for("replica_config.failover_latency_ms"),
        Some("only applies to postgresql sources (this source is mysql)")
    );
}

#[test]
fn a_replica_port_needs_a_replica_host() {
    let patch = DataSourceConfigInput {
        replica_config: Some(ReplicaConfigInput {
            replica_port: Some(5433),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        error_for(patch, "replica_config.replica_host"),
        "is required when replica_port is set"
    );
}

#[test]
fn static_cloud_keys_come_in_pairs() {
    let patch = DataSourceConfigInput {
        cloud_config: Some(CloudConfigInput {
            access_key_id: Some("AKIAEXAMPLE".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        error_for(patch, "cloud_config.secret_access_key"),
        "is required when access_key_id is set"
    );
}

#[test]
fn pool_settings_are_bounded() {
    let patch = DataSourceConfigInput {
        pool: Some(PoolSettingsInput {
            pool_size: Some(0),
            pool_timeout_secs: Some(7200),
            ..Default::default()
        }),
        ..Default::default()
    };
    let error = parse(patch).unwrap_err();
    assert_eq!(
        error.message_for("pool.pool_size"),
        Some("must be between 1 and 1000 (got 0)")
    );
    assert_eq!(
        error.message_for("pool.pool_timeout_secs"),
        Some("must be between 1 and 3600 (got 7200)")
    );
}

#[test]
fn a_description_is_bounded() {
    let patch = DataSourceConfigInput {
        description: Some("d".repeat(2001)),
        ..Default::default()
    };
    assert_eq!(
        error_for(patch, "description"),
        "must be at most 2000 characters (got 2001)"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let error = DataSourceConfigInput {
        name: Some(String::new()),
        kind: Some("postgresql".into()),
        host: Some("db.internal".into()),
        port: Some(0),
        environment: Some("qa".into()),
        ..Default::default()
    }
    .parse()
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "name: must not be empty; port: must be between 1 and 65535 (got 0); \
         environment: unknown environment \"qa\"; expected one of development, staging, production, test"
    );
}

#[test]
fn unknown_input_fields_are_refused() {
    let error = serde_json::from_value::<DataSourceConfigInput>(serde_json::json!({
        "name": "Sales",
        "kind": "postgresql",
        "passwrd": "hunter2"
    }))
    .unwrap_err();
    assert!(error.to_string().contains("unknown field `passwrd`"));
}

fn full_input() -> DataSourceConfigInput {
    DataSourceConfigInput {
        name: Some("Orders".into()),
        kind: Some("mongodb".into()),
        host: Some("mongo-0.internal".into()),
        port: Some(27017),
        database: Some("orders".into()),
        username: Some("pursight".into()),
        password_secret: Some("fernet:gAAAAABlPASSWORDTOKEN".into()),
        cloud_provider: Some("azure".into()),
        location: Some("hybrid".into()),
        cloud_config: Some(CloudConfigInput {
            region: Some("westeurope".into()),
            tenant_id: Some("acme.onmicrosoft.com".into()),
            client_id: Some("11111111-2222-3333-4444-555555555555".into()),
            client_secret: Some("fernet:gAAAAABlCLIENTTOKEN".into()),
            use_managed_identity: Some(false),
            access_key_id: Some("AKIAEXAMPLE".into()),
            secret_access_key: Some("fernet:gAAAAABlAWSTOKEN".into()),
            use_iam_auth: Some(true),
            project_id: Some("acme-data".into()),
            service_account_key: Some("fernet:gAAAAABlGCPTOKEN".into()),
            account: None,
            endpoint_url: Some("https://private.endpoint.example".into()),
        }),
        replica_config: Some(ReplicaConfigInput {
            replica_host: Some("mongo-r.internal".into()),
            replica_port: Some(27018),
            replica_set: Some("rs0".into()),
            replica_members: Some(vec![
                "mongo-1.internal:27017".into(),
                "[fd00::2]:27017".into(),
            ]),
            ..Default::default()
        }),
        ssl_config: Some(SslConfigInput {
            mode: Some("verify_ca".into()),
            ssl_ca: Some("/etc/ssl/ca.pem".into()),
            ssl_cert: Some("/etc/ssl/client.crt".into()),
            ssl_key: Some("/etc/ssl/client.key".into()),
        }),
        pool: Some(PoolSettingsInput {
            pool_size: Some(20),
            max_overflow: Some(0),
            pool_timeout_secs: Some(10),
            pool_recycle_secs: Some(600),
        }),
        use_encryption: Some(true),
        owner: Some("data-platform".into()),
        owner_kind: Some(crate::owner::OwnerKind::Team),
        owner_type: Some(crate::owner::OwnerType::Technical),
        description: Some("Order history.\nOwned by the platform team.".into()),
        environment: Some("prod".into()),
        tags: Some(vec!["pii".into(), "gdpr:art-6".into()]),
    }
}

#[test]
fn a_configuration_round_trips_through_its_input() {
    let config = full_input().parse().unwrap();
    assert_eq!(config.to_input().parse().unwrap(), config);
    assert_eq!(config.environment, Some(Environment::Production));
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(
        serde_json::from_value::<DataSourceConfig>(json).unwrap(),
        config
    );
}

#[test]
fn an_overlay_takes_the_patch_and_replaces_nested_blocks_whole() {
    let current = full_input().parse().unwrap();
    let updated = current
        .to_input()
        .overlay(DataSourceConfigInput {
            port: Some(27019),
            description: Some(String::new()),
            ssl_config: Some(SslConfigInput {
                mode: Some("require".into()),
                ..Default::default()
            }),
            replica_config: Some(ReplicaConfigInput::default()),
            tags: Some(vec![]),
            ..Default::default()
        })
        .parse()
        .unwrap();
    assert_eq!(updated.port, 27019);
    assert_eq!(updated.name, current.name);
    assert_eq!(updated.password_secret, current.password_secret);
    assert_eq!(updated.description, None, "an empty string clears");
    assert_eq!(
        updated.replica_config, None,
        "an empty block removes the block"
    );
    assert!(updated.tags.is_empty(), "an empty list clears");
    let ssl = updated.ssl_config.unwrap();
    assert_eq!(
        (ssl.mode, ssl.ssl_ca),
        (SslMode::Require, None),
        "nested blocks are replaced whole"
    );
    assert_eq!(updated.cloud_config, current.cloud_config);
}

#[test]
fn redacted_configurations_hide_fernet_tokens_and_keep_references() {
    let config = full_input().parse().unwrap();
    let redacted = config.redacted();
    let text = redacted.to_string();
    for token in ["PASSWORDTOKEN", "CLIENTTOKEN", "AWSTOKEN", "GCPTOKEN"] {
        assert!(!text.contains(token), "{token} leaked: {text}");
    }
    assert_eq!(redacted["password_secret"], "fernet:***");
    assert_eq!(redacted["cloud_config"]["client_secret"], "fernet:***");
    assert_eq!(redacted["cloud_config"]["secret_access_key"], "fernet:***");
    assert_eq!(
        redacted["cloud_config"]["service_account_key"],
        "fernet:***"
    );
    assert_eq!(redacted["port"], 27017);
    assert!(
        !format!("{config:?}").contains("PASSWORDTOKEN"),
        "Debug leaks ciphertext"
    );

    let by_reference = self::config().redacted();
    assert_eq!(
        by_reference["password_secret"],
        "env:PURSIGHT_SOURCE_SECRET_SALES_PG"
    );
    assert_eq!(by_reference["cloud_config"], serde_json::Value::Null);
}
