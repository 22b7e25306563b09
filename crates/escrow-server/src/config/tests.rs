//! Loading and validating configuration.

use super::*;

fn load(text: &str) -> Result<Settings, ConfigError> {
    let dir = std::env::temp_dir().join(format!("escrow-config-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("escrow.toml");
    std::fs::write(&file, text).unwrap();
    let settings = Settings::load(Some(&file));
    let _ = std::fs::remove_dir_all(&dir);
    settings
}

#[test]
fn the_example_configuration_loads() {
    // Filled in as the comments ask: a real master key, and the sandbox verifier accepted.
    let example = include_str!("../../../../escrow.toml.example")
        .replace(
            "CHANGE-ME-base64-of-32-bytes",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .replace("allow_sandbox = false", "allow_sandbox = true");
    let settings = load(&example).unwrap();
    let gateways = settings.gateways();
    assert_eq!(gateways.len(), 2);
    assert_eq!(gateways[0].kind, GatewayKind::Unifipay);
    assert_eq!(gateways[0].mode, PeerMode::Remote);
    assert_eq!(gateways[1].kind, GatewayKind::Inicis);
    assert_eq!(gateways[1].mode, PeerMode::Remote);
    assert_eq!(settings.alimtalk.mode, PeerMode::Remote);
    assert!(!format!("{:?}", gateways[0]).contains("CHANGE-ME-SECRET"));
}

#[test]
fn no_secret_of_the_configuration_shows_in_debug() {
    let text = r#"
[database]
url = "postgres://escrow:pw-db-4f1c@db.example/escrow"
pool_size = 4
[security]
token_keys = [{ kid = "t1", secret = "pw-token-0123456789abcdef0123456789" }]
link_key = "pw-link-0123456789abcdef0123456789"
master_keys = ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]
[alimtalk]
mode = "simulator"
app_key = "app"
secret_key = "pw-alimtalk-secret"
sender_key = "sender"
timeout_ms = 1000
[identity]
allow_sandbox = true
[account_verifier]
mode = "simulator"
mid = "m"
api_key = "pw-iniapi-key"
allow_simulator = true
[portone]
mode = "simulator"
imp_key = "k"
imp_secret = "pw-imp-secret"
timeout_ms = 1000
allow_simulator = true
[[gateways]]
name = "unifipay"
kind = "unifipay"
mode = "simulator"
app_id = "a"
api_key = "pw-api-key"
app_secret = "pw-app-secret"
store_id = "st"
currency = "KRW"
"#;
    let settings = load(text).unwrap();
    let shown = format!("{settings:?}");
    assert!(!shown.contains("pw-"), "{shown}");
    assert!(!shown.contains("AAAAAAAA"), "{shown}");
    assert_eq!(
        settings.database_url().as_deref(),
        Some("postgres://escrow:pw-db-4f1c@db.example/escrow")
    );
}

#[test]
fn without_gateways_the_sandbox_simulator_serves_every_method() {
    let settings = load("").unwrap();
    let gateways = settings.gateways();
    assert_eq!(gateways.len(), 2);
    assert_eq!(gateways[0].mode, PeerMode::Simulator);
    assert_eq!(gateways[1].kind, GatewayKind::Inicis);
    assert_eq!(gateways[1].mode, PeerMode::Simulator);
    assert_eq!(
        gateways[0].served_methods(),
        escrow_domain::contract::PaymentMethod::ALL.to_vec()
    );
}

#[test]
fn gateways_are_listed_in_order_and_checked() {
    let two = r#"
[[gateways]]
name = "unifipay"
kind = "unifipay"
mode = "simulator"
app_id = "a"
api_key = "k"
app_secret = "s"
store_id = "st"
currency = "KRW"
methods = ["CARD"]

[[gateways]]
name = "backup"
kind = "unifipay"
mode = "remote"
base_url = "https://backup.example"
app_id = "a2"
api_key = "k2"
app_secret = "s2"
store_id = "st2"
currency = "USD"
"#;
    let settings = load(two).unwrap();
    let names: Vec<_> = settings.gateways().into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["unifipay", "backup"]);

    let err = load(&two.replace("\"backup\"", "\"unifipay\"")).unwrap_err();
    assert!(err.0.contains("used twice"), "{err}");
    let err = load(&two.replace("base_url = \"https://backup.example\"\n", "")).unwrap_err();
    assert!(err.0.contains("gateways[\"backup\"].base_url"), "{err}");
    let err = load(&two.replace("\"USD\"", "\"EUR\"")).unwrap_err();
    assert!(err.0.contains("gateways[\"backup\"].currency"), "{err}");
    let err = load(&two.replace("mode = \"remote\"", "mode = \"live\"")).unwrap_err();
    assert!(err.0.contains("live"), "{err}");
    let err = load(&two.replace("\"backup\"", "\"Back Up\"")).unwrap_err();
    assert!(err.0.contains(".name"), "{err}");
    let err = load(&two.replace(
        "kind = \"unifipay\"\nmode = \"remote\"",
        "kind = \"paypal\"\nmode = \"remote\"",
    ))
    .unwrap_err();
    assert!(err.0.contains("paypal"), "{err}");
}

#[test]
fn a_remote_inicis_gateway_needs_its_urls() {
    let err = load(
        r#"
[[gateways]]
name = "inicis"
kind = "inicis"
mode = "remote"
form_action = "https://stdpay.inicis.com/payMain/pay"
auth_url_template = "https://stdpay.inicis.com"
"#,
    )
    .unwrap_err();
    assert!(
        err.0.contains("auth_url_template must contain {idc}"),
        "{err}"
    );
    assert!(err.0.contains("iniapi_url is required"), "{err}");
}
