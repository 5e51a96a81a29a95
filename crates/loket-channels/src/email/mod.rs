//! The e-mail channel: the municipality's mailbox read over IMAP (IDLE, or polling where the
//! server has no IDLE), replies sent over SMTP.
//!
//! - Cursor: `"<uidvalidity>:<last_uid>"` of the configured mailbox. A changed UIDVALIDITY (the
//!   mailbox was rebuilt) re-reads the last two weeks; the Message-ID de-duplicates.
//! - Reading never changes the mailbox: it is opened with EXAMINE and read with `BODY.PEEK[]`.
//! - A batch holds at most 100 messages or 50 MB; `backfill` returns the first batch after the
//!   cursor, and `listen` first sends everything still waiting after its cursor, then waits.
//! - [`InboundMessage::reply_context`](crate::adapter::InboundMessage::reply_context):
//!   `{"subject": "…", "message_id": "…" | null, "references": ["…"], "reply_to"?: "…"}`;
//!   `message_id` is null when the mail had none (its `external_id` is then synthesised).
//! - Replies carry `[Loket #<conversation id>]` in the subject ([`subject_token`]) and the
//!   Message-ID `<loket-<message id>@<from domain>>`, returned as [`Sent::external_id`].

mod html;
pub mod imap;
pub mod parse;
pub mod smtp;

pub use imap::{Cursor, Security};
pub use parse::{MAX_MESSAGE_BYTES, find_subject_token, reply_subject, subject_token};

use crate::DeliveryError;
use crate::adapter::{
    AccountConfig, Adapter, Batch, ChannelError, ChannelErrorKind, ChannelKind, Field, Reply, Sent,
};
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::mpsc;

pub const FIELDS: &[Field] = &[
    Field {
        key: "imap_host",
        label: "IMAP-server",
        help: "Server waarop de mailbox van de gemeente staat, bijvoorbeeld imap.gemeente.nl.",
        secret: false,
        required: true,
    },
    Field {
        key: "imap_port",
        label: "IMAP-poort",
        help: "Leeg laten voor de standaardpoort: 993 bij tls, 143 bij starttls of geen.",
        secret: false,
        required: false,
    },
    Field {
        key: "imap_tls",
        label: "IMAP-beveiliging",
        help: "tls (standaard), starttls of geen. ‘geen’ alleen voor een server op deze machine.",
        secret: false,
        required: false,
    },
    Field {
        key: "imap_user",
        label: "IMAP-gebruikersnaam",
        help: "Meestal het volledige e-mailadres van de mailbox.",
        secret: false,
        required: true,
    },
    Field {
        key: "imap_password",
        label: "IMAP-wachtwoord",
        help: "Wachtwoord of app-wachtwoord van de mailbox. Wordt versleuteld opgeslagen.",
        secret: true,
        required: true,
    },
    Field {
        key: "mailbox",
        label: "Map",
        help: "De map waarin berichten van inwoners binnenkomen. Standaard INBOX.",
        secret: false,
        required: false,
    },
    Field {
        key: "smtp_host",
        label: "SMTP-server",
        help: "Server voor het versturen van antwoorden, bijvoorbeeld smtp.gemeente.nl.",
        secret: false,
        required: true,
    },
    Field {
        key: "smtp_port",
        label: "SMTP-poort",
        help: "Leeg laten voor de standaardpoort: 465 bij tls, 587 bij starttls, 25 bij geen.",
        secret: false,
        required: false,
    },
    Field {
        key: "smtp_tls",
        label: "SMTP-beveiliging",
        help: "starttls (standaard), tls of geen. ‘geen’ met inloggen alleen voor een server op deze machine.",
        secret: false,
        required: false,
    },
    Field {
        key: "smtp_user",
        label: "SMTP-gebruikersnaam",
        help: "Leeg: dezelfde gebruikersnaam en hetzelfde wachtwoord als voor IMAP. ‘geen’: versturen zonder inloggen (relay).",
        secret: false,
        required: false,
    },
    Field {
        key: "smtp_password",
        label: "SMTP-wachtwoord",
        help: "Alleen invullen als het afwijkt van het IMAP-wachtwoord. Wordt versleuteld opgeslagen.",
        secret: true,
        required: false,
    },
    Field {
        key: "from_address",
        label: "Afzenderadres",
        help: "Het adres waarvandaan antwoorden worden verstuurd, bijvoorbeeld loket@gemeente.nl.",
        secret: false,
        required: true,
    },
    Field {
        key: "from_name",
        label: "Afzendernaam",
        help: "Naam naast het afzenderadres. Leeg: de naam van de gemeente.",
        secret: false,
        required: false,
    },
    Field {
        key: "poll_seconds",
        label: "Controle-interval (seconden)",
        help: "Alleen als de IMAP-server geen IDLE kent: zo vaak wordt op nieuwe berichten gecontroleerd. Standaard 60.",
        secret: false,
        required: false,
    },
];

