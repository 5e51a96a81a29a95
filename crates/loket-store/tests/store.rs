//! The store suite: every case runs on a fresh SQLite file and on a fresh PostgreSQL database.

use loket_core::ConversationState;
use loket_store::conversations::{Actor, Change, NewOutgoing};
use loket_store::testing::fresh;
use loket_store::{Backend, InboxFilter, NewInbound, Store, StoreError, TenantRow};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { if let Some(db) = super::fresh(super::Backend::Sqlite).await { super::$name(db.store).await } } )* }
        mod postgres { $( #[tokio::test] async fn $name() { if let Some(db) = super::fresh(super::Backend::Postgres).await { super::$name(db.store).await } } )* }
    };
}

both!(
    tenants_and_users,
    ingest_is_idempotent,
    state_machine_and_history,
    stale_update_is_rejected,
    tenant_scope,
    transfer_keeps_history,
    outbox_retry,
    search_dutch,
    templates_override,
    widget_token_resumes,
    admin_api_keys,
    admin_revoke_role,
    admin_templates_and_capacity,
);

async fn seed(s: &Store) {
    for (code, kind, name) in [
        ("GM0344", "gemeente", "Utrecht"),
        ("GM0363", "gemeente", "Amsterdam"),
        ("NL", "nationaal", "MijnGemeente"),
    ] {
        s.upsert_tenant(&TenantRow {
            code: code.into(),
            kind: kind.into(),
            name: name.into(),
            display_name: format!("Gemeente {name}"),
            province_code: None,
            pool_code: None,
            settings: "{}".into(),
            inhabitants: None,
            created_at: 0,
        })
        .await
        .unwrap();
    }
}

fn inbound(tenant: &str, ext: &str, author: &str, text: &str) -> NewInbound {
    NewInbound {
        tenant_code: tenant.into(),
        channel: "api".into(),
        external_id: ext.into(),
        author_id: author.into(),
        author_name: format!("Inwoner {author}"),
        text: text.into(),
        sent_at: loket_store::now_ms(),
        api_key_id: None,
        widget_token: None,
        priority: "normaal".into(),
        topic: None,
        language: Some("nl".into()),
        first_response_due: Some(loket_store::now_ms() + 3_600_000),
        resolution_due: None,
        events: vec![],
        analysis: None,
        open311: None,
        channel_info: None,
    }
}

fn t(codes: &[&str]) -> Vec<String> {
    codes.iter().map(|s| s.to_string()).collect()
}

fn agent() -> Actor {
    Actor {
        user_id: None,
        name: "Test".into(),
    }
}

async fn tenants_and_users(s: Store) {
    seed(&s).await;
    assert_eq!(s.tenant_count().await.unwrap(), 3);
    let id = s
        .create_user("anna@utrecht.nl", "Anna de Vries", "hash")
        .await
        .unwrap();
    s.grant(id, "GM0344", "agent").await.unwrap();
    s.grant(id, "GM0344", "agent").await.unwrap();
    s.grant(id, "GM0363", "supervisor").await.unwrap();
    assert_eq!(s.memberships(id).await.unwrap().len(), 2);
    assert!(matches!(
        s.create_user("anna@utrecht.nl", "x", "y").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.user_by_email("nobody@x.nl").await,
        Err(StoreError::NotFound)
    ));
    s.create_session("tok", id, "csrf", 60_000).await.unwrap();
    assert_eq!(s.session("tok").await.unwrap().user_id, id);
    s.delete_session("tok").await.unwrap();
    assert!(matches!(s.session("tok").await, Err(StoreError::NotFound)));
}

