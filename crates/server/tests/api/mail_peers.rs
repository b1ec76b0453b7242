//! Real mail servers for the e-mail channel tests, each on a free loopback port in a folder of
//! its own and stopped when dropped: Dovecot (Debian's `dovecot-imapd`) holds the channel's
//! mailbox, and an SMTP server written with aiosmtpd (`crates/server/tests/mail/smtp_sink.py`,
//! from PyPI) takes the replies. The Python comes from `SWITCHBOARD_TEST_PYTHON`
//! (`scripts/test` makes one). Without either, the e-mail tests are skipped — unless
//! `SWITCHBOARD_REQUIRE_MAIL=1` (CI) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// The mailbox's and the SMTP server's password in the tests.
pub const PASSWORD: &str = "mail-pass-7";

/// Whether the mail servers can run here; `false` (with a note) when they cannot and are not
/// required.
pub fn available() -> bool {
    let required = std::env::var("SWITCHBOARD_REQUIRE_MAIL").is_ok_and(|v| v == "1");
    let python = std::env::var("SWITCHBOARD_TEST_PYTHON").is_ok_and(|p| !p.is_empty());
    let dovecot = std::process::Command::new("dovecot").arg("--version").output().is_ok();
    if python && dovecot {
        return true;
    }
    assert!(
        !required,
        "SWITCHBOARD_REQUIRE_MAIL=1 but Dovecot or SWITCHBOARD_TEST_PYTHON is missing"
    );
    eprintln!("note: Dovecot or SWITCHBOARD_TEST_PYTHON missing; the e-mail tests are skipped");
    false
}

