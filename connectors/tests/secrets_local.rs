//! `env:`, `file:` and `fernet:` references, resolved through the public [`SecretResolver`] API.

mod common;

use common::assert_hidden;
use connectors::secrets::{EnvLookup, SecretErrorKind, SecretResolver, SecretResolverConfig};
use domain::datasource::SecretRef;
use std::path::PathBuf;

fn resolver(vars: &[(&str, &str)]) -> SecretResolver {
    let env = EnvLookup::from_map(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    SecretResolver::new(SecretResolverConfig::from_lookup(env)).unwrap()
}

fn secret(raw: &str) -> SecretRef {
    SecretRef::parse(raw).unwrap()
}

/// A fresh directory for one test's files.
fn scratch_dir(test: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("pursight-connectors-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn env_references_read_the_configured_environment() {
    let resolver = resolver(&[("PG_PASSWORD", "hunter2 with spaces "), ("EMPTY", "")]);
    let value = resolver.resolve(&secret("env:PG_PASSWORD")).await.unwrap();
    assert_eq!(value.expose(), "hunter2 with spaces ");
    assert_eq!(format!("{value:?}"), "SecretValue(***)");

    let missing = resolver.resolve(&secret("env:NOPE")).await.unwrap_err();
    assert_eq!(missing.kind(), SecretErrorKind::NotFound);
    assert_eq!(
        missing.to_string(),
        "cannot resolve secret env:NOPE (env): not found: environment variable NOPE is not set"
    );
    let empty = resolver.resolve(&secret("env:EMPTY")).await.unwrap_err();
    assert_eq!(empty.kind(), SecretErrorKind::NotFound);
    assert!(empty
        .to_string()
        .ends_with("environment variable EMPTY is empty"));
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
    let resolver = resolver(&[]);
    for (name, content, expected) in cases {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        let reference = secret(&format!("file:{}", path.display()));
        let value = resolver.resolve(&reference).await.unwrap();
        assert_eq!(value.expose(), expected, "{name}");
    }
}

#[tokio::test]
async fn relative_file_paths_use_the_configured_base() {
    let dir = scratch_dir("file-base");
    std::fs::create_dir_all(dir.join("pg")).unwrap();
    std::fs::write(dir.join("pg/password"), "from-base\n").unwrap();
    let mut config =
        SecretResolverConfig::from_lookup(EnvLookup::from_map(Vec::<(String, String)>::new()));
    config.file_base = Some(dir.clone());
    let resolver = SecretResolver::new(config).unwrap();
    let value = resolver.resolve(&secret("file:pg/password")).await.unwrap();
    assert_eq!(value.expose(), "from-base");
}

#[tokio::test]
async fn missing_empty_and_directory_files_are_clear_errors() {
    let dir = scratch_dir("file-errors");
    let resolver = resolver(&[]);

    let missing = dir.join("absent");
    let error = resolver
        .resolve(&secret(&format!("file:{}", missing.display())))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotFound);
    assert_eq!(
        error.to_string(),
        format!(
            "cannot resolve secret file:{0} (file): not found: no file at {0}",
            missing.display()
        )
    );

    std::fs::write(dir.join("empty"), "\n").unwrap();
    let error = resolver
        .resolve(&secret(&format!("file:{}", dir.join("empty").display())))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), SecretErrorKind::NotFound);
    assert!(error.to_string().ends_with("is empty"), "{error}");

    let error = resolver
        .resolve(&secret(&format!("file:{}", dir.display())))
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
        .resolve(&secret(&format!("fernet:{token}")))
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
        .resolve(&secret(&format!("fernet:{token}")))
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
        .resolve(&secret(&format!("fernet:{token}")))
        .await
        .unwrap();
    assert_eq!(value.expose(), "rotated");

    let reference = secret(&format!("fernet:{token}"));
    let unset = resolver(&[]).resolve(&reference).await.unwrap_err();
    assert_eq!(unset.kind(), SecretErrorKind::NotConfigured);
    assert!(unset
        .to_string()
        .ends_with("PURSIGHT_FERNET_KEY is not set"));

    let invalid = resolver(&[("PURSIGHT_FERNET_KEY", "not-a-key")])
        .resolve(&reference)
        .await
        .unwrap_err();
    assert_eq!(invalid.kind(), SecretErrorKind::NotConfigured);
    assert!(!invalid.to_string().contains("not-a-key"), "{invalid}");
}
