//! `env:`, `file:` and `fernet:` references, resolved through the public [`SecretResolver`] API,
//! and the confinement every reference obeys: a tenant's reference never reaches the service's
//! own settings, files outside the tenant's secret directory or another tenant's files.

mod common;

use common::assert_hidden;
use connectors::secrets::{EnvLookup, SecretErrorKind, SecretResolver, SecretResolverConfig};
use domain::datasource::{SecretPolicy, SecretRef};
use domain::TenantId;
use std::path::{Path, PathBuf};

fn acme() -> TenantId {
    TenantId::parse("acme").unwrap()
}

fn lookup(vars: &[(&str, &str)]) -> EnvLookup {
    EnvLookup::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
}

/// A resolver with the default policy (no `file:` at all).
fn resolver(vars: &[(&str, &str)]) -> SecretResolver {
    SecretResolver::new(SecretResolverConfig::from_lookup(lookup(vars))).unwrap()
}

/// A resolver whose `file:` references live under `dir/<tenant>/`.
fn file_resolver(dir: &Path) -> SecretResolver {
    let policy = SecretPolicy::new(
        SecretPolicy::DEFAULT_ENV_PREFIX,
        dir.to_str(),
        SecretPolicy::DEFAULT_STORE_PREFIX,
    )
    .unwrap();
    SecretResolver::new(SecretResolverConfig::from_lookup(lookup(&[])).with_policy(policy)).unwrap()
}

fn secret(raw: &str) -> SecretRef {
    SecretRef::parse(raw).unwrap()
}

/// A fresh secret directory for one test, with the tenant `acme`'s directory in it.
fn scratch_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("pursight-connectors-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("acme")).unwrap();
    dir
}

#[tokio::test]
async fn env_references_read_the_configured_environment() {
    let resolver = resolver(&[
        ("PURSIGHT_SOURCE_SECRET_PG", "hunter2 with spaces "),
        ("PURSIGHT_SOURCE_SECRET_EMPTY", ""),
    ]);
    let value = resolver
        .resolve(&acme(), &secret("env:PURSIGHT_SOURCE_SECRET_PG"))
        .await
        .unwrap();
    assert_eq!(value.expose(), "hunter2 with spaces ");
    assert_eq!(format!("{value:?}"), "SecretValue(***)");

    let missing = resolver
        .resolve(&acme(), &secret("env:PURSIGHT_SOURCE_SECRET_NOPE"))
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), SecretErrorKind::NotFound);
    assert_eq!(
        missing.to_string(),
        "cannot resolve secret env:PURSIGHT_SOURCE_SECRET_NOPE (env): not found: \
         environment variable PURSIGHT_SOURCE_SECRET_NOPE is not set"
    );
    let empty = resolver
        .resolve(&acme(), &secret("env:PURSIGHT_SOURCE_SECRET_EMPTY"))
        .await
        .unwrap_err();
    assert_eq!(empty.kind(), SecretErrorKind::NotFound);
    assert!(empty
        .to_string()
        .ends_with("environment variable PURSIGHT_SOURCE_SECRET_EMPTY is empty"));
}

#[tokio::test]
async fn env_references_never_reach_the_services_own_settings_set_or_not() {
    let signing_key = "the-service-jwt-signing-key-0123456789";
    let resolver = resolver(&[
        ("PURSIGHT_JWT_SECRET", signing_key),
        (
            "PURSIGHT_DATABASE_URL",
            "postgres://pursight:dbpw@db/pursight",
        ),
        ("HOME", "/root"),
    ]);
    let mut shown = Vec::new();
    for name in [
        "PURSIGHT_JWT_SECRET",
        "PURSIGHT_DATABASE_URL",
        "HOME",
        "NOT_SET_ANYWHERE",
    ] {
        let error = resolver
            .resolve(&acme(), &secret(&format!("env:{name}")))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), SecretErrorKind::NotAllowed, "{name}");
        // Set or not, the answer is the same: nothing tells whether the variable exists.
        assert_eq!(
            error.detail(),
            "env: references may only name variables starting with PURSIGHT_SOURCE_SECRET_"
        );
        shown.push(error.to_string());
        shown.push(format!("{error:?}"));
    }
    assert_hidden(signing_key, &shown);
    assert_hidden("dbpw", &shown);
}

