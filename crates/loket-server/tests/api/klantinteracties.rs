//! Resolved conversations are recorded at the tenant's Klantinteracties API (Open Klant): every
//! payload validated against the VNG OpenAPI schemas, exactly one klantcontact even when
//! attempts fail, and the token never shown or logged.

use crate::both;
use crate::helpers::*;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, OnceLock};

both!(
    resolve_registers_once_and_valid,
    first_attempt_fails_still_one_klantcontact,
    partial_failure_continues_without_second_klantcontact,
    follow_up_becomes_internetaak,
    follow_up_from_the_conversation_page,
    rejected_token_fails_visibly_then_manual_retry,
    token_never_shown_or_logged,
    tenant_isolation,
);

const TOKEN: &str = "ki-token-7f3a9c2e5b1d";
/// VNG's Klantinteracties OpenAPI (v0.9.0, EUPL-1.2), kept in the repository so CI validates
/// against it; `LOKET_KI_SPEC` points at another copy.
const SPEC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/specs/klantinteracties-openapi.yaml"
);

// ---------------------------------------------------------------- schema validation

/// OpenAPI 3.0 → JSON Schema: `nullable` allows null, readOnly properties are not required in a
/// request (and must not be sent), and objects with listed properties take no others.
fn to_json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            let read_only: Vec<String> = m
                .get("properties")
                .and_then(Value::as_object)
                .map(|p| {
                    p.iter()
                        .filter(|(_, s)| s.get("readOnly") == Some(&Value::Bool(true)))
                        .map(|(k, _)| k.clone())
                        .collect()
                })
                .unwrap_or_default();
            for (k, val) in m {
                match k.as_str() {
                    "nullable" => {}
                    "required" => {
                        let req: Vec<Value> = val
                            .as_array()
                            .unwrap()
                            .iter()
                            .filter(|r| !read_only.iter().any(|x| Some(x.as_str()) == r.as_str()))
                            .cloned()
                            .collect();
                        out.insert(k.clone(), Value::Array(req));
                    }
                    "properties" => {
                        let props = val
                            .as_object()
                            .unwrap()
                            .iter()
                            .map(|(pk, ps)| {
                                let s = if read_only.contains(pk) {
                                    Value::Bool(false)
                                } else {
                                    to_json_schema(ps)
                                };
                                (pk.clone(), s)
                            })
                            .collect();
                        out.insert(k.clone(), Value::Object(props));
                    }
                    _ => {
                        out.insert(k.clone(), to_json_schema(val));
                    }
                }
            }
            if m.contains_key("properties") && !m.contains_key("additionalProperties") {
                out.insert("additionalProperties".into(), Value::Bool(false));
            }
            if m.get("nullable") == Some(&Value::Bool(true)) {
                json!({"anyOf": [{"type": "null"}, Value::Object(out)]})
            } else {
                Value::Object(out)
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

fn spec() -> &'static Value {
    static SPEC_JSON: OnceLock<Value> = OnceLock::new();
    SPEC_JSON.get_or_init(|| {
        let path = std::env::var("LOKET_KI_SPEC").unwrap_or_else(|_| SPEC.to_string());
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the Klantinteracties OpenAPI file {path}: {e}"));
        serde_norway::from_str(&text).expect("valid YAML")
    })
}

/// The request body schema of `POST path`, resolved through its `$ref`.
fn request_validator(path: &str) -> jsonschema::Validator {
    let spec = spec();
    let r =
        spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("POST {path} has a request schema"));
    let root = json!({
        "$ref": r,
        "components": {"schemas": to_json_schema(&spec["components"]["schemas"])},
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&root)
        .expect("schema compiles")
}

fn assert_valid(path: &str, body: &Value) {
    let v = request_validator(path);
    let errors: Vec<String> = v.iter_errors(body).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "POST {path} payload does not match the VNG schema: {errors:?}\n{body:#}"
    );
}