const DEFAULT_POLL: Duration = Duration::from_secs(60);

pub struct EmailAdapter {
    imap: imap::ImapSettings,
    smtp: smtp::SmtpSettings,
    smtp_auth: bool,
    transport: smtp::Transport,
    from_address: String,
    from_name: Option<String>,
    listen: imap::ListenOptions,
}

impl std::fmt::Debug for EmailAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailAdapter")
            .field("imap", &self.imap)
            .field("smtp", &self.smtp)
            .field("from_address", &self.from_address)
            .finish_non_exhaustive()
    }
}

fn is_local(host: &str) -> bool {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn security(
    config: &AccountConfig,
    key: &str,
    default: Security,
) -> Result<Security, ChannelError> {
    match config.get(key) {
        None => Ok(default),
        Some(v) => Security::parse(v).ok_or_else(|| {
            ChannelError::config(format!(
                "‘{key}’ moet tls, starttls of geen zijn (niet ‘{v}’)"
            ))
        }),
    }
}

fn port(config: &AccountConfig, key: &str, default: u16) -> Result<u16, ChannelError> {
    match config.get(key) {
        None => Ok(default),
        Some(v) => v.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
            ChannelError::config(format!("‘{key}’ moet een poortnummer zijn (niet ‘{v}’)"))
        }),
    }
}

impl EmailAdapter {
    /// Reads the account's settings (see [`FIELDS`]); fails with a Dutch message naming the
    /// field that is missing or wrong. Does not connect.
    pub fn new(config: &AccountConfig) -> Result<Self, ChannelError> {
        let imap_host = config.require("imap_host")?.to_string();
        let imap_security = security(config, "imap_tls", Security::Tls)?;
        let imap_port = port(
            config,
            "imap_port",
            if imap_security == Security::Tls {
                993
            } else {
                143
            },
        )?;
        let imap_user = config.require("imap_user")?.to_string();
        let imap_password = config.require("imap_password")?.to_string();
        if imap_security == Security::None && !is_local(&imap_host) {
            return Err(ChannelError::config(
                "IMAP zonder beveiliging (‘geen’) mag alleen met een server op deze machine; kies tls of starttls",
            ));
        }
        let mailbox = config.get("mailbox").unwrap_or("INBOX").to_string();

        let smtp_host = config.require("smtp_host")?.to_string();
        let smtp_security = security(config, "smtp_tls", Security::StartTls)?;
        let smtp_port = port(
            config,
            "smtp_port",
            match smtp_security {
                Security::Tls => 465,
                Security::StartTls => 587,
                Security::None => 25,
            },
        )?;
        let (smtp_user, smtp_password, smtp_auth) = match config.get("smtp_user") {
            Some(u) if u.eq_ignore_ascii_case("geen") => (String::new(), String::new(), false),
            Some(u) => (
                u.to_string(),
                config
                    .get("smtp_password")
                    .unwrap_or(&imap_password)
                    .to_string(),
                true,
            ),
            None => (
                imap_user.clone(),
                config
                    .get("smtp_password")
                    .unwrap_or(&imap_password)
                    .to_string(),
                true,
            ),
        };
        if smtp_security == Security::None && smtp_auth && !is_local(&smtp_host) {
            return Err(ChannelError::config(
                "SMTP zonder beveiliging (‘geen’) met inloggen mag alleen met een server op deze machine; kies starttls of tls",
            ));
        }

        let from_address = config.require("from_address")?.to_string();
        if from_address.parse::<lettre::Address>().is_err() {
            return Err(ChannelError::config(format!(
                "‘from_address’ is geen geldig e-mailadres (‘{from_address}’)"
            )));
        }
        let from_name = config.get("from_name").map(str::to_string);
        let poll = match config.get("poll_seconds") {
            None => DEFAULT_POLL,
            Some(v) => {
                Duration::from_secs(v.parse::<u64>().ok().filter(|s| *s >= 1).ok_or_else(|| {
                    ChannelError::config(format!(
                        "‘poll_seconds’ moet een aantal seconden zijn (niet ‘{v}’)"
                    ))
                })?)
            }
        };

        let smtp = smtp::SmtpSettings {
            host: smtp_host,
            port: smtp_port,
            security: smtp_security,
            user: smtp_user,
            password: smtp_password,
        };
        let transport = smtp::transport(&smtp, smtp_auth)?;
        Ok(Self {
            imap: imap::ImapSettings {
                host: imap_host,
                port: imap_port,
                security: imap_security,
                user: imap_user,
                password: imap_password,
                mailbox,
            },
            smtp,
            smtp_auth,
            transport,
            from_address,
            from_name,
            listen: imap::ListenOptions {
                poll,
                idle_renew: imap::IDLE_RENEW,
                force_poll: false,
            },
        })
    }

