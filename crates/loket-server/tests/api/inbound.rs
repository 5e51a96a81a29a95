use crate::both;
use crate::helpers::*;
use serde_json::{Value, json};

both!(
    idempotent_on_channel_and_external_id,
    bad_input_is_refused_and_nothing_written,
    html_is_shown_as_text,
    sla_deadline_skips_koningsdag
);

async fn idempotent_on_channel_and_external_id(app: TestApp) {
    let key = app.api_key("GM0344", None).await;
    let body = inbound_body("ext-1", "res-1", "Losse stoeptegel op de Oudegracht");
    let r1 = app.inbound(&key, &body).await;
    assert_eq!(r1.status(), 202);
    let a: Value = r1.json().await.unwrap();
    let r2 = app.inbound(&key, &body).await;
    assert_eq!(r2.status(), 202);
    let b: Value = r2.json().await.unwrap();
    assert_eq!(a["conversation_id"], b["conversation_id"]);
    assert_eq!(a["message_id"], b["message_id"]);
    assert_eq!(
        (a["created"].as_bool(), b["created"].as_bool()),
        (Some(true), Some(false))
    );
    // The same external id on another channel is another message.
    let mut other = body.clone();
    other["channel"] = json!("x");
    let c: Value = app.inbound(&key, &other).await.json().await.unwrap();
    assert_eq!(c["created"], true);
    let agent = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let conv = agent
        .json(&format!("/api/v1/conversations/{}", a["conversation_id"]))
        .await;
    assert_eq!(conv["messages"].as_array().unwrap().len(), 1);
}

async fn bad_input_is_refused_and_nothing_written(app: TestApp) {
    let key = app.api_key("GM0344", None).await;
    let url = format!("{}/api/v1/inbound", app.base);
    let c = reqwest::Client::new();
    let problem = |r: reqwest::Response| async move {
        let s = r.status().as_u16();
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let v: Value = r.json().await.unwrap();
        (
            s,
            v["type"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string(),
        )
    };
    // No key / wrong key.
    assert_eq!(
        problem(
            c.post(&url)
                .json(&inbound_body("e", "a", "x"))
                .send()
                .await
                .unwrap()
        )
        .await,
        (401, "unauthorized".into())
    );
    assert_eq!(
        problem(
            c.post(&url)
                .bearer_auth("nope")
                .json(&inbound_body("e", "a", "x"))
                .send()
                .await
                .unwrap()
        )
        .await
        .0,
        401
    );
    // Malformed JSON, wrong content type, unknown field, missing field.
    let r = c
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await, (400, "bad-request".into()));
    let r = c
        .post(&url)
        .bearer_auth(&key)
        .body("text")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(r).await.0, 400);
    let mut extra = inbound_body("e", "a", "x");
    extra["surprise"] = json!(1);
    assert_eq!(problem(app.inbound(&key, &extra).await).await.0, 422);
    assert_eq!(
        problem(app.inbound(&key, &json!({"channel": "api"})).await)
            .await
            .0,
        422
    );
    // Empty and too long texts.
    assert_eq!(
        problem(app.inbound(&key, &inbound_body("e1", "a", "   ")).await).await,
        (422, "invalid".into())
    );
    assert_eq!(
        problem(
            app.inbound(&key, &inbound_body("e2", "a", &"x".repeat(4001)))
                .await
        )
        .await
        .0,
        422
    );
    // A body over the size limit.
    let big = inbound_body("e3", "a", &"x".repeat(300 * 1024));
    assert_eq!(problem(app.inbound(&key, &big).await).await.0, 413);
    // Unknown tenant, and a municipal key naming another municipality.
    let mut t = inbound_body("e4", "a", "x");
    t["tenant"] = json!("GM9999");
    assert_eq!(
        problem(app.inbound(&key, &t).await).await,
        (422, "unknown-tenant".into())
    );
    t["tenant"] = json!("GM0363");
    assert_eq!(problem(app.inbound(&key, &t).await).await.0, 403);
    // Bad coordinates.
    let mut g = inbound_body("e5", "a", "x");
    g["lat"] = json!(123.0);
    g["lon"] = json!(5.0);
    assert_eq!(problem(app.inbound(&key, &g).await).await.0, 422);
    assert_eq!(
        app.state.store.conversation_count().await.unwrap(),
        0,
        "nothing half-written"
    );
}

async fn html_is_shown_as_text(app: TestApp) {
    let key = app.api_key("GM0344", None).await;
    let v: Value = app
        .inbound(
            &key,
            &inbound_body("h1", "a", "<script>alert('x')</script><b>vet</b>"),
        )
        .await
        .json()
        .await
        .unwrap();
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let html = a
        .get(&format!("/conversations/{}", v["conversation_id"]))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("<script>alert"),
        "inbound HTML must not be executed"
    );
    assert!(
        html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
        "shown as escaped text"
    );
    let list = a.get("/inbox").await.text().await.unwrap();
    assert!(!list.contains("<b>vet</b>"));
}

async fn sla_deadline_skips_koningsdag(app: TestApp) {
    // Friday 24 April 2026, 16:00 in Amsterdam; Monday 27 April is Koningsdag. A normal-priority
    // first response (8 business hours) has 1 hour on Friday, none in the weekend or on
    // Koningsdag, and the remaining 7 hours on Tuesday: due Tuesday 28 April 15:30.
    let key = app.api_key("GM0344", None).await;
    let mut body = inbound_body("sla-1", "a", "Ik heb een vraag over mijn paspoort");
    body["sent_at"] = json!("2026-04-24T14:00:00Z");
    let v: Value = app.inbound(&key, &body).await.json().await.unwrap();
    let c = app
        .state
        .store
        .conversation_system(v["conversation_id"].as_i64().unwrap())
        .await
        .unwrap();
    let due = chrono::DateTime::<chrono::Utc>::from_timestamp_millis(c.first_response_due.unwrap())
        .unwrap();
    let expected = loket_core::sla::deadline(
        &loket_core::calendar::WeekSchedule::default_office(),
        &loket_core::sla::SlaTargets::default(),
        c.priority
            .parse::<String>()
            .map(|p| loket_core::Priority::parse(&p).unwrap())
            .unwrap(),
        loket_core::sla::SlaKind::FirstResponse,
        chrono::DateTime::parse_from_rfc3339("2026-04-24T14:00:00Z")
            .unwrap()
            .to_utc(),
    );
    assert_eq!(due, expected);
    assert_eq!(
        c.priority, "normaal",
        "a passport question has normal priority"
    );
    assert_eq!(
        due.to_rfc3339(),
        "2026-04-28T13:30:00+00:00",
        "Koningsdag and the weekend do not count"
    );
    // It is long past, so the inbox shows it as breached.
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let list = a.json("/api/v1/conversations?sla=breached").await;
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1);
    assert_eq!(list["counts"]["breached"], 1);
}