#[tokio::test]
async fn file_references_trim_one_trailing_newline() {
    let dir = scratch_dir("file-newlines");
    let cases = [
        ("unix", "hunter2\n", "hunter2"),
        ("windows", "hunter2\r\n", "hunter2"),
        ("two", "hunter2\n\n", "hunter2\n"),
        ("spaces", "  padded  ", "  padded  "),
        ("none", "hunter2", "hunter2"),
    ];
    let resolver = file_resolver(&dir);
    for (name, content, expected) in cases {
        let path = dir.join("acme").join(name);
        std::fs::write(&path, content).unwrap();
        // Absolute, and relative to the tenant's directory.
        for reference in [format!("file:{}", path.display()), format!("file:{name}")] {
            let value = resolver
                .resolve(&acme(), &secret(&reference))
                .await
                .unwrap();
            assert_eq!(value.expose(), expected, "{reference}");
        }
    }
}

#[tokio::test]
async fn file_references_are_off_without_a_secret_directory() {
    let dir = scratch_dir("file-off");
    std::fs::write(dir.join("acme/pw"), "hunter2").unwrap();
    let error = resolver(&[])
        .resolve(
            &acme(),
            &secret(&format!("file:{}", dir.join("acme/pw").display())),
        )
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotAllowed);
    assert!(
        error.detail().contains("file: references are disabled"),
        "{error}"
    );
}

