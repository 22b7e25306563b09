//! Real PostgreSQL for tests: one private cluster per test process (or the server at `DATABASE_URL`),
//! a template database migrated once, and a fresh database per test made from it, so tests run in
//! parallel, commit for real and can test locking.

use std::sync::OnceLock;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::cluster::{free_port, LocalCluster};
use crate::migrate::{connect, run_migrations, Database};

struct Server {
    /// `postgres://…/` without a database name.
    base_url: String,
    template: String,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

fn base_of(url: &str) -> String {
    // Everything up to and including the last '/' before the database name.
    match url.rfind('/') {
        Some(i) if i > "postgres://".len() => url[..=i].to_owned(),
        _ => format!("{url}/"),
    }
}

fn start_server() -> Result<Server, String> {
    let pid = std::process::id();
    let base_url = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => base_of(url.trim()),
        _ => {
            let dir = std::env::temp_dir().join(format!("escrow-test-pg-{pid}"));
            let _ = std::fs::remove_dir_all(&dir);
            let cluster = LocalCluster::new(&dir, free_port().map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?;
            cluster.init().map_err(|e| e.to_string())?;
            cluster.start(true).map_err(|e| e.to_string())?;
            cluster
                .remove_when_process_exits(pid)
                .map_err(|e| e.to_string())?;
            base_of(&cluster.url("postgres"))
        }
    };
    let template = format!("escrow_template_{pid}_{}", uuid::Uuid::new_v4().simple());
    // Migrations need a runtime of their own: this runs once, from whichever test comes first.
    let url = format!("{base_url}postgres");
    let template_url = format!("{base_url}{template}");
    let name = template.clone();
    std::thread::spawn(move || -> Result<(), String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let mut admin = AsyncPgConnection::establish(&url)
                .await
                .map_err(|e| e.to_string())?;
            drop_leftovers(&mut admin).await;
            diesel::sql_query(format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .map_err(|e| e.to_string())?;
            run_migrations(&template_url)
                .await
                .map_err(|e| e.to_string())?;
            Ok(())
        })
    })
    .join()
    .map_err(|_| "template setup panicked".to_owned())??;
    Ok(Server { base_url, template })
}

/// Drops the databases of earlier test processes that are gone (names carry their pid), so a shared
/// server at `DATABASE_URL` does not fill up and a crashed run does not affect the next.
async fn drop_leftovers(admin: &mut AsyncPgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname::text AS datname FROM pg_database WHERE datname ~ '^(t|e|escrow_template)_[0-9]+_'",
    )
    .load(admin)
    .await
    .unwrap_or_default();
    for Name { datname } in names {
        let pid = datname
            .trim_start_matches("escrow_template_")
            .trim_start_matches("t_")
            .trim_start_matches("e_")
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
        if !alive {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {datname} WITH (FORCE)"))
                .execute(admin)
                .await;
        }
    }
}

/// A database of one's own, migrated, with a pool.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    /// Its name.
    pub name: String,
    /// A migrated pool.
    pub db: Database,
}

/// A fresh, migrated database for one test.
pub async fn test_database() -> TestDatabase {
    let server = match SERVER.get_or_init(start_server) {
        Ok(s) => s,
        Err(e) => panic!("test PostgreSQL could not be started: {e}"),
    };
    let name = format!("t_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let mut admin = AsyncPgConnection::establish(&format!("{}postgres", server.base_url))
        .await
        .unwrap_or_else(|e| panic!("connecting to the test server: {e}"));
    diesel::sql_query(format!(
        "CREATE DATABASE {name} TEMPLATE {}",
        server.template
    ))
    .execute(&mut admin)
    .await
    .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    let url = format!("{}{name}", server.base_url);
    let db = connect(&url, 80)
        .await
        .unwrap_or_else(|e| panic!("connecting to {name}: {e}"));
    TestDatabase { url, name, db }
}

/// An empty database (no migrations applied), for tests of migrating itself.
pub async fn empty_database() -> (String, String) {
    let server = match SERVER.get_or_init(start_server) {
        Ok(s) => s,
        Err(e) => panic!("test PostgreSQL could not be started: {e}"),
    };
    let name = format!("e_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
    let mut admin = AsyncPgConnection::establish(&format!("{}postgres", server.base_url))
        .await
        .unwrap_or_else(|e| panic!("connecting to the test server: {e}"));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("creating {name}: {e}"));
    (format!("{}{name}", server.base_url), name)
}
