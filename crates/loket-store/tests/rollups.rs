//! Rollups kept at intake time agree with a scan of the raw tables, on SQLite and PostgreSQL,
//! and a failed transaction leaves them untouched. The daily and monthly tiers are the sums of
//! their hours (also on the days the clocks change), the mixed-grain read equals the hourly one,
//! and a rebuild from the raw tables restores every tier.

use loket_core::ConversationState;
use loket_core::TenantCode;
use loket_core::conversation::Channel;
use loket_core::metrics::Histogram;
use loket_core::metrics::figures::sla_attainment;
use loket_core::metrics::{ConversationFacts, Period};
use loket_core::sla::SlaKind;
use loket_store::conversations::{Actor, Change, NewOutgoing};
use loket_store::csat::NewCsatSurvey;
use loket_store::dashboard::DashFilter;
use loket_store::history::{HistoryBatch, HistoryConversation};
use loket_store::rollups::{
    GroupBy, RollupKey, RollupRow, Scope, SlaCounts, Table, Tier, coarsen, hour_of, month_of,
    project,
};
use loket_store::testing::{TestDb, fresh};
use loket_store::{Backend, NewInbound, NewOpen311, Store, TenantRow, now_ms};
use std::collections::BTreeMap;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test] async fn $name() { if let Some(db) = super::fresh(super::Backend::Sqlite).await { super::$name(db.store).await } } )* }
        mod postgres { $( #[tokio::test] async fn $name() { if let Some(db) = super::fresh(super::Backend::Postgres).await { super::$name(db.store).await } } )* }
    };
}

both!(
    rollups_match_raw_scan,
    failed_transaction_leaves_rollups,
    bulk_history_matches_raw_scan,
    days_and_months_sum_their_hours_across_dst,
    mixed_grain_equals_hourly_sums,
    grouped_reads_equal_grouping_the_rows,
    arrivals_equal_the_hourly_rows,
    history_spread_over_team_members,
);

mod rebuild {
    #[tokio::test]
    async fn sqlite() {
        if let Some(db) = super::fresh(super::Backend::Sqlite).await {
            super::rebuild_restores_every_tier(db).await
        }
    }
    #[tokio::test]
    async fn postgres() {
        if let Some(db) = super::fresh(super::Backend::Postgres).await {
            super::rebuild_restores_every_tier(db).await
        }
    }
}

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
        s.rollups_hourly(&all(), from, to).await.unwrap(),
        s.rollups_raw(&all(), from, to).await.unwrap(),
    )
}

const FAR: i64 = 4_102_444_800_000; // 2100

/// Every daily and monthly row, and every row of the projections (national, per tenant),
/// equals the sum of its hourly rows, over all stored time.
async fn tiers_agree(s: &Store) {
    let hourly = s.rollups_hourly(&all(), 0, FAR).await.unwrap();
    assert!(!hourly.is_empty());
    let from = month_of(hourly.iter().map(|r| r.hour_start).min().unwrap());
    let last = month_of(hourly.iter().map(|r| r.hour_start).max().unwrap());
    let to = Tier::Month.next(last);
    for tier in [Tier::Day, Tier::Month] {
        let stored = s.rollups_up_to(&all(), from, to, tier).await.unwrap();
        let expected: Vec<RollupRow> = coarsen(&hourly, tier).into_values().collect();
        assert_eq!(stored, expected, "{tier:?} tier differs from its hours");
    }
    for table in Table::PROJECTIONS {
        let stored = s.rollup_rows(table, 0, FAR).await.unwrap();
        let expected: Vec<RollupRow> = project(&hourly, table).into_values().collect();
        assert!(!stored.is_empty(), "{table:?} is empty");
        assert_eq!(stored, expected, "{table:?} differs from its hours");
    }
}

/// Sums per (tenant, channel, topic).
fn by_series(rows: &[RollupRow]) -> BTreeMap<(String, String, String), RollupRow> {
    let mut out: BTreeMap<(String, String, String), RollupRow> = BTreeMap::new();
    for r in rows {
        out.entry((r.tenant_code.clone(), r.channel.clone(), r.topic.clone()))
            .or_default()
            .add(r);
    }
    out
}

