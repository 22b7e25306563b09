//! A private PostgreSQL cluster started by the service itself: for tests and for the local sandbox
//! when no `DATABASE_URL` is given.
//!
//! It finds `initdb` and `pg_ctl` on `PATH` or under `/usr/lib/postgresql/<version>/bin` (newest
//! version first), creates the cluster if the data folder is empty, and starts it on 127.0.0.1 with its
//! socket inside the data folder. PostgreSQL refuses to run as root, so as root every command runs as
//! the `postgres` user (`runuser`), which then owns the data folder.

use std::ffi::OsStr;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Why the cluster could not be set up or started.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No `pg_ctl`/`initdb` was found.
    #[error("PostgreSQL server binaries not found: install them (Debian: apt-get install postgresql) or set DATABASE_URL")]
    BinariesNotFound,
    /// A command failed.
    #[error("{command} failed: {output}")]
    Command {
        /// The command.
        command: String,
        /// What it printed.
        output: String,
    },
    /// A file operation failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A cluster in a data folder, on a port.
#[derive(Debug, Clone)]
pub struct LocalCluster {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    run_as_postgres: bool,
}

fn is_root() -> bool {
    // The effective user id, without libc: `id -u` is everywhere PostgreSQL is.
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The folder holding `pg_ctl` and `initdb`.
pub fn find_bin_dir() -> Result<PathBuf, ClusterError> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("pg_ctl").is_file() && dir.join("initdb").is_file() {
                // A symlink on PATH points into the real folder, where pgbench and createdb live too.
                let real = fs::canonicalize(dir.join("pg_ctl"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf));
                return Ok(real.unwrap_or(dir));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or(ClusterError::BinariesNotFound)
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> Result<u16, ClusterError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl LocalCluster {
    /// A cluster in `data_dir` on `port`; nothing is created or started yet.
    pub fn new(data_dir: impl Into<PathBuf>, port: u16) -> Result<Self, ClusterError> {
        Ok(LocalCluster {
            bin_dir: find_bin_dir()?,
            data_dir: data_dir.into(),
            port,
            run_as_postgres: is_root(),
        })
    }

    /// The folder of the server binaries (`pgbench` is there too).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:<port>/<database>`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn command(&self, program: &str) -> Command {
        let binary = self.bin_dir.join(program);
        if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(binary);
            c
        } else {
            Command::new(binary)
        }
    }

    fn run(&self, program: &str, args: &[&OsStr]) -> Result<(), ClusterError> {
        let output = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()?;
        if output.status.success() {
            Ok(())
        } else {
            Err(ClusterError::Command {
                command: format!(
                    "{program} {}",
                    args.iter()
                        .map(|a| a.to_string_lossy())
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                output: format!(
                    "{}{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                ),
            })
        }
    }

    /// Creates the cluster unless the data folder already holds one.
    pub fn init(&self) -> Result<(), ClusterError> {
        if self.data_dir.join("PG_VERSION").is_file() {
            return Ok(());
        }
        fs::create_dir_all(&self.data_dir)?;
        if self.run_as_postgres {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.data_dir)
                .status()?;
            if !status.success() {
                return Err(ClusterError::Command {
                    command: "chown".into(),
                    output: status.to_string(),
                });
            }
        }
        self.run(
            "initdb",
            &[
                OsStr::new("-D"),
                self.data_dir.as_os_str(),
                OsStr::new("-U"),
                OsStr::new("postgres"),
                OsStr::new("--auth=trust"),
                OsStr::new("-E"),
                OsStr::new("UTF8"),
                OsStr::new("--locale=C"),
                OsStr::new("--no-sync"),
            ],
        )
    }

    /// Starts the server (waiting until it accepts connections); `fast` trades durability for speed
    /// (tests only).
    pub fn start(&self, fast: bool) -> Result<(), ClusterError> {
        let mut options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=64MB",
            self.port,
            self.data_dir.display()
        );
        if fast {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let log = self.data_dir.join("server.log");
        self.run(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data_dir.as_os_str(),
                OsStr::new("-l"),
                log.as_os_str(),
                OsStr::new("-o"),
                OsStr::new(&options),
                OsStr::new("-w"),
                OsStr::new("-t"),
                OsStr::new("60"),
                OsStr::new("start"),
            ],
        )
    }

    /// True when a server runs on this data folder.
    pub fn is_running(&self) -> bool {
        self.run(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data_dir.as_os_str(),
                OsStr::new("status"),
            ],
        )
        .is_ok()
    }

    /// Stops the server.
    pub fn stop(&self) -> Result<(), ClusterError> {
        self.run(
            "pg_ctl",
            &[
                OsStr::new("-D"),
                self.data_dir.as_os_str(),
                OsStr::new("-m"),
                OsStr::new("fast"),
                OsStr::new("-w"),
                OsStr::new("stop"),
            ],
        )
    }

    /// Starts a detached watcher that stops the cluster and deletes its folder once process `pid` is
    /// gone, so a test run leaves nothing behind even when it crashes.
    pub fn remove_when_process_exits(&self, pid: u32) -> Result<(), ClusterError> {
        let pg_ctl = self.bin_dir.join("pg_ctl");
        let stop = if self.run_as_postgres {
            format!(
                "runuser -u postgres -- '{}' -D '{}' -m immediate stop",
                pg_ctl.display(),
                self.data_dir.display()
            )
        } else {
            format!(
                "'{}' -D '{}' -m immediate stop",
                pg_ctl.display(),
                self.data_dir.display()
            )
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{}'",
            self.data_dir.display()
        );
        Command::new("setsid")
            .args(["sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(())
    }
}
