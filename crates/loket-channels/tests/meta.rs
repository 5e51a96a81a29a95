//! Black-box tests of the Meta adapter: webhooks against Meta's documented payloads
//! (`tests/fixtures/meta`, sources in its README) and sending against the Graph API stand-in.

use loket_channels::Adapter;
use loket_channels::adapter::{
    AccountConfig, ChannelErrorKind, ChannelKind, DeliveryStatus, Event, InboundMessage,
    MessageKind, Reply, TemplateRef, WebhookOutcome, WebhookRequest,
};
use loket_channels::meta::{self, MetaAdapter, Watermark, window_open};
use loket_channels::standin::meta::{self as standin, MetaStandin, MetaStandinHandle};
use serde_json::{Value, json};

const APP_SECRET: &str = "app-geheim-van-meta";
const VERIFY_TOKEN: &str = "zelfgekozen-verificatie";

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/meta/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn config(kind: ChannelKind, base: Option<&str>, token: &str) -> AccountConfig {
    let mut c = AccountConfig::default();
    match kind {
        ChannelKind::Whatsapp => {
            c.settings
                .insert("phone_number_id".into(), standin::PHONE_NUMBER_ID.into());
            c.settings.insert("waba_id".into(), standin::WABA_ID.into());
        }
        ChannelKind::Messenger => {
            c.settings.insert("page_id".into(), standin::PAGE_ID.into());
        }
        _ => {
            c.settings
                .insert("ig_account_id".into(), standin::IG_ACCOUNT_ID.into());
        }
    }
    if let Some(b) = base {
        c.settings.insert("graph_base_url".into(), b.into());
    }
    c.secrets.insert("access_token".into(), token.into());
    c.secrets.insert("app_secret".into(), APP_SECRET.into());
    c.secrets.insert("verify_token".into(), VERIFY_TOKEN.into());
    c
}

fn adapter(kind: ChannelKind) -> MetaAdapter {
    MetaAdapter::new(kind, &config(kind, None, standin::TOKEN)).unwrap()
}

fn post(body: &str, secret: &str) -> WebhookRequest {
    WebhookRequest {
        method: "POST".into(),
        query: vec![],
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "x-hub-signature-256".into(),
                standin::sign(secret, body.as_bytes()),
            ),
        ],
        body: body.as_bytes().to_vec(),
    }
}

fn events(kind: ChannelKind, body: &str) -> Vec<Event> {
    match adapter(kind).webhook(&post(body, APP_SECRET)).unwrap() {
        WebhookOutcome::Events(e) => e,
        other => panic!("verwacht events, kreeg {other:?}"),
    }
}

fn one_message(kind: ChannelKind, body: &str) -> InboundMessage {
    let evs = events(kind, body);
    assert_eq!(evs.len(), 1, "{evs:?}");
    match evs.into_iter().next().unwrap() {
        Event::Message(m) => m,
        other => panic!("verwacht bericht, kreeg {other:?}"),
    }
}

fn statuses(kind: ChannelKind, body: &str) -> Vec<(String, DeliveryStatus, i64, Option<String>)> {
    events(kind, body)
        .into_iter()
        .map(|e| match e {
            Event::Status {
                external_id,
                status,
                at_ms,
                error,
            } => (external_id, status, at_ms, error),
            other => panic!("verwacht status, kreeg {other:?}"),
        })
        .collect()
}

