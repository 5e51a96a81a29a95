//! An agent of one municipality gets 404 for another's conversations on every endpoint.

use crate::both;
use crate::helpers::*;
use serde_json::json;

both!(no_endpoint_leaks_across_tenants);

async fn no_endpoint_leaks_across_tenants(app: TestApp) {
    let utrecht = app
        .agent(
            "anna@test.nl",
            &[
                ("GM0344", "agent"),
                ("GM0344", "supervisor"),
                ("GM0344", "beheerder"),
            ],
        )
        .await;
    let amsterdam = app
        .agent(
            "daan@test.nl",
            &[
                ("GM0363", "agent"),
                ("GM0363", "supervisor"),
                ("GM0363", "coordinator"),
                ("GM0363", "beheerder"),
            ],
        )
        .await;
    let (_, id) = app
        .widget_post("GM0344", None, "Utrechtse vraag over de Oudegracht")
        .await;
    let reply = utrecht
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            &json!({"body": "Antwoord"}),
        )
        .await;
    let mid = reply.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let tpl = app.state.store.templates(None).await.unwrap()[0].id;

    let gets = [
        format!("/api/v1/conversations/{id}"),
        format!("/api/v1/conversations/{id}/templates/{tpl}"),
        format!("/conversations/{id}"),
        format!("/conversations/{id}/thread"),
        "/api/v1/templates?tenant=GM0344".to_string(),
        "/api/v1/conversations?tenant=GM0344".to_string(),
    ];
    for path in &gets {
        assert_eq!(amsterdam.get(path).await.status(), 404, "GET {path}");
    }
    let posts = [
        (
            format!("/api/v1/conversations/{id}/messages"),
            json!({"body": "x"}),
        ),
        (
            format!("/api/v1/conversations/{id}/messages"),
            json!({"body": "x", "note": true}),
        ),
        (
            format!("/api/v1/conversations/{id}/state"),
            json!({"state": "open"}),
        ),
        (
            format!("/api/v1/conversations/{id}/assign"),
            json!({"user_id": amsterdam.id}),
        ),
        (
            format!("/api/v1/conversations/{id}/priority"),
            json!({"priority": "hoog"}),
        ),
        (
            format!("/api/v1/conversations/{id}/team"),
            json!({"team_id": null}),
        ),
        (
            format!("/api/v1/conversations/{id}/labels"),
            json!({"label": "x"}),
        ),
        (
            format!("/api/v1/conversations/{id}/transfer"),
            json!({"tenant": "GM0363"}),
        ),
        (
            format!("/api/v1/conversations/{id}/link"),
            json!({"other_conversation_id": id}),
        ),
        (
            format!("/api/v1/conversations/{id}/typing"),
            json!({"active": true}),
        ),
        (
            format!("/api/v1/conversations/{id}/messages/{mid}/retry"),
            json!({}),
        ),
    ];
    for (path, body) in &posts {
        assert_eq!(
            amsterdam.post(path, body).await.status(),
            404,
            "POST {path}"
        );
    }
    assert_eq!(
        amsterdam
            .delete(&format!("/api/v1/conversations/{id}/labels/x"))
            .await
            .status(),
        404
    );
    for (action, value) in [
        ("state", "open"),
        ("assign", "me"),
        ("priority", "hoog"),
        ("label_add", "x"),
        ("label_remove", "x"),
        ("transfer", "GM0363"),
        ("link", "1"),
        ("retry", "1"),
        ("team", ""),
    ] {
        let r = amsterdam
            .form(
                &format!("/conversations/{id}/action"),
                &[("action", action), ("value", value)],
            )
            .await;
        assert_eq!(r.status(), 404, "form action {action}");
    }
    assert_eq!(
        amsterdam
            .form(&format!("/conversations/{id}/reply"), &[("body", "x")])
            .await
            .status(),
        404
    );
    // Lists and search show nothing of Utrecht.
    let list = amsterdam.json("/api/v1/conversations").await;
    assert!(list["conversations"].as_array().unwrap().is_empty());
    assert!(
        amsterdam
            .json("/api/v1/search?q=oudegracht")
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(
        !amsterdam
            .get("/inbox")
            .await
            .text()
            .await
            .unwrap()
            .contains("Oudegracht")
    );
    // And nothing changed.
    let c = utrecht.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(c["conversation"]["tenant_code"], "GM0344");
    assert_eq!(c["messages"].as_array().unwrap().len(), 2);
    assert!(c["labels"].as_array().unwrap().is_empty());
}
