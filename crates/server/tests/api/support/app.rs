//! `TestApp`: the real server on 127.0.0.1:0 over a fresh database, and the clients that sign in
//! to it.

use reqwest::StatusCode;
use serde_json::json;
use switchboard::config::{Config, Overrides};
use tokio::net::TcpListener;

use super::{Client, PASSWORD, http};

enum Database {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

pub struct TestApp {
    pub base: String,
    pub backend: &'static str,
    /// The configuration the server runs with (for tests that run commands beside it).
    pub config: Config,
    database: Database,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl TestApp {
    /// A server on a fresh SQLite file.
    pub async fn sqlite() -> Self {
        Self::sqlite_with(|_| {}).await
    }

    pub async fn sqlite_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/switchboard.db", dir.path().display());
        Self::start(dir, url, "sqlite", tweak).await
    }

    /// A server on a fresh PostgreSQL schema, when `TEST_POSTGRES_URL` is set.
    pub async fn postgres_with(tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let base = sb_store_postgres::testing::base_url()?;
        let url = sb_store_postgres::testing::fresh_schema_url(&base).await;
        let dir = tempfile::tempdir().unwrap();
        Some(Self::start(dir, url, "postgres", tweak).await)
    }

    /// A server on a fresh PostgreSQL schema reached through `address` (a proxy the test
    /// controls) instead of the database's own address.
    pub async fn postgres_through(address: std::net::SocketAddr) -> Option<Self> {
        let base = sb_store_postgres::testing::base_url()?;
        let mut url =
            reqwest::Url::parse(&sb_store_postgres::testing::fresh_schema_url(&base).await)
                .unwrap();
        url.set_ip_host(address.ip()).unwrap();
        url.set_port(Some(address.port())).unwrap();
        let dir = tempfile::tempdir().unwrap();
        Some(Self::start(dir, url.to_string(), "postgres", |_| {}).await)
    }

    /// One server per available backend: SQLite always, PostgreSQL when configured.
    pub async fn every_backend() -> Vec<Self> {
        Self::every_backend_with(|_| {}).await
    }

    pub async fn every_backend_with(tweak: impl Fn(&mut Config)) -> Vec<Self> {
        let mut apps = vec![Self::sqlite_with(&tweak).await];
        apps.extend(Self::postgres_with(&tweak).await);
        apps
    }

    /// A server that may call these loopback addresses (the operator allowlist).
    pub async fn every_backend_allowing(addrs: &[std::net::SocketAddr]) -> Vec<Self> {
        let allow: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        Self::every_backend_with(|config| config.security.ssrf_allow = allow.clone()).await
    }

    /// Everything the database holds, as text (to prove a secret is not in it): every file of
    /// SQLite's, the attachments' folder too; every row of PostgreSQL's (`bytea` as hex).
    pub async fn database_text(&self) -> String {
        match &self.database {
            Database::Sqlite(dir) => {
                let mut text = String::new();
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if !path.file_name().unwrap().to_string_lossy().starts_with("switchboard.db") {
                        continue;
                    }
                    // The database, its WAL, and the attachments' folder beside it.
                    let files: Vec<_> = if path.is_dir() {
                        std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()).collect()
                    } else {
                        vec![path]
                    };
                    for file in files {
                        text.push_str(&String::from_utf8_lossy(&std::fs::read(&file).unwrap()));
                    }
                }
                text
            }
            Database::Postgres(url) => sb_store_postgres::testing::dump_text(url).await,
        }
    }

    /// The SQLite database's file (SQLite apps only).
    fn sqlite_file(&self) -> std::path::PathBuf {
        match &self.database {
            Database::Sqlite(dir) => dir.join("switchboard.db"),
            Database::Postgres(_) => panic!("a SQLite app only"),
        }
    }

    /// Changes the database behind the server's back: for states a test cannot wait for
    /// (a customer who wrote a day ago).
    pub fn sqlite_execute(&self, sql: &str) {
        let db = rusqlite::Connection::open(self.sqlite_file()).unwrap();
        db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        db.execute_batch(sql).unwrap();
    }

    /// The number a `SELECT count(*) …` gives.
    pub fn sqlite_count(&self, sql: &str) -> i64 {
        let db = rusqlite::Connection::open(self.sqlite_file()).unwrap();
        db.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
        db.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    async fn start(
        dir: tempfile::TempDir,
        database: String,
        backend: &'static str,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let database_kind = if backend == "sqlite" {
            Database::Sqlite(dir.path().to_owned())
        } else {
            Database::Postgres(database.clone())
        };
        let key_file = dir.path().join("master.key");
        std::fs::write(&key_file, "11".repeat(32)).unwrap();
        let overrides = Overrides {
            database: Some(database),
            master_key_file: Some(key_file.display().to_string()),
            ..Overrides::default()
        };
        let mut config = Config::load(None, &overrides).unwrap();
        tweak(&mut config);
        let config_copy = config.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let shutdown = async move { drop(stopped.await) };
            switchboard::serve(config, listener, shutdown).await.unwrap();
        });
        let app = Self {
            base,
            backend,
            config: config_copy,
            database: database_kind,
            stop: Some(stop),
            _dir: dir,
        };
        app.wait_until_healthy().await;
        app
    }

    async fn wait_until_healthy(&self) {
        for _ in 0..200 {
            let response = http().get(format!("{}/healthz", self.base)).send().await;
            if response.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server at {} did not become healthy", self.base);
    }

    /// A second server on the same database (and master key): another node of a cluster.
    pub async fn another_node(&self) -> Self {
        let database = match &self.database {
            Database::Sqlite(dir) => format!("sqlite://{}/switchboard.db", dir.display()),
            Database::Postgres(url) => url.clone(),
        };
        let config = self.config.clone();
        Self::start(tempfile::tempdir().unwrap(), database, self.backend, |c| {
            c.security.ssrf_allow = config.security.ssrf_allow;
            c.bus = config.bus;
        })
        .await
    }

    /// Takes the server's folder (database, key, index) so that it outlives the server.
    pub fn keep_dir(&mut self) -> tempfile::TempDir {
        std::mem::replace(&mut self._dir, tempfile::tempdir().unwrap())
    }

    /// A client with no credentials.
    pub fn anonymous(&self) -> Client {
        Client::new(&self.base)
    }

    /// Signs a new tenant up and returns its owner's logged-in client.
    pub async fn signup(&self, tenant: &str, email: &str) -> Client {
        let mut client = Client::new(&self.base);
        let body = json!({ "tenant_name": tenant, "email": email, "password": PASSWORD });
        let (status, body) = client.post("/api/v1/auth/signup", body).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        client.csrf = Some(body["data"]["csrf_token"].as_str().unwrap().to_owned());
        client
    }

    /// Logs in as an existing user.
    pub async fn login(&self, email: &str, password: &str) -> Client {
        let mut client = Client::new(&self.base);
        let body = json!({ "email": email, "password": password });
        let (status, body) = client.post("/api/v1/auth/login", body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        client.csrf = Some(body["data"]["csrf_token"].as_str().unwrap().to_owned());
        client
    }

    /// A client authenticating with `key` in `X-Api-Key`.
    pub fn with_api_key(&self, key: &str) -> Client {
        let mut client = Client::new(&self.base);
        client.api_key = Some(key.to_owned());
        client
    }
}