#[test]
fn validator_rejects_wrong_payloads() {
    // A check of the check: the schema validation is real.
    let ok = json!({"kanaal": "webchat", "onderwerp": "x", "taal": "nld", "vertrouwelijk": false});
    assert_valid("/klantcontacten", &ok);
    let v = request_validator("/klantcontacten");
    assert!(!v.is_valid(&json!({"onderwerp": "x", "taal": "nld", "vertrouwelijk": false})));
    assert!(!v.is_valid(&json!({"kanaal": "webchat", "onderwerp": "x", "taal": "nederlands", "vertrouwelijk": false})));
    assert!(!v.is_valid(&json!({"kanaal": "w", "onderwerp": "x", "taal": "nld", "vertrouwelijk": false, "plaatsgevondenOp": "gisteren"})));
    assert!(!v.is_valid(&json!({"kanaal": "w", "onderwerp": "x", "taal": "nld", "vertrouwelijk": false, "uuid": "6f0b0a7e-8a36-4c43-9d1c-0b3f7f3a1a11"})));
    let b = request_validator("/betrokkenen");
    let kc = json!({"uuid": "6f0b0a7e-8a36-4c43-9d1c-0b3f7f3a1a11"});
    assert!(b.is_valid(&json!({"hadKlantcontact": kc, "rol": "klant", "initiator": true})));
    assert!(!b.is_valid(&json!({"hadKlantcontact": kc, "rol": "burger", "initiator": true})));
    assert!(!b.is_valid(
        &json!({"hadKlantcontact": {"uuid": "nope"}, "rol": "klant", "initiator": true})
    ));
    let t = request_validator("/internetaken");
    assert!(!t.is_valid(
        &json!({"aanleidinggevendKlantcontact": kc, "gevraagdeHandeling": "x", "status": "open"})
    ));
    assert!(
        request_validator("/onderwerpobjecten")
            .is_valid(&json!({"klantcontact": kc, "wasKlantcontact": null}))
    );
}

// ---------------------------------------------------------------- stand-in server

#[derive(Clone, Debug)]
struct Call {
    path: String,
    auth: String,
    body: Value,
}

#[derive(Clone, Default)]
struct Ki {
    calls: Arc<Mutex<Vec<Call>>>,
    /// (resource, how many of its first calls fail with 503); "" is every resource.
    fail: Arc<Mutex<Vec<(String, usize)>>>,
}

impl Ki {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
    /// Successful creations of `resource`.
    fn created(&self, resource: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| {
                c.path.ends_with(&format!("/{resource}")) && c.body.get("__failed").is_none()
            })
            .collect()
    }
}