    /// Polls every `interval` instead of using IDLE (tests of the fallback; servers where IDLE
    /// is broken).
    pub fn with_polling(mut self, interval: Duration) -> Self {
        self.listen.poll = interval;
        self.listen.force_poll = true;
        self
    }

    /// Re-issues IDLE after `interval` instead of 25 minutes.
    pub fn with_idle_renew(mut self, interval: Duration) -> Self {
        self.listen.idle_renew = interval;
        self
    }

    fn cursor(cursor: &str) -> Cursor {
        Cursor::parse(cursor).unwrap_or_else(|| {
            tracing::warn!(cursor, "unreadable e-mail cursor; re-reading recent mail");
            // UIDVALIDITY is never 0, so this reads like a rebuilt mailbox.
            Cursor {
                uid_validity: 0,
                last_uid: 0,
            }
        })
    }

    async fn smtp_check(&self) -> Result<String, ChannelError> {
        match self.transport.test_connection().await {
            Ok(true) if self.smtp_auth => Ok(format!("SMTP: verbonden als {}", self.smtp.user)),
            Ok(true) => Ok("SMTP: verbonden (zonder inloggen)".into()),
            Ok(false) => Err(ChannelError::unreachable(
                "SMTP: de server reageert niet zoals verwacht",
            )),
            Err(e) => {
                let (message, auth) = smtp::describe(&e, &self.smtp.user);
                Err(ChannelError::new(
                    if auth {
                        ChannelErrorKind::Auth
                    } else {
                        ChannelErrorKind::Unreachable
                    },
                    message,
                ))
            }
        }
    }
}

#[async_trait]
impl Adapter for EmailAdapter {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn test_connection(&self) -> Result<String, ChannelError> {
        let mut session = imap::connect(&self.imap).await?;
        let mbox = imap::examine(&mut session, &self.imap.mailbox).await?;
        let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
        let count = match mbox.exists {
            1 => "1 bericht".to_string(),
            n => format!("{n} berichten"),
        };
        let imap = format!(
            "IMAP: verbonden als {} ({count} in {})",
            self.imap.user, self.imap.mailbox
        );
        let smtp = self
            .smtp_check()
            .await
            .map_err(|e| ChannelError::new(e.kind, format!("{} (IMAP werkt wel)", e.message)))?;
        Ok(format!("{imap}; {smtp}"))
    }

    #[tracing::instrument(skip(self, reply), fields(conversation = reply.conversation_id, message = reply.message_id))]
    async fn send(&self, reply: &Reply) -> Result<Sent, DeliveryError> {
        let out = smtp::build_reply(reply, &self.from_address, self.from_name.as_deref())?;
        let id = out.message_id.clone();
        smtp::send(&self.transport, out, &self.smtp.user).await?;
        Ok(Sent {
            external_id: Some(id),
            delivered: false,
        })
    }

    async fn backfill(&self, cursor: Option<&str>) -> Result<Batch, ChannelError> {
        let mut session = imap::connect(&self.imap).await?;
        let mbox = imap::examine(&mut session, &self.imap.mailbox).await?;
        let from = cursor.map(Self::cursor);
        let (batch, _, _) = imap::read_new(&mut session, &mbox, from).await?;
        let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
        Ok(batch)
    }