fn webhook_err(kind: ChannelKind, req: &WebhookRequest) -> loket_channels::adapter::ChannelError {
    adapter(kind).webhook(req).unwrap_err()
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[test]
fn fields_are_complete_and_secrets_marked() {
    let keys = |f: &[loket_channels::adapter::Field]| {
        f.iter().map(|f| (f.key, f.secret)).collect::<Vec<_>>()
    };
    let wa = keys(meta::WHATSAPP_FIELDS);
    for (k, secret) in [
        ("graph_base_url", false),
        ("api_version", false),
        ("phone_number_id", false),
        ("waba_id", false),
        ("access_token", true),
        ("app_secret", true),
        ("verify_token", true),
        ("template_name", false),
        ("template_language", false),
    ] {
        assert!(wa.contains(&(k, secret)), "{k}");
    }
    let page = keys(meta::PAGE_FIELDS);
    for (k, secret) in [
        ("graph_base_url", false),
        ("api_version", false),
        ("page_id", false),
        ("ig_account_id", false),
        ("access_token", true),
        ("app_secret", true),
        ("verify_token", true),
    ] {
        assert!(page.contains(&(k, secret)), "{k}");
    }
    for f in meta::WHATSAPP_FIELDS.iter().chain(meta::PAGE_FIELDS) {
        assert!(!f.label.is_empty() && !f.help.is_empty(), "{}", f.key);
    }
    assert_eq!(
        loket_channels::adapter::fields(ChannelKind::Instagram).len(),
        meta::PAGE_FIELDS.len()
    );
}

#[test]
fn missing_settings_are_config_errors() {
    let mut c = config(ChannelKind::Whatsapp, None, "t");
    c.settings.remove("phone_number_id");
    let e = MetaAdapter::new(ChannelKind::Whatsapp, &c).unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Config);
    assert!(e.message.contains("phone_number_id"));

    // Instagram needs its own account id, not (only) the page id.
    let mut c = config(ChannelKind::Messenger, None, "t");
    let e = MetaAdapter::new(ChannelKind::Instagram, &c).unwrap_err();
    assert!(e.message.contains("ig_account_id"), "{}", e.message);

    c.secrets.remove("app_secret");
    let e = MetaAdapter::new(ChannelKind::Messenger, &c).unwrap_err();
    assert!(e.message.contains("app_secret"));

    let c = config(ChannelKind::Whatsapp, Some("http://graph.example.org"), "t");
    let e = MetaAdapter::new(ChannelKind::Whatsapp, &c).unwrap_err();
    assert!(e.message.contains("https://"));

    assert!(MetaAdapter::new(ChannelKind::Email, &c).is_err());
    // Built through the generic entry point too.
    let c = config(ChannelKind::Messenger, None, "t");
    let a = loket_channels::adapter::build(ChannelKind::Messenger, &c).unwrap();
    assert_eq!(a.kind(), ChannelKind::Messenger);
}

#[test]
fn template_from_config() {
    let mut c = config(ChannelKind::Whatsapp, None, "t");
    assert_eq!(
        MetaAdapter::new(ChannelKind::Whatsapp, &c)
            .unwrap()
            .template(),
        None
    );
    c.settings
        .insert("template_name".into(), "antwoord_klaar".into());
    let a = MetaAdapter::new(ChannelKind::Whatsapp, &c).unwrap();
    assert_eq!(
        a.template(),
        Some(TemplateRef {
            name: "antwoord_klaar".into(),
            language: "nl".into()
        })
    );
}

#[test]
fn window_open_at_the_edges() {
    let last = 1_749_416_383_000;
    let day = 24 * 3600 * 1000;
    assert!(window_open(ChannelKind::Whatsapp, last, last + day - 1));
    assert!(!window_open(ChannelKind::Whatsapp, last, last + day));
    assert!(!window_open(ChannelKind::Messenger, last, last + day));
    assert!(window_open(ChannelKind::Instagram, last, last));
    assert!(window_open(ChannelKind::Email, last, last + 10 * day));
}

// ---------------------------------------------------------------------------------------------
// Webhook: verification handshake and signatures

#[test]
fn handshake_answers_the_challenge() {
    let a = adapter(ChannelKind::Whatsapp);
    let out = a
        .webhook(&standin::handshake_request(VERIFY_TOKEN, "1158201444"))
        .unwrap();
    assert_eq!(out, WebhookOutcome::Challenge("1158201444".into()));
}

#[test]
fn handshake_with_wrong_token_is_refused() {
    let e = webhook_err(
        ChannelKind::Messenger,
        &standin::handshake_request("geraden", "1158201444"),
    );
    assert_eq!(e.kind, ChannelErrorKind::Auth);
    assert!(!e.message.contains(VERIFY_TOKEN));

    let mut req = standin::handshake_request(VERIFY_TOKEN, "1");
    req.query.retain(|(k, _)| k != "hub.verify_token");
    assert_eq!(
        webhook_err(ChannelKind::Messenger, &req).kind,
        ChannelErrorKind::Auth
    );

    let mut req = standin::handshake_request(VERIFY_TOKEN, "1");
    req.query[0].1 = "unsubscribe".into();
    assert_eq!(
        webhook_err(ChannelKind::Messenger, &req).kind,
        ChannelErrorKind::Malformed
    );
}