async fn stand_in(fail: &[(&str, usize)]) -> (String, Ki) {
    let ki = Ki {
        fail: Arc::new(Mutex::new(
            fail.iter().map(|(r, n)| (r.to_string(), *n)).collect(),
        )),
        ..Default::default()
    };
    let k = ki.clone();
    let k2 = ki.clone();
    let app = axum::Router::new()
        .route(
            "/api/v1/{resource}",
            axum::routing::post(
                move |Path(resource): Path<String>, headers: HeaderMap, body: Bytes| {
                    let k = k.clone();
                    async move {
                        let auth = headers
                            .get("authorization")
                            .and_then(|h| h.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        if auth != format!("Token {TOKEN}") {
                            return (StatusCode::UNAUTHORIZED, "{}").into_response();
                        }
                        let mut body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let failing = {
                            let mut f = k.fail.lock().unwrap();
                            match f.iter_mut().find(|(r, n)| (r == &resource || r.is_empty()) && *n > 0) {
                                Some((_, n)) => {
                                    *n -= 1;
                                    true
                                }
                                None => false,
                            }
                        };
                        if failing {
                            body["__failed"] = Value::Bool(true);
                        }
                        k.calls.lock().unwrap().push(Call {
                            path: format!("/api/v1/{resource}"),
                            auth,
                            body,
                        });
                        if failing {
                            return (StatusCode::SERVICE_UNAVAILABLE, "{}").into_response();
                        }
                        let uuid = uuid::Uuid::new_v4().to_string();
                        (
                            StatusCode::CREATED,
                            axum::Json(json!({"uuid": uuid, "url": format!("http://ki/api/v1/{resource}/{uuid}")})),
                        )
                            .into_response()
                    }
                },
            )
            .get(move |headers: HeaderMap, OriginalUri(uri): OriginalUri| {
                let _ = &k2;
                async move {
                    let ok = headers.get("authorization").and_then(|h| h.to_str().ok())
                        == Some(&format!("Token {TOKEN}"));
                    assert!(uri.path().ends_with("/klantcontacten"));
                    if ok {
                        (StatusCode::OK, axum::Json(json!({"count": 0, "results": []}))).into_response()
                    } else {
                        StatusCode::UNAUTHORIZED.into_response()
                    }
                }
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/v1", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, ki)
}

/// Every recorded payload matches its schema and carries the token.
fn assert_all_valid(ki: &Ki) {
    for c in ki.calls() {
        assert_eq!(c.auth, format!("Token {TOKEN}"));
        let mut body = c.body.clone();
        if let Some(o) = body.as_object_mut() {
            o.remove("__failed");
        }
        let path = c.path.trim_start_matches("/api/v1");
        assert_valid(path, &body);
    }
}

// ---------------------------------------------------------------- helpers

async fn configure(app: &TestApp, admin: &Agent, tenant: &str, url: &str) {
    let r = admin
        .client
        .put(format!(
            "{}/api/v1/tenants/{tenant}/klantinteracties",
            app.base
        ))
        .header("X-CSRF-Token", &admin.csrf)
        .json(&json!({"enabled": true, "base_url": url, "token": TOKEN, "redact_pii": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token"], "ingesteld");
    assert!(!v.to_string().contains(TOKEN));
}

/// A conversation with a question carrying personal data and an answer; returns its id.
async fn conversation(app: &TestApp, agent: &Agent, tenant: &str) -> i64 {
    let (_, id) = app
        .widget_post(
            tenant,
            None,
            "Mijn container is niet geleegd. Bel me op 0612345678 of mail jan@example.nl",
        )
        .await;
    let r = agent
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "We komen hem morgen legen."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    id
}

async fn resolve(agent: &Agent, id: i64, follow_up: Option<&str>) {
    let mut body = json!({"state": "opgelost"});
    if let Some(f) = follow_up {
        body["follow_up"] = json!(f);
    }
    let r = agent
        .post(&format!("/api/v1/conversations/{id}/state"), &body)
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// Waits until the conversation's registration is delivered; returns the record.
async fn registered(app: &TestApp, agent: &Agent, id: i64, secs: u64) -> Value {
    eventually(secs, "Klantinteracties registration delivered", || {
        let s = app.state.store.clone();
        async move {
            let recs = s.ki_records(id).await.ok()?;
            let r = recs.first()?;
            let m = s.message(r.message_id).await.ok()?;
            (m.delivery_state.as_deref() == Some("afgeleverd")).then_some(())
        }
    })
    .await;
    let recs = agent
        .json(&format!("/api/v1/conversations/{id}/klantinteracties"))
        .await;
    assert_eq!(recs.as_array().unwrap().len(), 1);
    recs[0].clone()
}

async fn setup(app: &TestApp, fail: &[(&str, usize)]) -> (Ki, Agent) {
    let (url, ki) = stand_in(fail).await;
    let admin = app
        .agent(
            "beheer@test.nl",
            &[("GM0344", "agent"), ("GM0344", "beheerder")],
        )
        .await;
    configure(app, &admin, "GM0344", &url).await;
    (ki, admin)
}

// ---------------------------------------------------------------- tests

async fn resolve_registers_once_and_valid(app: TestApp) {
    let (ki, a) = setup(&app, &[]).await;
    let id = conversation(&app, &a, "GM0344").await;
    resolve(&a, id, None).await;
    let rec = registered(&app, &a, id, 15).await;
    assert_eq!(ki.created("klantcontacten").len(), 1);
    assert_eq!(ki.created("betrokkenen").len(), 1);
    assert_eq!(ki.created("onderwerpobjecten").len(), 1);
    assert_eq!(ki.created("internetaken").len(), 0);
    assert_eq!(ki.calls().len(), 3);
    assert_all_valid(&ki);
    let kc = &ki.created("klantcontacten")[0].body;
    let inhoud = kc["inhoud"].as_str().unwrap();
    assert!(inhoud.contains("container"), "{inhoud}");
    assert!(
        !inhoud.contains("0612345678") && !inhoud.contains("jan@example.nl"),
        "PII redacted: {inhoud}"
    );
    assert_eq!(kc["kanaal"], "webchat");
    assert!(kc["plaatsgevondenOp"].is_string());
    let kc_uuid = rec["klantcontact_uuid"].as_str().unwrap();
    let b = &ki.created("betrokkenen")[0].body;
    assert_eq!(b["hadKlantcontact"]["uuid"], kc_uuid);
    let o = &ki.created("onderwerpobjecten")[0].body;
    assert_eq!(o["klantcontact"]["uuid"], kc_uuid);
    assert!(
        o["onderwerpobjectidentificator"]["objectId"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/conversations/{id}"))
    );
    assert_eq!(rec["step"], "klaar");
    // Resolving again is refused (no state change) and registers nothing more.
    let r = a
        .post(
            &format!("/api/v1/conversations/{id}/state"),
            &json!({"state": "opgelost"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(ki.created("klantcontacten").len(), 1);
}

async fn first_attempt_fails_still_one_klantcontact(app: TestApp) {
    let (ki, a) = setup(&app, &[("klantcontacten", 1)]).await;
    let id = conversation(&app, &a, "GM0344").await;
    resolve(&a, id, None).await;
    // The note shows the queued state while it retries.
    let rec = registered(&app, &a, id, 20).await;
    let item = app
        .state
        .store
        .outbox_item(rec["message_id"].as_i64().unwrap())
        .await
        .unwrap();
    assert_eq!(item.attempts, 2, "one failure, one success");
    assert_eq!(ki.created("klantcontacten").len(), 1);
    assert_eq!(
        ki.calls()
            .iter()
            .filter(|c| c.path.ends_with("/klantcontacten"))
            .count(),
        2
    );
    assert_eq!(ki.created("betrokkenen").len(), 1);
    assert_eq!(ki.created("onderwerpobjecten").len(), 1);
    assert_all_valid(&ki);
}

async fn partial_failure_continues_without_second_klantcontact(app: TestApp) {
    let (ki, a) = setup(&app, &[("betrokkenen", 1), ("onderwerpobjecten", 1)]).await;
    let id = conversation(&app, &a, "GM0344").await;
    resolve(&a, id, None).await;
    let rec = registered(&app, &a, id, 30).await;
    assert_eq!(
        ki.created("klantcontacten").len(),
        1,
        "never a second klantcontact"
    );
    assert_eq!(
        ki.calls()
            .iter()
            .filter(|c| c.path.ends_with("/klantcontacten"))
            .count(),
        1
    );
    assert_eq!(ki.created("betrokkenen").len(), 1);
    assert_eq!(ki.created("onderwerpobjecten").len(), 1);
    let kc_uuid = rec["klantcontact_uuid"].as_str().unwrap();
    for c in ki
        .calls()
        .iter()
        .filter(|c| !c.path.ends_with("/klantcontacten"))
    {
        let r = c
            .body
            .get("hadKlantcontact")
            .or(c.body.get("klantcontact"))
            .unwrap();
        assert_eq!(r["uuid"], kc_uuid);
    }
    assert_all_valid(&ki);
}

async fn follow_up_becomes_internetaak(app: TestApp) {
    let (ki, a) = setup(&app, &[]).await;
    // An actor for the back office makes the task assigned.
    let actor = "0b6a3a1e-4f6b-4d2b-9f1e-5a7c9d3e2f10";
    let r = a
        .client
        .put(format!("{}/api/v1/tenants/GM0344/klantinteracties", app.base))
        .header("X-CSRF-Token", &a.csrf)
        .json(&json!({"enabled": true, "base_url": ki_url(&a, &app).await, "redact_pii": true, "actor_uuid": actor}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token"], "ingesteld", "leaving the token out keeps it");
    let id = conversation(&app, &a, "GM0344").await;
    resolve(
        &a,
        id,
        Some("Container vervangen; bewoner belt terug op 0612345678"),
    )
    .await;
    let rec = registered(&app, &a, id, 15).await;
    let tasks = ki.created("internetaken");
    assert_eq!(tasks.len(), 1);
    let t = &tasks[0].body;
    assert_eq!(
        t["aanleidinggevendKlantcontact"]["uuid"],
        rec["klantcontact_uuid"]
    );
    assert_eq!(t["status"], "te_verwerken");
    assert_eq!(t["toegewezenAanActoren"][0]["uuid"], actor);
    assert!(
        t["toelichting"]
            .as_str()
            .unwrap()
            .contains("Container vervangen")
    );
    assert!(!t["toelichting"].as_str().unwrap().contains("0612345678"));
    assert!(rec["internetaak_uuid"].is_string());
    assert_eq!(rec["step"], "klaar");
    assert_all_valid(&ki);
}

async fn ki_url(a: &Agent, _app: &TestApp) -> String {
    a.json("/api/v1/tenants/GM0344/klantinteracties").await["base_url"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Captures everything the server logs in this test process.
async fn token_never_shown_or_logged(app: TestApp) {
    let logs = log_buffer();
    tracing::info!("log capture is on");
    let (ki, a) = setup(&app, &[("klantcontacten", 1)]).await;
    // Pages: the admin page says "ingesteld" and has an empty password field.
    let page = a
        .get("/admin/GM0344/klantinteracties")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("ingesteld"));
    assert!(!page.contains(TOKEN));
    // The form keeps the token when left empty, and "test verbinding" reports in Dutch.
    let r = a
        .form(
            "/admin/GM0344/klantinteracties",
            &[
                ("enabled", "1"),
                ("base_url", &ki_url(&a, &app).await),
                ("token", ""),
                ("redact_pii", "1"),
                ("actor_uuid", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = a.form("/admin/GM0344/klantinteracties/test", &[]).await;
    let html = r.text().await.unwrap();
    assert!(html.contains("Verbinding gelukt"), "{html}");
    assert!(!html.contains(TOKEN));
    let v = a.json("/api/v1/tenants/GM0344/klantinteracties").await;
    assert_eq!(v["token_set"], true);
    assert!(!v.to_string().contains(TOKEN));
    let t: Value = a
        .post("/api/v1/tenants/GM0344/klantinteracties/test", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t["ok"], true);
    // Stored encrypted: the database row does not hold the token.
    let row = app
        .state
        .store
        .ki_settings("GM0344")
        .await
        .unwrap()
        .unwrap();
    assert!(!row.token_enc.as_deref().unwrap().contains(TOKEN));
    // A delivery with a failure and a retry, then every page and response of the conversation.
    let id = conversation(&app, &a, "GM0344").await;
    resolve(&a, id, Some("terugbellen")).await;
    registered(&app, &a, id, 20).await;
    for path in [
        format!("/api/v1/conversations/{id}"),
        format!("/api/v1/conversations/{id}/klantinteracties"),
        format!("/conversations/{id}"),
        "/api/v1/tenants/GM0344/klantinteracties".to_string(),
        "/admin/GM0344/klantinteracties".to_string(),
        "/api/openapi.json".to_string(),
    ] {
        let body = a.get(&path).await.text().await.unwrap();
        assert!(!body.contains(TOKEN), "token shown at {path}");
    }
    assert_eq!(ki.created("klantcontacten").len(), 1);
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(text.contains("log capture is on"), "logs are captured");
    assert!(
        text.contains("Klantinteracties registration failed"),
        "the failed attempt was logged"
    );
    assert!(!text.contains(TOKEN), "token in the logs");
}

async fn tenant_isolation(app: TestApp) {
    let (ki, a) = setup(&app, &[]).await;
    // Amsterdam's beheerder cannot see or change Utrecht's settings.
    let other = app
        .agent(
            "adam@test.nl",
            &[("GM0363", "agent"), ("GM0363", "beheerder")],
        )
        .await;
    assert_eq!(
        other
            .get("/api/v1/tenants/GM0344/klantinteracties")
            .await
            .status(),
        404
    );
    let r = other
        .client
        .put(format!(
            "{}/api/v1/tenants/GM0344/klantinteracties",
            app.base
        ))
        .header("X-CSRF-Token", &other.csrf)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        other.get("/admin/GM0344/klantinteracties").await.status(),
        404
    );
    // An agent (not beheerder) of Utrecht cannot either.
    let agent = app.agent("agent@test.nl", &[("GM0344", "agent")]).await;
    assert_eq!(
        agent
            .get("/api/v1/tenants/GM0344/klantinteracties")
            .await
            .status(),
        403
    );
    // Amsterdam has no connection: its resolved conversations go nowhere.
    let v = other.json("/api/v1/tenants/GM0363/klantinteracties").await;
    assert_eq!(v["token"], "niet ingesteld");
    let id = conversation(&app, &other, "GM0363").await;
    resolve(&other, id, None).await;
    // Utrecht's does.
    let uid = conversation(&app, &a, "GM0344").await;
    resolve(&a, uid, None).await;
    registered(&app, &a, uid, 15).await;
    assert!(app.state.store.ki_records(id).await.unwrap().is_empty());
    assert_eq!(ki.created("klantcontacten").len(), 1);
    // Utrecht's registrations are not visible to Amsterdam.
    assert_eq!(
        other
            .get(&format!("/api/v1/conversations/{uid}/klantinteracties"))
            .await
            .status(),
        404
    );
}

async fn follow_up_from_the_conversation_page(app: TestApp) {
    let (ki, a) = setup(&app, &[]).await;
    let id = conversation(&app, &a, "GM0344").await;
    let page = a
        .get(&format!("/conversations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("name=\"follow_up\""),
        "the resolve form offers the follow-up field"
    );
    let r = a
        .form(
            &format!("/conversations/{id}/action"),
            &[
                ("action", "state"),
                ("value", "opgelost"),
                ("follow_up", "Graag terugbellen"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    registered(&app, &a, id, 15).await;
    let tasks = ki.created("internetaken");
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].body["toelichting"], "Graag terugbellen");
    assert!(tasks[0].body.get("toegewezenAanActoren").is_none());
    assert_all_valid(&ki);
}

async fn rejected_token_fails_visibly_then_manual_retry(app: TestApp) {
    let (ki, a) = setup(&app, &[]).await;
    let url = ki_url(&a, &app).await;
    let put = |token: &'static str| {
        a.client
            .put(format!(
                "{}/api/v1/tenants/GM0344/klantinteracties",
                app.base
            ))
            .header("X-CSRF-Token", &a.csrf)
            .json(&json!({"enabled": true, "base_url": url, "token": token, "redact_pii": true}))
            .send()
    };
    assert_eq!(put("verkeerd-token").await.unwrap().status(), 200);
    let id = conversation(&app, &a, "GM0344").await;
    resolve(&a, id, None).await;
    // A 401 is not retried: the note shows "mislukt" with the reason.
    let mid = eventually(15, "registration failed", || {
        let s = app.state.store.clone();
        async move {
            let r = s.ki_records(id).await.ok()?.into_iter().next()?;
            let m = s.message(r.message_id).await.ok()?;
            (m.delivery_state.as_deref() == Some("mislukt")).then_some(r.message_id)
        }
    })
    .await;
    let item = app.state.store.outbox_item(mid).await.unwrap();
    assert!(item.last_error.unwrap().contains("HTTP 401"));
    assert_eq!(ki.calls().len(), 0, "the stand-in refused before recording");
    // The beheerder fixes the token; the agent retries by hand.
    assert_eq!(put(TOKEN).await.unwrap().status(), 200);
    let r = a
        .post(
            &format!("/api/v1/conversations/{id}/messages/{mid}/retry"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 202);
    registered(&app, &a, id, 15).await;
    assert_eq!(ki.created("klantcontacten").len(), 1);
    assert_all_valid(&ki);
}
