//! Resident channels end to end: an account configured through the admin pages, a message in on
//! the platform (a stand-in built from its public documentation, or real mail servers), the
//! agent's reply out on the same platform, restarts in the middle, hostile input, and secrets
//! that never show.

use crate::both;
use crate::helpers::*;
use loket_channels::standin::mastodon::{self as mstd, MastodonStandin, ResidentPost};
use serde_json::{Value, json};

both!(
    mastodon_dm_in_reply_out,
    mastodon_restart_loses_nothing_duplicates_nothing,
    mastodon_malformed_answers_show_in_health,
    mastodon_public_mention_not_addressed_goes_to_monitoring,
    account_admin_is_scoped_and_secrets_never_show,
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
    let page = admin
        .get("/admin/GM0344/kanalen")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Verbonden"), "{page}");
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