#[test]
fn missing_or_wrong_signature_is_refused() {
    let body = fixture("whatsapp_text.json");
    let e = webhook_err(ChannelKind::Whatsapp, &post(&body, "ander-geheim"));
    assert_eq!(e.kind, ChannelErrorKind::BadSignature);
    assert!(!e.message.contains(APP_SECRET));

    let mut req = post(&body, APP_SECRET);
    req.headers.retain(|(k, _)| k != "x-hub-signature-256");
    assert_eq!(
        webhook_err(ChannelKind::Whatsapp, &req).kind,
        ChannelErrorKind::BadSignature
    );

    // Signed, then tampered with.
    let mut req = post(&body, APP_SECRET);
    req.body = body
        .replace("another color", "een andere kleur")
        .into_bytes();
    assert_eq!(
        webhook_err(ChannelKind::Whatsapp, &req).kind,
        ChannelErrorKind::BadSignature
    );

    // Not hex, or without the sha256= prefix.
    for bad in ["sha256=zz", "abc", ""] {
        let mut req = post(&body, APP_SECRET);
        req.headers[1].1 = bad.into();
        assert_eq!(
            webhook_err(ChannelKind::Whatsapp, &req).kind,
            ChannelErrorKind::BadSignature,
            "{bad}"
        );
    }

    // The signature is checked before the body is read: garbage unsigned is BadSignature.
    let e = webhook_err(ChannelKind::Whatsapp, &post("{niet json", "ander-geheim"));
    assert_eq!(e.kind, ChannelErrorKind::BadSignature);
}

#[test]
fn signature_header_name_is_case_insensitive() {
    let body = fixture("whatsapp_text.json");
    let mut req = post(&body, APP_SECRET);
    req.headers[1].0 = "X-Hub-Signature-256".into();
    assert!(adapter(ChannelKind::Whatsapp).webhook(&req).is_ok());
}

