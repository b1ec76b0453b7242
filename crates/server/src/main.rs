//! The `switchboard` command line.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use sb_engine::AccountsService;
use sb_engine::accounts::SignUp;
use sb_engine::{Actor, Credential};
use sb_secrets::Secret;
use switchboard::config::{Config, DEFAULT_CONFIG, Overrides};
use switchboard::telemetry;

#[derive(Parser)]
#[command(name = "switchboard", version, about = "Self-hosted AI customer-support chat")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(StoreArgs),
    /// Copy the SQLite database, consistently, while the server runs (PostgreSQL: use pg_dump).
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// The file to write; it must not exist yet.
        #[arg(long)]
        to: PathBuf,
    },
    /// Manage tenants.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Print the default configuration, with comments.
    DefaultConfig,
    /// Print the OpenAPI 3.1 description of the HTTP API.
    Openapi,
    /// Conversation search.
    Search {
        #[command(subcommand)]
        command: SearchCommand,
    },
    /// Manage the master key that seals stored credentials.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Run an account's test cases on a live server (for CI).
    Test {
        #[command(subcommand)]
        command: TestCommand,
    },
}

#[derive(Subcommand)]
enum TestCommand {
    /// Run the test cases (of one suite, or of a suite file) and wait for the results; exits 1
    /// when any fails.
    Run {
        #[command(flatten)]
        server: TestServer,
        /// Only the cases of this suite.
        #[arg(long, conflicts_with = "file")]
        suite: Option<String>,
        /// A suite file (JSON or YAML): its cases are created or updated, then run.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Also write the results as JUnit XML to this file.
        #[arg(long)]
        junit: Option<PathBuf>,
    },
    /// Write a suite (without --suite: the cases of no suite) as a suite file.
    Export {
        #[command(flatten)]
        server: TestServer,
        #[arg(long)]
        suite: Option<String>,
        /// YAML instead of JSON (also chosen by an --out ending in .yaml or .yml).
        #[arg(long)]
        yaml: bool,
        /// The file to write; standard output without it.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Where the account's test cases are.
#[derive(clap::Args)]
struct TestServer {
    /// The server, e.g. https://support.example.com
    #[arg(long)]
    url: String,
    /// An API key of the account (an owner's or admin's).
    #[arg(long, env = "SWITCHBOARD_API_KEY")]
    api_key: String,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Re-seal every stored credential with a new master key (created if the file is missing).
    Rotate {
        #[command(flatten)]
        store: StoreArgs,
        /// The current master key file (default: from the configuration).
        #[arg(long, env = "SWITCHBOARD_MASTER_KEY_FILE")]
        master_key_file: Option<String>,
        /// The new master key file.
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

#[derive(Subcommand)]
enum SearchCommand {
    /// Give every conversation its search words again (after an upgrade changed how words are
    /// analysed); running servers do it in the background within a minute.
    Rebuild(StoreArgs),
}

#[derive(Args)]
struct StoreArgs {
    /// Configuration file (TOML); see `switchboard default-config`.
    #[arg(long, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, env = "SWITCHBOARD_DATABASE")]
    database: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on.
    #[arg(long, env = "SWITCHBOARD_LISTEN")]
    listen: Option<String>,
    /// Realtime bus URL (empty: in-process).
    #[arg(long, env = "SWITCHBOARD_BUS")]
    bus: Option<String>,
    /// File with the 32-byte key that encrypts credentials at rest.
    #[arg(long, env = "SWITCHBOARD_MASTER_KEY_FILE")]
    master_key_file: Option<String>,
    /// Allow outbound calls to this HOST_OR_CIDR[:PORT] despite the SSRF rules (repeatable).
    #[arg(long = "ssrf-allow", env = "SWITCHBOARD_SSRF_ALLOW", value_delimiter = ',')]
    ssrf_allow: Vec<String>,
    /// Seed and serve the demo: a tenant, a demo backend, rules and a page at /demo.
    #[arg(long, env = "SWITCHBOARD_DEMO")]
    demo: bool,
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant with its owner; prints the tenant id and an API key.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        name: String,
        /// The owner's e-mail (their dashboard login).
        #[arg(long)]
        email: String,
        /// Read the owner's password from standard input (the first line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

fn load(store: &StoreArgs, overrides: Overrides) -> anyhow::Result<Config> {
    let overrides = Overrides { database: store.database.clone(), ..overrides };
    let config = Config::load(store.config.as_deref(), &overrides)?;
    telemetry::init_logging(&config.log);
    Ok(config)
}

fn read_password() -> anyhow::Result<Secret<String>> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("reading the password from stdin")?;
    let password = input.lines().next().unwrap_or_default().to_owned();
    Ok(Secret::new(password))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::DefaultConfig => print!("{DEFAULT_CONFIG}"),
        Command::Openapi => println!("{}", serde_json::to_string_pretty(&sb_api::openapi())?),
        Command::Test { command: TestCommand::Run { server, suite, file, junit } } => {
            use switchboard::test_cli::Selection;
            let selection = match (&suite, &file) {
                (Some(suite), _) => Selection::Suite(suite),
                (None, Some(file)) => Selection::File(file),
                (None, None) => Selection::All,
            };
            let passed = switchboard::test_cli::run(
                &server.url,
                &server.api_key,
                selection,
                junit.as_deref(),
            )
            .await?;
            if !passed {
                // Failing tests are an answer, not an error: exit 1 without "error:".
                std::process::exit(1);
            }
        }
        Command::Test { command: TestCommand::Export { server, suite, yaml, out } } => {
            let (url, key) = (&server.url, &server.api_key);
            switchboard::test_cli::export(url, key, suite.as_deref(), yaml, out.as_deref()).await?;
        }
        Command::Serve(args) => {
            let overrides = Overrides {
                listen: args.listen,
                bus: args.bus,
                master_key_file: args.master_key_file,
                ssrf_allow: args.ssrf_allow,
                demo: args.demo,
                ..Overrides::default()
            };
            let config = load(&args.store, overrides)?;
            let listener = tokio::net::TcpListener::bind(config.server.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.server.listen))?;
            switchboard::serve(config, listener, switchboard::shutdown_signal()).await?;
        }
        Command::Backup { store, to } => {
            let config = load(&store, Overrides::default())?;
            switchboard::backup(&config, &to).await?;
            println!("wrote {}; keep it together with the master key", to.display());
        }
        Command::Migrate(args) => {
            let config = load(&args, Overrides::default())?;
            let store = switchboard::open_store(&config, true).await?;
            println!("database is up to date ({})", store.backend());
        }
        Command::Search { command: SearchCommand::Rebuild(args) } => {
            let config = load(&args, Overrides::default())?;
            let store = switchboard::open_store(&config, false).await?;
            let queued = store.queue_search_rebuild().await?;
            println!("queued {queued} conversations: running servers give them their search words");
        }
        Command::Keys { command: KeysCommand::Rotate { store, master_key_file, new_key_file } } => {
            let config = load(&store, Overrides { master_key_file, ..Overrides::default() })?;
            let report = switchboard::rotate_keys(&config, &new_key_file).await?;
            println!("resealed: {}", report.resealed);
            println!("already on the new key: {}", report.already_current);
            for value in &report.unreadable {
                println!("unreadable: {value}");
            }
            println!(
                "next: set security.master_key_file to {} and list the old key in \
                 security.previous_master_key_files until every node runs with the new key",
                new_key_file.display()
            );
            if !report.unreadable.is_empty() {
                anyhow::bail!(
                    "{} sealed values could not be opened with the configured keys",
                    report.unreadable.len()
                );
            }
        }
        Command::Tenant {
            command: TenantCommand::Create { store, name, email, password_stdin: _ },
        } => {
            let config = load(&store, Overrides::default())?;
            let password = read_password()?;
            let store = switchboard::open_store(&config, config.database.auto_migrate).await?;
            let input = SignUp { tenant_name: name, email, password };
            let accounts = AccountsService::new(&store);
            let (tenant, owner) = accounts.sign_up(input).await?;
            let actor = Actor {
                tenant_id: tenant.id.clone(),
                user_id: Some(owner.id.clone()),
                role: owner.role,
                credential: Credential::CommandLine,
            };
            let (_, key) = accounts.create_api_key(&actor, "created at setup", None).await?;
            println!("tenant_id: {}", tenant.id);
            println!("owner_id: {}", owner.id);
            println!("api_key: {}", key.expose());
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
