//! Forwarding reports to a municipality's Signalen installation, against a stand-in Signalen
//! that checks the payload shape like the public API would.

use crate::both;
use crate::helpers::*;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

both!(
    one_click_forward_stores_and_shows_the_id,
    failed_attempt_is_retried_once_signal,
    not_a_report_is_409_and_no_url_is_422,
    auto_forward_on_confident_report,
    other_tenants_conversation_is_404,
);

#[derive(Clone, Default)]
struct Signalen {
    /// Every request body, including rejected ones.
    calls: Arc<Mutex<Vec<Value>>>,
    /// Signals accepted (created).
    created: Arc<Mutex<Vec<Value>>>,
    fail_first: usize,
}

/// Checks what the public API requires; `Err` says why a payload is malformed.
fn check_shape(base: &str, v: &Value) -> Result<(), String> {
    let text = v["text"].as_str().ok_or("text missing")?;
    if text.trim().is_empty() {
        return Err("text is empty".into());
    }
    let sub = v["category"]["sub_category"]
        .as_str()
        .ok_or("category.sub_category missing")?;
    let rest = sub
        .strip_prefix(&format!("{base}/signals/v1/public/terms/categories/"))
        .ok_or(format!("sub_category not under this Signalen: {sub}"))?;
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() != 3 || parts[1] != "sub_categories" || parts[0].is_empty() {
        return Err(format!("bad sub_category {sub}"));
    }
    let loc = v["location"].as_object().ok_or("location missing")?;
    match loc.get("geometrie") {
        Some(g) => {
            let c = g["coordinates"].as_array().ok_or("coordinates missing")?;
            if g["type"] != "Point" || c.len() != 2 || !c.iter().all(Value::is_f64) {
                return Err("bad geometrie".into());
            }
        }
        None if loc.contains_key("address_text") => {}
        None => return Err("location without geometrie nor address_text".into()),
    }
    if v["reporter"]["sharing_allowed"] != false {
        return Err("reporter.sharing_allowed must be false".into());
    }
    let start = v["incident_date_start"]
        .as_str()
        .ok_or("incident_date_start missing")?;
    chrono::DateTime::parse_from_rfc3339(start).map_err(|e| e.to_string())?;
    if v["source"] != "Loket" {
        return Err("source".into());
    }
    Ok(())
}

/// A stand-in Signalen on 127.0.0.1:0; returns its base URL.
async fn stand_in(fail_first: usize) -> (String, Signalen) {
    let s = Signalen {
        fail_first,
        ..Default::default()
    };
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let h = s.clone();
    let b = base.clone();
    let app = axum::Router::new().route(
        "/signals/v1/public/signals",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let h = h.clone();
            let b = b.clone();
            async move {
                let n = {
                    let mut calls = h.calls.lock().unwrap();
                    calls.push(v.clone());
                    calls.len()
                };
                if n <= h.fail_first {
                    return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({})));
                }
                if let Err(e) = check_shape(&b, &v) {
                    return (StatusCode::BAD_REQUEST, axum::Json(json!({"detail": e})));
                }
                let mut created = h.created.lock().unwrap();
                created.push(v);
                let id = format!("0b6b0f5e-1b1a-4c1e-9d7a-{:012}", created.len());
                (StatusCode::CREATED, axum::Json(json!({"signal_id": id})))
            }
        }),
    );
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (base, s)
}

