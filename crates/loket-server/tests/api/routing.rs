//! The national entry: the text engine routes confident messages with their evidence, leaves
//! uncertain ones in triage with one-click candidates, flags urgent ones, and keeps corrections.

use crate::both;
use crate::conversations::{live_socket, next_event};
use crate::helpers::*;
use serde_json::json;

both!(
    neighbourhood_routes_to_municipality_with_evidence,
    uncertain_stays_in_triage_with_candidates,
    urgent_is_marked_and_alerts,
    corrections_are_kept,
    sender_history_decides_ambiguous_places,
    explanation_pages_are_public_and_list_every_figure
);

/// `/uitleg` and `/uitleg/cijfers` need no login; the figures page names every figure the code
/// defines, with its definition.
async fn explanation_pages_are_public_and_list_every_figure(app: TestApp) {
    let c = reqwest::Client::new();
    let uitleg = c.get(format!("{}/uitleg", app.base)).send().await.unwrap();
    assert_eq!(uitleg.status(), 200);
    assert!(uitleg.text().await.unwrap().contains("/uitleg/cijfers"));
    let r = c
        .get(format!("{}/uitleg/cijfers", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    for f in loket_core::metrics::FIGURES {
        assert!(html.contains(&format!("id=\"{}\"", f.id)), "{}", f.id);
        let def = f
            .definition_nl
            .replace('\'', "&#x27;")
            .replace('"', "&quot;");
        assert!(
            html.contains(f.definition_nl) || html.contains(&def),
            "definition of {}",
            f.id
        );
    }
}

async fn neighbourhood_routes_to_municipality_with_evidence(app: TestApp) {
    let anna = app.agent("anna@test.nl", &[("GM0344", "agent")]).await;
    let noor = app.agent("noor@test.nl", &[("NL", "coordinator")]).await;
    let (_, id) = app
        .widget_post(
            "NL",
            None,
            "De lantaarnpaal in Hoograven is al een week kapot",
        )
        .await;
    let c = anna.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(
        c["conversation"]["tenant_code"], "GM0344",
        "routed to Utrecht"
    );
    assert_eq!(c["conversation"]["origin_tenant_code"], "NL");
    assert_eq!(c["conversation"]["topic"], "openbare-ruimte.verlichting");
    assert_eq!(
        noor.get(&format!("/api/v1/conversations/{id}"))
            .await
            .status(),
        404,
        "no longer in national triage"
    );
    let html = anna
        .get(&format!("/conversations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Gemeente Utrecht — op basis van ‘Hoograven’"),
        "evidence visible to the agent"
    );
    // The resident keeps writing on the national widget and stays in the same conversation.
    let token = app
        .state
        .store
        .conversation_system(id)
        .await
        .unwrap()
        .widget_token
        .unwrap();
    let (_, again) = app
        .widget_post("NL", Some(&token), "Nog steeds kapot!")
        .await;
    assert_eq!(again, id);
}

async fn uncertain_stays_in_triage_with_candidates(app: TestApp) {
    let noor = app
        .agent("noor@test.nl", &[("NL", "coordinator"), ("NL", "agent")])
        .await;
    // Hengelo is a town in Overijssel and a village in Gelderland: not decided without context.
    let (_, id) = app
        .widget_post("NL", None, "De stoep in Hengelo is kapot")
        .await;
    let c = noor.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(
        c["conversation"]["tenant_code"], "NL",
        "stays in triage, never a guess"
    );
    let html = noor
        .get(&format!("/conversations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("data-candidates"),
        "one-click candidates offered"
    );
    assert!(
        html.contains("value=\"GM0164\"") && html.contains("value=\"GM1876\""),
        "both Hengelos offered"
    );
    // No place at all: triage, no candidates.
    let (_, id2) = app
        .widget_post(
            "NL",
            None,
            "Er ligt een losse stoeptegel bij ons in de straat",
        )
        .await;
    assert_eq!(
        noor.json(&format!("/api/v1/conversations/{id2}")).await["conversation"]["tenant_code"],
        "NL"
    );
    // One click on a candidate moves it, recorded in the history.
    let r = noor
        .form(
            &format!("/conversations/{id}/action"),
            &[("action", "transfer"), ("value", "GM0164")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let c = app.state.store.conversation_system(id).await.unwrap();
    assert_eq!(c.tenant_code, "GM0164");
}

async fn urgent_is_marked_and_alerts(app: TestApp) {
    let sup = app
        .agent("sanne@test.nl", &[("GM0355", "supervisor")])
        .await;
    let mut ws = live_socket(&app, &sup).await;
    let agent = app.agent("bram@test.nl", &[("GM0355", "agent")]).await;
    let mut agent_ws = live_socket(&app, &agent).await;
    let (_, id) = app
        .widget_post(
            "NL",
            None,
            "Ik ruik een sterke gaslucht in de Dorpsstraat in Zeist",
        )
        .await;
    let ev = next_event(&mut ws, |v| v["type"] == "alert").await;
    assert_eq!(ev["conversation_id"], id);
    assert_eq!(ev["tenant"], "GM0355");
    // The agent's screen gets the new conversation, but the alert goes to supervisors only:
    // after it, the next alert-or-marker event is the marker conversation, not an alert.
    next_event(&mut agent_ws, |v| {
        v["type"] == "conversation" && v["conversation_id"] == id
    })
    .await;
    let (_, marker) = app.widget_post("GM0355", None, "Markering").await;
    let next = next_event(&mut agent_ws, |v| {
        v["type"] == "alert" || (v["type"] == "conversation" && v["conversation_id"] == marker)
    })
    .await;
    assert_eq!(
        next["type"], "conversation",
        "agents do not get the supervisors' alert"
    );
    let c = app.state.store.conversation_system(id).await.unwrap();
    assert_eq!(c.priority, "spoed");
    assert_eq!(c.tenant_code, "GM0355");
    // Spoed jumps the queue.
    app.widget_post("GM0355", None, "Wanneer wordt het grofvuil opgehaald?")
        .await;
    let list = sup.json("/api/v1/conversations").await;
    assert_eq!(
        list["conversations"][0]["id"], id,
        "the urgent conversation is first"
    );
    let html = sup
        .get(&format!("/conversations/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Spoed herkend"),
        "the evidence of urgency is shown"
    );
}

async fn corrections_are_kept(app: TestApp) {
    let noor = app.agent("noor@test.nl", &[("NL", "coordinator")]).await;
    let (_, id) = app
        .widget_post(
            "NL",
            None,
            "De stoep in Hengelo is kapot, bel me op 0612345678",
        )
        .await;
    assert_eq!(
        noor.post(
            &format!("/api/v1/conversations/{id}/topic"),
            &json!({"topic": "geen.onderwerp"})
        )
        .await
        .status(),
        422
    );
    assert_eq!(
        noor.post(
            &format!("/api/v1/conversations/{id}/topic"),
            &json!({"topic": "openbare-ruimte.wegdek"})
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        noor.post(
            &format!("/api/v1/conversations/{id}/transfer"),
            &json!({"tenant": "GM1876"})
        )
        .await
        .status(),
        200
    );
    let corr = app.state.store.corrections(10).await.unwrap();
    let kinds: Vec<&str> = corr.iter().map(|c| c.kind.as_str()).collect();
    assert!(
        kinds.contains(&"topic") && kinds.contains(&"gemeente"),
        "{kinds:?}"
    );
    let g = corr.iter().find(|c| c.kind == "gemeente").unwrap();
    assert_eq!(
        (g.old_value.as_deref(), g.new_value.as_str()),
        (None, "GM1876")
    );
    assert!(
        !g.text.contains("0612345678"),
        "personal data is redacted in the training data: {}",
        g.text
    );
}

async fn sender_history_decides_ambiguous_places(app: TestApp) {
    let key = app.api_key("NL", None).await;
    let agent = app.agent("joost@test.nl", &[("GM1876", "agent")]).await;
    // Vorden lies in Bronckhorst only: this resident's first report goes there.
    let mut first = inbound_body(
        "h-1",
        "bewoner-42",
        "De lantaarnpaal bij de kerk in Vorden is kapot",
    );
    first["channel"] = json!("x");
    let v: serde_json::Value = app.inbound(&key, &first).await.json().await.unwrap();
    let id = v["conversation_id"].as_i64().unwrap();
    assert_eq!(
        app.state
            .store
            .conversation_system(id)
            .await
            .unwrap()
            .tenant_code,
        "GM1876"
    );
    assert_eq!(
        agent
            .post(
                &format!("/api/v1/conversations/{id}/state"),
                &json!({"state": "gesloten"})
            )
            .await
            .status(),
        200
    );
    // Later the same resident writes about "Hengelo": ambiguous on its own (Hengelo in Overijssel
    // or the village in Bronckhorst); the sender's history decides.
    let mut second = inbound_body("h-2", "bewoner-42", "De stoep in Hengelo is kapot");
    second["channel"] = json!("x");
    let v: serde_json::Value = app.inbound(&key, &second).await.json().await.unwrap();
    let id2 = v["conversation_id"].as_i64().unwrap();
    assert_ne!(
        id2, id,
        "a closed conversation is not reopened by a new report"
    );
    assert_eq!(
        app.state
            .store
            .conversation_system(id2)
            .await
            .unwrap()
            .tenant_code,
        "GM1876"
    );
    // Someone without that history stays in triage.
    let mut other = inbound_body("h-3", "bewoner-43", "De stoep in Hengelo is kapot");
    other["channel"] = json!("x");
    let v: serde_json::Value = app.inbound(&key, &other).await.json().await.unwrap();
    let id3 = v["conversation_id"].as_i64().unwrap();
    assert_eq!(
        app.state
            .store
            .conversation_system(id3)
            .await
            .unwrap()
            .tenant_code,
        "NL"
    );
}
