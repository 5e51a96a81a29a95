//! Sending replies over SMTP with lettre.

use super::imap::Security;
use super::parse::{clean_id, is_synthetic_id, reply_subject};
use crate::DeliveryError;
use crate::adapter::{ChannelError, Reply};
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncTransport, Tokio1Executor};
use std::time::Duration;

/// At most this many ids in References (the first and the newest ones are kept).
const MAX_REFERENCES: usize = 20;

#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

pub type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The SMTP transport; it connects per message. `auth`: log in with the settings' credentials.
pub fn transport(s: &SmtpSettings, auth: bool) -> Result<Transport, ChannelError> {
    let tls_params = || {
        TlsParameters::new(s.host.clone())
            .map_err(|e| ChannelError::config(format!("SMTP: TLS-instellingen: {e}")))
    };
    let tls = match s.security {
        Security::Tls => Tls::Wrapper(tls_params()?),
        Security::StartTls => Tls::Required(tls_params()?),
        Security::None => Tls::None,
    };
    let mut builder = Transport::builder_dangerous(s.host.clone())
        .port(s.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(60)));
    if auth {
        builder = builder.credentials(Credentials::new(s.user.clone(), s.password.clone()));
    }
    Ok(builder.build())
}

/// What went wrong talking to the SMTP server, in Dutch and without secrets; `auth` when the
/// server refused our credentials.
pub fn describe(e: &lettre::transport::smtp::Error, user: &str) -> (String, bool) {
    if let Some(code) = e.status() {
        let code_str = code.to_string();
        if ["535", "534", "530"].contains(&code_str.as_str()) {
            return (
                format!(
                    "SMTP: inloggen als {user} geweigerd ({code_str}); controleer gebruikersnaam en wachtwoord"
                ),
                true,
            );
        }
        let detail = e.to_string().lines().next().unwrap_or_default().to_string();
        let what = if e.is_permanent() {
            "de mailserver weigerde het bericht"
        } else {
            "de mailserver kan het bericht nu niet aannemen"
        };
        return (format!("SMTP: {what} ({detail})"), false);
    }
    if e.is_timeout() {
        return ("SMTP: geen antwoord van de server (time-out)".into(), false);
    }
    if e.is_tls() {
        return (format!("SMTP: beveiligde verbinding mislukt ({e})"), false);
    }
    let source = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<std::io::Error>())
        .map(super::imap::io_reason);
    match source {
        Some(reason) => (format!("SMTP: server niet bereikbaar: {reason}"), false),
        None => (format!("SMTP: {e}"), false),
    }
}

/// A delivery error for the outbox: 5xx and problems with the message itself are final,
/// 4xx and connection problems are retried.
pub fn delivery_error(e: &lettre::transport::smtp::Error, user: &str) -> DeliveryError {
    let (message, _) = describe(e, user);
    if e.is_permanent() || e.is_client() {
        DeliveryError::fatal(message)
    } else {
        DeliveryError::retry(message)
    }
}

/// Everything about an outgoing reply except the transport.
pub struct Outgoing {
    pub message: Message,
    /// Our Message-ID without brackets (`loket-<message_id>@<from domain>`).
    pub message_id: String,
}