#[test]
fn signed_but_malformed_bodies_are_refused_precisely() {
    let cases: &[(&str, &str)] = &[
        ("{niet json", "geen geldige JSON"),
        ("[]", "de body is geen JSON-object"),
        (r#"{"entry": []}"#, "‘object’ ontbreekt"),
        (
            r#"{"object": "whatsapp_business_account"}"#,
            "‘entry’ ontbreekt",
        ),
        (
            r#"{"object": "whatsapp_business_account", "entry": {}}"#,
            "‘entry’ is geen lijst",
        ),
        (
            r#"{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "106540352242922"}, "messages": [{"from": "31612345678", "timestamp": "1749416383", "type": "text", "text": {"body": "hoi"}}]}}]}]}"#,
            "‘entry[0].changes[0].value.messages[0].id’ ontbreekt",
        ),
        (
            r#"{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "106540352242922"}, "messages": [{"from": "31612345678", "id": "wamid.X", "timestamp": "gisteren", "type": "text", "text": {"body": "hoi"}}]}}]}]}"#,
            "‘entry[0].changes[0].value.messages[0].timestamp’ is geen geheel getal",
        ),
        (
            r#"{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "106540352242922"}, "messages": [{"from": "31612345678", "id": "wamid.X", "timestamp": "1", "type": "location", "location": {"latitude": "noord"}}]}}]}]}"#,
            "‘entry[0].changes[0].value.messages[0].location.latitude’ is geen getal",
        ),
        (
            r#"{"object": "page", "entry": []}"#,
            "object ‘page’ hoort niet bij dit WhatsApp-kanaal",
        ),
    ];
    for (body, expected) in cases {
        let e = webhook_err(ChannelKind::Whatsapp, &post(body, APP_SECRET));
        assert_eq!(e.kind, ChannelErrorKind::Malformed, "{body}");
        assert!(e.message.contains(expected), "{body}\n→ {}", e.message);
    }

    let e = webhook_err(
        ChannelKind::Messenger,
        &post(
            r#"{"object": "page", "entry": [{"id": "682498302938465", "messaging": [{"sender": {"id": "1"}, "timestamp": 1, "message": {"text": "zonder mid"}}]}]}"#,
            APP_SECRET,
        ),
    );
    assert_eq!(e.kind, ChannelErrorKind::Malformed);
    assert!(
        e.message
            .contains("‘entry[0].messaging[0].message.mid’ ontbreekt")
    );
}

// ---------------------------------------------------------------------------------------------
// Webhook: WhatsApp payloads

#[test]
fn whatsapp_text_message() {
    let m = one_message(ChannelKind::Whatsapp, &fixture("whatsapp_text.json"));
    assert_eq!(
        m.external_id,
        "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    );
    assert_eq!(m.author_id, "16505551234");
    assert_eq!(m.author_name, "Sheena Nelson");
    assert_eq!(m.text, "Does it come in another color?");
    assert_eq!(m.sent_at_ms, 1_749_416_383_000);
    assert_eq!((m.lat, m.lon), (None, None));
    assert!(m.attachments.is_empty());
    assert_eq!(m.kind, MessageKind::Normal);
    assert!(m.for_inbox);
    assert_eq!(
        m.reply_context,
        json!({"phone_number_id": "106540352242922", "to": "16505551234"})
    );
}

#[test]
fn whatsapp_image_message() {
    let m = one_message(ChannelKind::Whatsapp, &fixture("whatsapp_image.json"));
    assert_eq!(m.text, "Losliggende stoeptegel bij de bushalte");
    assert_eq!(m.attachments.len(), 1);
    let a = &m.attachments[0];
    assert_eq!(a.reference.as_deref(), Some("2754859441498128"));
    assert_eq!(a.content_type, "image/jpeg");
    assert_eq!(a.filename, "afbeelding.jpg");
    assert!(a.data.is_none());
    assert_eq!(m.sent_at_ms, 1_749_416_400_000);
}

#[test]
fn whatsapp_location_message() {
    let m = one_message(ChannelKind::Whatsapp, &fixture("whatsapp_location.json"));
    assert_eq!(m.lat, Some(37.44221496582));
    assert_eq!(m.lon, Some(-122.16139221191));
    assert!(m.text.contains("Philz Coffee"), "{}", m.text);
    assert!(m.text.contains("101 Forest Ave, Palo Alto, CA 94301"));
}

#[test]
fn whatsapp_other_types_get_a_dutch_placeholder() {
    let m = one_message(ChannelKind::Whatsapp, &fixture("whatsapp_sticker.json"));
    assert_eq!(m.text, "[sticker ontvangen]");
    assert_eq!(
        m.attachments[0].reference.as_deref(),
        Some("1228429211609549")
    );
    assert_eq!(m.attachments[0].content_type, "image/webp");

    let mut v: Value = serde_json::from_str(&fixture("whatsapp_text.json")).unwrap();
    let msg = &mut v["entry"][0]["changes"][0]["value"]["messages"][0];
    msg["type"] = json!("order");
    msg.as_object_mut().unwrap().remove("text");
    let m = one_message(ChannelKind::Whatsapp, &v.to_string());
    assert_eq!(m.text, "[bericht van het type ‘order’ ontvangen]");
}

#[test]
fn whatsapp_statuses() {
    let wamid = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3MTE5MjVBOTE3MDk5QUVFM0YA";
    for (file, status, ts) in [
        (
            "whatsapp_status_sent.json",
            DeliveryStatus::Sent,
            1_750_263_773_000,
        ),
        (
            "whatsapp_status_delivered.json",
            DeliveryStatus::Delivered,
            1_750_263_773_000,
        ),
        (
            "whatsapp_status_read.json",
            DeliveryStatus::Read,
            1_750_263_800_000,
        ),
    ] {
        assert_eq!(
            statuses(ChannelKind::Whatsapp, &fixture(file)),
            vec![(wamid.to_string(), status, ts, None)],
            "{file}"
        );
    }
    let failed = statuses(
        ChannelKind::Whatsapp,
        &fixture("whatsapp_status_failed.json"),
    );
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].1, DeliveryStatus::Failed);
    let error = failed[0].3.as_deref().unwrap();
    assert!(error.contains("24-uursvenster"), "{error}");
}

#[test]
fn whatsapp_entries_for_another_number_are_ignored() {
    assert!(
        events(
            ChannelKind::Whatsapp,
            &fixture("whatsapp_other_number.json")
        )
        .is_empty()
    );
    // Also when mixed with ours in one call.
    let ours: Value = serde_json::from_str(&fixture("whatsapp_text.json")).unwrap();
    let theirs: Value = serde_json::from_str(&fixture("whatsapp_other_number.json")).unwrap();
    let both = json!({
        "object": "whatsapp_business_account",
        "entry": [theirs["entry"][0], ours["entry"][0]],
    });
    let evs = events(ChannelKind::Whatsapp, &both.to_string());
    assert_eq!(evs.len(), 1);
}

