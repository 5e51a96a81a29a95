use crate::both;
use crate::helpers::*;
use serde_json::{Value, json};

both!(
    state_machine_via_api,
    stale_update_conflicts,
    round_robin_respects_capacity,
    transfer_keeps_history,
    templates_and_typing_and_search,
    live_socket_sees_new_messages
);

async fn state_machine_via_api(app: TestApp) {
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let (_, id) = app
        .widget_post("GM0344", None, "Waar kan ik mijn paspoort ophalen?")
        .await;
    let path = format!("/api/v1/conversations/{id}/state");
    let r = a.post(&path, &json!({"state": "wachtend"})).await;
    assert_eq!(r.status(), 422, "nieuw → wachtend is not allowed");
    let r = a.post(&path, &json!({"state": "vliegend"})).await;
    assert_eq!(r.status(), 422);
    assert_eq!(a.post(&path, &json!({"state": "open"})).await.status(), 200);
    let r = a
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "U kunt het ophalen bij het Stadskantoor."}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let c = a.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(c["conversation"]["state"], "wachtend");
    assert_eq!(
        a.post(&path, &json!({"state": "opgelost"})).await.status(),
        200
    );
    // The resident writes again: it reopens.
    let token = app
        .state
        .store
        .conversation_system(id)
        .await
        .unwrap()
        .widget_token
        .unwrap();
    app.widget_post("GM0344", Some(&token), "Nog een vraag!")
        .await;
    let c = a.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(c["conversation"]["state"], "open");
    let kinds: Vec<&str> = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.ends_with(&["status", "antwoord", "status", "heropend"]),
        "{kinds:?}"
    );
    // Reply bodies carry the municipality's signature.
    let out = c["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["direction"] == "out")
        .unwrap();
    assert!(
        out["body"]
            .as_str()
            .unwrap()
            .ends_with("Team Webcare Gemeente Utrecht")
    );
}