    async fn listen(
        &self,
        cursor: Option<String>,
        tx: mpsc::Sender<Batch>,
    ) -> Result<(), ChannelError> {
        let from = cursor.as_deref().map(Self::cursor);
        imap::listen(&self.imap, from, tx, self.listen).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> AccountConfig {
        let mut c = AccountConfig::default();
        for (k, v) in pairs {
            if k.ends_with("password") {
                c.secrets.insert(k.to_string(), v.to_string());
            } else {
                c.settings.insert(k.to_string(), v.to_string());
            }
        }
        c
    }

    const BASE: &[(&str, &str)] = &[
        ("imap_host", "imap.utrecht.nl"),
        ("imap_user", "loket@utrecht.nl"),
        ("imap_password", "geheim"),
        ("smtp_host", "smtp.utrecht.nl"),
        ("from_address", "loket@utrecht.nl"),
    ];

    #[test]
    fn defaults() {
        let a = EmailAdapter::new(&config(BASE)).unwrap();
        assert_eq!(a.imap.port, 993);
        assert_eq!(a.imap.security, Security::Tls);
        assert_eq!(a.imap.mailbox, "INBOX");
        assert_eq!(a.smtp.port, 587);
        assert_eq!(a.smtp.security, Security::StartTls);
        assert_eq!(a.smtp.user, "loket@utrecht.nl");
        assert_eq!(a.smtp.password, "geheim");
        assert!(a.smtp_auth);
        assert!(!format!("{a:?}").contains("geheim"));
    }

    #[test]
    fn config_errors_are_dutch_and_name_the_field() {
        let mut c = config(BASE);
        c.settings.remove("imap_host");
        let e = EmailAdapter::new(&c).unwrap_err();
        assert_eq!(e.kind, ChannelErrorKind::Config);
        assert!(e.message.contains("imap_host"), "{}", e.message);

        let mut c = config(BASE);
        c.settings.insert("imap_tls".into(), "misschien".into());
        assert!(
            EmailAdapter::new(&c)
                .unwrap_err()
                .message
                .contains("imap_tls")
        );

        let mut c = config(BASE);
        c.settings.insert("imap_port".into(), "99999".into());
        assert!(
            EmailAdapter::new(&c)
                .unwrap_err()
                .message
                .contains("imap_port")
        );

        let mut c = config(BASE);
        c.settings
            .insert("from_address".into(), "geen adres".into());
        assert!(
            EmailAdapter::new(&c)
                .unwrap_err()
                .message
                .contains("from_address")
        );

        // Passwords never cross a network unencrypted.
        let mut c = config(BASE);
        c.settings.insert("imap_tls".into(), "geen".into());
        assert!(EmailAdapter::new(&c).unwrap_err().message.contains("geen"));
        let mut c = config(BASE);
        c.settings.insert("imap_tls".into(), "geen".into());
        c.settings.insert("imap_host".into(), "127.0.0.1".into());
        assert!(EmailAdapter::new(&c).is_ok());
        let mut c = config(BASE);
        c.settings.insert("smtp_tls".into(), "geen".into());
        assert!(EmailAdapter::new(&c).is_err());
        c.settings.insert("smtp_user".into(), "geen".into());
        let a = EmailAdapter::new(&c).unwrap();
        assert!(!a.smtp_auth);
        assert_eq!(a.smtp.port, 25);
    }

    #[test]
    fn fields_cover_every_setting() {
        for key in [
            "imap_host",
            "imap_port",
            "imap_tls",
            "imap_user",
            "imap_password",
            "mailbox",
            "smtp_host",
            "smtp_port",
            "smtp_tls",
            "smtp_user",
            "smtp_password",
            "from_address",
            "from_name",
            "poll_seconds",
        ] {
            assert!(FIELDS.iter().any(|f| f.key == key), "{key}");
        }
        for f in FIELDS {
            assert_eq!(f.secret, f.key.ends_with("password"), "{}", f.key);
        }
    }

    #[test]
    fn unreadable_cursor_reads_like_a_rebuilt_mailbox() {
        assert_eq!(
            EmailAdapter::cursor("onzin"),
            Cursor {
                uid_validity: 0,
                last_uid: 0
            }
        );
        assert_eq!(
            EmailAdapter::cursor("5:9"),
            Cursor {
                uid_validity: 5,
                last_uid: 9
            }
        );
    }
}