#[test]
fn whatsapp_other_fields_are_ignored() {
    let body = r#"{"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1, "message_template_name": "antwoord_klaar", "message_template_language": "nl"}}]}]}"#;
    assert!(events(ChannelKind::Whatsapp, body).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Webhook: Messenger and Instagram payloads

#[test]
fn messenger_text_message() {
    let m = one_message(ChannelKind::Messenger, &fixture("messenger_text.json"));
    assert_eq!(m.external_id, "m_1457764197618:41d102a3e1ae206a38");
    assert_eq!(m.author_id, "1254459154682919");
    assert_eq!(m.text, "hello, world!");
    assert_eq!(m.sent_at_ms, 1_458_692_752_478);
    assert_eq!(
        m.thread_refs,
        vec!["m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU"]
    );
    assert_eq!(
        m.reply_context,
        json!({"page_id": "682498302938465", "to": "1254459154682919"})
    );
}

#[test]
fn messenger_image_and_echo() {
    let m = one_message(ChannelKind::Messenger, &fixture("messenger_image.json"));
    assert_eq!(m.external_id, "mid.$cAAJdkrCd2ORnva8ErFhjGm0X_Q_c");
    assert_eq!(m.text, "[afbeelding ontvangen]");
    assert_eq!(
        m.attachments[0].reference.as_deref(),
        Some("https://scontent.xx.fbcdn.net/v/t1.15752-9/foto-stoeptegel.jpg")
    );
    assert!(m.attachments[0].content_type.starts_with("image/"));

    assert!(events(ChannelKind::Messenger, &fixture("messenger_echo.json")).is_empty());
}

#[test]
fn messenger_delivery_and_read() {
    assert_eq!(
        statuses(ChannelKind::Messenger, &fixture("messenger_delivery.json")),
        vec![(
            "mid.1458668856218:ed81099e15d3f4f233".to_string(),
            DeliveryStatus::Delivered,
            1_458_668_856_253,
            None
        )]
    );

    let read = statuses(ChannelKind::Messenger, &fixture("messenger_read.json"));
    assert_eq!(read.len(), 1);
    let (id, status, at, _) = &read[0];
    assert_eq!(*status, DeliveryStatus::Read);
    assert_eq!(*at, 1_458_668_856_463);
    assert_eq!(id, "watermark:1254459154682919:1458668856253");
    assert_eq!(
        Watermark::parse(id),
        Some(Watermark {
            recipient: "1254459154682919".into(),
            up_to_ms: 1_458_668_856_253
        })
    );

    // A delivery without mids (older clients) is a watermark too.
    let v = standin::messenger_delivery("1254459154682919", &[], 1_458_668_856_253);
    let d = statuses(ChannelKind::Messenger, &v.to_string());
    assert_eq!(d[0].0, "watermark:1254459154682919:1458668856253");
    assert_eq!(d[0].1, DeliveryStatus::Delivered);
}

#[test]
fn messenger_entries_for_another_page_are_ignored() {
    let v = standin::for_account(
        serde_json::from_str(&fixture("messenger_text.json")).unwrap(),
        "999999999999",
    );
    assert!(events(ChannelKind::Messenger, &v.to_string()).is_empty());
}

#[test]
fn instagram_text_and_seen() {
    let m = one_message(ChannelKind::Instagram, &fixture("instagram_text.json"));
    assert_eq!(
        m.external_id,
        "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE0"
    );
    assert_eq!(m.author_id, "5522334455667788");
    assert_eq!(m.text, "Wanneer wordt het grofvuil opgehaald?");
    assert_eq!(m.sent_at_ms, 1_569_262_485_349);
    assert_eq!(
        m.reply_context,
        json!({"ig_account_id": "17841405822304914", "to": "5522334455667788"})
    );

    assert_eq!(
        statuses(ChannelKind::Instagram, &fixture("instagram_seen.json")),
        vec![(
            "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDA1ODIyMzA0OTE1".to_string(),
            DeliveryStatus::Read,
            1_569_262_489_000,
            None
        )]
    );

    // An Instagram body on the Messenger channel is a misconfigured webhook URL.
    let e = webhook_err(
        ChannelKind::Messenger,
        &post(&fixture("instagram_text.json"), APP_SECRET),
    );
    assert_eq!(e.kind, ChannelErrorKind::Malformed);
}

#[test]
fn standin_payload_builders_parse() {
    let wa = adapter(ChannelKind::Whatsapp);
    let parse = |a: &MetaAdapter, v: &Value| match a
        .webhook(&standin::webhook_request(APP_SECRET, v))
        .unwrap()
    {
        WebhookOutcome::Events(e) => e,
        other => panic!("{other:?}"),
    };

    let evs = parse(
        &wa,
        &standin::whatsapp_text("31612345678", "wamid.A1", "Hallo"),
    );
    let Event::Message(m) = &evs[0] else { panic!() };
    assert_eq!(
        (m.author_id.as_str(), m.text.as_str()),
        ("31612345678", "Hallo")
    );
    assert!((m.sent_at_ms - meta_now()).abs() < 60_000);

    let evs = parse(
        &wa,
        &standin::whatsapp_location(
            "31612345678",
            "wamid.A2",
            52.0907,
            5.1214,
            Some("Stadhuis"),
            None,
        ),
    );
    let Event::Message(m) = &evs[0] else { panic!() };
    assert_eq!((m.lat, m.lon), (Some(52.0907), Some(5.1214)));

    let evs = parse(
        &wa,
        &standin::whatsapp_image("31612345678", "wamid.A3", "555", None),
    );
    let Event::Message(m) = &evs[0] else { panic!() };
    assert_eq!(m.text, "[afbeelding ontvangen]");
    assert_eq!(m.attachments[0].reference.as_deref(), Some("555"));

    for (s, expected) in [
        ("sent", DeliveryStatus::Sent),
        ("delivered", DeliveryStatus::Delivered),
        ("read", DeliveryStatus::Read),
        ("failed", DeliveryStatus::Failed),
    ] {
        let evs = parse(&wa, &standin::whatsapp_status("wamid.B", s, "31612345678"));
        let Event::Status { status, error, .. } = &evs[0] else {
            panic!()
        };
        assert_eq!(*status, expected);
        assert_eq!(error.is_some(), s == "failed");
    }
    let other = standin::for_account(
        standin::whatsapp_text("31612345678", "wamid.A4", "Hallo"),
        "1",
    );
    assert!(parse(&wa, &other).is_empty());

    let fb = adapter(ChannelKind::Messenger);
    assert_eq!(
        parse(&fb, &standin::messenger_text("77", "m_1", "Hoi")).len(),
        1
    );
    assert_eq!(
        parse(&fb, &standin::messenger_delivery("77", &["m_a", "m_b"], 5)).len(),
        2
    );
    let evs = parse(&fb, &standin::messenger_read("77", 1234));
    let Event::Status { external_id, .. } = &evs[0] else {
        panic!()
    };
    assert_eq!(external_id, "watermark:77:1234");

    let ig = adapter(ChannelKind::Instagram);
    assert_eq!(
        parse(&ig, &standin::instagram_text("88", "ig_1", "Hoi")).len(),
        1
    );
}

fn meta_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

// ---------------------------------------------------------------------------------------------
// Sending, against the Graph API stand-in

async fn live(kind: ChannelKind) -> (MetaAdapter, MetaStandinHandle) {
    let (base, handle) = MetaStandin::start().await;
    let a = MetaAdapter::new(kind, &config(kind, Some(&base), standin::TOKEN)).unwrap();
    (a, handle)
}

fn reply(recipient: &str, text: &str) -> Reply {
    Reply {
        conversation_id: 7,
        message_id: 42,
        recipient: recipient.into(),
        text: text.into(),
        subject: "Losliggende stoeptegel".into(),
        from_name: "Gemeente Voorbeeldstad".into(),
        context: json!({"phone_number_id": standin::PHONE_NUMBER_ID, "to": recipient}),
        thread_refs: vec![],
        idempotency_key: "outbox-42".into(),
        template: None,
    }
}

#[tokio::test]
async fn whatsapp_send_text() {
    let (a, h) = live(ChannelKind::Whatsapp).await;
    let sent = a
        .send(&reply("31612345678", "Dank voor uw melding."))
        .await
        .unwrap();
    let log = h.sent();
    assert_eq!(log.len(), 1);
    let s = &log[0];
    assert_eq!(s.path, "/v21.0/106540352242922/messages");
    assert_eq!(
        s.authorization.as_deref(),
        Some(format!("Bearer {}", standin::TOKEN).as_str())
    );
    assert_eq!(s.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        s.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "31612345678",
            "type": "text",
            "text": {"body": "Dank voor uw melding.", "preview_url": false},
        })
    );
    assert_eq!(sent.external_id.as_deref(), Some(s.id.as_str()));
    assert!(s.id.starts_with("wamid."));
    assert!(!sent.delivered);
}

