//! Servers under measurement run as child processes of this very binary (`switchboard-bench
//! __serve <kind> …`), so their memory is their own and they can be stopped cleanly. A child
//! prints `LISTENING <address>` on stdout once it accepts connections.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// A server in a child process, killed when dropped.
pub struct Server {
    child: Child,
    log: std::path::PathBuf,
    pub address: SocketAddr,
}

impl Server {
    /// Starts `switchboard-bench __serve <args…>`; its log goes to `log`.
    pub fn start(args: &[&str], log: &Path) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("finding this program")?;
        let mut child = Command::new(exe)
            .arg("__serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).context("creating the server log")?)
            .spawn()
            .context("starting a server")?;
        let stdout = child.stdout.take().context("the server's output")?;
        let mut lines = BufReader::new(stdout).lines();
        let address = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(address) = line.strip_prefix("LISTENING ") {
                        break address.parse().context("the server's address")?;
                    }
                }
                _ => {
                    let _ = child.wait();
                    let log = std::fs::read_to_string(log).unwrap_or_default();
                    bail!("the {args:?} server stopped before listening:\n{log}");
                }
            }
        };
        // The server logs to stdout: keep draining it (into the log file) so it never blocks
        // nor fails on a closed pipe, as it would not in production.
        let mut file = std::fs::OpenOptions::new().append(true).open(log)?;
        std::thread::spawn(move || {
            use std::io::Write;
            for line in lines.map_while(Result::ok) {
                let _ = writeln!(file, "{line}");
            }
        });
        Ok(Self { child, log: log.to_owned(), address })
    }

    /// Resident memory of the server process in KiB.
    pub fn rss_kib(&self) -> anyhow::Result<u64> {
        crate::report::rss_kib_of(&format!("/proc/{}/status", self.child.id()))
            .context("reading the server's memory")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Logs live in a temporary folder; SWITCHBOARD_BENCH_LOGS=<dir> keeps a copy.
        if let (Ok(dir), Some(name)) =
            (std::env::var("SWITCHBOARD_BENCH_LOGS"), self.log.file_name())
        {
            let _ = std::fs::copy(&self.log, std::path::Path::new(&dir).join(name));
        }
    }
}

/// Announces the listener to the parent (see [`Server::start`]).
pub fn announce(listener: &tokio::net::TcpListener) -> anyhow::Result<()> {
    println!("LISTENING {}", listener.local_addr()?);
    Ok(())
}

/// The `__serve` entry point of a child process.
pub async fn serve(args: &[String]) -> anyhow::Result<()> {
    match args {
        [kind, config] if kind == "switchboard" => serve_switchboard(Path::new(config)).await,
        [kind, backend] if kind == "proxy" => crate::proxy::serve(backend.parse()?).await,
        [kind, backend, database] if kind == "durable" => {
            crate::durable::serve(backend.parse()?, database).await
        }
        [kind] if kind == "websockets" => crate::ws::serve_baseline().await,
        _ => bail!("unknown server {args:?}"),
    }
}

/// Switchboard itself, exactly as `switchboard serve --config <file>` runs it.
async fn serve_switchboard(config: &Path) -> anyhow::Result<()> {
    let config = switchboard::config::Config::load(Some(config), &Default::default())?;
    switchboard::telemetry::init_logging(&config.log);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    announce(&listener)?;
    switchboard::serve(config, listener, switchboard::shutdown_signal()).await
}

/// A Switchboard in a child process on SQLite in a temporary folder, with a backend on loopback
/// it may call. Fields drop in order: the server stops before its folder goes.
pub struct Rig {
    pub server: Server,
    pub backend: crate::backend::Backend,
    pub dir: tempfile::TempDir,
}

impl Rig {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_on(None).await
    }

    /// A rig whose Switchboard stores into `database` (a PostgreSQL URL), or SQLite when `None`.
    pub async fn start_on(database: Option<&str>) -> anyhow::Result<Self> {
        let backend = crate::backend::Backend::start().await?;
        let dir = tempfile::tempdir()?;
        let sqlite = format!("sqlite://{}", dir.path().join("sb.db").display());
        let database = database.unwrap_or(&sqlite);
        sb_secrets::MasterKey::load_or_generate(&dir.path().join("master.key"))?;
        let config = switchboard_config(dir.path(), backend.address(), database)?;
        let server = Server::start(
            &["switchboard", config.to_str().unwrap_or_default()],
            &dir.path().join("switchboard.log"),
        )?;
        Ok(Self { server, backend, dir })
    }
}

/// Writes a Switchboard configuration for a benchmark: SQLite in `dir`, the backend allowed
/// through the SSRF rules, and abuse limits lifted (the load comes from one address, as no real
/// visitor traffic does). Everything else is the default.
fn switchboard_config(
    dir: &Path,
    backend: SocketAddr,
    database: &str,
) -> anyhow::Result<std::path::PathBuf> {
    let config = format!(
        r#"[server]
max_connections_per_ip = 0

[database]
url = "{database}"

[security]
master_key_file = "{key}"
ssrf_allow = ["{backend}"]
login_attempts_per_minute_per_ip = 1000000
visitor_conversations_per_minute_per_ip = 1000000
visitor_messages_per_minute_per_conversation = 1000000
visitor_conversations_per_minute_per_widget = 1000000
visitor_messages_per_minute_per_widget = 1000000

[outbound]
calls_per_minute_per_tenant = 0

[kb]
index_dir = "{index}"

[realtime]
max_connections_per_ip = 1000000
max_connections_per_tenant = 1000000
"#,
        index = dir.join("kb-index").display(),
        key = dir.join("master.key").display(),
    );
    let path = dir.join("switchboard.toml");
    std::fs::write(&path, config)?;
    Ok(path)
}
