//! Rollups kept at intake time agree with a scan of the raw tables, on SQLite and PostgreSQL,
//! and a failed transaction leaves them untouched.

use loket_core::ConversationState;
use loket_store::conversations::{Actor, Change, NewOutgoing};
use loket_store::rollups::RollupRow;
use loket_store::testing::fresh;
use loket_store::{Backend, NewInbound, NewOpen311, Store, TenantRow, now_ms};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { if let Some(db) = super::fresh(super::Backend::Sqlite).await { super::$name(db.store).await } } )* }
        mod postgres { $( #[tokio::test] async fn $name() { if let Some(db) = super::fresh(super::Backend::Postgres).await { super::$name(db.store).await } } )* }
    };
}

both!(
    rollups_match_raw_scan,
    failed_transaction_leaves_rollups,
    bulk_history_matches_raw_scan
);

const ALL: [&str; 3] = ["GM0344", "GM0363", "PL01"];

async fn seed(s: &Store) {
    for (code, kind, name) in [
        ("PL01", "regio", "Pool Midden"),
        ("GM0344", "gemeente", "Utrecht"),
        ("GM0363", "gemeente", "Amsterdam"),
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

fn inbound(
    tenant: &str,
    ext: &str,
    author: &str,
    topic: Option<&str>,
    sentiment: &str,
) -> NewInbound {
    NewInbound {
        tenant_code: tenant.into(),
        channel: if author.ends_with('w') {
            "widget"
        } else {
            "api"
        }
        .into(),
        external_id: ext.into(),
        author_id: author.into(),
        author_name: format!("Inwoner {author}"),
        text: "Er ligt een losse stoeptegel".into(),
        sent_at: now_ms(),
        api_key_id: None,
        widget_token: None,
        priority: "normaal".into(),
        topic: topic.map(str::to_string),
        language: Some("nl".into()),
        first_response_due: None,
        resolution_due: None,
        events: vec![],
        analysis: Some(format!(r#"{{"sentiment":"{sentiment}","urgent":false}}"#)),
        open311: None,
        channel_info: None,
    }
}

fn all() -> Vec<String> {
    ALL.iter().map(|s| s.to_string()).collect()
}

fn agent() -> Actor {
    Actor {
        user_id: None,
        name: "Test".into(),
    }
}

fn reply(as_tenant: &str) -> NewOutgoing {
    NewOutgoing {
        body: "Dank voor uw bericht".into(),
        note: false,
        sent_as_tenant: as_tenant.into(),
        outbox_payload: None,
    }
}

async fn state(s: &Store, id: i64, to: ConversationState) {
    s.change(id, &all(), None, &agent(), &Change::State(to))
        .await
        .unwrap();
}

/// Rollups and raw scan over a window around now.
async fn both_ways(s: &Store) -> (Vec<RollupRow>, Vec<RollupRow>) {
    let (from, to) = (now_ms() - 86_400_000, now_ms() + 7_200_000);
    (
        s.rollups(&all(), from, to).await.unwrap(),
        s.rollups_raw(&all(), from, to).await.unwrap(),
    )
}

async fn rollups_match_raw_scan(s: Store) {
    seed(&s).await;
    let sentiments = ["positief", "neutraal", "negatief"];
    let mut ids = vec![];
    for i in 0..12 {
        let tenant = if i % 3 == 0 { "GM0363" } else { "GM0344" };
        let author = if i % 2 == 0 {
            format!("u{i}w")
        } else {
            format!("u{i}")
        };
        let topic = (i % 4 != 0).then_some(if i % 2 == 0 { "afval" } else { "wegen" });
        let r = s
            .ingest(&inbound(
                tenant,
                &format!("m{i}"),
                &author,
                topic,
                sentiments[i % 3],
            ))
            .await
            .unwrap();
        ids.push(r.conversation_id);
        // A follow-up message in the same conversation.
        if i % 3 == 1 {
            s.ingest(&inbound(
                tenant,
                &format!("m{i}b"),
                &author,
                topic,
                "neutraal",
            ))
            .await
            .unwrap();
        }
    }
    // A pool takes over one Utrecht conversation and answers it on Utrecht's behalf.
    s.change(
        ids[1],
        &all(),
        None,
        &agent(),
        &Change::Transfer {
            to: "PL01".into(),
            to_name: "Pool Midden".into(),
        },
    )
    .await
    .unwrap();
    for (n, &id) in ids.iter().enumerate().take(9) {
        let as_tenant = if n % 3 == 0 { "GM0363" } else { "GM0344" };
        s.add_outgoing(id, &all(), &agent(), &reply(as_tenant))
            .await
            .unwrap();
        if n % 2 == 0 {
            // A second reply is outbound volume but not a first response.
            s.add_outgoing(id, &all(), &agent(), &reply(as_tenant))
                .await
                .unwrap();
        }
        // A note is neither.
        s.add_outgoing(
            id,
            &all(),
            &agent(),
            &NewOutgoing {
                note: true,
                ..reply(as_tenant)
            },
        )
        .await
        .unwrap();
    }
    for &id in &ids[..7] {
        state(&s, id, ConversationState::Opgelost).await;
    }
    // Reopen by a new message of the resident (ids[2]: author u2w, GM0344, topic afval).
    s.ingest(&inbound("GM0344", "m2c", "u2w", Some("afval"), "negatief"))
        .await
        .unwrap();
    // Reopen by hand, and resolve again: not a second first resolution.
    state(&s, ids[3], ConversationState::Open).await;
    state(&s, ids[3], ConversationState::Opgelost).await;
    state(&s, ids[4], ConversationState::Gesloten).await;
    state(&s, ids[5], ConversationState::Gesloten).await;

    let (rolled, raw) = both_ways(&s).await;
    assert!(!rolled.is_empty());
    assert_eq!(rolled, raw, "rollups differ from the raw scan");
    let t = RollupRow::total(&rolled);
    assert_eq!(t.new_conversations, 12);
    assert_eq!(t.inbound, 12 + 4 + 1);
    assert_eq!(t.outbound, 9 + 5);
    assert_eq!(t.first_responses, 9);
    assert_eq!(t.first_response_hist.count(), 9);
    assert_eq!(
        t.resolutions, 7,
        "a reopened or closed conversation counts once"
    );
    assert_eq!(t.resolution_hist.count(), 7);
    assert_eq!(t.reopens, 2);
    assert_eq!(t.pool_handled, 1);
    assert_eq!(
        (
            t.sentiment_positive,
            t.sentiment_neutral,
            t.sentiment_negative
        ),
        (4, 4, 4)
    );
    // The pool's conversation counts for Utrecht, not for the pool.
    assert!(rolled.iter().all(|r| r.tenant_code != "PL01"));
    let pool_rows: Vec<_> = rolled.iter().filter(|r| r.pool_handled > 0).collect();
    assert_eq!(pool_rows.len(), 1);
    assert_eq!(pool_rows[0].tenant_code, "GM0344");
    // Per tenant.
    let gm0363 = s
        .rollups(&["GM0363".to_string()], 0, now_ms() + 7_200_000)
        .await
        .unwrap();
    assert_eq!(RollupRow::total(&gm0363).new_conversations, 4);
}

async fn failed_transaction_leaves_rollups(s: Store) {
    seed(&s).await;
    let open311 = |token: &str| NewOpen311 {
        token: token.into(),
        jurisdiction_id: "GM0344".into(),
        service_code: "wegen".into(),
        description: "Losse stoeptegel".into(),
        lat: None,
        lon: None,
        address: None,
        address_id: None,
        zipcode: None,
        media_url: None,
    };
    let mut first = inbound("GM0344", "o1", "r1", Some("wegen"), "negatief");
    first.open311 = Some(open311("tok-1"));
    s.ingest(&first).await.unwrap();
    let (before, _) = both_ways(&s).await;
    assert_eq!(RollupRow::total(&before).new_conversations, 1);
    // The same Open311 token again: the insert after the rollup update fails, so the whole
    // transaction (conversation, message and rollup change) rolls back.
    let mut dup = inbound("GM0344", "o2", "r2", Some("wegen"), "positief");
    dup.open311 = Some(open311("tok-1"));
    assert!(s.ingest(&dup).await.is_err());
    let (after, raw) = both_ways(&s).await;
    assert_eq!(after, before);
    assert_eq!(after, raw);
}

async fn bulk_history_matches_raw_scan(s: Store) {
    use loket_store::history::{HistoryBatch, HistoryConversation};
    seed(&s).await;
    // Live traffic first, in the same hour as part of the history: the bulk load merges.
    s.ingest(&inbound("GM0344", "live", "l1", Some("afval"), "neutraal"))
        .await
        .unwrap();
    let now = now_ms();
    let conv = |i: i64| HistoryConversation {
        tenant_code: if i % 2 == 0 { "GM0344" } else { "GM0363" }.into(),
        channel: if i % 3 == 0 { "email" } else { "api" }.into(),
        topic: (i % 4 != 0).then(|| "afval".to_string()),
        priority: "normaal".into(),
        state: "opgelost".into(),
        subject: "Afval".into(),
        sentiment: Some(["positief", "neutraal", "negatief"][(i % 3) as usize].into()),
        created_at: now - i * 1_800_000,
        first_response_at: Some(now - i * 1_800_000 + 60_000 * i),
        first_resolved_at: Some(now - i * 1_800_000 + 120_000 * i),
        resolved_at: Some(now - i * 1_800_000 + 120_000 * i),
        reopened_at: if i == 3 { vec![now - 1000] } else { vec![] },
        handled_by_pool: i == 5,
        messages: vec![
            ("in", "Vraag".into(), now - i * 1_800_000),
            ("out", "Antwoord".into(), now - i * 1_800_000 + 60_000 * i),
        ],
    };
    let batch = HistoryBatch {
        conversations: (0..20).map(conv).collect(),
    };
    s.insert_history(&batch).await.unwrap();
    s.after_history().await.unwrap();
    let (rolled, raw) = both_ways(&s).await;
    assert_eq!(rolled, raw);
    let t = RollupRow::total(&rolled);
    assert_eq!(t.new_conversations, 21);
    assert_eq!(t.first_responses, 20);
    assert_eq!(t.reopens, 1);
    assert_eq!(t.pool_handled, 1);
    // Intake still works after a bulk load with explicit ids.
    s.ingest(&inbound("GM0363", "after", "l2", None, "positief"))
        .await
        .unwrap();
    let (rolled, raw) = both_ways(&s).await;
    assert_eq!(rolled, raw);
}
