//! Typed configuration: defaults → TOML file → `LOKET_*` environment (`__` nests).

use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret that never shows in `Debug` output or logs.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Address to listen on.
    pub addr: String,
    /// `sqlite://path/loket.db` or `postgres://user@host/db`.
    pub database_url: String,
    /// Public base URL, used in links and to decide whether cookies are `Secure`.
    pub base_url: String,
    /// NATS server for live events between nodes; empty runs a single node.
    pub nats_url: String,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Session lifetime in hours.
    pub session_hours: i64,
    /// Failed logins per e-mail address within 15 minutes before login is refused for a while.
    pub login_max_failures: u32,
    /// Used to derive the widget-token and other server-side HMAC keys.
    pub secret_key: Secret,
    /// Log as JSON lines (production) instead of human-readable text.
    pub log_json: bool,
    /// The platform's own outgoing mail (the weekly summary to supervisors); off without a host.
    pub mail: MailConfig,
}

/// SMTP for mail from Loket itself (`LOKET_MAIL__SMTP_HOST`, …). Residents' e-mail goes through
/// each municipality's own e-mail channel, not through this.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MailConfig {
    /// Empty: no platform mail; the weekly summary is then only shown in the UI.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `starttls` (default), `tls` or `geen` (only for a server on the same machine).
    pub smtp_security: String,
    pub smtp_user: String,
    pub smtp_password: Secret,
    /// Sender address, e.g. `loket@mijngemeente.nl`.
    pub from: String,
    /// Local hour on Monday from which last week's summary is sent.
    pub weekly_hour: u32,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: "starttls".into(),
            smtp_user: String::new(),
            smtp_password: Secret::default(),
            from: "loket@loket.invalid".into(),
            weekly_hour: 7,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            database_url: "sqlite://loket-data/loket.db".into(),
            base_url: "http://127.0.0.1:8080".into(),
            nats_url: String::new(),
            max_body_bytes: 256 * 1024,
            session_hours: 12,
            login_max_failures: 5,
            secret_key: Secret::default(),
            log_json: false,
            mail: MailConfig::default(),
        }
    }
}

impl Config {
    /// Loads defaults, then the optional TOML file, then `LOKET_*` variables.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, Box<figment::Error>> {
        use figment::{
            Figment,
            providers::{Env, Format, Serialized, Toml},
        };
        let mut f = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            f = f.merge(Toml::file_exact(path));
        }
        f.merge(Env::prefixed("LOKET_").split("__"))
            .extract()
            .map_err(Box::new)
    }

    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_leak_in_debug() {
        let c = Config {
            secret_key: Secret("hunter2".into()),
            ..Config::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
