//! The Mastodon adapter against the in-memory stand-in (`standin::mastodon`).

use loket_channels::adapter::{
    AccountConfig, Adapter, Batch, ChannelErrorKind, Event, InboundMessage, MessageKind, Reply,
};
use loket_channels::mastodon::{MastodonAdapter, ReplyContext, status_length};
use loket_channels::standin::mastodon::{
    MastodonStandin, MentionAt, ResidentPost, StandinHandle, TOKEN,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

const JAN: &str = "jan@mastodon.example";

fn adapter(base: &str, token: &str) -> MastodonAdapter {
    let mut c = AccountConfig::default();
    c.settings.insert("base_url".into(), base.into());
    c.secrets.insert("access_token".into(), token.into());
    MastodonAdapter::new(&c).unwrap()
}

async fn setup() -> (StandinHandle, MastodonAdapter) {
    let (base, h) = MastodonStandin::start().await;
    let a = adapter(&base, TOKEN);
    (h, a)
}

fn messages(b: &Batch) -> Vec<InboundMessage> {
    b.events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

fn reply_to(m: &InboundMessage, text: &str, key: &str) -> Reply {
    Reply {
        conversation_id: 1,
        message_id: 2,
        recipient: m.author_id.clone(),
        text: text.into(),
        subject: String::new(),
        from_name: "Gemeente Standin".into(),
        context: m.reply_context.clone(),
        thread_refs: vec![m.external_id.clone()],
        idempotency_key: key.into(),
        template: None,
    }
}

async fn start_cursor(a: &MastodonAdapter) -> String {
    let b = a.backfill(None).await.unwrap();
    assert!(b.events.is_empty(), "start from now: no history");
    b.cursor.unwrap()
}

#[tokio::test]
async fn test_connection_names_the_account_and_refuses_a_bad_token() {
    let (h, a) = setup().await;
    assert_eq!(
        a.test_connection().await.unwrap(),
        "verbonden als @gemeente@social.standin.test"
    );

    let bad = adapter(h.base_url(), "wrong-token-secret");
    let err = bad.test_connection().await.unwrap_err();
    assert_eq!(err.kind, ChannelErrorKind::Auth);
    assert!(err.message.contains("toegangstoken"), "{}", err.message);
    assert!(!err.message.contains("wrong-token-secret"));
    assert!(!err.message.contains(h.base_url()));

    let mut c = AccountConfig::default();
    c.settings.insert("base_url".into(), h.base_url().into());
    c.settings
        .insert("account".into(), "@iemand@social.standin.test".into());
    c.secrets.insert("access_token".into(), TOKEN.into());
    let other = MastodonAdapter::new(&c).unwrap();
    assert_eq!(
        other.test_connection().await.unwrap_err().kind,
        ChannelErrorKind::Config
    );
}

#[tokio::test]
async fn mention_becomes_an_inbound_message() {
    let (h, a) = setup().await;
    let c0 = start_cursor(&a).await;
    let mut post = ResidentPost::new(
        JAN,
        "Er ligt glas op het fietspad\n\nBij de brug & de kerk",
        "public",
    );
    post.media = vec!["https://files.mastodon.example/media/glas.jpg".into()];
    let id = h.resident_post(post);
    let ours = h.municipality_posts("Werkzaamheden aan de Dorpsstraat", "public");
    h.resident_favourites(JAN, &ours); // not a mention: not read
    let local = h.resident_mentions("piet", "Wanneer wordt het gras gemaaid?", "unlisted");

    let b = a.backfill(Some(&c0)).await.unwrap();
    let ms = messages(&b);
    assert_eq!(ms.len(), 2, "{ms:?}");
    let m = &ms[0];
    assert_eq!(m.external_id, id);
    assert_eq!(m.author_id, "jan@mastodon.example");
    assert_eq!(m.author_name, "Jan");
    assert_eq!(
        m.text,
        "Er ligt glas op het fietspad\n\nBij de brug & de kerk"
    );
    assert!(m.sent_at_ms > 1_700_000_000_000);
    assert!(m.for_inbox);
    assert_eq!(m.kind, MessageKind::Normal);
    assert!(m.thread_refs.is_empty());
    assert_eq!(m.attachments.len(), 1);
    assert_eq!(
        m.attachments[0].reference.as_deref(),
        Some("https://files.mastodon.example/media/glas.jpg")
    );
    assert_eq!(m.attachments[0].content_type, "image/jpeg");
    let ctx: ReplyContext = serde_json::from_value(m.reply_context.clone()).unwrap();
    assert_eq!(ctx.status_id.as_deref(), Some(id.as_str()));
    assert_eq!(ctx.visibility.as_deref(), Some("public"));
    assert_eq!(ctx.acct.as_deref(), Some("jan@mastodon.example"));
    assert!(ctx.mentions.is_empty());

    assert_eq!(ms[1].external_id, local);
    assert_eq!(ms[1].author_id, "piet@social.standin.test");

    // Read again from the new cursor: nothing.
    let again = a.backfill(b.cursor.as_deref()).await.unwrap();
    assert!(again.events.is_empty());
}

#[tokio::test]
async fn public_mention_not_addressed_to_us_is_for_monitoring() {
    let (h, a) = setup().await;
    let c0 = start_cursor(&a).await;
    let mut talk = ResidentPost::new(JAN, "Wat een gedoe weer bij", "public");
    talk.mention = MentionAt::End;
    let talk_id = h.resident_post(talk);
    // A reply to one of our statuses is addressed to us even with the mention at the end.
    let ours = h.municipality_posts("Morgen geen afvalinzameling", "public");
    let mut answer = ResidentPost::new(JAN, "En overmorgen?", "public");
    answer.mention = MentionAt::End;
    answer.in_reply_to_id = Some(ours.clone());
    let answer_id = h.resident_post(answer);

    let ms = messages(&a.backfill(Some(&c0)).await.unwrap());
    let by_id: HashMap<_, _> = ms.iter().map(|m| (m.external_id.clone(), m)).collect();
    assert!(!by_id[&talk_id].for_inbox);
    assert_eq!(by_id[&talk_id].text, "Wat een gedoe weer bij @gemeente");
    assert!(by_id[&answer_id].for_inbox);
    assert_eq!(by_id[&answer_id].thread_refs, vec![ours]);
}

#[tokio::test]
async fn bot_posts_are_automatic() {
    let (h, a) = setup().await;
    let c0 = start_cursor(&a).await;
    let mut p = ResidentPost::new("robot@bots.example", "Automatisch bericht", "public");
    p.bot = true;
    h.resident_post(p);
    let ms = messages(&a.backfill(Some(&c0)).await.unwrap());
    assert_eq!(ms[0].kind, MessageKind::Automatic);
}

/// Runs `listen` like the server does: every batch's events are ingested and its cursor stored.
struct Ingest {
    batches: usize,
    ids: Vec<String>,
    messages: Vec<InboundMessage>,
    cursor: Option<String>,
}

type Shared = Arc<Mutex<Ingest>>;

fn spawn_listen(
    a: Arc<MastodonAdapter>,
    store: Shared,
) -> tokio::task::JoinHandle<Result<(), loket_channels::adapter::ChannelError>> {
    let cursor = store.lock().unwrap().cursor.clone();
    let (tx, mut rx) = mpsc::channel::<Batch>(16);
    let consumer = store.clone();
    tokio::spawn(async move {
        while let Some(b) = rx.recv().await {
            let mut s = consumer.lock().unwrap();
            s.batches += 1;
            for m in messages(&b) {
                s.ids.push(m.external_id.clone());
                s.messages.push(m);
            }
            if b.cursor.is_some() {
                s.cursor = b.cursor;
            }
        }
    });
    tokio::spawn(async move { a.listen(cursor, tx).await })
}

async fn wait_for(store: &Shared, n: usize) {
    for _ in 0..500 {
        if store.lock().unwrap().ids.len() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("expected {n} messages, got {:?}", store.lock().unwrap().ids);
}

#[tokio::test]
async fn direct_message_arrives_by_streaming_once() {
    let (h, a) = setup().await;
    let a = Arc::new(a);
    let store: Shared = Arc::new(Mutex::new(Ingest {
        batches: 0,
        ids: vec![],
        messages: vec![],
        cursor: Some(start_cursor(&a).await),
    }));
    let task = spawn_listen(a.clone(), store.clone());
    h.wait_for_streams(2).await;
    // The REST catch-up is done: what follows can only come through the stream.
    while store.lock().unwrap().batches == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let started = std::time::Instant::now();
    let id = h.resident_dm(JAN, "Mijn paspoort is verlopen, wat nu?");
    wait_for(&store, 1).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    // The same status also comes as a conversation: still one message.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let s = store.lock().unwrap();
    assert_eq!(s.ids, vec![id.clone()]);
    let m = &s.messages[0];
    assert!(m.for_inbox);
    assert_eq!(m.text, "Mijn paspoort is verlopen, wat nu?");
    assert_eq!(m.reply_context["visibility"], "direct");
    drop(s);
    task.abort();
}

#[tokio::test]
async fn reply_threads_keeps_visibility_and_is_idempotent() {
    let (h, a) = setup().await;
    let c0 = start_cursor(&a).await;
    let dm = h.resident_dm(JAN, "Hoe vraag ik een parkeervergunning aan?");
    let public = h.resident_mentions("piet", "Lantaarnpaal kapot", "public");
    let unlisted = h.resident_mentions("kees@mastodon.example", "Stoep verzakt", "unlisted");
    let ms = messages(&a.backfill(Some(&c0)).await.unwrap());
    assert_eq!(ms.len(), 3);

    let reply = reply_to(&ms[0], "Dat kan via de website van de gemeente.", "reply-1");
    let sent = a.send(&reply).await.unwrap();
    let again = a.send(&reply).await.unwrap();
    assert_eq!(sent.external_id, again.external_id, "same key, same status");
    let posted = h.posted();
    assert_eq!(posted.len(), 1, "sending twice posts once");
    let p = &posted[0];
    assert_eq!(Some(p.id.clone()), sent.external_id);
    assert_eq!(p.in_reply_to_id.as_deref(), Some(dm.as_str()));
    assert_eq!(p.visibility, "direct");
    assert_eq!(
        p.status,
        "@jan@mastodon.example Dat kan via de website van de gemeente."
    );
    assert_eq!(p.idempotency_key.as_deref(), Some("reply-1"));

    a.send(&reply_to(&ms[1], "We sturen iemand langs.", "reply-2"))
        .await
        .unwrap();
    a.send(&reply_to(&ms[2], "Bedankt voor de melding.", "reply-3"))
        .await
        .unwrap();
    let posted = h.posted();
    assert_eq!(posted[1].in_reply_to_id.as_deref(), Some(public.as_str()));
    assert_eq!(
        posted[1].visibility, "unlisted",
        "public is answered unlisted"
    );
    assert!(posted[1].status.starts_with("@piet@social.standin.test "));
    assert_eq!(posted[2].in_reply_to_id.as_deref(), Some(unlisted.as_str()));
    assert_eq!(posted[2].visibility, "unlisted");

    // Our own answers never come back as resident messages.
    let after = a.backfill(Some(&c0)).await.unwrap();
    let ids: Vec<_> = messages(&after)
        .into_iter()
        .map(|m| m.external_id)
        .collect();
    assert_eq!(ids, vec![dm, public, unlisted]);
}

#[tokio::test]
async fn long_reply_becomes_a_numbered_thread() {
    let (h, a) = setup().await;
    // Before the adapter's first call: it reads the instance's limit once.
    h.set_max_characters(120);
    let c0 = start_cursor(&a).await;
    let dm = h.resident_dm(JAN, "Vraag");
    let ms = messages(&a.backfill(Some(&c0)).await.unwrap());
    let text = "Dit is een lang antwoord over de regels. ".repeat(8);
    let reply = reply_to(&ms[0], &text, "lang");
    let sent = a.send(&reply).await.unwrap();
    let posted = h.posted();
    let n = posted.len();
    assert!(n > 1);
    assert_eq!(posted[0].in_reply_to_id.as_deref(), Some(dm.as_str()));
    for (i, p) in posted.iter().enumerate() {
        assert!(p.status.starts_with("@jan@mastodon.example "));
        assert!(
            p.status.ends_with(&format!("({}/{n})", i + 1)),
            "{}",
            p.status
        );
        // As Mastodon counts: the remote mention by its username only.
        assert!(status_length(&p.status, 23) <= 120);
        assert_eq!(p.visibility, "direct");
        if i > 0 {
            assert_eq!(p.in_reply_to_id.as_deref(), Some(posted[i - 1].id.as_str()));
        }
    }
    assert_eq!(sent.external_id.as_deref(), Some(posted[n - 1].id.as_str()));
    a.send(&reply).await.unwrap();
    assert_eq!(h.posted().len(), n, "a retry posts nothing new");
}

#[tokio::test]
async fn stream_drop_then_backfill_loses_nothing_and_duplicates_nothing() {
    let (h, a) = setup().await;
    let a = Arc::new(a);
    let store: Shared = Arc::new(Mutex::new(Ingest {
        batches: 0,
        ids: vec![],
        messages: vec![],
        cursor: Some(start_cursor(&a).await),
    }));
    let task = spawn_listen(a.clone(), store.clone());
    h.wait_for_streams(2).await;
    let live1 = h.resident_dm(JAN, "Eerste vraag");
    let live2 = h.resident_mentions("piet", "Losse stoeptegel", "public");
    wait_for(&store, 2).await;

    h.drop_streams();
    let ended = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("listen returns when the stream drops")
        .unwrap();
    let err = ended.unwrap_err();
    assert_eq!(err.kind, ChannelErrorKind::Unreachable);

    // During the gap: more mentions than one page, direct messages (one thread held back from
    // notifications, so only its conversation shows it), a reply in the first DM thread.
    let mut gap = Vec::new();
    for i in 0..85 {
        gap.push(h.resident_mentions(
            &format!("inwoner{}@mastodon.example", i % 7),
            &format!("Melding {i}"),
            "public",
        ));
    }
    let mut held = ResidentPost::new("anoniem@elders.example", "Vertrouwelijk", "direct");
    held.filtered = true;
    let held1 = h.resident_post(held.clone());
    held.in_reply_to_id = Some(held1.clone());
    held.text = "Nog iets".into();
    let held2 = h.resident_post(held);
    gap.push(held1);
    gap.push(held2);
    gap.push(h.resident_reply(JAN, &live1, "Aanvulling", "direct"));
    gap.push(h.resident_dm("piet", "Nieuwe vraag"));

    // Restart: a new process with the stored cursor. It crashes once after reading, before
    // storing the cursor; the next start reads the same again.
    let stored = store.lock().unwrap().cursor.clone().unwrap();
    let first_try = adapter(h.base_url(), TOKEN)
        .backfill(Some(&stored))
        .await
        .unwrap();
    let restarted = Arc::new(adapter(h.base_url(), TOKEN));
    let b = restarted.backfill(Some(&stored)).await.unwrap();
    let ids =
        |b: &Batch| -> Vec<String> { messages(b).into_iter().map(|m| m.external_id).collect() };
    assert_eq!(ids(&first_try), ids(&b), "a re-read gives the same");
    {
        let mut s = store.lock().unwrap();
        for m in messages(&b) {
            s.ids.push(m.external_id.clone());
            s.messages.push(m);
        }
        s.cursor = b.cursor.clone();
    }
    // Oldest first.
    let got = ids(&b);
    let mut sorted = got.clone();
    sorted.sort_by(|x, y| x.len().cmp(&y.len()).then(x.cmp(y)));
    assert_eq!(got, sorted);

    // Listening again: the catch-up finds nothing new, live messages still flow.
    let task = spawn_listen(restarted.clone(), store.clone());
    h.wait_for_streams(2).await;
    let live3 = h.resident_dm(JAN, "Nog een vraag");
    wait_for(&store, 2 + gap.len() + 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    task.abort();

    let s = store.lock().unwrap();
    let mut expected = vec![live1, live2];
    expected.extend(gap.iter().cloned());
    expected.push(live3);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &s.ids {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    for id in &expected {
        assert_eq!(counts.get(id.as_str()), Some(&1), "{id} exactly once");
    }
    let expected: HashSet<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(counts.len(), expected.len(), "nothing else");
}

#[tokio::test]
async fn rate_limit_is_retryable_and_nothing_is_sent_before_reset() {
    let (h, a) = setup().await;
    let c0 = start_cursor(&a).await;
    h.resident_dm(JAN, "Vraag");
    let ms = messages(&a.backfill(Some(&c0)).await.unwrap());
    h.set_rate_limited(true);
    let reply = reply_to(&ms[0], "Antwoord", "k1");
    let err = a.send(&reply).await.unwrap_err();
    assert!(err.retryable);
    assert!(err.message.contains("Mastodon-limiet"), "{}", err.message);
    assert!(
        err.message.contains("opnieuw proberen over"),
        "{}",
        err.message
    );
    assert!(h.posted().is_empty());
    assert_eq!(h.post_attempts(), 1);

    // The limit is lifted at the server, but the reset time it announced has not come: the
    // adapter does not try.
    h.set_rate_limited(false);
    let err = a.send(&reply).await.unwrap_err();
    assert!(err.retryable);
    assert_eq!(h.post_attempts(), 1);
    assert!(h.posted().is_empty());
}

#[tokio::test]
async fn server_errors_are_retryable_and_validation_is_fatal() {
    let (h, a) = setup().await;
    let c0 = start_cursor(&a).await;
    h.resident_dm(JAN, "Vraag");
    let ms = messages(&a.backfill(Some(&c0)).await.unwrap());

    h.set_down(true);
    let err = a
        .send(&reply_to(&ms[0], "Antwoord", "k1"))
        .await
        .unwrap_err();
    assert!(err.retryable, "{}", err.message);
    assert_eq!(
        a.backfill(Some(&c0)).await.unwrap_err().kind,
        ChannelErrorKind::Unreachable
    );
    h.set_down(false);

    // A status the server rejects (here: the thread it answers is gone) is not retried.
    let mut gone = reply_to(&ms[0], "Antwoord", "k2");
    gone.context["status_id"] = "999".into();
    assert!(!a.send(&gone).await.unwrap_err().retryable);
    // An empty answer is refused before sending.
    assert!(
        !a.send(&reply_to(&ms[0], "   ", "k3"))
            .await
            .unwrap_err()
            .retryable
    );
    assert!(h.posted().is_empty());

    let bad = adapter(h.base_url(), "wrong");
    let err = bad
        .send(&reply_to(&ms[0], "Antwoord", "k4"))
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(err.message.contains("toegangstoken"));
}

#[tokio::test]
async fn malformed_json_is_a_clear_error() {
    let (h, a) = setup().await;
    let c0 = start_cursor(&a).await;
    h.resident_dm(JAN, "Vraag");
    h.set_malformed(true);
    let err = a.backfill(Some(&c0)).await.unwrap_err();
    assert_eq!(err.kind, ChannelErrorKind::Malformed);
    assert!(err.message.contains("onleesbaar"), "{}", err.message);

    let fresh = adapter(h.base_url(), TOKEN);
    assert_eq!(
        fresh.test_connection().await.unwrap_err().kind,
        ChannelErrorKind::Malformed
    );
    assert_eq!(
        a.backfill(Some("geen json")).await.unwrap_err().kind,
        ChannelErrorKind::Malformed
    );
    h.set_malformed(false);
    assert_eq!(messages(&a.backfill(Some(&c0)).await.unwrap()).len(), 1);
}