#[tokio::test]
async fn whatsapp_send_template_when_given() {
    let (a, h) = live(ChannelKind::Whatsapp).await;
    h.set_window_closed(true);
    let mut r = reply("31612345678", "wordt niet gebruikt");
    r.template = Some(TemplateRef {
        name: "antwoord_klaar".into(),
        language: "nl".into(),
    });
    let sent = a.send(&r).await.unwrap();
    let s = &h.sent()[0];
    assert_eq!(
        s.body,
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "31612345678",
            "type": "template",
            "template": {"name": "antwoord_klaar", "language": {"code": "nl"}},
        })
    );
    assert_eq!(sent.external_id.as_deref(), Some(s.id.as_str()));
}

#[tokio::test]
async fn server_error_is_retryable_then_succeeds() {
    let (a, h) = live(ChannelKind::Whatsapp).await;
    h.set_failing(1);
    let e = a.send(&reply("31612345678", "Hallo")).await.unwrap_err();
    assert!(e.retryable, "{}", e.message);
    assert!(h.sent().is_empty());
    let sent = a.send(&reply("31612345678", "Hallo")).await.unwrap();
    assert!(sent.external_id.is_some());
    assert_eq!(h.sent().len(), 1);
    assert_eq!(h.attempts(), 2);
}

#[tokio::test]
async fn closed_window_is_fatal_with_dutch_explanation() {
    let (a, h) = live(ChannelKind::Whatsapp).await;
    h.set_window_closed(true);
    let e = a.send(&reply("31612345678", "Hallo")).await.unwrap_err();
    assert!(!e.retryable);
    assert!(e.message.contains("24-uursvenster"), "{}", e.message);
    assert!(e.message.contains("sjabloon"), "{}", e.message);

    let (a, h) = live(ChannelKind::Messenger).await;
    h.set_window_closed(true);
    let e = a
        .send(&reply("1254459154682919", "Hallo"))
        .await
        .unwrap_err();
    assert!(!e.retryable);
    assert!(e.message.contains("24-uursvenster"), "{}", e.message);
}