async fn ingest_is_idempotent(s: Store) {
    seed(&s).await;
    let a = s
        .ingest(&inbound("GM0344", "m1", "u1", "Losse stoeptegel"))
        .await
        .unwrap();
    let b = s
        .ingest(&inbound("GM0344", "m1", "u1", "Losse stoeptegel"))
        .await
        .unwrap();
    assert!(a.created && a.new_conversation);
    assert!(!b.created);
    assert_eq!(
        (a.conversation_id, a.message_id),
        (b.conversation_id, b.message_id)
    );
    assert_eq!(s.messages(a.conversation_id).await.unwrap().len(), 1);
    // A second message of the same resident joins the open conversation.
    let c = s
        .ingest(&inbound("GM0344", "m2", "u1", "Nog steeds niet gemaakt"))
        .await
        .unwrap();
    assert_eq!(c.conversation_id, a.conversation_id);
    assert!(!c.new_conversation);
    // Concurrent duplicates: exactly one message.
    let futs: Vec<_> = (0..8)
        .map(|_| {
            let s = s.clone();
            tokio::spawn(async move { s.ingest(&inbound("GM0344", "m3", "u2", "Tegelijk")).await })
        })
        .collect();
    for f in futs {
        f.await.unwrap().unwrap();
    }
    let convs = s
        .inbox(&InboxFilter {
            tenants: t(&["GM0344"]),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let total: usize = futures_count(
        &s,
        &convs.iter().map(|c| c.conversation.id).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(total, 3);
}

async fn futures_count(s: &Store, ids: &[i64]) -> usize {
    let mut n = 0;
    for id in ids {
        n += s.messages(*id).await.unwrap().len();
    }
    n
}

async fn state_machine_and_history(s: Store) {
    seed(&s).await;
    let g = t(&["GM0344"]);
    let a = s
        .ingest(&inbound("GM0344", "m1", "u1", "Vraag over paspoort"))
        .await
        .unwrap();
    let id = a.conversation_id;
    let err = s
        .change(
            id,
            &g,
            None,
            &agent(),
            &Change::State(ConversationState::Wachtend),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    s.change(
        id,
        &g,
        None,
        &agent(),
        &Change::State(ConversationState::Open),
    )
    .await
    .unwrap();
    let out = NewOutgoing {
        body: "Dag!".into(),
        note: false,
        sent_as_tenant: "GM0344".into(),
        outbox_payload: None,
    };
    s.add_outgoing(id, &g, &agent(), &out).await.unwrap();
    let c = s.conversation(id, &g).await.unwrap();
    assert_eq!(c.state, "wachtend");
    assert!(c.first_response_at.is_some());
    s.change(
        id,
        &g,
        None,
        &agent(),
        &Change::State(ConversationState::Opgelost),
    )
    .await
    .unwrap();
    assert!(s.conversation(id, &g).await.unwrap().resolved_at.is_some());
    // The resident writes again: it reopens.
    s.ingest(&inbound("GM0344", "m2", "u1", "Toch nog een vraag"))
        .await
        .unwrap();
    let c = s.conversation(id, &g).await.unwrap();
    assert_eq!(c.state, "open");
    assert!(c.resolved_at.is_none());
    let kinds: Vec<String> = s
        .events(id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        ["aangemaakt", "status", "antwoord", "status", "heropend"]
    );
}

async fn stale_update_is_rejected(s: Store) {
    seed(&s).await;
    let g = t(&["GM0344"]);
    let id = s
        .ingest(&inbound("GM0344", "m1", "u1", "x"))
        .await
        .unwrap()
        .conversation_id;
    let v = s.conversation(id, &g).await.unwrap().version;
    s.change(id, &g, Some(v), &agent(), &Change::Priority("hoog".into()))
        .await
        .unwrap();
    let err = s
        .change(id, &g, Some(v), &agent(), &Change::Priority("laag".into()))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    assert_eq!(s.conversation(id, &g).await.unwrap().priority, "hoog");
    let err = s
        .change(
            id,
            &g,
            None,
            &agent(),
            &Change::Priority("superhoog".into()),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    assert_eq!(s.events(id).await.unwrap().len(), 2, "nothing half-written");
}

async fn tenant_scope(s: Store) {
    seed(&s).await;
    let id = s
        .ingest(&inbound("GM0344", "m1", "u1", "Utrechtse vraag"))
        .await
        .unwrap()
        .conversation_id;
    let ams = t(&["GM0363"]);
    assert!(matches!(
        s.conversation(id, &ams).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.change(id, &ams, None, &agent(), &Change::Priority("hoog".into()))
            .await,
        Err(StoreError::NotFound)
    ));
    let out = NewOutgoing {
        body: "x".into(),
        note: true,
        sent_as_tenant: "GM0363".into(),
        outbox_payload: None,
    };
    assert!(matches!(
        s.add_outgoing(id, &ams, &agent(), &out).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.inbox(&InboxFilter {
            tenants: ams.clone(),
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .is_empty()
    );
    assert!(s.search(&ams, "utrechtse", 10).await.unwrap().is_empty());
    assert!(matches!(
        s.conversation(id, &[]).await,
        Err(StoreError::NotFound)
    ));
}

async fn transfer_keeps_history(s: Store) {
    seed(&s).await;
    let nl = t(&["NL"]);
    let id = s
        .ingest(&inbound(
            "NL",
            "m1",
            "u1",
            "Lantaarnpaal kapot in Hoograven",
        ))
        .await
        .unwrap()
        .conversation_id;
    s.change(
        id,
        &nl,
        None,
        &agent(),
        &Change::Transfer {
            to: "GM0344".into(),
            to_name: "Utrecht".into(),
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        s.conversation(id, &nl).await,
        Err(StoreError::NotFound)
    ));
    let c = s.conversation(id, &t(&["GM0344"])).await.unwrap();
    assert_eq!(c.origin_tenant_code, "NL");
    assert_eq!(s.messages(id).await.unwrap().len(), 1);
    assert_eq!(
        s.events(id).await.unwrap().last().unwrap().kind,
        "overdracht"
    );
    assert_eq!(
        s.search(&t(&["GM0344"]), "lantaarnpal", 5)
            .await
            .unwrap()
            .len(),
        1
    );
    let err = s
        .change(
            id,
            &t(&["GM0344"]),
            None,
            &agent(),
            &Change::Transfer {
                to: "GM9999".into(),
                to_name: "?".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)));
    // The resident writes again on the national entry: same conversation, now at Utrecht.
    let again = s
        .ingest(&inbound("NL", "m2", "u1", "Al bekend?"))
        .await
        .unwrap();
    assert_eq!(again.conversation_id, id);
}

async fn outbox_retry(s: Store) {
    seed(&s).await;
    let g = t(&["GM0344"]);
    let id = s
        .ingest(&inbound("GM0344", "m1", "u1", "x"))
        .await
        .unwrap()
        .conversation_id;
    let out = NewOutgoing {
        body: "Antwoord".into(),
        note: false,
        sent_as_tenant: "GM0344".into(),
        outbox_payload: Some("{}".into()),
    };
    let m = s.add_outgoing(id, &g, &agent(), &out).await.unwrap();
    assert_eq!(m.delivery_state.as_deref(), Some("wachtrij"));
    let claimed = s.claim_outbox(10, 30_000).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(
        s.claim_outbox(10, 30_000).await.unwrap().is_empty(),
        "leased item is not claimed twice"
    );
    assert!(
        !s.outbox_failed(claimed[0].id, m.id, claimed[0].attempts, "HTTP 500")
            .await
            .unwrap()
    );
    let item = s.outbox_item(m.id).await.unwrap();
    assert_eq!(
        (item.attempts, item.last_error.as_deref()),
        (1, Some("HTTP 500"))
    );
    s.outbox_delivered(item.id, m.id, false).await.unwrap();
    assert_eq!(
        s.message(m.id).await.unwrap().delivery_state.as_deref(),
        Some("verzonden")
    );
}

async fn search_dutch(s: Store) {
    seed(&s).await;
    let g = t(&["GM0344"]);
    let id = s
        .ingest(&inbound(
            "GM0344",
            "m1",
            "u1",
            "De stoeptegels liggen los bij het café",
        ))
        .await
        .unwrap()
        .conversation_id;
    let note = NewOutgoing {
        body: "Doorgezet naar de buitendienst".into(),
        note: true,
        sent_as_tenant: "GM0344".into(),
        outbox_payload: None,
    };
    s.add_outgoing(id, &g, &agent(), &note).await.unwrap();
    for q in ["stoeptegel", "cafe", "Café", "stoept", "buitendienst"] {
        let hits = s.search(&g, q, 10).await.unwrap();
        assert!(
            hits.iter().any(|h| h.conversation_id == Some(id)),
            "{q}: {hits:?}"
        );
    }
    assert!(
        !s.search(&g, "Inwoner u1", 10).await.unwrap().is_empty(),
        "contacts are searchable"
    );
    assert!(s.search(&g, "\"; DROP TABLE", 10).await.unwrap().is_empty());
}

async fn templates_override(s: Store) {
    seed(&s).await;
    s.upsert_template(None, "groet", "Groet", "Beste {{inwoner.naam}},")
        .await
        .unwrap();
    s.upsert_template(Some("GM0344"), "groet", "Groet", "Hoi {{inwoner.naam}},")
        .await
        .unwrap();
    s.upsert_template(None, "groet", "Groet", "Geachte {{inwoner.naam}},")
        .await
        .unwrap();
    let ut = s.templates(Some("GM0344")).await.unwrap();
    assert_eq!(ut.len(), 2);
    let ams = s.templates(Some("GM0363")).await.unwrap();
    assert_eq!(ams.len(), 1);
    assert_eq!(ams[0].body, "Geachte {{inwoner.naam}},");
}

async fn widget_token_resumes(s: Store) {
    seed(&s).await;
    let mut m = inbound("GM0344", "w1", "widget-abc", "Hallo");
    m.channel = "webchat".into();
    m.widget_token = Some("tok-abc".into());
    let a = s.ingest(&m).await.unwrap();
    m.external_id = "w2".into();
    let b = s.ingest(&m).await.unwrap();
    assert_eq!(a.conversation_id, b.conversation_id);
    assert_eq!(
        s.conversation_by_widget_token("tok-abc").await.unwrap().id,
        a.conversation_id
    );
}

async fn admin_api_keys(s: Store) {
    seed(&s).await;
    let a = s
        .create_api_key(
            "h1",
            "GM0344",
            "api",
            "Zaaksysteem",
            Some("https://x.nl/hook"),
            Some("geheim"),
        )
        .await
        .unwrap();
    let b = s
        .create_api_key("h2", "GM0344", "api", "Formulieren", None, None)
        .await
        .unwrap();
    s.create_api_key("h3", "GM0363", "api", "Amsterdam", None, None)
        .await
        .unwrap();
    let keys = s.api_keys_of("GM0344").await.unwrap();
    assert_eq!(keys.len(), 2);
    let ka = keys.iter().find(|k| k.id == a).unwrap();
    assert!(ka.has_webhook_secret);
    assert_eq!(ka.webhook_url.as_deref(), Some("https://x.nl/hook"));
    assert!(!keys.iter().find(|k| k.id == b).unwrap().has_webhook_secret);
    // Another tenant's key is out of reach.
    let other = s.api_keys_of("GM0363").await.unwrap()[0].id;
    assert!(matches!(
        s.delete_api_key("GM0344", other).await,
        Err(StoreError::NotFound)
    ));
    // Unused: deleted outright.
    s.delete_api_key("GM0344", b).await.unwrap();
    assert!(matches!(
        s.api_key_by_id(b).await,
        Err(StoreError::NotFound)
    ));
    // Used by a conversation: revoked, no longer authenticates, history keeps its reference.
    let mut m = inbound("GM0344", "k1", "u1", "Via de API");
    m.api_key_id = Some(a);
    let got = s.ingest(&m).await.unwrap();
    s.delete_api_key("GM0344", a).await.unwrap();
    assert!(matches!(s.api_key("h1").await, Err(StoreError::NotFound)));
    assert_eq!(s.api_key_by_id(a).await.unwrap().id, a);
    assert!(s.api_keys_of("GM0344").await.unwrap().is_empty());
    let c = s
        .conversation(got.conversation_id, &t(&["GM0344"]))
        .await
        .unwrap();
    assert_eq!(c.api_key_id, Some(a));
    assert!(matches!(
        s.delete_api_key("GM0344", a).await,
        Err(StoreError::NotFound)
    ));
}

async fn admin_revoke_role(s: Store) {
    seed(&s).await;
    let boss = s.create_user("boss@utrecht.nl", "Baas", "h").await.unwrap();
    let anna = s.create_user("anna@utrecht.nl", "Anna", "h").await.unwrap();
    s.grant(boss, "GM0344", "beheerder").await.unwrap();
    s.grant(anna, "GM0344", "agent").await.unwrap();
    s.grant(anna, "GM0363", "agent").await.unwrap();
    // The only beheerder stays.
    assert!(matches!(
        s.revoke_role("GM0344", boss, "beheerder").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.revoke_role("GM0344", anna, "supervisor").await,
        Err(StoreError::NotFound)
    ));
    s.grant(anna, "GM0344", "beheerder").await.unwrap();
    s.revoke_role("GM0344", boss, "beheerder").await.unwrap();
    assert!(s.memberships(boss).await.unwrap().is_empty());
    // Losing the last role in a tenant takes the user off that tenant's teams only.
    let team = s.create_team("GM0344", "Buitendienst").await.unwrap();
    let team_a = s.create_team("GM0363", "Centrum").await.unwrap();
    s.set_team_member("GM0344", team, anna, true).await.unwrap();
    s.set_team_member("GM0363", team_a, anna, true)
        .await
        .unwrap();
    s.revoke_role("GM0344", anna, "agent").await.unwrap();
    assert_eq!(s.team_members(team).await.unwrap(), vec![anna]);
    s.grant(boss, "GM0344", "beheerder").await.unwrap();
    s.revoke_role("GM0344", anna, "beheerder").await.unwrap();
    assert!(s.team_members(team).await.unwrap().is_empty());
    assert_eq!(s.team_members(team_a).await.unwrap(), vec![anna]);
}

async fn admin_templates_and_capacity(s: Store) {
    seed(&s).await;
    let national = s
        .upsert_template(None, "groet", "Begroeting", "Beste {{inwoner.naam}},")
        .await
        .unwrap();
    let own = s
        .create_template("GM0344", "groet", "Groet Utrecht", "Hoi {{inwoner.naam}}!")
        .await
        .unwrap();
    assert!(matches!(
        s.create_template("GM0344", "groet", "Dubbel", "x").await,
        Err(StoreError::Conflict(_))
    ));
    let other = s
        .create_template("GM0344", "afsluiting", "Tot ziens", "Doei")
        .await
        .unwrap();
    s.update_template("GM0344", own, "groet", "Groet", "Hallo {{inwoner.naam}}")
        .await
        .unwrap();
    // Renaming onto a key in use conflicts; national and foreign templates are not editable here.
    assert!(matches!(
        s.update_template("GM0344", other, "groet", "x", "y").await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.update_template("GM0344", national, "groet", "x", "y")
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.update_template("GM0363", own, "groet", "x", "y").await,
        Err(StoreError::NotFound)
    ));
    let all = s.templates(Some("GM0344")).await.unwrap();
    let row = all.iter().find(|t| t.id == own).unwrap();
    assert_eq!(row.body, "Hallo {{inwoner.naam}}");
    assert_eq!(
        all.iter().find(|t| t.id == national).unwrap().title,
        "Begroeting"
    );

    let u = s.create_user("bram@utrecht.nl", "Bram", "h").await.unwrap();
    s.set_max_open(u, 3).await.unwrap();
    assert_eq!(s.user(u).await.unwrap().max_open, 3);
    assert!(matches!(
        s.set_max_open(999_999, 3).await,
        Err(StoreError::NotFound)
    ));
}
