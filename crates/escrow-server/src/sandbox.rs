//! The sandbox a newcomer gets from `cargo run -p escrow-server` with no configuration: a private
//! PostgreSQL kept under the data folder (it survives restarts), the Unifi Pay simulator in-process,
//! and a demo partner and admin key whose credentials are kept in `<data_dir>/sandbox.json` and printed.

use std::path::Path;

use escrow_domain::ids::PartnerId;
use escrow_domain::people::{Partner, PartnerSecrets, PartnerStatus, Secret};
use escrow_domain::ports::{AdminRepository, PartnerRepository};
use escrow_postgres::cluster::LocalCluster;
use escrow_postgres::{Database, Directory, PgAdmin};
use serde::{Deserialize, Serialize};

/// What the sandbox generated once and keeps.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxSecrets {
    /// Port of the private cluster.
    pub pg_port: u16,
    /// Member-token key.
    pub token_secret: String,
    /// Hosted-link key.
    pub link_key: String,
    /// The admin key.
    pub admin_key: String,
    /// The demo partner's id.
    pub partner_id: String,
    /// Its API key.
    pub partner_api_key: String,
    /// Its API secret.
    pub partner_api_secret: String,
    /// Its webhook secret.
    pub partner_webhook_secret: String,
    /// The master key sealing secrets at rest (added to sandboxes made before it existed).
    #[serde(default)]
    pub master_key: Option<String>,
}

impl std::fmt::Debug for SandboxSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxSecrets")
            .field("pg_port", &self.pg_port)
            .finish_non_exhaustive()
    }
}

