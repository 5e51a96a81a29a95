//! The satisfaction survey: asked once per conversation after it is resolved (widget inline,
//! other channels a link through the outbox), the resident's page, and the results API.

use crate::both;
use crate::helpers::*;
use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

both!(
    csat_widget_once_per_conversation,
    csat_api_channel_gets_link_through_outbox,
    csat_page_answer_once_404_and_validation,
    csat_results_roles_and_tenant_scope,
    csat_messenger_link_and_closed_window_skipped,
);

async fn resolve(a: &Agent, id: i64) {
    let r = a
        .post(
            &format!("/api/v1/conversations/{id}/state"),
            &json!({"state": "opgelost"}),
        )
        .await;
    assert_eq!(r.status(), 200, "resolve {id}");
}

async fn surveys(app: &TestApp, id: i64) -> Option<loket_store::csat::CsatSurveyRow> {
    app.state.store.csat_survey_of(id).await.unwrap()
}

async fn csat_widget_once_per_conversation(app: TestApp) {
    let (wtoken, id) = app
        .widget_post("GM0344", None, "Wanneer wordt het grofvuil opgehaald?")
        .await;
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let c = reqwest::Client::new();
    // No survey before the conversation is resolved.
    let r = c
        .get(format!(
            "{}/api/v1/widget/GM0344/survey?token={wtoken}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    resolve(&a, id).await;
    let s = surveys(&app, id).await.expect("a survey after resolving");
    assert_eq!(s.channel, "webchat");
    let v: Value = c
        .get(format!(
            "{}/api/v1/widget/GM0344/survey?token={wtoken}",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["answered"], false);
    let stoken = v["token"].as_str().unwrap().to_string();
    assert_eq!(stoken, s.token);
    // Another municipality's widget does not know this survey.
    let r = c
        .post(format!("{}/api/v1/widget/GM0363/survey", app.base))
        .json(&json!({"token": stoken, "score": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = c
        .post(format!("{}/api/v1/widget/GM0344/survey", app.base))
        .json(&json!({"token": stoken, "score": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = c
        .post(format!("{}/api/v1/widget/GM0344/survey", app.base))
        .json(&json!({"token": stoken, "score": 4, "comment": "Snel geholpen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = c
        .post(format!("{}/api/v1/widget/GM0344/survey", app.base))
        .json(&json!({"token": stoken, "score": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409, "answered once");
    let s = surveys(&app, id).await.unwrap();
    assert_eq!(s.score, Some(4));
    assert_eq!(s.comment.as_deref(), Some("Snel geholpen"));
    // Reopen (the resident writes again) and resolve again: still the one survey.
    app.widget_post("GM0344", Some(&wtoken), "Nog een vraag")
        .await;
    let st = app.state.store.conversation_system(id).await.unwrap().state;
    assert_ne!(st, "opgelost", "a new message reopens");
    resolve(&a, id).await;
    let s2 = surveys(&app, id).await.unwrap();
    assert_eq!(s2.id, s.id);
    assert_eq!(s2.token, s.token);
    assert_eq!(s2.score, Some(4));
}

async fn csat_api_channel_gets_link_through_outbox(app: TestApp) {
    let calls: Arc<Mutex<Vec<Bytes>>> = Arc::default();
    let h = calls.clone();
    let hook = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: Bytes| {
            let h = h.clone();
            async move {
                h.lock().unwrap().push(body);
                StatusCode::OK
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, hook).await.unwrap() });
    let key = app.api_key("GM0344", Some((&url, "webhook-geheim"))).await;
    let v: Value = app
        .inbound(
            &key,
            &inbound_body("c-1", "klant-1", "Mijn paspoort is verlopen"),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = v["conversation_id"].as_i64().unwrap();
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    resolve(&a, id).await;
    let s = surveys(&app, id).await.expect("survey");
    let link = format!("{}/tevredenheid/{}", app.base, s.token);
    let body = eventually(20, "survey link delivered to the webhook", || {
        let calls = calls.clone();
        async move { calls.lock().unwrap().first().cloned() }
    })
    .await;
    let sent: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        sent.to_string().contains(&link),
        "the webhook got the link: {sent}"
    );
    // The invitation does not reopen the conversation, and shows in the thread.
    let c = app.state.store.conversation_system(id).await.unwrap();
    assert_eq!(c.state, "opgelost");
    let msgs = app.state.store.messages(id).await.unwrap();
    assert!(
        msgs.iter()
            .any(|m| m.direction == "out" && m.body.contains(&link))
    );
    // Reopen and resolve again: no second survey, no second link.
    a.post(
        &format!("/api/v1/conversations/{id}/state"),
        &json!({"state": "open"}),
    )
    .await;
    resolve(&a, id).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(calls.lock().unwrap().len(), 1);
    assert_eq!(surveys(&app, id).await.unwrap().id, s.id);
}

async fn page_nonce(c: &reqwest::Client, url: &str) -> String {
    let page = c.get(url).send().await.unwrap().text().await.unwrap();
    hidden(&page, "nonce")
}

async fn csat_page_answer_once_404_and_validation(app: TestApp) {
    let key = app.api_key("GM0344", None).await;
    let v: Value = app
        .inbound(&key, &inbound_body("p-1", "klant-2", "Vraag over de WOZ"))
        .await
        .json()
        .await
        .unwrap();
    let id = v["conversation_id"].as_i64().unwrap();
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    resolve(&a, id).await;
    let s = surveys(&app, id).await.unwrap();
    let url = format!("{}/tevredenheid/{}", app.base, s.token);
    let c = reqwest::Client::new();
    let r = c.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("Hoe tevreden bent u?"));
    assert!(page.contains("1 van 5"));
    let en = c
        .get(format!("{url}?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("How satisfied are you?"));
    // Unknown token: a Dutch 404 page.
    let r = c
        .get(format!("{}/tevredenheid/bestaat-niet", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("bestaat niet"));
    let nonce = page_nonce(&c, &url).await;
    // Without the form nonce: refused.
    let r = c
        .post(&url)
        .form(&[("score", "5"), ("nonce", "fout")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Validation: no score, a comment that is too long.
    let long = "x".repeat(1001);
    let r = c
        .post(&url)
        .form(&[("nonce", nonce.as_str()), ("comment", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let t = r.text().await.unwrap();
    assert!(t.contains("Kies een oordeel van 1 tot en met 5."));
    assert!(t.contains("langer dan 1000 tekens"));
    let r = c
        .post(&url)
        .form(&[("nonce", nonce.as_str()), ("score", "0")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(surveys(&app, id).await.unwrap().answered_at.is_none());
    let r = c
        .post(&url)
        .form(&[
            ("nonce", nonce.as_str()),
            ("score", "2"),
            ("comment", "Duurde lang"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Bedankt"));
    let r = c
        .post(&url)
        .form(&[("nonce", nonce.as_str()), ("score", "5")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("al beantwoord"));
    let r = c.get(&url).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("al beantwoord"));
    let s = surveys(&app, id).await.unwrap();
    assert_eq!(s.score, Some(2));
    assert_eq!(s.comment.as_deref(), Some("Duurde lang"));
}

async fn csat_results_roles_and_tenant_scope(app: TestApp) {
    let key = app.api_key("GM0344", None).await;
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    for (i, score) in [5, 4, 2].into_iter().enumerate() {
        let v: Value = app
            .inbound(
                &key,
                &inbound_body(&format!("r-{i}"), &format!("k-{i}"), "Vraag over afval"),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = v["conversation_id"].as_i64().unwrap();
        resolve(&a, id).await;
        let s = surveys(&app, id).await.unwrap();
        app.state
            .store
            .answer_csat_survey(&s.token, score, None)
            .await
            .unwrap();
    }
    let path = "/api/v1/tenants/GM0344/csat";
    let v = a.json(path).await;
    assert_eq!(v["total"]["responses"], 3);
    assert_eq!(v["total"]["satisfied"], 2);
    assert!((v["total"]["mean"].as_f64().unwrap() - 11.0 / 3.0).abs() < 1e-9);
    assert!(v["topics"].is_object());
    assert!(
        v.get("agents").is_none(),
        "an agent sees no per-agent figures"
    );
    let s = app.agent("sven@test.nl", &[("GM0344", "supervisor")]).await;
    let v = s.json(path).await;
    assert!(v["agents"].is_object(), "a supervisor does: {v}");
    let total: u64 = v["agents"]
        .as_object()
        .unwrap()
        .values()
        .map(|f| f["responses"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3);
    // A period without answers.
    let v = s
        .json(&format!("{path}?from=2020-01-01&to=2020-01-31"))
        .await;
    assert_eq!(v["total"]["responses"], 0);
    assert!(v["total"]["share_satisfied"].is_null());
    assert_eq!(s.get(&format!("{path}?from=gisteren")).await.status(), 422);
    // Another municipality's supervisor: 404, as if it did not exist.
    let other = app.agent("ot@test.nl", &[("GM0363", "supervisor")]).await;
    assert_eq!(other.get(path).await.status(), 404);
    // Not logged in.
    let r = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn csat_messenger_link_and_closed_window_skipped(app: TestApp) {
    use crate::channels::{meta_post, meta_setup, on_channel};
    use loket_channels::standin::meta;
    let (m, _admin, url, _id) = meta_setup(&app, "GM0344", "messenger").await;
    let anna = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    let payload = meta::messenger_text("2420000001", "m_csat1", "Waar haal ik mijn rijbewijs?");
    assert_eq!(meta_post(&url, &payload).await.status(), 200);
    let cid = eventually(10, "the Messenger message", || async {
        on_channel(&anna, "messenger")
            .await
            .first()
            .map(|c| c["id"].as_i64().unwrap())
    })
    .await;
    resolve(&anna, cid).await;
    let s = surveys(&app, cid).await.unwrap();
    let link = format!("/tevredenheid/{}", s.token);
    eventually(10, "the survey link sent on Messenger", || async {
        m.sent()
            .iter()
            .any(|x| x.body.to_string().contains(&link))
            .then_some(())
    })
    .await;
    // A conversation whose 24-hour window has closed: no message, the reason is recorded.
    let mut old = meta::messenger_text("2420000002", "m_csat_old", "Oude vraag");
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
    let before = m.sent().len();
    resolve(&anna, ocid).await;
    assert!(surveys(&app, ocid).await.is_some());
    let events = app.state.store.events(ocid).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "tevredenheid" && e.detail.contains("niet verstuurd")),
        "{events:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(m.sent().len(), before, "nothing sent outside the window");
}
