//! WhatsApp Cloud API webhooks (`object: whatsapp_business_account`, field `messages`):
//! `entry[].changes[].value.{metadata, contacts[], messages[], statuses[], errors[]}`.

use super::json::Node;
use crate::adapter::{
    Attachment, ChannelError, DeliveryStatus, Event, InboundMessage, MessageKind,
};
use serde_json::json;
use std::collections::HashMap;

pub(super) fn parse(root: &Node<'_>, phone_number_id: &str) -> Result<Vec<Event>, ChannelError> {
    let mut events = Vec::new();
    for entry in root.req_array("entry")? {
        for change in entry.req_array("changes")? {
            // The same subscription also carries account, template and quality updates.
            if let Some(field) = change.opt_str("field")?
                && field != "messages"
            {
                continue;
            }
            let value = change.req("value")?;
            let metadata = value.req("metadata")?;
            let pnid = metadata.req_str("phone_number_id")?;
            if pnid != phone_number_id {
                tracing::debug!("WhatsApp-webhook voor een ander nummer genegeerd");
                continue;
            }
            let mut names = HashMap::new();
            for contact in value.opt_array("contacts")? {
                if let (Some(wa_id), Some(name)) = (
                    contact.lenient_str("wa_id"),
                    contact.get("profile").and_then(|p| p.lenient_str("name")),
                ) {
                    names.insert(wa_id.to_string(), name.to_string());
                }
            }
            for m in value.opt_array("messages")? {
                events.push(Event::Message(message(&m, pnid, &names)?));
            }
            for s in value.opt_array("statuses")? {
                if let Some(ev) = status(&s)? {
                    events.push(ev);
                }
            }
            for e in value.opt_array("errors")? {
                tracing::warn!(
                    code = e.get("code").and_then(|c| c.i64().ok()),
                    title = e.lenient_str("title"),
                    "WhatsApp meldt een fout buiten een bericht om"
                );
            }
        }
    }
    Ok(events)
}

/// Seconds since the epoch as WhatsApp sends them (a numeric string) to milliseconds.
fn timestamp_ms(n: &Node<'_>) -> Result<i64, ChannelError> {
    Ok(n.req("timestamp")?.i64()?.saturating_mul(1000))
}

fn media_label(kind: &str) -> &'static str {
    match kind {
        "image" => "afbeelding",
        "video" => "video",
        "audio" => "geluidsbericht",
        "document" => "document",
        "sticker" => "sticker",
        _ => "bestand",
    }
}

