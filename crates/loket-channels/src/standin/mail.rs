//! Real mail servers for tests: Dovecot (IMAP) and a small aiosmtpd server that delivers into
//! Dovecot's Maildirs, both on 127.0.0.1 with their own temporary directory.
//!
//! ```no_run
//! # async fn t() -> std::io::Result<()> {
//! use loket_channels::standin::mail::{MailServers, GEMEENTE, INWONER};
//! let servers = match MailServers::start() {
//!     Ok(s) => s,
//!     Err(e) => { eprintln!("{e}"); return Ok(()); } // "SKIPPED: …" on a developer machine
//! };
//! servers.append(GEMEENTE, b"From: inwoner@loket.test\r\nSubject: Hallo\r\n\r\nTekst\r\n").await?;
//! let adapter = loket_channels::email::EmailAdapter::new(&servers.account_config(GEMEENTE));
//! let replies = servers.messages(INWONER).await?;
//! # Ok(()) }
//! ```
//!
//! Needs `dovecot` (Debian: `dovecot-imapd`) and a Python with `aiosmtpd`, found through
//! `LOKET_MAIL_PYTHON` (default `python3`). When either is missing, [`MailServers::start`] fails
//! with a message starting with `SKIPPED:`. Processes are stopped when the value is dropped.

use crate::adapter::AccountConfig;
use futures::TryStreamExt;
use std::io::{self, BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The municipality's mailbox (what the adapter reads and sends from).
pub const GEMEENTE: &str = "gemeente@loket.test";
/// A resident's mailbox (where replies arrive).
pub const INWONER: &str = "inwoner@loket.test";
/// A second resident.
pub const INWONER2: &str = "inwoner2@loket.test";
/// The password of every test user.
pub const PASSWORD: &str = "loket-test-wachtwoord";

const USERS: &[&str] = &[GEMEENTE, INWONER, INWONER2];

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// How the test servers behave.
#[derive(Debug, Clone, Copy)]
pub struct MailOptions {
    /// Advertise IDLE (Dovecot's default); false to test the polling fallback.
    pub idle: bool,
    /// Also offer TLS (IMAPS on [`MailServers::imaps_port`], STARTTLS on the IMAP port) with a
    /// self-signed certificate made by `openssl`, which a client must refuse.
    pub tls: bool,
}

impl Default for MailOptions {
    fn default() -> Self {
        Self {
            idle: true,
            tls: false,
        }
    }
}

/// A running Dovecot plus SMTP server; stopped on drop.
pub struct MailServers {
    dir: PathBuf,
    pub imap_port: u16,
    pub smtp_port: u16,
    /// IMAP over TLS, when started with [`MailOptions::tls`].
    pub imaps_port: Option<u16>,
    dovecot: Option<Child>,
    smtp: Option<Child>,
    /// Held open: the SMTP server exits when it closes.
    _smtp_stdin: Option<ChildStdin>,
}

fn skipped(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("SKIPPED: {what}"))
}

fn find_dovecot() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("LOKET_DOVECOT") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"])
        .map(|d| Path::new(d).join("dovecot"))
        .find(|p| p.is_file())
}

fn free_ports() -> io::Result<(u16, u16, u16)> {
    let a = TcpListener::bind("127.0.0.1:0")?;
    let b = TcpListener::bind("127.0.0.1:0")?;
    let c = TcpListener::bind("127.0.0.1:0")?;
    Ok((
        a.local_addr()?.port(),
        b.local_addr()?.port(),
        c.local_addr()?.port(),
    ))
}

/// (name, uid, gid) of a user in /etc/passwd, by name or uid.
fn passwd(name: Option<&str>, uid: Option<u32>) -> Option<(String, u32, u32)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        let (n, u, g) = (f.first()?, f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?);
        let hit = name.is_some_and(|x| x == *n) || uid.is_some_and(|x| x == u);
        hit.then(|| (n.to_string(), u, g))
    })
}

fn group_name(gid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.get(2)?.parse::<u32>().ok()? == gid).then(|| f[0].to_string())
    })
}

