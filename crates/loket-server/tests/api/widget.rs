//! The resident's side: config, posting, resuming, live replies, and bad input.

use crate::both;
use crate::conversations::next_event;
use crate::helpers::*;
use serde_json::{Value, json};

both!(widget_roundtrip_with_live_reply, widget_bad_input);

async fn widget_roundtrip_with_live_reply(app: TestApp) {
    let c = reqwest::Client::new();
    let cfg: Value = c
        .get(format!("{}/api/v1/widget/GM0344/config", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cfg["display_name"], "Gemeente Utrecht");
    assert_eq!(cfg["primary_color"], "#c8102e");
    let r = c
        .get(format!("{}/api/v1/widget/GM0344/config", app.base))
        .header("origin", "https://www.utrecht.nl")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "*",
        "embeddable on the municipality's own site"
    );
    // Retrying the same client_id stores one message.
    let body =
        json!({"token": null, "name": "Fatima", "text": "Hallo!", "client_id": "abcdef12-3456"});
    let a: Value = c
        .post(format!("{}/api/v1/widget/GM0344/messages", app.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b: Value = c
        .post(format!("{}/api/v1/widget/GM0344/messages", app.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["token"], b["token"]);
    assert_eq!(a["message"]["id"], b["message"]["id"]);
    let token = a["token"].as_str().unwrap().to_string();
    let id = a["conversation_id"].as_i64().unwrap();
    // The resident's live socket receives the agent's reply, but not internal notes.
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/api/v1/widget/ws?token={token}",
        app.addr
    ))
    .await
    .unwrap();
    let anna = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    anna.post(
        &format!("/api/v1/conversations/{id}/messages"),
        &json!({"body": "Geheime notitie", "note": true}),
    )
    .await;
    anna.post(
        &format!("/api/v1/conversations/{id}/messages"),
        &json!({"body": "Dag Fatima!"}),
    )
    .await;
    let ev = next_event(&mut ws, |v| v["type"] == "message").await;
    assert!(
        ev["message"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Dag Fatima!")
    );
    assert_eq!(ev["message"]["author"], "anna (Gemeente Utrecht)");
    // Resuming after a reload shows the history without the note.
    let v: Value = c
        .get(format!(
            "{}/api/v1/widget/GM0344/conversation?token={token}",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bodies: Vec<&str> = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 2);
    assert!(!bodies.iter().any(|b| b.contains("Geheime")));
    // Resolving tells the widget.
    anna.post(
        &format!("/api/v1/conversations/{id}/state"),
        &json!({"state": "opgelost"}),
    )
    .await;
    let ev = next_event(&mut ws, |v| v["type"] == "state").await;
    assert_eq!(ev["state"], "opgelost");
    // The token only works on the widget of the municipality where it started.
    let r = c
        .get(format!(
            "{}/api/v1/widget/GM0363/conversation?token={token}",
            app.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

async fn widget_bad_input(app: TestApp) {
    let c = reqwest::Client::new();
    let post = |tenant: &'static str, body: Value| {
        let c = c.clone();
        let url = format!("{}/api/v1/widget/{tenant}/messages", app.base);
        async move {
            c.post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        c.get(format!("{}/api/v1/widget/GM9999/config", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        post("GM9999", json!({"text": "x", "client_id": "abcdefgh"})).await,
        404
    );
    assert_eq!(
        post("GM0344", json!({"text": "", "client_id": "abcdefgh"})).await,
        422
    );
    assert_eq!(
        post("GM0344", json!({"text": "x", "client_id": "kort"})).await,
        422
    );
    assert_eq!(
        post(
            "GM0344",
            json!({"text": "x", "client_id": "abcdefgh", "token": "bestaat-niet"})
        )
        .await,
        404
    );
    assert_eq!(
        post(
            "GM0344",
            json!({"text": "x".repeat(4001), "client_id": "abcdefgh"})
        )
        .await,
        422
    );
    assert_eq!(app.state.store.conversation_count().await.unwrap(), 0);
}