fn extension(mime: &str) -> &str {
    match mime.split(';').next().unwrap_or("").trim() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "audio/ogg" => "ogg",
        "audio/mpeg" => "mp3",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

fn message(
    m: &Node<'_>,
    phone_number_id: &str,
    names: &HashMap<String, String>,
) -> Result<InboundMessage, ChannelError> {
    let from = m.req_str("from")?;
    let id = m.req_str("id")?;
    let sent_at_ms = timestamp_ms(m)?;
    let kind = m.req_str("type")?;
    let mut lat = None;
    let mut lon = None;
    let mut attachments = Vec::new();
    let mut message_kind = MessageKind::Normal;
    let mut thread_refs = Vec::new();

    let text = match kind {
        "text" => m.req("text")?.req_str("body")?.to_string(),
        "image" | "video" | "audio" | "document" | "sticker" => {
            let media = m.req(kind)?;
            let media_id = media.req_str("id")?;
            let mime = media
                .opt_str("mime_type")?
                .unwrap_or("application/octet-stream");
            let label = media_label(kind);
            let filename = match media.opt_str("filename")? {
                Some(f) if !f.trim().is_empty() => f.to_string(),
                _ => format!("{label}.{}", extension(mime)),
            };
            attachments.push(Attachment {
                filename,
                content_type: mime.to_string(),
                data: None,
                reference: Some(media_id.to_string()),
            });
            match media.opt_str("caption")? {
                Some(c) if !c.trim().is_empty() => c.to_string(),
                _ => format!("[{label} ontvangen]"),
            }
        }
        "location" => {
            let loc = m.req("location")?;
            lat = Some(loc.req("latitude")?.f64()?);
            lon = Some(loc.req("longitude")?.f64()?);
            let parts: Vec<&str> = [loc.opt_str("name")?, loc.opt_str("address")?]
                .into_iter()
                .flatten()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            if parts.is_empty() {
                "[locatie gedeeld]".to_string()
            } else {
                format!("[locatie gedeeld] {}", parts.join(", "))
            }
        }
        "button" => m.req("button")?.req_str("text")?.to_string(),
        "interactive" => {
            let i = m.req("interactive")?;
            i.get("button_reply")
                .or_else(|| i.get("list_reply"))
                .and_then(|r| r.lenient_str("title"))
                .map(str::to_string)
                .unwrap_or_else(|| "[keuze uit een menu ontvangen]".to_string())
        }
        "reaction" => {
            let r = m.req("reaction")?;
            if let Some(about) = r.lenient_str("message_id") {
                thread_refs.push(about.to_string());
            }
            match r.lenient_str("emoji") {
                Some(e) if !e.is_empty() => format!("[reactie ontvangen: {e}]"),
                _ => "[reactie ingetrokken]".to_string(),
            }
        }
        "contacts" => "[contactgegevens ontvangen]".to_string(),
        "system" => {
            // E.g. "User A changed from 1 to 2": not the resident's words.
            message_kind = MessageKind::Automatic;
            m.get("system")
                .and_then(|s| s.lenient_str("body"))
                .unwrap_or("[systeemmelding van WhatsApp]")
                .to_string()
        }
        "unsupported" => "[bericht van een type dat WhatsApp niet doorgeeft]".to_string(),
        other => format!("[bericht van het type ‘{other}’ ontvangen]"),
    };

    if let Some(ctx) = m.get("context")
        && let Some(replied) = ctx.lenient_str("id")
    {
        thread_refs.push(replied.to_string());
    }

    Ok(InboundMessage {
        external_id: id.to_string(),
        author_id: from.to_string(),
        author_name: names.get(from).cloned().unwrap_or_else(|| from.to_string()),
        text,
        sent_at_ms,
        lat,
        lon,
        attachments,
        kind: message_kind,
        thread_refs,
        conversation_hint: None,
        for_inbox: true,
        reply_context: json!({ "phone_number_id": phone_number_id, "to": from }),
    })
}

fn status(s: &Node<'_>) -> Result<Option<Event>, ChannelError> {
    let id = s.req_str("id")?;
    let status = match s.req_str("status")? {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" => DeliveryStatus::Failed,
        // "deleted", "warning" and future states say nothing about our delivery.
        _ => return Ok(None),
    };
    let at_ms = timestamp_ms(s)?;
    let error = if status == DeliveryStatus::Failed {
        let described: Vec<String> = s
            .opt_array("errors")?
            .iter()
            .map(|e| {
                let code = e.get("code").and_then(|c| c.i64().ok());
                let title = e
                    .lenient_str("title")
                    .or_else(|| e.lenient_str("message"))
                    .unwrap_or("onbekende fout");
                let details = e.get("error_data").and_then(|d| d.lenient_str("details"));
                let mut out = match code {
                    Some(131047) => "het 24-uursvenster was gesloten (alleen een \
                                     goedgekeurd sjabloon kan nog worden verzonden)"
                        .to_string(),
                    Some(c) => format!("code {c}: {title}"),
                    None => title.to_string(),
                };
                if code != Some(131047)
                    && let Some(d) = details
                {
                    out.push_str(" — ");
                    out.push_str(d);
                }
                out
            })
            .collect();
        Some(if described.is_empty() {
            "WhatsApp meldt dat het bericht niet is afgeleverd".to_string()
        } else {
            format!("WhatsApp meldt: {}", described.join("; "))
        })
    } else {
        None
    };
    Ok(Some(Event::Status {
        external_id: id.to_string(),
        status,
        at_ms,
        error,
    }))
}