fn wait_for_port(port: u16, child: &mut Child, what: &str, log: &Path) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = child.try_wait()? {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(io::Error::other(format!(
                "{what} stopped at start-up ({status}):\n{log}"
            )));
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            return Err(io::Error::other(format!(
                "{what} did not listen on port {port} within 20 s:\n{log}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl MailServers {
    /// Starts both servers with IDLE.
    pub fn start() -> io::Result<Self> {
        Self::start_with(MailOptions::default())
    }

    pub fn start_with(opts: MailOptions) -> io::Result<Self> {
        let dovecot = find_dovecot().ok_or_else(|| {
            skipped("dovecot not found; install it with `apt-get install -y dovecot-imapd`")
        })?;
        let python = std::env::var("LOKET_MAIL_PYTHON").unwrap_or_else(|_| "python3".into());
        let has_aiosmtpd = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !has_aiosmtpd {
            return Err(skipped(format!(
                "no aiosmtpd in `{python}`; run `python3 -m venv /work/venv-mail && \
                 /work/venv-mail/bin/pip install aiosmtpd` and set \
                 LOKET_MAIL_PYTHON=/work/venv-mail/bin/python"
            )));
        }

        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("loket-mail-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        let mut servers = MailServers {
            dir: dir.clone(),
            imap_port: 0,
            smtp_port: 0,
            imaps_port: None,
            dovecot: None,
            smtp: None,
            _smtp_stdin: None,
        };
        let (imap_port, smtp_port, tls_port) = free_ports()?;
        servers.imap_port = imap_port;
        servers.smtp_port = smtp_port;

        // Who runs what. As root, Dovecot refuses to log in or read mail as root: use its own
        // system users and let the mail belong to `nobody`.
        let euid = std::fs::metadata("/proc/self").map(|m| m.uid())?;
        let (login_user, internal_user, internal_group, mail_uid, mail_gid) = if euid == 0 {
            let (_, _, dgid) = passwd(Some("dovecot"), None)
                .ok_or_else(|| skipped("user `dovecot` missing; is dovecot-imapd installed?"))?;
            let (_, nuid, ngid) = passwd(Some("nobody"), None)
                .ok_or_else(|| io::Error::other("no `nobody` user in /etc/passwd"))?;
            (
                "dovenull".to_string(),
                "dovecot".to_string(),
                group_name(dgid).unwrap_or_else(|| "dovecot".into()),
                nuid,
                ngid,
            )
        } else {
            let (name, uid, gid) = passwd(None, Some(euid))
                .ok_or_else(|| io::Error::other(format!("uid {euid} not in /etc/passwd")))?;
            let group = group_name(gid).unwrap_or_else(|| name.clone());
            (name.clone(), name, group, uid, gid)
        };
        let mail_root = dir.join("mail");
        if euid == 0 {
            std::os::unix::fs::chown(&mail_root, Some(mail_uid), Some(mail_gid))?;
        }

        let users_file = dir.join("users");
        let users: String = USERS
            .iter()
            .map(|u| format!("{u}:{{PLAIN}}{PASSWORD}\n"))
            .collect();
        std::fs::write(&users_file, users)?;

        let capability = if opts.idle {
            String::new()
        } else {
            "imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+\n".into()
        };
        let tls = if opts.tls {
            let made = Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                ])
                .args([
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                ])
                .arg("-keyout")
                .arg(dir.join("key.pem"))
                .arg("-out")
                .arg(dir.join("cert.pem"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| skipped(format!("openssl not found ({e}); needed for TLS tests")))?;
            if !made.success() {
                return Err(io::Error::other(
                    "openssl could not make a test certificate",
                ));
            }
            servers.imaps_port = Some(tls_port);
            format!(
                "ssl = yes\nssl_cert = <{0}/cert.pem\nssl_key = <{0}/key.pem\n",
                dir.display()
            )
        } else {
            "ssl = no\n".to_string()
        };
        let imaps_port = if opts.tls { tls_port } else { 0 };
        let d = dir.display();
        let conf = format!(
            r#"# Written by loket-channels' standin::mail for one test; deleted afterwards.
protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
instance_name = loket-test-{n}
log_path = {d}/dovecot.log
{tls}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 1
mail_location = maildir:{d}/mail/%u/Maildir
mailbox_idle_check_interval = 1 secs
{capability}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={d}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
# No chroot: it needs root, and the tests may run without.
service anvil {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"#
        );
        let conf_path = dir.join("dovecot.conf");
        std::fs::write(&conf_path, conf)?;

        let log = dir.join("dovecot.log");
        let child = Command::new(&dovecot)
            .arg("-F")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("dovecot.stderr"))?)
            .spawn()
            .map_err(|e| skipped(format!("cannot run {}: {e}", dovecot.display())))?;
        servers.dovecot = Some(child);
        if let Some(c) = servers.dovecot.as_mut()
            && let Err(e) = wait_for_port(imap_port, c, "dovecot", &log)
        {
            let stderr = std::fs::read_to_string(dir.join("dovecot.stderr")).unwrap_or_default();
            return Err(io::Error::other(format!("{e}\n{stderr}")));
        }

        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mail/smtp_to_maildir.py");
        let mut cmd = Command::new(&python);
        cmd.arg(&script)
            .args(["--port", &smtp_port.to_string()])
            .arg("--mail-root")
            .arg(&mail_root)
            .arg("--users")
            .arg(&users_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.join("smtp.log"))?);
        if euid == 0 {
            cmd.args([
                "--uid",
                &mail_uid.to_string(),
                "--gid",
                &mail_gid.to_string(),
            ]);
        }
        let mut child = cmd.spawn()?;
        servers._smtp_stdin = child.stdin.take();
        let stdout = child.stdout.take();
        servers.smtp = Some(child);
        let mut line = String::new();
        if let Some(out) = stdout {
            BufReader::new(out).read_line(&mut line)?;
        }
        if !line.starts_with("READY") {
            let log = std::fs::read_to_string(dir.join("smtp.log")).unwrap_or_default();
            return Err(io::Error::other(format!(
                "the SMTP server did not start:\n{log}"
            )));
        }
        Ok(servers)
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Settings for an [`EmailAdapter`](crate::email::EmailAdapter) on `user`'s mailbox,
    /// sending as that user, unencrypted (the servers only listen on 127.0.0.1).
    pub fn account_config(&self, user: &str) -> AccountConfig {
        let mut c = AccountConfig::default();
        for (k, v) in [
            ("imap_host", self.host().to_string()),
            ("imap_port", self.imap_port.to_string()),
            ("imap_tls", "geen".into()),
            ("imap_user", user.to_string()),
            ("mailbox", "INBOX".into()),
            ("smtp_host", self.host().to_string()),
            ("smtp_port", self.smtp_port.to_string()),
            ("smtp_tls", "geen".into()),
            ("from_address", user.to_string()),
            ("from_name", String::new()),
        ] {
            c.settings.insert(k.into(), v);
        }
        c.secrets.insert("imap_password".into(), PASSWORD.into());
        c
    }

    /// Dovecot's log (for failure messages).
    pub fn dovecot_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default()
    }

    /// The SMTP server's log (for failure messages).
    pub fn smtp_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("smtp.log")).unwrap_or_default()
    }

    async fn session(&self, user: &str) -> io::Result<async_imap::Session<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect((self.host(), self.imap_port)).await?;
        let mut client = async_imap::Client::new(tcp);
        client
            .read_response()
            .await?
            .ok_or_else(|| io::Error::other("no IMAP greeting"))?;
        client
            .login(user, PASSWORD)
            .await
            .map_err(|(e, _)| io::Error::other(format!("IMAP login as {user}: {e}")))
    }

    /// Puts a raw message into `user`'s INBOX over IMAP, as if it had just arrived.
    pub async fn append(&self, user: &str, raw: &[u8]) -> io::Result<()> {
        let mut s = self.session(user).await?;
        s.append("INBOX", None, None, raw)
            .await
            .map_err(|e| io::Error::other(format!("IMAP APPEND: {e}")))?;
        let _ = s.logout().await;
        Ok(())
    }

    /// Every message in `user`'s INBOX, raw, oldest first (read without marking them seen).
    pub async fn messages(&self, user: &str) -> io::Result<Vec<Vec<u8>>> {
        let mut s = self.session(user).await?;
        let mbox = s
            .examine("INBOX")
            .await
            .map_err(|e| io::Error::other(format!("IMAP EXAMINE: {e}")))?;
        let mut out = Vec::new();
        if mbox.exists > 0 {
            let fetches: Vec<_> = s
                .uid_fetch("1:*", "(UID BODY.PEEK[])")
                .await
                .map_err(|e| io::Error::other(format!("IMAP FETCH: {e}")))?
                .try_collect()
                .await
                .map_err(|e| io::Error::other(format!("IMAP FETCH: {e}")))?;
            let mut with_uid: Vec<(u32, Vec<u8>)> = fetches
                .iter()
                .filter_map(|f| Some((f.uid?, f.body()?.to_vec())))
                .collect();
            with_uid.sort_by_key(|(uid, _)| *uid);
            out = with_uid.into_iter().map(|(_, b)| b).collect();
        }
        let _ = s.logout().await;
        Ok(out)
    }

    /// Waits until `user`'s INBOX holds at least `count` messages and returns them.
    pub async fn wait_for_messages(
        &self,
        user: &str,
        count: usize,
        within: Duration,
    ) -> io::Result<Vec<Vec<u8>>> {
        let deadline = Instant::now() + within;
        loop {
            let msgs = self.messages(user).await?;
            if msgs.len() >= count {
                return Ok(msgs);
            }
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{user} has {} of {count} messages after {within:?}\n{}\n{}",
                        msgs.len(),
                        self.dovecot_log(),
                        self.smtp_log()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The capabilities Dovecot announces after `user` logged in ("IDLE", …).
    pub async fn capabilities(&self, user: &str) -> io::Result<Vec<String>> {
        let mut s = self.session(user).await?;
        let caps = s
            .capabilities()
            .await
            .map_err(|e| io::Error::other(format!("IMAP CAPABILITY: {e}")))?;
        let list = caps
            .iter()
            .map(|c| match c {
                async_imap::types::Capability::Imap4rev1 => "IMAP4rev1".to_string(),
                async_imap::types::Capability::Auth(a) => format!("AUTH={a}"),
                async_imap::types::Capability::Atom(a) => a.to_string(),
            })
            .collect();
        drop(caps);
        let _ = s.logout().await;
        Ok(list)
    }

    /// How many messages in `user`'s INBOX are marked seen.
    pub async fn seen_count(&self, user: &str) -> io::Result<usize> {
        let mut s = self.session(user).await?;
        s.examine("INBOX")
            .await
            .map_err(|e| io::Error::other(format!("IMAP EXAMINE: {e}")))?;
        let seen = s
            .uid_search("SEEN")
            .await
            .map_err(|e| io::Error::other(format!("IMAP SEARCH: {e}")))?;
        let _ = s.logout().await;
        Ok(seen.len())
    }

    /// Stops Dovecot (connections drop), e.g. to test how a listener handles a lost server.
    pub fn stop_imap(&mut self) {
        if let Some(mut c) = self.dovecot.take() {
            // The master's login, auth and imap processes, to be sure they are gone too: on a
            // busy machine the master may not stop them before it is killed, and an orphaned
            // imap process would keep a client's connection open.
            let children = descendants(c.id());
            // SIGTERM lets the master stop its login, auth and imap processes too.
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
            // Only what still is a Dovecot process (titles `dovecot/imap`, …), not a reused pid.
            for pid in children.into_iter().filter(|p| {
                std::fs::read(format!("/proc/{p}/cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains("dovecot"))
            }) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// The processes below `pid` (children, grandchildren, …), from `/proc`; empty elsewhere.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            // `pid (comm) state ppid …`; comm may hold spaces, so read after the last ')'.
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u32>().ok());
            if let Some(pp) = ppid {
                parent_of.push((p, pp));
            }
        }
    }
    let mut out = vec![];
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        for (child, _) in parent_of.iter().filter(|(_, pp)| *pp == p) {
            out.push(*child);
            todo.push(*child);
        }
    }
    out
}

impl Drop for MailServers {
    fn drop(&mut self) {
        self._smtp_stdin.take();
        if let Some(mut c) = self.smtp.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.stop_imap();
        if std::env::var_os("LOKET_KEEP_MAIL_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