fn utc(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

/// A resolved conversation started at `at`, answered after `i` minutes.
fn history_conv(i: i64, at: i64) -> HistoryConversation {
    let fr = at + 60_000 * (1 + i % 50);
    let res = fr + 3_600_000 * (1 + i % 30);
    HistoryConversation {
        tenant_code: if i % 2 == 0 { "GM0344" } else { "GM0363" }.into(),
        channel: ["email", "api", "whatsapp"][(i % 3) as usize].into(),
        topic: (i % 4 != 0).then(|| ["afval", "wegen"][(i % 2) as usize].to_string()),
        priority: "normaal".into(),
        state: "opgelost".into(),
        subject: "Vraag".into(),
        sentiment: Some(["positief", "neutraal", "negatief"][(i % 3) as usize].into()),
        created_at: at,
        first_response_at: Some(fr),
        first_resolved_at: Some(res),
        resolved_at: Some(res),
        reopened_at: if i % 17 == 0 {
            vec![res + 7_200_000]
        } else {
            vec![]
        },
        handled_by_pool: i % 11 == 0,
        messages: vec![("in", "Vraag".into(), at), ("out", "Antwoord".into(), fr)],
        first_response_due: Some(at + 3_600_000),
        resolution_due: Some(at + 86_400_000),
        handle_seconds: 60 * (i % 7),
        csat_score: (i % 3 == 0).then_some(1 + i % 5),
    }
}

/// Conversations every `step` ms in `[from, to)`.
fn history_between(from: i64, to: i64, step: i64) -> HistoryBatch {
    HistoryBatch {
        conversations: (0..)
            .map(|i| (i, from + i * step))
            .take_while(|(_, at)| *at < to)
            .map(|(i, at)| history_conv(i, at))
            .collect(),
    }
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
        // Deadlines still running, already passed, and none.
        let (soon, passed) = (Some(now_ms() + 3_600_000), Some(now_ms() - 60_000));
        let (first_response_due, resolution_due) = match i % 4 {
            0 => (soon, soon),
            1 => (passed, passed),
            2 => (None, None),
            _ => (soon, passed),
        };
        let r = s
            .ingest(&NewInbound {
                first_response_due,
                resolution_due,
                ..inbound(tenant, &format!("m{i}"), &author, topic, sentiments[i % 3])
            })
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
    // Reopen by a new message of the resident (ids[2]: author u2w, GM0344, topic afval),
    // which sets a resolution deadline where there was none: its first resolution now counts
    // as met (the deadline in force).
    s.ingest(&NewInbound {
        resolution_due: Some(now_ms() + 7_200_000),
        ..inbound("GM0344", "m2c", "u2w", Some("afval"), "negatief")
    })
    .await
    .unwrap();
    // Satisfaction answers (and one survey left unanswered).
    for (id, score) in [(ids[0], Some(5)), (ids[3], Some(2)), (ids[6], None)] {
        let c = s.conversation(id, &all()).await.unwrap();
        let survey = s
            .create_csat_survey(&NewCsatSurvey {
                conversation_id: id,
                tenant_code: c.tenant_code.clone(),
                team_id: None,
                agent_id: None,
                topic: c.topic.clone(),
                channel: c.channel.clone(),
                token: format!("t{id}"),
            })
            .await
            .unwrap()
            .unwrap();
        if let Some(score) = score {
            s.answer_csat_survey(&survey.token, score, None)
                .await
                .unwrap();
        }
    }
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
    assert_eq!(t.csat, [0, 1, 0, 0, 1]);
    assert_eq!(t.csat_counts(), (2, 7, 1));
    // The service level from the counters, less the deadlines still running, equals
    // loket_core's definition over the conversations (an outcome counts when it is decided),
    // for every tenant and for one, over the whole window and over a part of it.
    let now = now_ms();
    let facts = loket_store::testing::sla_facts(&s).await;
    let at = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap();
    for (n, (tenants, all_tenants, from, to)) in [
        (all(), true, now - 86_400_000, now + 7_200_000),
        (
            vec!["GM0344".to_string()],
            false,
            now - 86_400_000,
            now + 7_200_000,
        ),
        (all(), true, now - 86_400_000, hour_of(now)),
        (all(), true, hour_of(now), now + 7_200_000),
    ]
    .into_iter()
    .enumerate()
    {
        let (from, to) = (hour_of(from), hour_of(to));
        let f = DashFilter {
            tenants: tenants.clone(),
            all_tenants,
            ..Default::default()
        };
        let period = Period::new(at(from), at(to)).unwrap();
        let mut want = [(0u64, 0u64); 2];
        let mut want_pending = [0u64; 2];
        for (behalf, created, fr, fr_due, res, res_due) in &facts {
            if !tenants.contains(behalf) {
                continue;
            }
            let mut c = ConversationFacts::new(
                0,
                TenantCode::parse(behalf).unwrap(),
                Channel::Api,
                at(*created),
            );
            c.first_response_at = fr.map(at);
            c.first_response_due = fr_due.map(at);
            c.resolved_at = res.map(at);
            c.resolution_due = res_due.map(at);
            for (k, kind) in [SlaKind::FirstResponse, SlaKind::Resolution]
                .into_iter()
                .enumerate()
            {
                let a = sla_attainment([&c], &period, at(now), kind);
                want[k].0 += a.met;
                want[k].1 += a.breached;
                want_pending[k] += a.pending;
            }
        }
        let rows = s.rollups_hourly(&tenants, from, to).await.unwrap();
        let c = RollupRow::total(&rows);
        let running = s.deadlines_running(&f, from, to, now).await.unwrap();
        let got = SlaCounts::of(&c, &running);
        assert_eq!(
            [
                (got.first_met as u64, got.first_breached as u64),
                (got.resolution_met as u64, got.resolution_breached as u64)
            ],
            want,
            "{tenants:?} {from} {to}"
        );
        // Not decided yet: started in the period, deadline not passed, not done.
        assert_eq!(
            [
                running.first_pending as u64,
                running.resolution_pending as u64
            ],
            want_pending,
            "pending {tenants:?} {from} {to}"
        );
        if n == 0 {
            assert!(
                want[0].0 > 0 && want[0].1 > 0 && want[1].0 > 0 && want[1].1 > 0,
                "{want:?}"
            );
            assert!(want_pending[0] > 0, "{want_pending:?}");
        }
        let answers = s.csat_rows(&f, from, to).await.unwrap();
        let n: i64 = answers.iter().map(|a| a.4).sum();
        let sum: i64 = answers.iter().map(|a| a.3 * a.4).sum();
        assert_eq!((c.csat_counts().0, c.csat_counts().1), (n, sum));
    }
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
    tiers_agree(&s).await;
    // The attribution column of the dashboard's raw reads agrees with the rollups' rule,
    // also for the conversation the pool answered on Utrecht's behalf.
    let (n, other, wrong) = loket_store::testing::behalf_check(&s).await;
    assert!(n >= 5 && other == 1 && wrong == 0, "{n} {other} {wrong}");
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
        first_response_due: None,
        resolution_due: None,
        handle_seconds: 0,
        csat_score: None,
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

async fn days_and_months_sum_their_hours_across_dst(s: Store) {
    seed(&s).await;
    // Half-hourly around both clock changes of 2025 (30 March: 23 hours; 26 October: 25).
    let spring = history_between(
        utc("2025-03-28T18:00:00Z"),
        utc("2025-04-01T02:00:00Z"),
        1_800_000,
    );
    let autumn = history_between(
        utc("2025-10-24T18:00:00Z"),
        utc("2025-10-28T02:00:00Z"),
        1_800_000,
    );
    s.insert_history(&spring).await.unwrap();
    s.insert_history(&autumn).await.unwrap();
    // A second load into the same days and months merges into the existing rows.
    let again = history_between(
        utc("2025-10-26T00:15:00Z"),
        utc("2025-10-26T03:15:00Z"),
        600_000,
    );
    s.insert_history(&again).await.unwrap();
    s.after_history().await.unwrap();
    // Live traffic goes through the per-event path (apply_rollups!).
    s.ingest(&inbound("GM0344", "live", "l1", Some("afval"), "neutraal"))
        .await
        .unwrap();
    tiers_agree(&s).await;
    let day = |from: &str, to: &str| {
        let (from, to) = (utc(from), utc(to));
        let s = s.clone();
        async move {
            let rows = s.rollups_up_to(&all(), from, to, Tier::Day).await.unwrap();
            assert!(rows.iter().all(|r| r.hour_start == from), "one day");
            RollupRow::total(&rows)
        }
    };
    // The local day of 30 March 2025 runs 23:00Z–22:00Z: 23 hours, two conversations each.
    let t = day("2025-03-29T23:00:00Z", "2025-03-30T22:00:00Z").await;
    assert_eq!(t.new_conversations, 46);
    // 26 October 2025 runs 22:00Z–23:00Z the next day: 25 hours, plus the second load.
    let t = day("2025-10-25T22:00:00Z", "2025-10-26T23:00:00Z").await;
    assert_eq!(t.new_conversations, 50 + 18);
    // The raw scan agrees with the hours over the whole history.
    let (a, b) = (utc("2025-03-01T00:00:00Z"), utc("2025-11-01T00:00:00Z"));
    assert_eq!(
        s.rollups_hourly(&all(), a, b).await.unwrap(),
        s.rollups_raw(&all(), a, b).await.unwrap()
    );
}

async fn mixed_grain_equals_hourly_sums(s: Store) {
    seed(&s).await;
    let batch = history_between(
        utc("2025-01-20T00:00:00Z"),
        utc("2025-04-10T00:00:00Z"),
        37 * 60_000,
    );
    s.insert_history(&batch).await.unwrap();
    s.after_history().await.unwrap();
    tiers_agree(&s).await;
    // Partial edges: starts mid-morning, ends mid-afternoon, spans whole days and months.
    let (from, to) = (utc("2025-01-25T07:13:00Z"), utc("2025-04-03T15:40:00Z"));
    let hourly = s.rollups_hourly(&all(), from, to).await.unwrap();
    let raw = s.rollups_raw(&all(), from, to).await.unwrap();
    assert_eq!(hourly, raw);
    // Hours at the edges, whole local days in between.
    let mixed = s.rollups(&all(), from, to).await.unwrap();
    assert!(
        mixed.len() * 3 < hourly.len(),
        "{} vs {}",
        mixed.len(),
        hourly.len()
    );
    assert!(
        mixed
            .iter()
            .any(|r| r.hour_start == utc("2025-01-25T07:00:00Z")),
        "an hourly edge row"
    );
    assert!(
        mixed
            .iter()
            .any(|r| r.hour_start == utc("2025-03-29T23:00:00Z")),
        "a daily row"
    );
    assert!(
        mixed.windows(2).all(|w| w[0].key() < w[1].key()),
        "ordered by key"
    );
    assert_eq!(by_series(&mixed), by_series(&hourly));
    assert_eq!(RollupRow::total(&mixed), RollupRow::total(&hourly));
    // Breakdowns by local day are the same as from the hours (so no row spans a month).
    let by_day = |rows: &[RollupRow]| {
        let rows: Vec<RollupRow> = rows.to_vec();
        coarsen(&rows, Tier::Day)
    };
    assert_eq!(by_day(&mixed), by_day(&hourly));
    // Totals with whole months as one row each.
    let totals = s.rollups_totals(&all(), from, to).await.unwrap();
    assert!(
        totals.len() * 2 < mixed.len(),
        "{} vs {}",
        totals.len(),
        mixed.len()
    );
    assert!(
        totals
            .iter()
            .any(|r| r.hour_start == utc("2025-01-31T23:00:00Z")),
        "a monthly row"
    );
    assert_eq!(by_series(&totals), by_series(&hourly));
    assert_eq!(RollupRow::total(&totals), RollupRow::total(&hourly));
}

/// `rows` of one channel and topic (when given), summed per the key columns `by` keeps, as
/// `Store::rollups_grouped` should sum them in the database.
fn group_rows(
    rows: &[RollupRow],
    by: GroupBy,
    channel: Option<&str>,
    topic: Option<&str>,
) -> Vec<RollupRow> {
    let mut out: BTreeMap<RollupKey, RollupRow> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| channel.is_none_or(|c| r.channel == c) && topic.is_none_or(|t| r.topic == t))
    {
        let mut k = r.key();
        if !by.tenant {
            k.tenant_code.clear();
        }
        if !by.time {
            k.hour_start = 0;
        }
        if !by.channel {
            k.channel.clear();
        }
        if !by.topic {
            k.topic.clear();
        }
        let mut row = r.clone();
        if !by.first_response_hist {
            row.first_response_hist = Histogram::new();
        }
        if !by.resolution_hist {
            row.resolution_hist = Histogram::new();
        }
        if by.volume_only {
            row = RollupRow {
                inbound: row.inbound,
                outbound: row.outbound,
                new_conversations: row.new_conversations,
                ..RollupRow::default()
            };
        }
        out.entry(k).or_insert_with_key(RollupRow::at).add(&row);
    }
    // Groups with nothing left to count are not returned.
    out.into_values()
        .filter(|r| r.counters().iter().any(|c| *c != 0))
        .collect()
}

async fn grouped_reads_equal_grouping_the_rows(s: Store) {
    seed(&s).await;
    let batch = history_between(
        utc("2025-01-20T00:00:00Z"),
        utc("2025-04-10T00:00:00Z"),
        37 * 60_000,
    );
    s.insert_history(&batch).await.unwrap();
    s.after_history().await.unwrap();
    let (from, to) = (utc("2025-01-25T07:13:00Z"), utc("2025-04-03T15:40:00Z"));
    let rows = s.rollups_totals(&all(), from, to).await.unwrap();
    let some_channel = rows[0].channel.clone();
    let some_topic = rows
        .iter()
        .rev()
        .find(|r| !r.topic.is_empty())
        .unwrap()
        .topic
        .clone();
    let cases: Vec<(Tier, GroupBy, Option<&str>, Option<&str>)> = vec![
        // The dashboard's three reads, and the benchmark's.
        (
            Tier::Month,
            GroupBy {
                channel: true,
                topic: true,
                first_response_hist: true,
                resolution_hist: true,
                ..GroupBy::default()
            },
            None,
            None,
        ),
        (
            Tier::Day,
            GroupBy {
                time: true,
                ..GroupBy::default()
            },
            Some(&some_channel),
            None,
        ),
        (
            Tier::Month,
            GroupBy {
                tenant: true,
                first_response_hist: true,
                ..GroupBy::default()
            },
            None,
            Some(&some_topic),
        ),
        // Per municipality without channel and topic (the per-tenant projection).
        (
            Tier::Month,
            GroupBy {
                tenant: true,
                first_response_hist: true,
                ..GroupBy::default()
            },
            None,
            None,
        ),
        (
            Tier::Day,
            GroupBy {
                tenant: true,
                time: true,
                resolution_hist: true,
                ..GroupBy::default()
            },
            None,
            None,
        ),
        // The staffing grid's arrivals (volume only), and everything in one row.
        (
            Tier::Hour,
            GroupBy {
                tenant: true,
                time: true,
                channel: true,
                volume_only: true,
                ..GroupBy::default()
            },
            None,
            None,
        ),
        (
            Tier::Month,
            GroupBy {
                first_response_hist: true,
                resolution_hist: true,
                ..GroupBy::default()
            },
            None,
            None,
        ),
    ];
    for (tier, by, channel, topic) in cases {
        let rows = s.rollups_up_to(&all(), from, to, tier).await.unwrap();
        let want = group_rows(&rows, by, channel, topic);
        assert!(!want.is_empty(), "{tier:?} {by:?}");
        let got = s
            .rollups_grouped(&all(), from, to, tier, by, channel, topic)
            .await
            .unwrap();
        assert_eq!(got, want, "{tier:?} {by:?} {channel:?} {topic:?}");
        // Every tenant at once (the national view) reads the projections where it can, with
        // the same sums.
        let got = s
            .rollups_grouped_in(Scope::All, from, to, tier, by, channel, topic)
            .await
            .unwrap();
        assert_eq!(
            got, want,
            "all tenants: {tier:?} {by:?} {channel:?} {topic:?}"
        );
    }
    // Nothing in the period: no rows.
    let none = s
        .rollups_grouped(
            &all(),
            utc("2030-01-01T00:00:00Z"),
            utc("2030-02-01T00:00:00Z"),
            Tier::Month,
            GroupBy::default(),
            None,
            None,
        )
        .await
        .unwrap();
    assert!(none.is_empty(), "{none:?}");
}

/// The staffing grid's arrivals per tenant and hour are the hourly rows' new chats and other
/// inbound messages, summed over channels and topics.
async fn arrivals_equal_the_hourly_rows(s: Store) {
    seed(&s).await;
    let batch = history_between(
        utc("2025-03-01T00:00:00Z"),
        utc("2025-03-20T00:00:00Z"),
        11 * 60_000,
    );
    s.insert_history(&batch).await.unwrap();
    s.after_history().await.unwrap();
    let (from, to) = (utc("2025-03-03T07:30:00Z"), utc("2025-03-17T00:00:00Z"));
    let hourly = s.rollups_hourly(&all(), from, to).await.unwrap();
    let expect = |realtime: &[&str]| {
        let mut want: BTreeMap<(String, i64), (i64, i64)> = BTreeMap::new();
        for r in &hourly {
            let e = want
                .entry((r.tenant_code.clone(), r.hour_start))
                .or_default();
            if realtime.contains(&r.channel.as_str()) {
                e.0 += r.new_conversations;
            } else {
                e.1 += r.inbound;
            }
        }
        want.into_iter()
            .filter(|(_, (a, b))| *a != 0 || *b != 0)
            .map(|((tenant_code, hour_start), (realtime, other))| {
                loket_store::rollups::HourlyArrivals {
                    tenant_code,
                    hour_start,
                    realtime,
                    other,
                }
            })
            .collect::<Vec<_>>()
    };
    // One channel of the history as the real-time one (the grid's is chat).
    let chat = hourly[0].channel.clone();
    assert!(
        hourly.iter().any(|r| r.channel != chat),
        "more than one channel"
    );
    let got = s
        .arrivals_hourly(&all(), from, to, &[chat.as_str()])
        .await
        .unwrap();
    assert_eq!(got, expect(&[chat.as_str()]));
    assert!(got.iter().any(|r| r.realtime > 0), "real-time arrivals");
    assert!(got.iter().any(|r| r.other > 0), "other channels too");
    // No real-time channel: every inbound message is other work.
    let got = s.arrivals_hourly(&all(), from, to, &[]).await.unwrap();
    assert_eq!(got, expect(&[]));
    assert!(got.iter().all(|r| r.realtime == 0));
}

/// The demo's history gets the demo teams' members as team and agent, on the conversations
/// and their surveys, for that tenant only.
async fn history_spread_over_team_members(s: Store) {
    seed(&s).await;
    let batch = history_between(
        utc("2025-03-01T00:00:00Z"),
        utc("2025-03-05T00:00:00Z"),
        53 * 60_000,
    );
    s.insert_history(&batch).await.unwrap();
    s.after_history().await.unwrap();
    let team = s.create_team("GM0344", "Webcare").await.unwrap();
    let a = s.create_user("a@test.nl", "A", "-").await.unwrap();
    let b = s.create_user("b@test.nl", "B", "-").await.unwrap();
    let changed = s
        .assign_history("GM0344", &[(team, a), (team, b)])
        .await
        .unwrap();
    let utrecht = DashFilter {
        tenants: vec!["GM0344".into()],
        ..Default::default()
    };
    let end = utc("2026-01-01T00:00:00Z");
    let (_, all) = s.drill_conversations(&utrecht, 0, end, 1, 0).await.unwrap();
    assert!(all > 0 && changed as i64 == all, "{changed} of {all}");
    let answers = s.csat_rows(&utrecht, 0, end).await.unwrap();
    assert!(!answers.is_empty());
    assert!(
        answers
            .iter()
            .all(|r| r.0 == Some(team) && (r.1 == Some(a) || r.1 == Some(b))),
        "{answers:?}"
    );
    assert!(answers.iter().any(|r| r.1 == Some(a)) && answers.iter().any(|r| r.1 == Some(b)));
    // The team filter now finds them; Amsterdam's history is untouched.
    let (_, in_team) = s
        .drill_conversations(
            &DashFilter {
                team_id: Some(team),
                ..utrecht.clone()
            },
            0,
            end,
            1,
            0,
        )
        .await
        .unwrap();
    assert_eq!(in_team, all);
    let amsterdam = DashFilter {
        tenants: vec!["GM0363".into()],
        ..Default::default()
    };
    let answers = s.csat_rows(&amsterdam, 0, end).await.unwrap();
    assert!(!answers.is_empty() && answers.iter().all(|r| r.0.is_none() && r.1.is_none()));
}

/// Deletes all rollup rows behind the store's back, as in a database from before 0007.
async fn wipe(db: &TestDb) {
    let all: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    wipe_tables(db, &all).await;
}

async fn wipe_tables(db: &TestDb, tables: &[&str]) {
    if db.url.starts_with("sqlite") {
        let p = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        for t in tables {
            sqlx::query(&format!("DELETE FROM {t}"))
                .execute(&p)
                .await
                .unwrap();
        }
        p.close().await;
    } else {
        let p = sqlx::PgPool::connect(&db.url).await.unwrap();
        for t in tables {
            sqlx::query(&format!("DELETE FROM {t}"))
                .execute(&p)
                .await
                .unwrap();
        }
        p.close().await;
    }
}

async fn rebuild_restores_every_tier(db: TestDb) {
    let s = db.store.clone();
    seed(&s).await;
    let batch = history_between(
        utc("2025-09-20T00:00:00Z"),
        utc("2025-11-10T00:00:00Z"),
        53 * 60_000,
    );
    s.insert_history(&batch).await.unwrap();
    s.after_history().await.unwrap();
    s.ingest(&inbound("GM0363", "live", "l1", None, "positief"))
        .await
        .unwrap();
    let snapshot = |s: Store| async move {
        let mut out = vec![];
        for table in Table::ALL {
            out.push(s.rollup_rows(table, 0, FAR).await.unwrap());
        }
        out
    };
    let before = snapshot(s.clone()).await;
    assert!(before.iter().all(|t| !t.is_empty()));
    wipe(&db).await;
    assert!(s.rollups(&all(), 0, FAR).await.unwrap().is_empty());
    // One tenant: only its rows come back.
    let r = s.rebuild_rollups(Some("GM0344")).await.unwrap();
    assert_eq!(r.tenants, 1);
    let hourly = s.rollups_hourly(&all(), 0, FAR).await.unwrap();
    let only: Vec<RollupRow> = before[0]
        .iter()
        .filter(|r| r.tenant_code == "GM0344")
        .cloned()
        .collect();
    assert_eq!(hourly, only);
    assert_eq!(r.hourly_rows, only.len());
    // All tenants: every tier as before, and consistent.
    let r = s.rebuild_rollups(None).await.unwrap();
    assert!(r.tenants >= 3);
    assert_eq!(snapshot(s.clone()).await, before);
    tiers_agree(&s).await;
    // At start-up: a database from before 0009 gets its days and months from its hours…
    wipe_tables(&db, &["rollups_daily", "rollups_monthly"]).await;
    s.migrate().await.unwrap();
    assert_eq!(snapshot(s.clone()).await, before);
    // …one from before 0015 its projections from its days…
    let projections: Vec<&str> = Table::PROJECTIONS.iter().map(|t| t.name()).collect();
    wipe_tables(&db, &projections).await;
    s.migrate().await.unwrap();
    assert_eq!(snapshot(s.clone()).await, before);
    // …and one from before 0007 everything from the raw tables.
    wipe(&db).await;
    s.migrate().await.unwrap();
    assert_eq!(snapshot(s.clone()).await, before);
    // Intake keeps working on the rebuilt rows.
    s.ingest(&inbound("GM0363", "after", "l2", Some("afval"), "negatief"))
        .await
        .unwrap();
    tiers_agree(&s).await;
}