fn random(prefix: &str) -> String {
    format!(
        "{prefix}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Loads the sandbox secrets, or makes and saves new ones.
pub fn secrets(data_dir: &Path) -> std::io::Result<SandboxSecrets> {
    let file = data_dir.join("sandbox.json");
    if let Ok(text) = std::fs::read_to_string(&file) {
        if let Ok(mut s) = serde_json::from_str::<SandboxSecrets>(&text) {
            if s.master_key.is_none() {
                s.master_key = Some(escrow_postgres::SecretSealer::generate_key());
            }
            // Rewritten: tightens an older world-readable file and keeps a newly made master key.
            write_private(
                &file,
                &serde_json::to_vec_pretty(&s).map_err(std::io::Error::other)?,
            )?;
            return Ok(s);
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let s = SandboxSecrets {
        pg_port: escrow_postgres::cluster::free_port().map_err(std::io::Error::other)?,
        token_secret: random("tok_"),
        link_key: random("link_"),
        admin_key: random("adm_"),
        partner_id: uuid::Uuid::new_v4().to_string(),
        partner_api_key: format!("pk_demo_{}", uuid::Uuid::new_v4().simple()),
        partner_api_secret: random("sk_"),
        partner_webhook_secret: random("whsec_"),
        master_key: Some(escrow_postgres::SecretSealer::generate_key()),
    };
    write_private(
        &file,
        &serde_json::to_vec_pretty(&s).map_err(std::io::Error::other)?,
    )?;
    Ok(s)
}

/// Writes a file only its owner can read (`0600`): the sandbox's keys and secrets.
fn write_private(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(file)?;
    // A file left by an older version may be world-readable: tighten it too.
    #[cfg(unix)]
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(bytes)
}

/// Starts (creating if needed) the private cluster and returns the URL of its `escrow` database, with
/// the cluster when this process started it (and so stops it). A cluster already running — the
/// sandbox server's, while an operator command runs beside it — is used and left running.
pub async fn database_url(
    data_dir: &Path,
    port: u16,
) -> Result<(Option<LocalCluster>, String), String> {
    let dir = std::fs::canonicalize(data_dir)
        .map_err(|e| e.to_string())?
        .join("postgres");
    let cluster = LocalCluster::new(&dir, port).map_err(|e| e.to_string())?;
    cluster.init().map_err(|e| e.to_string())?;
    let started_here = !cluster.is_running();
    if started_here {
        cluster.start(false).map_err(|e| e.to_string())?;
    }
    use diesel_async::{AsyncConnection, RunQueryDsl};
    let mut admin = diesel_async::AsyncPgConnection::establish(&cluster.url("postgres"))
        .await
        .map_err(|e| e.to_string())?;
    // CREATE DATABASE has no IF NOT EXISTS: a duplicate is fine.
    let _ = diesel::sql_query("CREATE DATABASE escrow")
        .execute(&mut admin)
        .await;
    let url = cluster.url("escrow");
    Ok((started_here.then_some(cluster), url))
}

/// Makes sure the demo partner and the admin key exist.
pub async fn seed(
    db: &Database,
    s: &SandboxSecrets,
    sealer: &escrow_postgres::SecretSealer,
    public_base_url: &str,
) -> Result<(), String> {
    let directory = Directory::new(db.pool.clone(), sealer.clone());
    let id: PartnerId = s
        .partner_id
        .parse()
        .map_err(|_| "sandbox.json: bad partner id".to_owned())?;
    if directory
        .partner(id)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        let partner = Partner {
            id,
            code: "demo-market".into(),
            name: "데모 마켓".into(),
            api_key_id: s.partner_api_key.clone(),
            webhook_url: None,
            allowed_redirect_origins: vec![
                public_base_url.to_owned(),
                "http://localhost:3000".into(),
            ],
            status: PartnerStatus::Active,
            mode: escrow_domain::people::PartnerMode::Test,
            created_at: time::OffsetDateTime::now_utc(),
        };
        let secrets = PartnerSecrets {
            api_secret: Secret::new(s.partner_api_secret.clone()),
            webhook_secret: Some(Secret::new(s.partner_webhook_secret.clone())),
            webhook_secret_previous: None,
        };
        PartnerRepository::create(&directory, &partner, &secrets)
            .await
            .map_err(|e| e.to_string())?;
    }
    // The demo partner is a test partner (SPEC §16), also in sandboxes made before test mode existed.
    PartnerRepository::set_mode(&directory, id, escrow_domain::people::PartnerMode::Test)
        .await
        .map_err(|e| e.to_string())?;
    PgAdmin::new(db.pool.clone(), sealer.clone())
        .create_admin_key("sandbox", &escrow_http::admin_key_hash(&s.admin_key))
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// What the sandbox prints on start: the credentials, a signed call to copy, and how to run the whole
/// flow from a shell (docs/api.md, "Test mode and test clocks").
pub fn banner(s: &SandboxSecrets, base: &str, simulator: &str) -> String {
    format!(
        "\n  escrow sandbox is running at {base}\n\
         \n  demo partner   X-Api-Key: {key}\n                 secret:    {secret}\n\
         \n  admin key      X-Admin-Key: {admin}\n  Unifi Pay simulator: {simulator}\n  API docs: {base}/docs\n\
         \n  A signed call (member status of user u1):\n\
         \n  TS=$(date +%s%3N); P=/api/v1/members/u1/status; SIG=$(printf '%s' \"GET${{P}}{key}${{TS}}\" | openssl dgst -sha256 -hmac '{secret}' -binary | base64); curl -s -H \"X-Api-Key: {key}\" -H \"X-Timestamp: $TS\" -H \"X-Signature: $SIG\" {base}$P\n\
         \n  The demo partner is a test partner: create a test clock (POST /api/v1/test-clocks), sign members\n\
         \x20 up on it (testClockId), pay, ship, report delivery, then POST /api/v1/test-clocks/{{id}}/advance\n\
         \x20 to run automatic approval and payout in seconds. The whole flow from a shell: docs/api.md,\n\
         \x20 \"Test mode and test clocks\". Logs: human-readable here; ESCROW_LOG_FORMAT=json for JSON.\n",
        key = s.partner_api_key,
        secret = s.partner_api_secret,
        admin = s.admin_key,
    )
}

#[cfg(test)]
mod tests {
    /// An operator command run beside the sandbox server finds its PostgreSQL running: it must use it
    /// and leave it running (it used to stop it, and the server's readiness failed until a restart).
    #[tokio::test]
    async fn a_cluster_already_running_is_used_and_not_handed_over_to_be_stopped() {
        let dir = std::env::temp_dir().join(format!("escrow-sandbox-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = escrow_postgres::cluster::free_port().unwrap();
        let (first, url) = super::database_url(&dir, port).await.unwrap();
        let first = first.expect("started here, so handed over");
        let (second, again) = super::database_url(&dir, port).await.unwrap();
        assert!(second.is_none(), "already running: not ours to stop");
        assert_eq!(url, again);
        drop(second);
        assert!(first.is_running(), "still running for the server");
        first.stop().unwrap();
        std::fs::remove_dir_all(&dir).ok();
    }

    #[cfg(unix)]
    #[test]
    fn the_sandbox_secrets_file_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("escrow-sandbox-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("sandbox.json");
        // An older file, world-readable.
        std::fs::write(&file, b"not json").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let first = super::secrets(&dir).unwrap();
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let again = super::secrets(&dir).unwrap();
        assert_eq!(again.admin_key, first.admin_key);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
