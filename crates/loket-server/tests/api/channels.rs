//! Resident channels end to end: an account configured through the admin pages, a message in on
//! the platform (a stand-in built from its public documentation, or real mail servers), the
//! agent's reply out on the same platform, restarts in the middle, hostile input, and secrets
//! that never show.

use crate::both;
use crate::helpers::*;
use loket_channels::standin::mastodon::{self as mstd, MastodonStandin, ResidentPost};
use loket_channels::standin::meta::{self as meta, MetaStandin};
use serde_json::{Value, json};

both!(
    mastodon_dm_in_reply_out,
    mastodon_restart_loses_nothing_duplicates_nothing,
    mastodon_malformed_answers_show_in_health,
    mastodon_public_mention_not_addressed_goes_to_monitoring,
    account_admin_is_scoped_and_secrets_never_show,
    whatsapp_in_reply_out_with_statuses,
    whatsapp_location_routes_on_the_national_entry,
    meta_bad_signature_and_malformed_payloads_are_refused,
    meta_redelivery_across_a_restart_is_stored_once,
    whatsapp_window_closed_sends_the_template,
    messenger_and_instagram_in_out_with_read_watermark,
);

/// Creates a channel account through the admin pages and saves `fields` (with `enabled`);
/// returns its id.
pub async fn connect(admin: &Agent, tenant: &str, kind: &str, fields: &[(&str, &str)]) -> i64 {
    let r = admin
        .form(
            &format!("/admin/{tenant}/kanalen/koppeling"),
            &[("kind", kind), ("name", &format!("{kind} test"))],
        )
        .await;
    assert_eq!(r.status(), 303, "account created");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = loc
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let mut f: Vec<(&str, &str)> = fields.to_vec();
    let name = format!("{kind} test");
    f.push(("name", &name));
    let r = admin
        .form(&format!("/admin/{tenant}/kanalen/koppeling/{id}"), &f)
        .await;
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap();
    assert!(loc.contains("ok=kanaal"), "saved: {loc}");
    id
}

