//! A deployment that would run with unsafe defaults refuses to start, naming the key to set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn start_with(env: &[(&str, &str)]) -> (bool, String) {
    let dir = std::env::temp_dir().join(format!("escrow-refusal-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_escrow-server"))
        .current_dir(&dir)
        .arg("migrate")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_database_url_without_identity_allow_sandbox_does_not_start() {
    // Nothing listens on port 1: the refusal must come before any connection.
    let (ok, stderr) = start_with(&[(
        "ESCROW__DATABASE__URL",
        "postgres://escrow@127.0.0.1:1/escrow",
    )]);
    assert!(!ok);
    assert!(stderr.contains("identity.allow_sandbox"), "{stderr}");
}

#[test]
fn a_database_url_without_master_keys_does_not_start() {
    let (ok, stderr) = start_with(&[
        (
            "ESCROW__DATABASE__URL",
            "postgres://escrow@127.0.0.1:1/escrow",
        ),
        ("ESCROW__IDENTITY__ALLOW_SANDBOX", "true"),
        ("ESCROW__ACCOUNT_VERIFIER__ALLOW_SIMULATOR", "true"),
        ("ESCROW__PORTONE__ALLOW_SIMULATOR", "true"),
    ]);
    assert!(!ok);
    assert!(stderr.contains("security.master_keys"), "{stderr}");
}

#[test]
fn a_database_url_with_the_account_verifier_simulator_does_not_start() {
    let (ok, stderr) = start_with(&[
        (
            "ESCROW__DATABASE__URL",
            "postgres://escrow@127.0.0.1:1/escrow",
        ),
        ("ESCROW__IDENTITY__ALLOW_SANDBOX", "true"),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("account_verifier.allow_simulator"),
        "{stderr}"
    );
    assert!(stderr.contains("portone.allow_simulator"), "{stderr}");
}