/// Builds the reply mail: From the municipality, to the resident (or their Reply-To), subject
/// with the conversation token, threaded with In-Reply-To and References.
pub fn build_reply(
    reply: &Reply,
    from_address: &str,
    from_name: Option<&str>,
) -> Result<Outgoing, DeliveryError> {
    let from: Address = from_address
        .parse()
        .map_err(|_| DeliveryError::fatal(format!("afzenderadres ‘{from_address}’ is ongeldig")))?;
    let name = from_name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .or(Some(reply.from_name.trim()).filter(|n| !n.is_empty()))
        .map(str::to_string);
    let ctx = &reply.context;
    let recipient = ctx
        .get("reply_to")
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&reply.recipient)
        .trim();
    let to: Address = recipient
        .parse()
        .map_err(|_| DeliveryError::fatal(format!("‘{recipient}’ is geen geldig e-mailadres")))?;

    let subject_source = ctx
        .get("subject")
        .and_then(|v| v.as_str())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(&reply.subject);
    let subject = reply_subject(subject_source, reply.conversation_id);

    let in_reply_to = ctx
        .get("message_id")
        .and_then(|v| v.as_str())
        .map(clean_id)
        .filter(|id| valid_id(id));
    let mut references: Vec<String> = Vec::new();
    let mut push = |id: String| {
        if valid_id(&id) && !references.contains(&id) {
            references.push(id);
        }
    };
    if let Some(list) = ctx.get("references").and_then(|v| v.as_array()) {
        for id in list.iter().filter_map(|v| v.as_str()) {
            push(clean_id(id));
        }
    }
    for id in &reply.thread_refs {
        push(clean_id(id));
    }
    if let Some(id) = &in_reply_to {
        // The message answered comes last (RFC 5322 §3.6.4).
        references.retain(|r| r != id);
        references.push(id.clone());
    }
    if references.len() > MAX_REFERENCES {
        let tail = references.split_off(references.len() - (MAX_REFERENCES - 1));
        references.truncate(1);
        references.extend(tail);
    }

    let message_id = format!("loket-{}@{}", reply.message_id, from.domain());
    let mut builder = Message::builder()
        .from(Mailbox::new(name, from))
        .to(Mailbox::new(None, to))
        .subject(subject)
        .message_id(Some(format!("<{message_id}>")))
        .date_now();
    if let Some(id) = &in_reply_to {
        builder = builder.in_reply_to(format!("<{id}>"));
    }
    if !references.is_empty() {
        builder = builder.references(
            references
                .iter()
                .map(|r| format!("<{r}>"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    let message = builder
        .header(ContentType::TEXT_PLAIN)
        .body(reply.text.clone())
        .map_err(|e| DeliveryError::fatal(format!("het bericht kon niet worden opgesteld: {e}")))?;
    Ok(Outgoing {
        message,
        message_id,
    })
}

/// A Message-ID another mail system could know: `local@domain`, no spaces, not synthesised.
fn valid_id(id: &str) -> bool {
    id.contains('@')
        && !id.starts_with('@')
        && !id.ends_with('@')
        && !id.contains(|c: char| c.is_whitespace() || c == '<' || c == '>')
        && !is_synthetic_id(id)
}

pub async fn send(transport: &Transport, out: Outgoing, user: &str) -> Result<(), DeliveryError> {
    transport
        .send(out.message)
        .await
        .map(|_| ())
        .map_err(|e| delivery_error(&e, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(context: serde_json::Value, thread_refs: Vec<&str>) -> Reply {
        Reply {
            conversation_id: 42,
            message_id: 7,
            recipient: "anna@example.nl".into(),
            text: "Dank u wel. De tegel wordt deze week hersteld.\nMet vriendelijke groet".into(),
            subject: "Losse stoeptegel".into(),
            from_name: "Gemeente Utrecht".into(),
            context,
            thread_refs: thread_refs.into_iter().map(String::from).collect(),
            idempotency_key: "k".into(),
            template: None,
        }
    }

    fn formatted(out: &Outgoing) -> String {
        String::from_utf8(out.message.formatted()).unwrap()
    }

    #[test]
    fn threaded_reply_headers() {
        let r = reply(
            serde_json::json!({
                "subject": "RE: Losse stoeptegel [Loket #42]",
                "message_id": "abc@mail.example.nl",
                "references": ["first@mail.example.nl", "loket-3@utrecht.nl", "abc@mail.example.nl"],
            }),
            vec![
                "first@mail.example.nl",
                "loket-3@utrecht.nl",
                "loket-x@synthetisch.loket.invalid",
                "abc@mail.example.nl",
            ],
        );
        let out = build_reply(&r, "loket@utrecht.nl", None).unwrap();
        assert_eq!(out.message_id, "loket-7@utrecht.nl");
        let text = formatted(&out);
        assert!(
            text.contains("From: \"Gemeente Utrecht\" <loket@utrecht.nl>\r\n"),
            "{text}"
        );
        assert!(text.contains("To: anna@example.nl\r\n"), "{text}");
        assert!(
            text.contains("Subject: Re: Losse stoeptegel [Loket #42]\r\n"),
            "{text}"
        );
        assert!(
            text.contains("Message-ID: <loket-7@utrecht.nl>\r\n"),
            "{text}"
        );
        assert!(
            text.contains("In-Reply-To: <abc@mail.example.nl>\r\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "References: <first@mail.example.nl> <loket-3@utrecht.nl>\r\n <abc@mail.example.nl>"
            ) || text.contains(
                "References: <first@mail.example.nl> <loket-3@utrecht.nl> <abc@mail.example.nl>"
            ),
            "{text}"
        );
        assert!(!text.contains("synthetisch"), "{text}");
        assert!(!text.to_ascii_lowercase().contains("auto-submitted"));
        assert!(text.contains("charset=utf-8"), "{text}");
    }

    #[test]
    fn from_name_setting_wins_and_reply_to_is_honoured() {
        let r = reply(
            serde_json::json!({"subject": "", "message_id": null, "references": [], "reply_to": "piet@example.nl"}),
            vec![],
        );
        let out = build_reply(&r, "loket@utrecht.nl", Some("Team Loket")).unwrap();
        let text = formatted(&out);
        assert!(
            text.contains("From: \"Team Loket\" <loket@utrecht.nl>"),
            "{text}"
        );
        assert!(text.contains("To: piet@example.nl"), "{text}");
        assert!(
            text.contains("Subject: Re: Losse stoeptegel [Loket #42]"),
            "{text}"
        );
        assert!(!text.contains("In-Reply-To"), "{text}");
        assert!(!text.contains("References"), "{text}");
    }

    #[test]
    fn bad_recipient_is_final() {
        let mut r = reply(serde_json::json!({}), vec![]);
        r.recipient = "geen adres".into();
        let e = build_reply(&r, "loket@utrecht.nl", None).err().unwrap();
        assert!(!e.retryable);
        assert!(e.message.contains("geen geldig e-mailadres"));
    }

    #[test]
    fn long_reference_chains_are_capped() {
        let refs: Vec<String> = (0..40).map(|i| format!("m{i}@x.nl")).collect();
        let r = reply(
            serde_json::json!({"message_id": "m39@x.nl", "references": refs}),
            vec![],
        );
        let out = build_reply(&r, "loket@utrecht.nl", None).unwrap();
        let text = formatted(&out);
        assert!(text.contains("<m0@x.nl>"));
        assert!(!text.contains("<m1@x.nl>"));
        assert!(text.contains("<m21@x.nl>"));
        assert!(text.contains("<m39@x.nl>"));
        assert!(!text.contains("<m20@x.nl>"));
    }
}