#[tokio::test]
async fn file_references_cannot_leave_the_tenants_directory() {
    let dir = scratch_dir("file-escape");
    std::fs::create_dir_all(dir.join("globex")).unwrap();
    std::fs::write(dir.join("globex/pw"), "globex-password").unwrap();
    std::fs::write(dir.join("outside"), "outside-password").unwrap();
    // Links that lead out: to another tenant's file, to a file above, to the process environment.
    let links = [
        ("to-globex", dir.join("globex/pw")),
        ("to-outside", dir.join("outside")),
        ("to-environ", PathBuf::from("/proc/self/environ")),
        ("to-nothing", dir.join("absent")),
        ("dir-link", dir.join("globex")),
    ];
    for (name, target) in &links {
        std::os::unix::fs::symlink(target, dir.join("acme").join(name)).unwrap();
    }
    let resolver = file_resolver(&dir);
    let mut shown = Vec::new();
    let refused = |raw: String, kind: SecretErrorKind| {
        let resolver = &resolver;
        async move {
            let error = resolver.resolve(&acme(), &secret(&raw)).await.unwrap_err();
            assert_eq!(error.kind(), kind, "{raw}: {error}");
            error
        }
    };
    // Lexically outside: refused before anything is looked at.
    for raw in [
        "file:/proc/self/environ".to_owned(),
        format!("file:{}", dir.join("globex/pw").display()),
        format!("file:{}/acme/../globex/pw", dir.display()),
        "file:../globex/pw".to_owned(),
    ] {
        let error = refused(raw, SecretErrorKind::NotAllowed).await;
        shown.push(error.to_string());
    }
    // Inside by name, outside in fact: the same answer as for a file that does not exist.
    let absent = refused("file:absent".to_owned(), SecretErrorKind::NotFound).await;
    let expected = |name: &str| {
        format!(
            "no readable secret file at {} inside {}",
            dir.join("acme").join(name).display(),
            dir.join("acme").display()
        )
    };
    assert_eq!(absent.detail(), expected("absent"));
    for name in [
        "to-globex",
        "to-outside",
        "to-environ",
        "to-nothing",
        "dir-link/pw",
    ] {
        let error = refused(format!("file:{name}"), SecretErrorKind::NotFound).await;
        assert_eq!(error.detail(), expected(name));
        shown.push(error.to_string());
    }
    assert_hidden("globex-password", &shown);
    assert_hidden("outside-password", &shown);
    // A link that stays inside (Kubernetes mounts its secrets through such links) is fine.
    std::fs::create_dir_all(dir.join("acme/..data")).unwrap();
    std::fs::write(dir.join("acme/..data/pw"), "mounted").unwrap();
    std::os::unix::fs::symlink(dir.join("acme/..data/pw"), dir.join("acme/pw")).unwrap();
    let value = resolver.resolve(&acme(), &secret("file:pw")).await.unwrap();
    assert_eq!(value.expose(), "mounted");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn empty_and_directory_files_are_clear_errors() {
    let dir = scratch_dir("file-errors");
    let resolver = file_resolver(&dir);

    std::fs::write(dir.join("acme/empty"), "\n").unwrap();
    let error = resolver
        .resolve(&acme(), &secret("file:empty"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotFound);
    assert!(error.to_string().ends_with("is empty"), "{error}");

    std::fs::create_dir_all(dir.join("acme/sub")).unwrap();
    let error = resolver
        .resolve(&acme(), &secret("file:sub"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotFound);
    assert!(
        error.to_string().ends_with("is not a regular file"),
        "{error}"
    );
}

#[tokio::test]
async fn fernet_tokens_decrypt_with_the_configured_key() {
    let key = fernet::Fernet::generate_key();
    let token = fernet::Fernet::new(&key)
        .unwrap()
        .encrypt(b"fernet-protected-password");
    let resolver = resolver(&[("PURSIGHT_FERNET_KEY", &key)]);
    let value = resolver
        .resolve(&acme(), &secret(&format!("fernet:{token}")))
        .await
        .unwrap();
    assert_eq!(value.expose(), "fernet-protected-password");
}

#[tokio::test]
async fn fernet_with_the_wrong_key_says_so_without_showing_token_or_value() {
    let right = fernet::Fernet::generate_key();
    let wrong = fernet::Fernet::generate_key();
    let token = fernet::Fernet::new(&right)
        .unwrap()
        .encrypt(b"fernet-protected-password");
    let resolver = resolver(&[("PURSIGHT_FERNET_KEY", &wrong)]);
    let error = resolver
        .resolve(&acme(), &secret(&format!("fernet:{token}")))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::WrongFernetKey);
    assert_eq!(
        error.to_string(),
        "cannot resolve secret fernet:*** (fernet): wrong fernet key: the token does not decrypt \
         with PURSIGHT_FERNET_KEY (wrong key or corrupted token)"
    );
    let shown = [
        error.to_string(),
        format!("{error:?}"),
        format!("{resolver:?}"),
    ];
    assert_hidden(&token, &shown);
    assert_hidden(&wrong, &shown);
    assert_hidden("fernet-protected-password", &shown);
}

#[tokio::test]
async fn fernet_keys_rotate_and_must_be_configured() {
    let old = fernet::Fernet::generate_key();
    let new = fernet::Fernet::generate_key();
    let token = fernet::Fernet::new(&old).unwrap().encrypt(b"rotated");
    let rotated = resolver(&[("PURSIGHT_FERNET_KEY", &format!("{new},{old}"))]);
    let value = rotated
        .resolve(&acme(), &secret(&format!("fernet:{token}")))
        .await
        .unwrap();
    assert_eq!(value.expose(), "rotated");

    let reference = secret(&format!("fernet:{token}"));
    let unset = resolver(&[])
        .resolve(&acme(), &reference)
        .await
        .unwrap_err();
    assert_eq!(unset.kind(), SecretErrorKind::NotConfigured);
    assert!(unset
        .to_string()
        .ends_with("PURSIGHT_FERNET_KEY is not set"));

    let invalid = resolver(&[("PURSIGHT_FERNET_KEY", "not-a-key")])
        .resolve(&acme(), &reference)
        .await
        .unwrap_err();
    assert_eq!(invalid.kind(), SecretErrorKind::NotConfigured);
    assert!(!invalid.to_string().contains("not-a-key"), "{invalid}");
}

#[tokio::test]
async fn tls_files_must_really_be_inside_the_tenants_directory() {
    use domain::datasource::{DataSourceConfigInput, SslConfigInput};
    let dir = scratch_dir("tls-files");
    std::fs::write(dir.join("acme/ca.pem"), "-----BEGIN CERTIFICATE-----\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("acme/planted.pem")).unwrap();
    let config = |ca: &std::path::Path| {
        DataSourceConfigInput {
            name: Some("x".into()),
            kind: Some("postgresql".into()),
            host: Some("db.internal".into()),
            ssl_config: Some(SslConfigInput {
                mode: Some("verify_ca".into()),
                ssl_ca: Some(ca.display().to_string()),
                ..Default::default()
            }),
            ..Default::default()
        }
        .parse()
        .unwrap()
    };
    let resolver = file_resolver(&dir);
    resolver
        .confine_tls_files(&acme(), &config(&dir.join("acme/ca.pem")))
        .await
        .unwrap();
    for path in [
        dir.join("acme/planted.pem"),
        dir.join("acme/absent.pem"),
        PathBuf::from("/etc/passwd"),
    ] {
        let failure = resolver
            .confine_tls_files(&acme(), &config(&path))
            .await
            .unwrap_err();
        assert_eq!(
            failure.category,
            domain::datasource::FailureCategory::Config
        );
        assert!(
            failure
                .message
                .starts_with("ssl_config.ssl_ca: TLS files must be"),
            "{failure}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