/// The conversations of `channel` an agent sees.
pub async fn on_channel(a: &Agent, channel: &str) -> Vec<Value> {
    a.json("/api/v1/conversations").await["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["channel"] == channel)
        .cloned()
        .collect()
}

/// The messages of one conversation.
pub async fn messages(a: &Agent, id: i64) -> Vec<Value> {
    a.json(&format!("/api/v1/conversations/{id}")).await["messages"]
        .as_array()
        .unwrap()
        .clone()
}

/// Waits for exactly `n` inbound messages on `channel` in total (and checks none more come).
pub async fn inbound_count(app: &TestApp, a: &Agent, channel: &str, n: usize) -> Vec<Value> {
    let found = eventually(20, &format!("{n} inbound {channel} messages"), || async {
        let mut all = vec![];
        for c in on_channel(a, channel).await {
            for m in messages(a, c["id"].as_i64().unwrap()).await {
                if m["direction"] == "in" {
                    all.push(m);
                }
            }
        }
        (all.len() >= n).then_some(all)
    })
    .await;
    assert_eq!(found.len(), n, "no duplicates: {found:?}");
    let _ = app;
    found
}

async fn mastodon_setup(app: &TestApp) -> (mstd::StandinHandle, Agent, Agent, i64) {
    let (base, handle) = MastodonStandin::start().await;
    let admin = app
        .agent("beheer@utrecht.nl", &[("GM0344", "beheerder")])
        .await;
    let agent = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    let id = connect(
        &admin,
        "GM0344",
        "mastodon",
        &[
            ("base_url", &base),
            ("access_token", mstd::TOKEN),
            ("enabled", "1"),
        ],
    )
    .await;
    handle.wait_for_streams(2).await;
    (handle, admin, agent, id)
}

async fn mastodon_dm_in_reply_out(app: TestApp) {
    let (m, _admin, anna, _id) = mastodon_setup(&app).await;
    let status = m.resident_dm(
        "piet@mastodon.example",
        "Er ligt al een week een losse stoeptegel voor Oudegracht 12, kan die gemaakt worden?",
    );
    let convs = eventually(20, "the DM in the inbox", || async {
        let c = on_channel(&anna, "mastodon").await;
        (!c.is_empty()).then_some(c)
    })
    .await;
    assert_eq!(convs.len(), 1);
    let cid = convs[0]["id"].as_i64().unwrap();
    let msgs = messages(&anna, cid).await;
    assert!(msgs[0]["body"].as_str().unwrap().contains("stoeptegel"));
    let r = anna
        .post(
            &format!("/api/v1/conversations/{cid}/messages"),
            &json!({"body": "Dank u, we sturen morgen iemand langs."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let posted = eventually(20, "the reply on Mastodon", || async {
        let p = m.posted();
        (!p.is_empty()).then_some(p)
    })
    .await;
    assert_eq!(posted.len(), 1);
    let p = &posted[0];
    assert_eq!(p.in_reply_to_id.as_deref(), Some(status.as_str()));
    assert_eq!(p.visibility, "direct", "a direct message stays direct");
    assert!(
        p.status.starts_with("@piet@mastodon.example "),
        "{}",
        p.status
    );
    assert!(p.status.contains("morgen iemand langs"));
    assert!(p.idempotency_key.is_some());
    eventually(10, "delivery state", || async {
        let msgs = messages(&anna, cid).await;
        let out = msgs.iter().find(|x| x["direction"] == "out")?;
        (out["delivery_state"] == "verzonden" || out["delivery_state"] == "afgeleverd")
            .then_some(())
    })
    .await;
    // The resident answers the reply: the same conversation.
    m.resident_reply("piet@mastodon.example", &p.id, "Top, dank u wel!", "direct");
    inbound_count(&app, &anna, "mastodon", 2).await;
    assert_eq!(on_channel(&anna, "mastodon").await.len(), 1);
}

async fn mastodon_restart_loses_nothing_duplicates_nothing(app: TestApp) {
    let (m, _admin, anna, id) = mastodon_setup(&app).await;
    m.resident_mentions(
        "piet@mastodon.example",
        "Wanneer wordt het grofvuil in Overvecht opgehaald?",
        "public",
    );
    inbound_count(&app, &anna, "mastodon", 1).await;
    // Loket goes down; residents keep writing.
    let mut app = app;
    app.stop().await;
    for i in 0..3 {
        m.resident_mentions(
            &format!("res{i}@mastodon.example"),
            &format!("Vraag {i}: de straatverlichting in de Kanaalstraat is kapot."),
            "public",
        );
    }
    m.resident_dm("kees@mastodon.example", "Privé: mijn paspoort is verlopen.");
    let app = app.restart().await;
    let anna = app.login("anna@utrecht.nl").await;
    inbound_count(&app, &anna, "mastodon", 5).await;
    // A crash after ingesting but before storing the position: the whole history is read again
    // and nothing is stored twice.
    app.state.store.set_channel_cursor(id, "{}").await.unwrap();
    let app = app.restart().await;
    let anna = app.login("anna@utrecht.nl").await;
    m.resident_mentions(
        "laatste@mastodon.example",
        "Nog een vraag over de WOZ.",
        "public",
    );
    inbound_count(&app, &anna, "mastodon", 6).await;
}

async fn mastodon_malformed_answers_show_in_health(app: TestApp) {
    let (m, admin, anna, id) = mastodon_setup(&app).await;
    m.set_malformed(true);
    m.drop_streams();
    m.resident_mentions("piet@mastodon.example", "Hallo gemeente", "public");
    let row = eventually(20, "the error on the account", || async {
        let r = app.state.store.channel_account(id).await.unwrap();
        (r.last_error.is_some() && !r.connected).then_some(r)
    })
    .await;
    assert!(
        !row.last_error.as_deref().unwrap().contains(mstd::TOKEN),
        "no token in errors"
    );
    let page = admin
        .get("/admin/GM0344/kanalen")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Fout"), "health shows the error");
    assert!(on_channel(&anna, "mastodon").await.is_empty());
    // The server recovers on its own, and nothing is lost.
    m.set_malformed(false);
    inbound_count(&app, &anna, "mastodon", 1).await;
    eventually(10, "the health view back to connected", || async {
        let page = admin
            .get("/admin/GM0344/kanalen")
            .await
            .text()
            .await
            .unwrap();
        page.contains("Verbonden").then_some(())
    })
    .await;
}

async fn mastodon_public_mention_not_addressed_goes_to_monitoring(app: TestApp) {
    let (m, _admin, anna, _id) = mastodon_setup(&app).await;
    let mut p = ResidentPost::new(
        "piet@mastodon.example",
        "Wat een mooie markt vandaag in Utrecht",
        "public",
    );
    p.mention = mstd::MentionAt::End;
    m.resident_post(p);
    m.resident_mentions(
        "kees@mastodon.example",
        "Mijn container is niet geleegd",
        "public",
    );
    inbound_count(&app, &anna, "mastodon", 1).await;
    eventually(10, "the mention in monitoring", || async {
        (app.state.store.mention_count("GM0344").await.unwrap() == 1).then_some(())
    })
    .await;
}

async fn account_admin_is_scoped_and_secrets_never_show(app: TestApp) {
    let logs = log_buffer();
    let (m, admin, _anna, id) = mastodon_setup(&app).await;
    // The form says "ingesteld" but never shows the token; "test verbinding" works.
    let page = admin
        .get(&format!("/admin/GM0344/kanalen/koppeling/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("ingesteld"));
    let r = admin
        .form(&format!("/admin/GM0344/kanalen/koppeling/{id}/test"), &[])
        .await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Verbinding gelukt"), "{html}");
    assert!(html.contains("verbonden als"), "{html}");
    // Saving with an empty secret keeps it.
    let r = admin
        .form(
            &format!("/admin/GM0344/kanalen/koppeling/{id}"),
            &[
                ("name", "Mastodon"),
                ("base_url", m.base_url()),
                ("access_token", ""),
                ("enabled", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let row = app.state.store.channel_account(id).await.unwrap();
    assert!(row.secrets.contains("access_token"));
    assert!(!row.secrets.contains(mstd::TOKEN), "sealed at rest");
    // A wrong token: the test says so in Dutch, without the token.
    let r = admin
        .form(
            &format!("/admin/GM0344/kanalen/koppeling/{id}"),
            &[
                ("name", "Mastodon"),
                ("base_url", m.base_url()),
                ("access_token", "verkeerd-token-123"),
                ("enabled", "1"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let html = admin
        .form(&format!("/admin/GM0344/kanalen/koppeling/{id}/test"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Verbinding mislukt"), "{html}");
    assert!(!html.contains("verkeerd-token-123"));
    // Another municipality's beheerder cannot see or change the account.
    let other = app
        .agent("beheer@amsterdam.nl", &[("GM0363", "beheerder")])
        .await;
    for path in [
        format!("/admin/GM0344/kanalen/koppeling/{id}"),
        format!("/admin/GM0363/kanalen/koppeling/{id}"),
    ] {
        let s = other.get(&path).await.status().as_u16();
        assert!(s == 403 || s == 404, "{path}: {s}");
    }
    let r = other
        .form(
            &format!("/admin/GM0363/kanalen/koppeling/{id}"),
            &[("name", "overgenomen"), ("enabled", "")],
        )
        .await;
    assert!(matches!(r.status().as_u16(), 403 | 404));
    // An agent is no beheerder.
    let agent = app.login("anna@utrecht.nl").await;
    let s = agent.get("/admin/GM0344/kanalen").await.status().as_u16();
    assert!(s == 403 || s == 404, "agent on admin: {s}");
    // Nowhere in pages, API answers or logs.
    for path in [
        "/admin/GM0344/kanalen".to_string(),
        format!("/admin/GM0344/kanalen/koppeling/{id}"),
        "/api/openapi.json".to_string(),
    ] {
        let body = admin.get(&path).await.text().await.unwrap();
        assert!(!body.contains(mstd::TOKEN), "token shown at {path}");
        assert!(
            !body.contains("verkeerd-token-123"),
            "token shown at {path}"
        );
    }
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(!text.contains(mstd::TOKEN), "token in the logs");
    assert!(!text.contains("verkeerd-token-123"), "token in the logs");
    // Unknown webhook keys are a plain 404 problem.
    let r = reqwest::Client::new()
        .post(format!("{}/kanalen/onbekend/webhook", app.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

// ---------------------------------------------------------------- Meta

const APP_SECRET: &str = "meta-app-geheim-5c1f";
const VERIFY: &str = "verifieer-mij-81";

/// A Meta account (`whatsapp`, `messenger` or `instagram`) on `tenant` against a Graph API
/// stand-in; returns (stand-in, admin, webhook URL, account id).
pub async fn meta_setup(
    app: &TestApp,
    tenant: &str,
    kind: &str,
) -> (meta::MetaStandinHandle, Agent, String, i64) {
    let (base, handle) = MetaStandin::start().await;
    let admin = app
        .agent(
            &format!("beheer-{kind}@{}.nl", tenant.to_lowercase()),
            &[(tenant, "beheerder")],
        )
        .await;
    let mut fields = vec![
        ("graph_base_url", base.as_str()),
        ("access_token", meta::TOKEN),
        ("app_secret", APP_SECRET),
        ("verify_token", VERIFY),
        ("enabled", "1"),
    ];
    match kind {
        "whatsapp" => {
            fields.push(("phone_number_id", meta::PHONE_NUMBER_ID));
            fields.push(("template_name", "antwoord_gemeente"));
        }
        "messenger" => fields.push(("page_id", meta::PAGE_ID)),
        _ => fields.push(("ig_account_id", meta::IG_ACCOUNT_ID)),
    }
    let id = connect(&admin, tenant, kind, &fields).await;
    let page = admin
        .get(&format!("/admin/{tenant}/kanalen/koppeling/{id}"))
        .await
        .text()
        .await
        .unwrap();
    let start = page.find("data-webhook-url>").expect("webhook URL shown") + 17;
    let url = page[start..].split('<').next().unwrap().to_string();
    assert!(
        url.starts_with(&app.base) && url.ends_with("/webhook"),
        "{url}"
    );
    (handle, admin, url, id)
}

/// POSTs a payload as Meta does: signed with the app secret.
pub async fn meta_post(url: &str, payload: &Value) -> reqwest::Response {
    let (body, sig) = meta::signed_body(APP_SECRET, payload);
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("x-hub-signature-256", sig)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn delivery_of(a: &Agent, cid: i64) -> String {
    messages(a, cid)
        .await
        .iter()
        .rev()
        .find(|m| m["direction"] == "out")
        .map(|m| m["delivery_state"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

async fn reply_and_wait(a: &Agent, cid: i64, text: &str, m: &meta::MetaStandinHandle, n: usize) {
    let r = a
        .post(
            &format!("/api/v1/conversations/{cid}/messages"),
            &json!({ "body": text }),
        )
        .await;
    assert_eq!(r.status(), 201);
    eventually(20, "the reply at Meta", || async {
        (m.sent().len() >= n).then_some(())
    })
    .await;
}

async fn whatsapp_in_reply_out_with_statuses(app: TestApp) {
    let (m, _admin, url, _id) = meta_setup(&app, "GM0344", "whatsapp").await;
    let anna = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    // The verification handshake, and a wrong verify token.
    let r = reqwest::get(format!(
        "{url}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = reqwest::get(format!(
        "{url}?hub.mode=subscribe&hub.verify_token=fout&hub.challenge=1"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    // A message in, delivered twice (Meta retries): one message in the inbox.
    let payload = meta::whatsapp_text(
        "31612345678",
        "wamid.HBgLMzE2MTIzNDU2NzgVAgASGBQzQUZCMkU",
        "Goedemiddag, de lantaarnpaal voor ons huis in Utrecht is al een week kapot.",
    );
    assert_eq!(meta_post(&url, &payload).await.status(), 200);
    assert_eq!(meta_post(&url, &payload).await.status(), 200);
    let convs = eventually(10, "the WhatsApp message", || async {
        let c = on_channel(&anna, "whatsapp").await;
        (!c.is_empty()).then_some(c)
    })
    .await;
    let cid = convs[0]["id"].as_i64().unwrap();
    inbound_count(&app, &anna, "whatsapp", 1).await;
    // The reply goes out through the Graph API to the resident's number.
    reply_and_wait(
        &anna,
        cid,
        "Dank voor uw melding, we gaan ernaar kijken.",
        &m,
        1,
    )
    .await;
    let sent = m.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].account_id, meta::PHONE_NUMBER_ID);
    assert_eq!(sent[0].body["to"], "31612345678");
    assert!(sent[0].text().unwrap().contains("ernaar kijken"));
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some(format!("Bearer {}", meta::TOKEN).as_str())
    );
    eventually(10, "verzonden", || async {
        (delivery_of(&anna, cid).await == "verzonden").then_some(())
    })
    .await;
    // Status callbacks move it forward, never back.
    let wamid = sent[0].id.clone();
    for (status, expect) in [
        ("delivered", "afgeleverd"),
        ("read", "gelezen"),
        ("delivered", "gelezen"),
    ] {
        let r = meta_post(&url, &meta::whatsapp_status(&wamid, status, "31612345678")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(delivery_of(&anna, cid).await, expect, "after {status}");
    }
    let html = anna
        .get(&format!("/conversations/{cid}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("gelezen"));
    // A photo: kept as a reference, fetched from Meta (with the token) when the agent opens it.
    m.add_media(
        "1386462835482516",
        "image/jpeg",
        b"\xff\xd8\xff\xe0 foto van de lantaarnpaal",
    );
    let photo = meta::whatsapp_image(
        "31612345678",
        "wamid.IMG1",
        "1386462835482516",
        Some("Zo ziet hij eruit"),
    );
    assert_eq!(meta_post(&url, &photo).await.status(), 200);
    let att = eventually(10, "the photo on the conversation", || async {
        let c = anna.json(&format!("/api/v1/conversations/{cid}")).await;
        c["attachments"].as_array()?.first().cloned()
    })
    .await;
    let r = anna
        .get(&format!("/bijlagen/{}", att["id"].as_i64().unwrap()))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        &r.bytes().await.unwrap()[..],
        b"\xff\xd8\xff\xe0 foto van de lantaarnpaal"
    );
    let c = anna.json(&format!("/api/v1/conversations/{cid}")).await;
    assert!(
        c["attachments"][0]["size"].as_i64().unwrap() > 0,
        "kept locally"
    );
}

async fn whatsapp_location_routes_on_the_national_entry(app: TestApp) {
    let (_m, _admin, url, _id) = meta_setup(&app, "NL", "whatsapp").await;
    let anna = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    // A location pin in the centre of Utrecht, without a place name in any text.
    let payload = meta::whatsapp_location("31687654321", "wamid.LOC1", 52.0907, 5.1214, None, None);
    assert_eq!(meta_post(&url, &payload).await.status(), 200);
    let convs = eventually(10, "routed to Utrecht", || async {
        let c = on_channel(&anna, "whatsapp").await;
        (!c.is_empty()).then_some(c)
    })
    .await;
    assert_eq!(convs[0]["tenant_code"], "GM0344");
    let c = anna
        .json(&format!("/api/v1/conversations/{}", convs[0]["id"]))
        .await;
    assert_eq!(c["conversation"]["origin_tenant_code"], "NL");
}

async fn meta_bad_signature_and_malformed_payloads_are_refused(app: TestApp) {
    let (_m, admin, url, id) = meta_setup(&app, "GM0344", "whatsapp").await;
    let anna = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    let payload = meta::whatsapp_text("31611111111", "wamid.BAD1", "Hallo");
    let body = serde_json::to_vec(&payload).unwrap();
    let client = reqwest::Client::new();
    // Signed with another secret, and not signed at all.
    for sig in [Some(meta::sign("ander-geheim", &body)), None] {
        let mut req = client.post(&url).body(body.clone());
        if let Some(s) = sig {
            req = req.header("x-hub-signature-256", s);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["type"], "https://loket.nl/problems/bad-signature");
    }
    // Signed but not what Meta documents: a precise 400.
    for bad in [
        json!({"object": "whatsapp_business_account", "entry": "nee"}),
        json!([1, 2]),
    ] {
        let r = meta_post(&url, &bad).await;
        assert_eq!(r.status(), 400);
        let p: Value = r.json().await.unwrap();
        assert!(!p["detail"].as_str().unwrap().is_empty(), "{p}");
    }
    let (raw, sig) = (
        b"{niet: json".to_vec(),
        meta::sign(APP_SECRET, b"{niet: json"),
    );
    let r = client
        .post(&url)
        .header("x-hub-signature-256", sig)
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Larger than the server takes: 413, nothing stored. Only just larger: the server answers
    // before reading the body, and a body far beyond the socket buffers would meet a closed
    // connection while still being written (a broken pipe instead of the answer).
    let r = client
        .post(&url)
        .body(vec![b'x'; app.state.config.max_body_bytes + 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(on_channel(&anna, "whatsapp").await.is_empty());
    let row = app.state.store.channel_account(id).await.unwrap();
    assert_eq!(row.bad_signatures, 2);
    let page = admin
        .get("/admin/GM0344/kanalen")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("2 ongeldige handtekening"), "health shows it");
}

/// A text message on a Meta channel, as Meta documents it.
fn meta_text(kind: &str, from: &str, id: &str, text: &str) -> Value {
    match kind {
        "whatsapp" => meta::whatsapp_text(from, id, text),
        "messenger" => meta::messenger_text(from, id, text),
        _ => meta::instagram_text(from, id, text),
    }
}

async fn meta_redelivery_across_a_restart_is_stored_once(app: TestApp) {
    const KINDS: [&str; 3] = ["whatsapp", "messenger", "instagram"];
    let mut urls = vec![];
    for kind in KINDS {
        let (_m, _admin, url, _id) = meta_setup(&app, "GM0344", kind).await;
        let first = meta_text(
            kind,
            "31622222222",
            &format!("{kind}.R1"),
            "Is het zwembad open?",
        );
        assert_eq!(meta_post(&url, &first).await.status(), 200);
        // A bad signature is refused on every Meta channel.
        let r = reqwest::Client::new()
            .post(&url)
            .header("x-hub-signature-256", meta::sign("fout", b"{}"))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{kind}");
        urls.push((kind, url, first));
    }
    // Loket goes down: Meta's deliveries fail and Meta keeps the messages to deliver again.
    let mut app = app;
    app.stop().await;
    for (kind, url, _) in &urls {
        let second = meta_text(
            kind,
            "31622222222",
            &format!("{kind}.R2"),
            "En tot hoe laat?",
        );
        assert!(
            reqwest::Client::new()
                .post(url)
                .body(serde_json::to_vec(&second).unwrap())
                .send()
                .await
                .is_err(),
            "the server is down"
        );
    }
    let app = app.restart().await;
    // The webhook keys and secrets survive; Meta redelivers both (the first one again, too).
    for (kind, url, first) in &urls {
        let url = url.replace(&url[..url.find("/kanalen").unwrap()], &app.base);
        let second = meta_text(
            kind,
            "31622222222",
            &format!("{kind}.R2"),
            "En tot hoe laat?",
        );
        assert_eq!(meta_post(&url, &second).await.status(), 200);
        assert_eq!(meta_post(&url, first).await.status(), 200);
    }
    let anna = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    for kind in KINDS {
        let msgs = inbound_count(&app, &anna, kind, 2).await;
        assert_eq!(
            on_channel(&anna, kind).await.len(),
            1,
            "one {kind} conversation"
        );
        assert!(msgs.iter().any(|m| m["body"] == "En tot hoe laat?"));
    }
}

async fn whatsapp_window_closed_sends_the_template(app: TestApp) {
    let (m, _admin, url, _id) = meta_setup(&app, "GM0344", "whatsapp").await;
    let anna = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    let mut payload = meta::whatsapp_text(
        "31633333333",
        "wamid.OLD",
        "Wanneer is het gemeentehuis open?",
    );
    let old = (loket_store::now_ms() / 1000 - 25 * 3600).to_string();
    *payload
        .pointer_mut("/entry/0/changes/0/value/messages/0/timestamp")
        .unwrap() = json!(old);
    assert_eq!(meta_post(&url, &payload).await.status(), 200);
    let cid = eventually(10, "the message", || async {
        on_channel(&anna, "whatsapp")
            .await
            .first()
            .map(|c| c["id"].as_i64().unwrap())
    })
    .await;
    let html = anna
        .get(&format!("/conversations/{cid}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-window-notice"), "the page warns");
    assert!(html.contains("antwoord_gemeente"));
    reply_and_wait(&anna, cid, "Van 9 tot 17 uur.", &m, 1).await;
    let sent = m.sent();
    assert_eq!(sent[0].body["type"], "template");
    assert_eq!(sent[0].body["template"]["name"], "antwoord_gemeente");
    let out = messages(&anna, cid).await;
    let last = out.iter().rev().find(|x| x["direction"] == "out").unwrap();
    assert!(last["body"].as_str().unwrap().contains("Sjabloonbericht"));
}

async fn messenger_and_instagram_in_out_with_read_watermark(app: TestApp) {
    let (m, _admin, url, _id) = meta_setup(&app, "GM0344", "messenger").await;
    let anna = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    let payload = meta::messenger_text(
        "2420000001",
        "m_abc1",
        "Hoe vraag ik een parkeervergunning aan?",
    );
    assert_eq!(meta_post(&url, &payload).await.status(), 200);
    let cid = eventually(10, "the Messenger message", || async {
        on_channel(&anna, "messenger")
            .await
            .first()
            .map(|c| c["id"].as_i64().unwrap())
    })
    .await;
    reply_and_wait(&anna, cid, "Dat kan via de website met DigiD.", &m, 1).await;
    let sent = m.sent();
    assert_eq!(sent[0].account_id, meta::PAGE_ID);
    assert_eq!(sent[0].body["recipient"]["id"], "2420000001");
    assert_eq!(sent[0].body["messaging_type"], "RESPONSE");
    eventually(10, "verzonden", || async {
        (delivery_of(&anna, cid).await == "verzonden").then_some(())
    })
    .await;
    // Messenger reports a read as a watermark over everything sent before it.
    let r = meta_post(
        &url,
        &meta::messenger_read("2420000001", loket_store::now_ms() + 1000),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(delivery_of(&anna, cid).await, "gelezen");
    // Instagram on its own account, into the same inbox.
    let (ig, _admin2, ig_url, _) = meta_setup(&app, "GM0344", "instagram").await;
    let r = meta_post(
        &ig_url,
        &meta::instagram_text("17840000001", "aWdfbWVzc2FnZ", "Mooie foto van de Dom!"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let icid = eventually(10, "the Instagram message", || async {
        on_channel(&anna, "instagram")
            .await
            .first()
            .map(|c| c["id"].as_i64().unwrap())
    })
    .await;
    reply_and_wait(&anna, icid, "Dank u wel!", &ig, 1).await;
    assert_eq!(ig.sent()[0].account_id, meta::IG_ACCOUNT_ID);
    // Messenger closes after 24 hours without a template: the reply is refused, in Dutch.
    let mut old = meta::messenger_text("2420000002", "m_old", "Oude vraag");
    *old.pointer_mut("/entry/0/messaging/0/timestamp").unwrap() =
        json!(loket_store::now_ms() - 25 * 3_600_000);
    assert_eq!(meta_post(&url, &old).await.status(), 200);
    let ocid = eventually(10, "the old message", || async {
        on_channel(&anna, "messenger")
            .await
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .find(|&i| i != cid)
    })
    .await;
    let r = anna
        .post(
            &format!("/api/v1/conversations/{ocid}/messages"),
            &json!({ "body": "Sorry voor de late reactie" }),
        )
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert!(
        p["detail"].as_str().unwrap().contains("24-uursvenster"),
        "{p}"
    );
}
