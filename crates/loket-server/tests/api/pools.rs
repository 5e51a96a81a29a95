//! A pooled agent answers for two municipalities from one queue; each resident gets the reply in
//! the name and style of their own municipality.

use crate::both;
use crate::helpers::*;
use loket_core::tenant::{PoolHandover, TenantSettings};
use serde_json::{Value, json};

both!(
    pool_agent_answers_for_two_municipalities,
    handover_can_be_taken_back
);

async fn hand_over(app: &TestApp, code: &str, mode: PoolHandover) {
    let t = app.state.store.tenant(code).await.unwrap();
    let mut s = TenantSettings::from_json(&t.settings);
    s.handover = mode;
    app.state
        .store
        .update_tenant_settings(code, &t.display_name, &s.to_json())
        .await
        .unwrap();
    app.state.reload_tenants().await.unwrap();
}

async fn pool_agent_answers_for_two_municipalities(app: TestApp) {
    // Renswoude and Rhenen (both in the province of Utrecht) hand their inbox to the Utrecht pool.
    hand_over(&app, "GM0339", PoolHandover::Always).await;
    hand_over(&app, "GM0340", PoolHandover::Always).await;
    let pim = app.agent("pim@regio.nl", &[("PV26", "agent")]).await;
    let (tok_a, conv_a) = app
        .widget_post("GM0339", None, "Wanneer is het gemeentehuis open?")
        .await;
    let (tok_b, conv_b) = app
        .widget_post("GM0340", None, "Er ligt glas op het fietspad")
        .await;
    // One queue with both, each marked with its municipality.
    let list = pim.json("/api/v1/conversations").await;
    let rows = list["conversations"].as_array().unwrap();
    let tenants: Vec<&str> = rows
        .iter()
        .map(|r| r["tenant_code"].as_str().unwrap())
        .collect();
    assert!(
        tenants.contains(&"GM0339") && tenants.contains(&"GM0340"),
        "{tenants:?}"
    );
    let html = pim.get("/inbox").await.text().await.unwrap();
    assert!(html.contains("Gemeente Renswoude") && html.contains("Gemeente Rhenen"));
    // Pim answers both.
    for id in [conv_a, conv_b] {
        assert_eq!(
            pim.post(
                &format!("/api/v1/conversations/{id}/messages"),
                &json!({"body": "Dank voor uw bericht, we pakken het op."})
            )
            .await
            .status(),
            201
        );
    }
    let c = reqwest::Client::new();
    for (tenant, token, name) in [
        ("GM0339", &tok_a, "Gemeente Renswoude"),
        ("GM0340", &tok_b, "Gemeente Rhenen"),
    ] {
        let v: Value = c
            .get(format!(
                "{}/api/v1/widget/{tenant}/conversation?token={token}",
                app.base
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let reply = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["direction"] == "out")
            .unwrap()
            .clone();
        assert_eq!(
            reply["author"],
            format!("pim ({name})"),
            "the reply carries the municipality's name, never the pool's"
        );
        assert!(
            reply["body"]
                .as_str()
                .unwrap()
                .ends_with(&format!("Team Webcare {name}")),
            "and its signature"
        );
        assert!(!reply["body"].as_str().unwrap().contains("Regiopool"));
    }
    // The conversations stay the municipalities' own.
    assert_eq!(
        app.state
            .store
            .conversation_system(conv_a)
            .await
            .unwrap()
            .tenant_code,
        "GM0339"
    );
    // Pim does not see municipalities that did not hand over.
    let (_, other) = app.widget_post("GM0344", None, "Utrecht").await;
    hand_over(&app, "GM0344", PoolHandover::Never).await;
    assert_eq!(
        pim.get(&format!("/api/v1/conversations/{other}"))
            .await
            .status(),
        404
    );
}

async fn handover_can_be_taken_back(app: TestApp) {
    hand_over(&app, "GM0339", PoolHandover::Always).await;
    let pim = app.agent("pim@regio.nl", &[("PV26", "agent")]).await;
    let (_, id) = app.widget_post("GM0339", None, "Vraag").await;
    assert_eq!(
        pim.get(&format!("/api/v1/conversations/{id}"))
            .await
            .status(),
        200
    );
    hand_over(&app, "GM0339", PoolHandover::Never).await;
    assert_eq!(
        pim.get(&format!("/api/v1/conversations/{id}"))
            .await
            .status(),
        404
    );
    hand_over(&app, "GM0339", PoolHandover::Backlog { n: 0 }).await;
    assert_eq!(
        pim.get(&format!("/api/v1/conversations/{id}"))
            .await
            .status(),
        200,
        "one waiting is more than 0"
    );
}
