//! Reading Graph API answers: the success shapes of the send endpoints and the documented error
//! body `{"error": {"message", "type", "code", "error_subcode", "error_data": {"details"},
//! "is_transient", "fbtrace_id"}}`, mapped onto retry-or-give-up with Dutch explanations.

use crate::DeliveryError;
use crate::adapter::{ChannelError, ChannelKind};
use serde_json::Value;

/// The parts of a Graph error that decide what to do.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct GraphError {
    pub status: u16,
    pub code: Option<i64>,
    pub subcode: Option<i64>,
    pub message: String,
    pub transient: bool,
}

impl GraphError {
    pub fn parse(status: u16, body: &[u8]) -> Self {
        let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let e = v.get("error").unwrap_or(&Value::Null);
        let num = |k: &str| {
            e.get(k).and_then(|c| {
                c.as_i64()
                    .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
            })
        };
        let details = e
            .get("error_data")
            .and_then(|d| d.get("details"))
            .and_then(Value::as_str);
        let message = details
            .or_else(|| e.get("message").and_then(Value::as_str))
            .unwrap_or("")
            .to_string();
        GraphError {
            status,
            code: num("code"),
            subcode: num("error_subcode"),
            message: shorten(&message),
            transient: e
                .get("is_transient")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }

    pub fn is_auth(&self) -> bool {
        self.status == 401 || matches!(self.code, Some(190 | 102))
    }

    /// WhatsApp 131047; Messenger/Instagram code 10 with the "outside of allowed window"
    /// subcodes (2018278 Messenger, 2534022 Instagram).
    pub fn is_window_closed(&self) -> bool {
        self.code == Some(131047)
            || (self.code == Some(10) && matches!(self.subcode, Some(2018278 | 2534022)))
    }

    /// Throttling: 4 (app), 17 (user), 32 (page), 613 (calls), 80006/80007 (Messenger/
    /// WhatsApp business use case), 130429 (Cloud API throughput), 131056 (pair rate limit).
    pub fn is_rate_limit(&self) -> bool {
        self.status == 429
            || matches!(
                self.code,
                Some(4 | 17 | 32 | 613 | 80006 | 80007 | 130429 | 131056)
            )
    }

    /// Meta's side: 5xx, `is_transient`, 1/2 (unknown/service error), 131000/131016 (Cloud
    /// API "something went wrong" / "service unavailable").
    pub fn is_temporary(&self) -> bool {
        self.status >= 500 || self.transient || matches!(self.code, Some(1 | 2 | 131000 | 131016))
    }

    fn is_permission(&self) -> bool {
        matches!(self.code, Some(3 | 10 | 200 | 230 | 299))
    }

    fn code_text(&self) -> String {
        match self.code {
            Some(c) => format!("code {c}"),
            None => "zonder foutcode".to_string(),
        }
    }

    fn detail(&self) -> String {
        if self.message.is_empty() {
            String::new()
        } else {
            format!(": {}", self.message)
        }
    }
}

/// Meta's own messages are shown for context only; keep them short.
fn shorten(s: &str) -> String {
    const MAX: usize = 300;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

pub(super) const AUTH_MESSAGE: &str = "Meta weigert het toegangstoken (verlopen, ingetrokken of \
     onjuist). Vul bij de kanaalinstellingen een nieuw token in.";

pub(super) const WINDOW_WHATSAPP: &str = "Het 24-uursvenster van WhatsApp is gesloten: de \
     inwoner stuurde meer dan 24 uur geleden het laatste bericht. Vrije tekst mag WhatsApp dan \
     niet meer afleveren; alleen een door Meta goedgekeurd sjabloon kan de inwoner nog bereiken.";

pub(super) const WINDOW_PAGE: &str = "Het 24-uursvenster is gesloten: de inwoner stuurde meer \
     dan 24 uur geleden het laatste bericht. Messenger en Instagram staan dan geen antwoord meer \
     toe; het gesprek kan pas verder als de inwoner opnieuw een bericht stuurt.";

/// A failed send, as the outbox should treat it.
pub(super) fn delivery_error(kind: ChannelKind, e: &GraphError) -> DeliveryError {
    if e.is_auth() {
        DeliveryError::fatal(AUTH_MESSAGE)
    } else if e.is_window_closed() {
        DeliveryError::fatal(match kind {
            ChannelKind::Whatsapp => WINDOW_WHATSAPP,
            _ => WINDOW_PAGE,
        })
    } else if e.is_rate_limit() {
        DeliveryError::retry(format!(
            "Meta begrenst het aantal berichten ({}); het antwoord wordt later opnieuw verzonden.",
            e.code_text()
        ))
    } else if e.is_temporary() {
        DeliveryError::retry(format!(
            "Meta is tijdelijk niet beschikbaar (HTTP {}, {}); het antwoord wordt later opnieuw \
             verzonden.",
            e.status,
            e.code_text()
        ))
    } else if e.is_permission() {
        DeliveryError::fatal(format!(
            "Meta geeft dit token geen toestemming om dit bericht te sturen ({}){}",
            e.code_text(),
            e.detail()
        ))
    } else {
        DeliveryError::fatal(format!(
            "Meta weigert het bericht (HTTP {}, {}){}",
            e.status,
            e.code_text(),
            e.detail()
        ))
    }
}

/// A failed connection test, for the admin's health view.
pub(super) fn channel_error(e: &GraphError, account_id: &str) -> ChannelError {
    if e.is_auth() {
        ChannelError::auth(AUTH_MESSAGE)
    } else if e.is_rate_limit() || e.is_temporary() {
        ChannelError::unreachable(format!(
            "Meta is tijdelijk niet beschikbaar (HTTP {}, {})",
            e.status,
            e.code_text()
        ))
    } else if e.code == Some(100) {
        ChannelError::config(format!(
            "Meta kent ‘{account_id}’ niet, of dit token heeft er geen toegang toe{}",
            e.detail()
        ))
    } else if e.is_permission() {
        ChannelError::auth(format!(
            "Meta geeft dit token geen toegang ({}){}",
            e.code_text(),
            e.detail()
        ))
    } else {
        ChannelError::config(format!(
            "Meta weigert de aanvraag (HTTP {}, {}){}",
            e.status,
            e.code_text(),
            e.detail()
        ))
    }
}

/// Sends a Graph request and reads the whole answer: HTTP status and body, or what went wrong
/// on the way ([`transport_error`]).
pub(super) async fn exchange(request: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), String> {
    let response = request.send().await.map_err(|e| transport_error(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| transport_error(&e))?;
    Ok((status, body.to_vec()))
}

/// A failure on the way to Meta. reqwest errors name the URL; ours carry no token, but keep the
/// habit of not showing them.
pub(super) fn transport_error(e: &reqwest::Error) -> String {
    format!("Meta is niet bereikbaar ({})", crate::http::failure(e))
}

/// The id of a sent message: `messages[0].id` (WhatsApp) or `message_id` (Messenger,
/// Instagram).
pub(super) fn sent_id(kind: ChannelKind, body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let id = match kind {
        ChannelKind::Whatsapp => v.get("messages")?.get(0)?.get("id")?,
        _ => v.get("message_id")?,
    };
    id.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, body: &str) -> DeliveryError {
        delivery_error(
            ChannelKind::Whatsapp,
            &GraphError::parse(status, body.as_bytes()),
        )
    }

    #[test]
    fn maps_documented_errors() {
        let auth = err(
            401,
            r#"{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190,"fbtrace_id":"A"}}"#,
        );
        assert!(!auth.retryable);
        assert!(auth.message.contains("toegangstoken"));
        let auth400 = err(400, r#"{"error":{"code":190,"message":"expired"}}"#);
        assert!(!auth400.retryable && auth400.message.contains("toegangstoken"));

        let window = err(
            400,
            r#"{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"B"}}"#,
        );
        assert!(!window.retryable);
        assert!(window.message.contains("sjabloon"), "{}", window.message);

        for code in [4, 80007, 130429] {
            let e = err(
                400,
                &format!(r#"{{"error":{{"code":{code},"message":"limit"}}}}"#),
            );
            assert!(e.retryable, "{code}");
        }
        assert!(err(500, "").retryable);
        assert!(err(503, "<html>").retryable);
        assert!(err(429, "{}").retryable);
        let other = err(
            400,
            r#"{"error":{"code":100,"message":"Invalid parameter"}}"#,
        );
        assert!(!other.retryable);
        assert!(other.message.contains("code 100"));
        assert!(other.message.contains("Invalid parameter"));
    }

    #[test]
    fn page_window_is_explained_without_templates() {
        let e = delivery_error(
            ChannelKind::Messenger,
            &GraphError::parse(
                400,
                br#"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278}}"#,
            ),
        );
        assert!(!e.retryable);
        assert!(e.message.contains("24-uursvenster"));
    }

    #[test]
    fn reads_sent_ids() {
        let wa = br#"{"messaging_product":"whatsapp","contacts":[{"input":"+16505551234","wa_id":"16505551234"}],"messages":[{"id":"wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA"}]}"#;
        assert_eq!(
            sent_id(ChannelKind::Whatsapp, wa).as_deref(),
            Some("wamid.HBgLMTY0NjcwNDM1OTUVAgARGBI1RjQyNUE3NEYxMzAzMzQ5MkEA")
        );
        let page = br#"{"recipient_id":"1254477777772919","message_id":"AG5Hz2U..."}"#;
        assert_eq!(
            sent_id(ChannelKind::Messenger, page).as_deref(),
            Some("AG5Hz2U...")
        );
        assert_eq!(sent_id(ChannelKind::Messenger, b"nope"), None);
    }
}
