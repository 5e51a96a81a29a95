//! Messenger (`object: page`) and Instagram (`object: instagram`) webhooks: both put events in
//! `entry[].messaging[]`, each with `sender`, `recipient`, `timestamp` and one of `message`,
//! `delivery` (Messenger `message_deliveries`), `read` (Messenger `message_reads`, Instagram
//! `messaging_seen`) or events we do not use (postbacks, reactions, referrals, opt-ins).

use super::Watermark;
use super::json::Node;
use crate::adapter::{
    Attachment, ChannelError, ChannelKind, DeliveryStatus, Event, InboundMessage, MessageKind,
};
use serde_json::json;

pub(super) fn parse(
    root: &Node<'_>,
    kind: ChannelKind,
    account_id: &str,
) -> Result<Vec<Event>, ChannelError> {
    let mut events = Vec::new();
    for entry in root.req_array("entry")? {
        let id = entry.req_str("id")?;
        if id != account_id {
            tracing::debug!("Meta-webhook voor een andere pagina of account genegeerd");
            continue;
        }
        // `standby` (handover protocol: another app controls the thread) is not ours to answer.
        for ev in entry.opt_array("messaging")? {
            if let Some(msg) = ev.get("message") {
                if let Some(m) = message(&ev, &msg, kind, account_id)? {
                    events.push(Event::Message(m));
                }
            } else if let Some(d) = ev.get("delivery") {
                events.extend(delivery(&ev, &d)?);
            } else if let Some(r) = ev.get("read") {
                events.push(read(&ev, &r)?);
            }
        }
    }
    Ok(events)
}

fn sender(ev: &Node<'_>) -> Result<String, ChannelError> {
    Ok(ev.req("sender")?.req_str("id")?.to_string())
}

fn attachment_label(kind: &str) -> &'static str {
    match kind {
        "image" => "afbeelding",
        "video" => "video",
        "audio" => "geluidsbericht",
        "file" => "bestand",
        "location" => "locatie",
        "share" | "post" | "ig_post" => "gedeeld bericht",
        "story_mention" => "vermelding in een verhaal",
        "reel" | "ig_reel" => "reel",
        "fallback" => "link",
        _ => "bijlage",
    }
}

fn content_type(kind: &str) -> &'static str {
    match kind {
        "image" => "image/*",
        "video" | "reel" | "ig_reel" => "video/*",
        "audio" => "audio/*",
        _ => "application/octet-stream",
    }
}

fn message(
    ev: &Node<'_>,
    msg: &Node<'_>,
    kind: ChannelKind,
    account_id: &str,
) -> Result<Option<InboundMessage>, ChannelError> {
    // Our own sent messages come back as echoes; deleted messages carry nothing to show.
    if msg.flag("is_echo") || msg.flag("is_deleted") {
        return Ok(None);
    }
    let from = sender(ev)?;
    if from == account_id {
        return Ok(None);
    }
    let mid = msg.req_str("mid")?;
    let sent_at_ms = ev.req("timestamp")?.i64()?;
    let mut lat = None;
    let mut lon = None;
    let mut attachments = Vec::new();
    let mut placeholders = Vec::new();

    for a in msg.opt_array("attachments")? {
        let a_kind = a.req_str("type")?;
        let payload = a.get("payload");
        let label = attachment_label(a_kind);
        if a_kind == "location" {
            if let Some(c) = payload.as_ref().and_then(|p| p.get("coordinates")) {
                lat = Some(c.req("lat")?.f64()?);
                lon = Some(c.req("long")?.f64()?);
            }
            placeholders.push(format!("[{label} gedeeld]"));
            continue;
        }
        let is_sticker = payload
            .as_ref()
            .is_some_and(|p| p.get("sticker_id").is_some());
        let url = payload.as_ref().and_then(|p| p.lenient_str("url"));
        if let Some(url) = url {
            attachments.push(Attachment {
                filename: if is_sticker {
                    "sticker".to_string()
                } else {
                    label.replace(' ', "-")
                },
                content_type: content_type(a_kind).to_string(),
                data: None,
                reference: Some(url.to_string()),
            });
        }
        placeholders.push(if is_sticker {
            "[sticker ontvangen]".to_string()
        } else if a_kind == "fallback" {
            match a.lenient_str("title") {
                Some(t) if !t.is_empty() => format!("[link ontvangen: {t}]"),
                _ => "[link ontvangen]".to_string(),
            }
        } else {
            format!("[{label} ontvangen]")
        });
    }

    let text = match msg.opt_str("text")? {
        Some(t) if !t.trim().is_empty() => t.to_string(),
        _ if msg.flag("is_unsupported") => "[bericht van een type dat Meta niet doorgeeft]".into(),
        _ if !placeholders.is_empty() => placeholders.join(" "),
        _ => "[leeg bericht ontvangen]".to_string(),
    };

    let mut thread_refs = Vec::new();
    if let Some(r) = msg.get("reply_to")
        && let Some(replied) = r.lenient_str("mid")
    {
        thread_refs.push(replied.to_string());
    }

    let account_key = match kind {
        ChannelKind::Instagram => "ig_account_id",
        _ => "page_id",
    };
    Ok(Some(InboundMessage {
        external_id: mid.to_string(),
        // Messenger and Instagram webhooks carry no name; the server may look it up later.
        author_name: from.clone(),
        author_id: from.clone(),
        text,
        sent_at_ms,
        lat,
        lon,
        attachments,
        kind: MessageKind::Normal,
        thread_refs,
        conversation_hint: None,
        for_inbox: true,
        reply_context: json!({ account_key: account_id, "to": from }),
    }))
}

/// `message_deliveries`: a Delivered status per listed mid; without mids (older clients) a
/// watermark covering everything sent to this person before it.
fn delivery(ev: &Node<'_>, d: &Node<'_>) -> Result<Vec<Event>, ChannelError> {
    let watermark = d.req("watermark")?.i64()?;
    let at_ms = match ev.get("timestamp") {
        Some(t) => t.i64()?,
        None => watermark,
    };
    let mids = d.opt_array("mids")?;
    if mids.is_empty() {
        let w = Watermark {
            recipient: sender(ev)?,
            up_to_ms: watermark,
        };
        return Ok(vec![Event::Status {
            external_id: w.to_external_id(),
            status: DeliveryStatus::Delivered,
            at_ms,
            error: None,
        }]);
    }
    mids.iter()
        .map(|m| {
            Ok(Event::Status {
                external_id: m.str()?.to_string(),
                status: DeliveryStatus::Delivered,
                at_ms,
                error: None,
            })
        })
        .collect()
}

/// `message_reads` (Messenger: a watermark) or `messaging_seen` (Instagram: the mid of the
/// last message seen, sometimes a watermark).
fn read(ev: &Node<'_>, r: &Node<'_>) -> Result<Event, ChannelError> {
    let ts = ev.get("timestamp").map(|t| t.i64()).transpose()?;
    if let Some(mid) = r.opt_str("mid")? {
        return Ok(Event::Status {
            external_id: mid.to_string(),
            status: DeliveryStatus::Read,
            at_ms: ts.unwrap_or_else(super::now_ms),
            error: None,
        });
    }
    let watermark = r.req("watermark")?.i64()?;
    let w = Watermark {
        recipient: sender(ev)?,
        up_to_ms: watermark,
    };
    Ok(Event::Status {
        external_id: w.to_external_id(),
        status: DeliveryStatus::Read,
        at_ms: ts.unwrap_or(watermark),
        error: None,
    })
}