/// Sets a tenant's Signalen address and rule through the admin API.
async fn configure(app: &TestApp, tenant: &str, url: Option<&str>, auto: Option<f64>) {
    let admin = app
        .agent(
            &format!("beheer-{}@test.nl", uuid_like()),
            &[(tenant, "beheerder")],
        )
        .await;
    let current = admin
        .json(&format!("/api/v1/tenants/{tenant}/settings"))
        .await;
    let mut settings = current["settings"].clone();
    settings["signalen_url"] = json!(url);
    settings["signalen_auto_min_confidence"] = json!(auto);
    let r = admin
        .client
        .put(format!("{}/api/v1/tenants/{tenant}/settings", admin.base))
        .header("X-CSRF-Token", &admin.csrf)
        .json(&json!({"display_name": current["display_name"], "settings": settings}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// A report on the API channel of `tenant`, with coordinates; returns the conversation id.
async fn report(app: &TestApp, tenant: &str, ext: &str, text: &str, at: Option<(f64, f64)>) -> i64 {
    let key = app.api_key(tenant, None).await;
    let mut body = inbound_body(ext, &format!("bewoner-{ext}"), text);
    if let Some((lat, lon)) = at {
        body["lat"] = json!(lat);
        body["lon"] = json!(lon);
    }
    let r = app.inbound(&key, &body).await;
    assert_eq!(r.status(), 202, "inbound");
    let v: Value = r.json().await.unwrap();
    v["conversation_id"].as_i64().unwrap()
}

async fn set_topic(a: &Agent, id: i64, topic: &str) {
    let r = a
        .post(
            &format!("/api/v1/conversations/{id}/topic"),
            &json!({"topic": topic}),
        )
        .await;
    assert!(r.status().is_success(), "topic: {}", r.status());
}

async fn delivered_id(a: &Agent, id: i64) -> String {
    eventually(30, "Signalen id stored", || async move {
        let r = a.get(&format!("/api/v1/conversations/{id}/signalen")).await;
        if r.status() != 200 {
            return None;
        }
        let v: Value = r.json().await.ok()?;
        assert_ne!(v["state"], "mislukt", "forward failed: {v}");
        (v["state"] == "afgeleverd")
            .then(|| v["signal_id"].as_str().map(str::to_string))
            .flatten()
    })
    .await
}

async fn one_click_forward_stores_and_shows_the_id(app: TestApp) {
    let (base, sig) = stand_in(0).await;
    configure(&app, "GM0344", Some(&base), None).await;
    let id = report(
        &app,
        "GM0344",
        "s-1",
        "De lantaarnpaal voor Oudegracht 12 brandt al een week niet.",
        Some((52.0907, 5.1214)),
    )
    .await;
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    set_topic(&a, id, "openbare-ruimte.verlichting").await;
    // The page offers the one-click form.
    let html = a
        .get(&format!("/conversations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-signalen-form"), "button shown");
    // The form needs the CSRF token.
    let r = a
        .client
        .post(format!("{}/conversations/{id}/action", a.base))
        .form(&[("action", "signalen"), ("value", "1"), ("csrf", "fout")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = a
        .form(
            &format!("/conversations/{id}/action"),
            &[("action", "signalen"), ("value", "1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let signal_id = delivered_id(&a, id).await;
    let created = sig.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1);
    let p = &created[0];
    assert_eq!(
        p["category"]["sub_category"],
        format!(
            "{base}/signals/v1/public/terms/categories/wegen-verkeer-straatmeubilair/sub_categories/straatverlichting-openbare-klok"
        )
    );
    assert_eq!(
        p["location"]["geometrie"]["coordinates"],
        json!([5.1214, 52.0907])
    );
    assert_eq!(
        p["text"],
        "De lantaarnpaal voor Oudegracht 12 brandt al een week niet."
    );
    // The API channel's author id is not contact data the resident gave.
    assert!(p["reporter"]["email"].is_null() && p["reporter"]["phone"].is_null());
    // The page shows the id; a second forward is refused.
    let html = a
        .get(&format!("/conversations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Doorgestuurd naar Signalen"), "state shown");
    assert!(html.contains(&format!("SIG-{signal_id}")), "id shown");
    let r = a
        .post(&format!("/api/v1/conversations/{id}/signalen"), &json!({}))
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(sig.calls.lock().unwrap().len(), 1);
}

async fn failed_attempt_is_retried_once_signal(app: TestApp) {
    let (base, sig) = stand_in(1).await;
    configure(&app, "GM0344", Some(&base), None).await;
    let id = report(
        &app,
        "GM0344",
        "s-2",
        "Container aan de Lange Viestraat is vol.",
        None,
    )
    .await;
    let a = app.agent("bram@test.nl", &[("GM0344", "agent")]).await;
    set_topic(&a, id, "afval.container").await;
    let r = a
        .post(&format!("/api/v1/conversations/{id}/signalen"), &json!({}))
        .await;
    assert_eq!(r.status(), 202);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["state"], "wachtrij");
    // The failure is visible while the retry waits.
    eventually(10, "first attempt failed", || async {
        let v = a
            .json(&format!("/api/v1/conversations/{id}/signalen"))
            .await;
        (v["attempts"].as_i64() >= Some(1)).then_some(())
    })
    .await;
    let signal_id = delivered_id(&a, id).await;
    assert!(!signal_id.is_empty());
    assert_eq!(
        sig.calls.lock().unwrap().len(),
        2,
        "one failure, one success"
    );
    let created = sig.created.lock().unwrap().clone();
    assert_eq!(created.len(), 1, "exactly one signal");
    // No coordinates: no geometry, and the text says so.
    assert!(created[0]["location"].get("geometrie").is_none());
    assert!(
        created[0]["text"]
            .as_str()
            .unwrap()
            .contains("Locatie onbekend")
    );
    let v = a
        .json(&format!("/api/v1/conversations/{id}/signalen"))
        .await;
    assert_eq!(v["attempts"], 2);
}

async fn not_a_report_is_409_and_no_url_is_422(app: TestApp) {
    let (base, sig) = stand_in(0).await;
    configure(&app, "GM0344", Some(&base), None).await;
    let a = app
        .agent("carla@test.nl", &[("GM0344", "agent"), ("GM0363", "agent")])
        .await;
    let q = report(
        &app,
        "GM0344",
        "s-3",
        "Wanneer wordt het oud papier opgehaald?",
        None,
    )
    .await;
    set_topic(&a, q, "afval.inzameling").await;
    let r = a
        .post(&format!("/api/v1/conversations/{q}/signalen"), &json!({}))
        .await;
    assert_eq!(r.status(), 409);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "https://loket.nl/problems/conflict");
    // Amsterdam has no Signalen address.
    let m = report(
        &app,
        "GM0363",
        "s-4",
        "Lantaarnpaal kapot op het Damrak.",
        None,
    )
    .await;
    set_topic(&a, m, "openbare-ruimte.verlichting").await;
    let r = a
        .post(&format!("/api/v1/conversations/{m}/signalen"), &json!({}))
        .await;
    assert_eq!(r.status(), 422);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["status"], 422);
    assert!(sig.calls.lock().unwrap().is_empty());
    // An address that is not https is refused in the settings.
    let admin = app
        .agent("beheer@test.nl", &[("GM0363", "beheerder")])
        .await;
    let cur = admin.json("/api/v1/tenants/GM0363/settings").await;
    let mut s = cur["settings"].clone();
    s["signalen_url"] = json!("http://signalen.example.nl");
    let r = admin
        .client
        .put(format!("{}/api/v1/tenants/GM0363/settings", admin.base))
        .header("X-CSRF-Token", &admin.csrf)
        .json(&json!({"display_name": cur["display_name"], "settings": s}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

async fn auto_forward_on_confident_report(app: TestApp) {
    let (base, sig) = stand_in(0).await;
    configure(&app, "GM0344", Some(&base), Some(0.3)).await;
    let a = app.agent("dirk@test.nl", &[("GM0344", "agent")]).await;
    let id = report(
        &app,
        "GM0344",
        "s-5",
        "De straatverlichting in mijn straat is kapot, de lantaarnpaal doet het niet meer.",
        Some((52.09, 5.12)),
    )
    .await;
    let c = a.json(&format!("/api/v1/conversations/{id}")).await;
    let topic = c["conversation"]["topic"].clone();
    let analysis: Value =
        serde_json::from_str(c["conversation"]["analysis"].as_str().unwrap_or("{}")).unwrap();
    assert!(
        analysis["topic"]["confidence"].as_f64().unwrap_or(0.0) >= 0.3,
        "classifier is confident: {analysis}"
    );
    assert_eq!(topic, "openbare-ruimte.verlichting", "{analysis}");
    let signal_id = delivered_id(&a, id).await;
    assert!(!signal_id.is_empty());
    assert_eq!(sig.created.lock().unwrap().len(), 1);
    // A question on the same tenant is not forwarded.
    let q = report(
        &app,
        "GM0344",
        "s-6",
        "Hoe laat is het stadskantoor open op zaterdag?",
        None,
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        a.get(&format!("/api/v1/conversations/{q}/signalen"))
            .await
            .status(),
        404
    );
    assert_eq!(sig.created.lock().unwrap().len(), 1);
}

async fn other_tenants_conversation_is_404(app: TestApp) {
    let (base, sig) = stand_in(0).await;
    configure(&app, "GM0344", Some(&base), None).await;
    configure(&app, "GM0363", Some(&base), None).await;
    let utrecht = app.agent("eva@test.nl", &[("GM0344", "agent")]).await;
    let amsterdam = app.agent("finn@test.nl", &[("GM0363", "agent")]).await;
    let id = report(
        &app,
        "GM0344",
        "s-7",
        "Lantaarnpaal kapot bij de Dom.",
        Some((52.09, 5.12)),
    )
    .await;
    set_topic(&utrecht, id, "openbare-ruimte.verlichting").await;
    let r = amsterdam
        .post(&format!("/api/v1/conversations/{id}/signalen"), &json!({}))
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        amsterdam
            .get(&format!("/api/v1/conversations/{id}/signalen"))
            .await
            .status(),
        404
    );
    let r = amsterdam
        .form(
            &format!("/conversations/{id}/action"),
            &[("action", "signalen"), ("value", "1")],
        )
        .await;
    assert_eq!(r.status(), 404);
    assert!(sig.calls.lock().unwrap().is_empty());
}