async fn stale_update_conflicts(app: TestApp) {
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let (_, id) = app.widget_post("GM0344", None, "Vraag").await;
    let v = a.json(&format!("/api/v1/conversations/{id}")).await["conversation"]["version"]
        .as_i64()
        .unwrap();
    assert_eq!(
        a.post(
            &format!("/api/v1/conversations/{id}/priority"),
            &json!({"priority": "hoog", "expected_version": v})
        )
        .await
        .status(),
        200
    );
    let r = a
        .post(
            &format!("/api/v1/conversations/{id}/priority"),
            &json!({"priority": "laag", "expected_version": v}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let p: Value = r.json().await.unwrap();
    assert_eq!(p["type"], "https://loket.nl/problems/conflict");
    assert_eq!(
        a.json(&format!("/api/v1/conversations/{id}")).await["conversation"]["priority"],
        "hoog"
    );
}

async fn round_robin_respects_capacity(app: TestApp) {
    let a = app.agent("a@test.nl", &[("GM0363", "agent")]).await;
    let b = app.agent("b@test.nl", &[("GM0363", "agent")]).await;
    for u in [a.id, b.id] {
        app.state.store.set_user_prefs(u, "nl", 1).await.unwrap();
    }
    a.online().await;
    b.online().await;
    let mut ids = vec![];
    for i in 0..3 {
        ids.push(
            app.widget_post("GM0363", None, &format!("Vraag {i} over afval"))
                .await
                .1,
        );
    }
    let assignee = |id: i64| {
        let s = app.state.store.clone();
        async move { s.conversation_system(id).await.unwrap().assignee_id }
    };
    let (x, y, z) = (
        assignee(ids[0]).await,
        assignee(ids[1]).await,
        assignee(ids[2]).await,
    );
    assert!(
        x.is_some() && y.is_some() && x != y,
        "the first two go to different agents: {x:?} {y:?}"
    );
    assert_eq!(z, None, "nobody has room for the third");
    // A third agent comes online and gets the waiting conversation.
    let c = app.agent("c@test.nl", &[("GM0363", "agent")]).await;
    c.online().await;
    assert_eq!(assignee(ids[2]).await, Some(c.id));
    // Offline agents get nothing.
    let d = app.agent("d@test.nl", &[("GM0363", "agent")]).await;
    let id4 = app.widget_post("GM0363", None, "Nog een vraag").await.1;
    assert_ne!(assignee(id4).await, Some(d.id));
}

async fn transfer_keeps_history(app: TestApp) {
    let noor = app
        .agent("noor@test.nl", &[("NL", "coordinator"), ("NL", "agent")])
        .await;
    let anna = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    // A message without any place stays in national triage.
    let (_, id) = app
        .widget_post("NL", None, "Ik heb een vraag over mijn belastingaanslag.")
        .await;
    let c = noor.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(c["conversation"]["tenant_code"], "NL");
    assert_eq!(
        anna.get(&format!("/api/v1/conversations/{id}"))
            .await
            .status(),
        404
    );
    // An agent without the coordinator role may not move it.
    let plain = app.agent("plain@test.nl", &[("NL", "agent")]).await;
    assert_eq!(
        plain
            .post(
                &format!("/api/v1/conversations/{id}/transfer"),
                &json!({"tenant": "GM0344"})
            )
            .await
            .status(),
        403
    );
    assert_eq!(
        noor.post(
            &format!("/api/v1/conversations/{id}/transfer"),
            &json!({"tenant": "GM9999"})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        noor.post(
            &format!("/api/v1/conversations/{id}/transfer"),
            &json!({"tenant": "GM0344"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        noor.get(&format!("/api/v1/conversations/{id}"))
            .await
            .status(),
        404
    );
    let c = anna.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(c["conversation"]["tenant_code"], "GM0344");
    assert_eq!(c["conversation"]["origin_tenant_code"], "NL");
    assert_eq!(c["messages"].as_array().unwrap().len(), 1);
    let last = c["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "overdracht");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("Gemeente Utrecht")
    );
}

async fn templates_and_typing_and_search(app: TestApp) {
    let anna = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let bram = app.agent("bram@test.nl", &[("GM0344", "agent")]).await;
    app.state
        .store
        .upsert_template(
            Some("GM0344"),
            "groet",
            "Groet",
            "Hoi {{inwoner.naam}}, met {{agent.voornaam}} van {{gemeente.naam}}.",
        )
        .await
        .unwrap();
    let (_, id) = app
        .widget_post(
            "GM0344",
            None,
            "De lantaarnpaal in de Kanaalstraat is kapot",
        )
        .await;
    let ts: Vec<Value> = anna
        .json("/api/v1/templates?tenant=GM0344")
        .await
        .as_array()
        .unwrap()
        .clone();
    let groet = ts.iter().find(|t| t["key"] == "groet").unwrap();
    assert_eq!(
        groet["tenant_code"], "GM0344",
        "the tenant's own template overrides the national one"
    );
    assert!(
        ts.iter()
            .any(|t| t["key"] == "afsluiting" && t["tenant_code"].is_null())
    );
    let r = anna
        .json(&format!(
            "/api/v1/conversations/{id}/templates/{}",
            groet["id"]
        ))
        .await;
    assert_eq!(r["text"], "Hoi Inwoner Test, met anna van Utrecht.");
    // Every variable the template editor accepts is filled in when an agent uses it.
    let all: String = loket_core::template::KNOWN_VARIABLES
        .iter()
        .map(|(k, _)| format!("{{{{{k}}}}} "))
        .collect();
    let tid = app
        .state
        .store
        .upsert_template(Some("GM0344"), "alles", "Alles", &all)
        .await
        .unwrap();
    let r = anna
        .get(&format!("/api/v1/conversations/{id}/templates/{tid}"))
        .await;
    assert_eq!(r.status(), 200, "all known variables render");
    // Typing: Bram's live socket hears that Anna is typing.
    let mut ws = live_socket(&app, &bram).await;
    assert_eq!(
        anna.post(
            &format!("/api/v1/conversations/{id}/typing"),
            &json!({"active": true})
        )
        .await
        .status(),
        204
    );
    let ev = next_event(&mut ws, |v| v["type"] == "typing").await;
    assert_eq!(ev["conversation_id"], id);
    assert_eq!(ev["active"], true);
    assert!(ev["name"].as_str().unwrap().starts_with("anna"));
    // Search is Dutch-aware and scoped.
    let hits = anna.json("/api/v1/search?q=lantaarnpalen").await;
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["conversation_id"] == id)
    );
    let daan = app.agent("daan@test.nl", &[("GM0363", "agent")]).await;
    assert!(
        daan.json("/api/v1/search?q=lantaarnpaal")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}

async fn live_socket_sees_new_messages(app: TestApp) {
    let anna = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let mut ws = live_socket(&app, &anna).await;
    let (_, id) = app
        .widget_post("GM0344", None, "Hallo, ik heb een vraag")
        .await;
    let ev = next_event(&mut ws, |v| v["type"] == "conversation").await;
    assert_eq!(ev["conversation_id"], id);
    assert_eq!(ev["change"], "created");
    // Events of other municipalities do not reach her.
    app.widget_post("GM0363", None, "Amsterdamse vraag").await;
    let (_, id2) = app.widget_post("GM0344", None, "Tweede vraag").await;
    let ev = next_event(&mut ws, |v| v["type"] == "conversation").await;
    assert_eq!(ev["conversation_id"], id2);
    // The live refresh of the list carries the tab counts.
    let r = anna.get("/inbox/list").await;
    let counts: Value =
        serde_json::from_str(r.headers()["x-loket-counts"].to_str().unwrap()).unwrap();
    assert_eq!(counts["all"], 2);
    assert_eq!(counts["unassigned"], 2);
    // A socket from another site is refused.
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/api/v1/live", app.addr),
    )
    .unwrap();
    req.headers_mut()
        .insert("cookie", anna.cookie.parse().unwrap());
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert!(tokio_tungstenite::connect_async(req).await.is_err());
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn live_socket(app: &TestApp, a: &Agent) -> Ws {
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        format!("ws://{}/api/v1/live", app.addr),
    )
    .unwrap();
    req.headers_mut()
        .insert("cookie", a.cookie.parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

pub async fn next_event(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> Value {
    use futures::StreamExt;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("no matching event within 10 s")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if pred(&v) {
                return v;
            }
        }
    }
}
