//! Replies to API-channel conversations go to the webhook, signed, and are retried.

use crate::both;
use crate::helpers::*;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};

both!(webhook_retry_after_failures, webhook_rejection_is_final);

#[derive(Clone, Default)]
struct Hook {
    calls: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    fail_first: usize,
    status: u16,
}

async fn stand_in(fail_first: usize, status: u16) -> (String, Hook) {
    let hook = Hook {
        fail_first,
        status,
        ..Default::default()
    };
    let h = hook.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let h = h.clone();
            async move {
                let mut calls = h.calls.lock().unwrap();
                calls.push((headers, body));
                if calls.len() <= h.fail_first {
                    StatusCode::from_u16(h.status).unwrap()
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (url, hook)
}

async fn webhook_retry_after_failures(app: TestApp) {
    let (url, hook) = stand_in(2, 500).await;
    let key = app.api_key("GM0344", Some((&url, "webhook-geheim"))).await;
    let v: Value = app
        .inbound(
            &key,
            &inbound_body("w-1", "klant-9", "Mijn container is niet geleegd"),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = v["conversation_id"].as_i64().unwrap();
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let m: Value = a
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "We komen hem morgen legen."}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mid = m["id"].as_i64().unwrap();
    assert_eq!(m["delivery_state"], "wachtrij");
    // Two failures (backoff 2 s, then 4 s), then delivered.
    let state = eventually(30, "delivery after retries", || {
        let s = app.state.store.clone();
        async move {
            s.message(mid)
                .await
                .ok()
                .and_then(|m| m.delivery_state)
                .filter(|d| d == "afgeleverd")
        }
    })
    .await;
    assert_eq!(state, "afgeleverd");
    let item = app.state.store.outbox_item(mid).await.unwrap();
    assert_eq!(item.attempts, 3);
    let calls = hook.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 3);
    let (headers, body) = &calls[2];
    let sig = headers["x-loket-signature"].to_str().unwrap();
    assert!(
        loket_channels::webhook::verify(b"webhook-geheim", body, sig),
        "signature checks out"
    );
    assert!(!loket_channels::webhook::verify(b"ander-geheim", body, sig));
    let payload: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(payload["message_id"], mid);
    assert_eq!(payload["recipient"], "klant-9");
    assert_eq!(payload["tenant"]["code"], "GM0344");
    assert!(
        payload["text"]
            .as_str()
            .unwrap()
            .starts_with("We komen hem morgen legen.")
    );
    // The agent sees the state next to the message.
    let html = a
        .get(&format!("/conversations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("delivery-afgeleverd"));
}

async fn webhook_rejection_is_final(app: TestApp) {
    let (url, hook) = stand_in(100, 410).await;
    let key = app.api_key("GM0344", Some((&url, "s"))).await;
    let v: Value = app
        .inbound(&key, &inbound_body("w-2", "k", "Vraag"))
        .await
        .json()
        .await
        .unwrap();
    let id = v["conversation_id"].as_i64().unwrap();
    let a = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let m: Value = a
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "Antwoord"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mid = m["id"].as_i64().unwrap();
    eventually(10, "failed state", || {
        let s = app.state.store.clone();
        async move {
            s.message(mid)
                .await
                .ok()
                .and_then(|m| m.delivery_state)
                .filter(|d| d == "mislukt")
        }
    })
    .await;
    assert_eq!(hook.calls.lock().unwrap().len(), 1, "a 410 is not retried");
    // An agent can retry by hand; it fails again but is tried once more.
    assert_eq!(
        a.post(
            &format!("/api/v1/conversations/{id}/messages/{mid}/retry"),
            &json!({})
        )
        .await
        .status(),
        202
    );
    eventually(10, "second attempt", || {
        let h = hook.clone();
        async move { (h.calls.lock().unwrap().len() == 2).then_some(()) }
    })
    .await;
}
