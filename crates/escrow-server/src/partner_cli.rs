//! `escrow-server partner …`: operators create partners (live or test), switch their mode and
//! list them.

use clap::Subcommand;
use escrow_domain::people::{Partner, PartnerSecrets, PartnerStatus, Secret};
use escrow_domain::ports::PartnerRepository;

use super::{fail, Env};

#[derive(Subcommand)]
pub enum PartnerCommand {
    /// Creates a partner and prints its credentials (shown once).
    Create {
        /// Short code (`demo-market`).
        #[arg(long)]
        code: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Allowed return origin (repeat for several).
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// Callback URL.
        #[arg(long)]
        webhook_url: Option<String>,
        /// `live` (default) or `test` (SPEC §16: simulators only, test clocks).
        #[arg(long, default_value = "live")]
        mode: String,
    },
    /// Switches a partner between live and test.
    SetMode {
        /// The partner's id.
        #[arg(long)]
        id: uuid::Uuid,
        /// `live` or `test`.
        #[arg(long)]
        mode: String,
    },
    /// Lists partners.
    List,
}

/// `live` or `test`, as the CLI takes it.
fn partner_mode(raw: &str) -> escrow_domain::people::PartnerMode {
    escrow_domain::people::PartnerMode::from_code(&raw.to_ascii_uppercase())
        .unwrap_or_else(|| fail(format!("--mode must be live or test, not {raw:?}")))
}

/// `partner create` and `partner list`.
pub async fn partner_command(env: Env, command: PartnerCommand) -> std::io::Result<()> {
    let directory = escrow_postgres::Directory::new(env.db.pool.clone(), env.sealer.clone());
    match command {
        PartnerCommand::Create {
            code,
            name,
            origins,
            webhook_url,
            mode,
        } => {
            let partner = Partner {
                id: escrow_domain::ids::PartnerId::random(),
                code,
                name,
                api_key_id: format!("pk_{}", uuid::Uuid::new_v4().simple()),
                webhook_url,
                allowed_redirect_origins: origins,
                status: PartnerStatus::Active,
                mode: partner_mode(&mode),
                created_at: time::OffsetDateTime::now_utc(),
            };
            let api_secret = format!(
                "sk_{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            let webhook_secret = format!(
                "whsec_{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            let secrets = PartnerSecrets {
                api_secret: Secret::new(api_secret.clone()),
                webhook_secret: Some(Secret::new(webhook_secret.clone())),
                webhook_secret_previous: None,
            };
            PartnerRepository::create(&directory, &partner, &secrets)
                .await
                .unwrap_or_else(|e| fail(e));
            println!(
                "{}",
                serde_json::json!({ "partnerId": partner.id, "code": partner.code, "mode": partner.mode.code(), "apiKey": partner.api_key_id, "apiSecret": api_secret, "webhookSecret": webhook_secret })
            );
        }
        PartnerCommand::SetMode { id, mode } => {
            let mode = partner_mode(&mode);
            let found =
                PartnerRepository::set_mode(&directory, escrow_domain::ids::PartnerId(id), mode)
                    .await
                    .unwrap_or_else(|e| fail(e));
            if !found {
                fail(format!("no partner {id}"));
            }
            println!(
                "{}",
                serde_json::json!({ "partnerId": id, "mode": mode.code() })
            );
        }
        PartnerCommand::List => {
            for p in PartnerRepository::list(&directory)
                .await
                .unwrap_or_else(|e| fail(e))
            {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    p.id,
                    p.code,
                    p.api_key_id,
                    p.status.code(),
                    p.mode.code()
                );
            }
        }
    }
    env.finish();
    Ok(())
}