#[tokio::test]
async fn wrong_token_is_fatal_auth_without_the_token() {
    let (base, h) = MetaStandin::start().await;
    let a = MetaAdapter::new(
        ChannelKind::Whatsapp,
        &config(ChannelKind::Whatsapp, Some(&base), "EAAverlopen-token"),
    )
    .unwrap();
    let e = a.send(&reply("31612345678", "Hallo")).await.unwrap_err();
    assert!(!e.retryable);
    assert!(e.message.contains("toegangstoken"), "{}", e.message);
    assert!(!e.message.contains("EAAverlopen"));
    assert!(h.sent().is_empty());

    let e = a.test_connection().await.unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Auth);
    assert!(!e.message.contains("EAAverlopen"));
}

#[tokio::test]
async fn messenger_and_instagram_send() {
    let (a, h) = live(ChannelKind::Messenger).await;
    let sent = a
        .send(&reply("1254459154682919", "Wij pakken het op."))
        .await
        .unwrap();
    let s = &h.sent()[0];
    assert_eq!(s.path, "/v21.0/682498302938465/messages");
    assert_eq!(
        s.body,
        json!({
            "recipient": {"id": "1254459154682919"},
            "messaging_type": "RESPONSE",
            "message": {"text": "Wij pakken het op."},
        })
    );
    assert_eq!(sent.external_id.as_deref(), Some(s.id.as_str()));

    let (a, h) = live(ChannelKind::Instagram).await;
    a.send(&reply("5522334455667788", "Dank u wel!"))
        .await
        .unwrap();
    let s = &h.sent()[0];
    assert_eq!(s.path, "/v21.0/17841405822304914/messages");
    assert_eq!(s.body["recipient"]["id"], "5522334455667788");
    assert_eq!(s.text(), Some("Dank u wel!"));

    // Messenger and Instagram have no templates.
    let mut r = reply("5522334455667788", "x");
    r.template = Some(TemplateRef {
        name: "t".into(),
        language: "nl".into(),
    });
    let e = a.send(&r).await.unwrap_err();
    assert!(!e.retryable);
    assert_eq!(h.sent().len(), 1);
}