/// Whether `child` came to serve `port`, greeting with `greeting` (not another test's server
/// that took the port first): false once it exited.
async fn serves(child: &mut Child, port: u16, greeting: &str) -> bool {
    for _ in 0..300 {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await {
            let mut lines = BufReader::new(stream).lines();
            let first = tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await;
            let line = first.ok().and_then(|l| l.ok()).flatten().unwrap_or_default();
            return line.contains(greeting) && child.try_wait().unwrap().is_none();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A private CA of the test's own (made with the `openssl` command) and a certificate it
/// issued for 127.0.0.1: what a company's own mail server may present.
pub struct TestCa {
    /// The CA's certificate, PEM.
    pub pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        let openssl = |args: &[&str]| {
            let done =
                std::process::Command::new("openssl").args(args).current_dir(dir.path()).output();
            let done = done.expect("openssl runs");
            assert!(
                done.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&done.stderr)
            );
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        openssl(
            &[
                &["req", "-x509"],
                &ec[..],
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.pem",
                    "-days",
                    "2",
                    "-subj",
                    "/CN=Switchboard test CA",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"],
                &ec[..],
                &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"],
            ]
            .concat(),
        );
        std::fs::write(at("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n").unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
        // Dovecot's processes read the key as another user when the tests are root.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for file in ["server.pem", "server.key"] {
            std::fs::set_permissions(at(file), std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let pem = std::fs::read_to_string(at("ca.pem")).unwrap();
        Self { pem, cert: at("server.pem"), key: at("server.key"), _dir: dir }
    }
}

/// Dovecot serving any user with [`PASSWORD`], plain IMAP (no TLS) on loopback; `user`'s
/// mailbox exists from the start, as a real one would (Dovecot making it on first use races
/// with itself when two sessions log in at once).
pub struct Dovecot {
    pub port: u16,
    /// With a certificate: the port speaking TLS from the first byte (IMAPS).
    pub tls_port: u16,
    _child: Child,
    _dir: tempfile::TempDir,
}

impl Dovecot {
    pub async fn start(user: &str) -> Self {
        Self::start_with(user, None).await
    }

    /// Dovecot with TLS: STARTTLS on the plain port, and IMAPS on `tls_port`.
    pub async fn start_tls(user: &str, ca: &TestCa) -> Self {
        Self::start_with(user, Some(ca)).await
    }

    async fn start_with(user: &str, ca: Option<&TestCa>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mail = root.join("mail");
        for folder in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(mail.join(user).join(folder)).unwrap();
        }
        // Dovecot runs mail processes as no root: as `nobody` when the tests are root (the
        // mail folder handed over), else as whoever runs them.
        let me = std::process::Command::new("id").arg("-un").output().unwrap();
        let me = String::from_utf8_lossy(&me.stdout).trim().to_owned();
        let (owner, users) = if me == "root" {
            // The tests' process may run with umask 077 (the server sets it): `nobody` must
            // be able to walk to its folder.
            use std::os::unix::fs::PermissionsExt;
            for walked in [root, mail.as_path()] {
                std::fs::set_permissions(walked, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            let chown =
                std::process::Command::new("chown").args(["-R", "nobody"]).arg(&mail).status();
            assert!(chown.unwrap().success(), "the mail folder is handed to nobody");
            ("uid=nobody gid=nogroup".to_owned(), String::new())
        } else {
            (
                format!("uid={me}"),
                format!("default_internal_user = {me}\ndefault_login_user = {me}\n"),
            )
        };
        let root_text = root.display();
        // A free port may be taken by another test before Dovecot binds it: Dovecot then
        // exits, and another port is tried.
        let ssl = match ca {
            Some(ca) => format!(
                "ssl = yes\nssl_cert = <{}\nssl_key = <{}\n",
                ca.cert.display(),
                ca.key.display()
            ),
            None => "ssl = no\n".to_owned(),
        };
        for _ in 0..5 {
            let (port, tls_port) = (free_port(), free_port());
            let imaps = if ca.is_some() { tls_port } else { 0 };
            let config = format!(
                "base_dir = {root_text}/run-{port}\nstate_dir = {root_text}/state\nlog_path = {root_text}/dovecot.log\n\
                 protocols = imap\nlisten = 127.0.0.1\n{ssl}disable_plaintext_auth = no\n\
                 auth_mechanisms = plain login\nmail_location = maildir:{root_text}/mail/%u\n{users}\
                 passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
                 userdb {{\n  driver = static\n  args = {owner} home={root_text}/mail/%u\n}}\n\
                 service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
                   inet_listener imaps {{\n    address = 127.0.0.1\n    port = {imaps}\n  }}\n}}\n"
            );
            let path = root.join("dovecot.conf");
            std::fs::write(&path, config).unwrap();
            let mut child = Command::new("dovecot")
                .arg("-F")
                .arg("-c")
                .arg(&path)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .expect("dovecot starts");
            if serves(&mut child, port, "Dovecot").await {
                return Self { port, tls_port, _child: child, _dir: dir };
            }
        }
        panic!(
            "Dovecot did not start: {}",
            std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default()
        );
    }

    /// Puts `message` into `user`'s inbox with IMAP APPEND, as a delivering server would.
    pub async fn deliver(&self, user: &str, message: &str) {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let (reader, mut writer) = stream.into_split();
        let mut lines = BufReader::new(reader).lines();
        lines.next_line().await.unwrap().expect("a greeting");
        let message = message.replace("\r\n", "\n").replace('\n', "\r\n");
        let commands = [
            format!("a1 LOGIN \"{user}\" \"{PASSWORD}\"\r\n"),
            format!("a2 APPEND INBOX {{{}+}}\r\n{message}\r\n", message.len()),
            "a3 LOGOUT\r\n".to_owned(),
        ];
        for (tag, command) in ["a1", "a2", "a3"].iter().zip(commands) {
            writer.write_all(command.as_bytes()).await.unwrap();
            loop {
                let line = lines.next_line().await.unwrap().expect("an answer");
                if line.starts_with(&format!("{tag} ")) {
                    assert!(line.starts_with(&format!("{tag} OK")), "{line}");
                    break;
                }
            }
        }
    }
}

/// A message the SMTP server took.
#[derive(Debug, Clone)]
pub struct Sent {
    pub to: Vec<String>,
    pub raw: String,
}

impl Sent {
    /// A header's value (the first of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.raw.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ");
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }

    /// The body, decoded when quoted-printable (what lettre uses for non-ASCII text).
    pub fn body(&self) -> String {
        let body = self.raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
        let encoding = self.header("Content-Transfer-Encoding").unwrap_or_default();
        if !encoding.eq_ignore_ascii_case("quoted-printable") {
            return body.trim_end().to_owned();
        }
        let joined = body.replace("=\r\n", "");
        let mut bytes = Vec::new();
        let mut rest = joined.as_bytes();
        while let Some((&first, tail)) = rest.split_first() {
            if first == b'='
                && let Some(hex) = tail.get(..2)
                && let Ok(byte) = u8::from_str_radix(std::str::from_utf8(hex).unwrap_or("zz"), 16)
            {
                bytes.push(byte);
                rest = &tail[2..];
                continue;
            }
            bytes.push(first);
            rest = tail;
        }
        String::from_utf8_lossy(&bytes).trim_end().to_owned()
    }
}

/// The SMTP server replies go to: it takes the login of one user, with [`PASSWORD`].
pub struct SmtpSink {
    pub port: u16,
    _child: Child,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    pub async fn start(user: &str) -> Self {
        Self::start_with(user, None).await
    }

    /// Dovecot with TLS: STARTTLS on the plain port, and IMAPS on `tls_port`.
    pub async fn start_tls(user: &str, ca: &TestCa) -> Self {
        Self::start_with(user, Some(ca)).await
    }

    async fn start_with(user: &str, ca: Option<&TestCa>) -> Self {
        let python = std::env::var("SWITCHBOARD_TEST_PYTHON").expect("checked by available()");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/smtp_sink.py");
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(script)
            .arg(dir.path())
            .arg(user)
            .arg(PASSWORD)
            .args(ca.map(|ca| [ca.cert.clone(), ca.key.clone()]).into_iter().flatten())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the SMTP server starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(30), stdout.next_line());
        let line = first.await.expect("the SMTP server says its port").unwrap().unwrap();
        let port: u16 = line.trim().parse().unwrap();
        assert!(serves(&mut child, port, "Python SMTP").await, "the SMTP server serves {port}");
        Self { port, _child: child, dir }
    }

    fn read(dir: &Path) -> Vec<Sent> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|eml| {
                let meta: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(eml.with_extension("json")).unwrap(),
                )
                .unwrap();
                let to =
                    meta["to"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned());
                Sent { to: to.collect(), raw: std::fs::read_to_string(eml).unwrap() }
            })
            .collect()
    }

    /// Everything taken so far.
    pub fn taken(&self) -> Vec<Sent> {
        Self::read(self.dir.path())
    }

    /// The messages sent to `to`, once there are `count` of them (waiting up to 20 s).
    pub async fn sent_to(&self, to: &str, count: usize) -> Vec<Sent> {
        for _ in 0..400 {
            let sent: Vec<Sent> =
                self.taken().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect();
            if sent.len() >= count {
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fewer than {count} messages reached {to}: {:#?}", self.taken());
    }
}