#[tokio::test]
async fn long_texts_are_split_in_order() {
    let (a, h) = live(ChannelKind::Whatsapp).await;
    let para = "Dit is een zin over de melding. ".repeat(70); // 2240 chars
    let text = format!("{}\n\n{}\n\n{}", para.trim(), para.trim(), para.trim());
    let sent = a.send(&reply("31612345678", &text)).await.unwrap();
    let log = h.sent();
    assert_eq!(
        log.len(),
        3,
        "three paragraphs of 2239 do not fit two by two"
    );
    for s in &log {
        assert!(s.text().unwrap().chars().count() <= 4096);
    }
    assert_eq!(sent.external_id.as_deref(), Some(log[2].id.as_str()));
    let joined: Vec<&str> = log.iter().map(|s| s.text().unwrap()).collect();
    assert_eq!(joined.join("\n\n"), text);

    let (a, h) = live(ChannelKind::Messenger).await;
    a.send(&reply("1", &"woord ".repeat(500))).await.unwrap();
    let log = h.sent();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|s| s.text().unwrap().chars().count() < 2000));

    let (a, h) = live(ChannelKind::Instagram).await;
    a.send(&reply("1", &"ë".repeat(700))).await.unwrap(); // 1400 bytes
    assert!(h.sent().iter().all(|s| s.text().unwrap().len() <= 1000));
    assert_eq!(h.sent().len(), 2);
}

#[tokio::test]
async fn failure_after_first_part_is_not_retried() {
    let (a, h) = live(ChannelKind::Whatsapp).await;
    h.set_failing_after(1, 1);
    let text = format!("{}\n\n{}", "a".repeat(4000), "b".repeat(100));
    let e = a.send(&reply("31612345678", &text)).await.unwrap_err();
    assert!(!e.retryable, "{}", e.message);
    assert!(e.message.contains("deel 2"), "{}", e.message);
    assert_eq!(h.sent().len(), 1);
}

#[tokio::test]
async fn empty_reply_and_recipient_fallback() {
    let (a, h) = live(ChannelKind::Whatsapp).await;
    let e = a.send(&reply("31612345678", "   ")).await.unwrap_err();
    assert!(!e.retryable, "empty reply");
    // Without a recipient the context's "to" is used.
    let mut r = reply("", "Hallo");
    r.context = json!({"phone_number_id": standin::PHONE_NUMBER_ID, "to": "31687654321"});
    a.send(&r).await.unwrap();
    assert_eq!(h.sent()[0].body["to"], "31687654321");
}

#[tokio::test]
async fn unreachable_graph_is_retryable() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let a = MetaAdapter::new(
        ChannelKind::Whatsapp,
        &config(ChannelKind::Whatsapp, Some(&base), standin::TOKEN),
    )
    .unwrap();
    let e = a.send(&reply("31612345678", "Hallo")).await.unwrap_err();
    assert!(e.retryable);
    assert!(!e.message.contains("127.0.0.1"), "{}", e.message);
    let e = a.test_connection().await.unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Unreachable);
}

#[tokio::test]
async fn test_connection_describes_the_account() {
    let (a, _h) = live(ChannelKind::Whatsapp).await;
    let s = a.test_connection().await.unwrap();
    assert!(s.starts_with("verbonden met"), "{s}");
    assert!(s.contains(standin::VERIFIED_NAME), "{s}");

    let (a, _h) = live(ChannelKind::Messenger).await;
    assert_eq!(
        a.test_connection().await.unwrap(),
        format!("verbonden met Facebook-pagina {}", standin::VERIFIED_NAME)
    );

    let (a, _h) = live(ChannelKind::Instagram).await;
    assert_eq!(
        a.test_connection().await.unwrap(),
        format!("verbonden met Instagram-account @{}", standin::IG_USERNAME)
    );
}
