//! The e-mail adapter against real servers: Dovecot for IMAP and an aiosmtpd server that
//! delivers into Dovecot's Maildirs (see `standin::mail`). Each test starts its own pair.

use loket_channels::adapter::{
    Adapter, Batch, ChannelErrorKind, Event, InboundMessage, MessageKind, Reply,
};
use loket_channels::email::EmailAdapter;
use loket_channels::email::parse::is_synthetic_id;
use loket_channels::standin::mail::{GEMEENTE, INWONER, MailOptions, MailServers, PASSWORD};
use mail_parser::MessageParser;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

fn start(opts: MailOptions) -> Option<MailServers> {
    match MailServers::start_with(opts) {
        Ok(s) => Some(s),
        Err(e) if e.to_string().starts_with("SKIPPED") => {
            // Written to the raw stderr handle so the test harness does not swallow it.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! e-mail server test {e} (.ci/run installs both) !!!\n"
            );
            None
        }
        Err(e) => panic!("mail servers did not start: {e}"),
    }
}

macro_rules! servers {
    () => {
        servers!(MailOptions::default())
    };
    ($opts:expr) => {
        match start($opts) {
            Some(s) => s,
            None => return,
        }
    };
}

fn adapter(s: &MailServers) -> EmailAdapter {
    EmailAdapter::new(&s.account_config(GEMEENTE)).expect("valid test config")
}

/// Fixture text with CRLF line ends, as mail travels.
fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

fn resident_mail(message_id: &str, subject: &str, body: &str) -> Vec<u8> {
    crlf(&format!(
        "From: Anna de Vries <Anna@Loket.Test>\n\
         To: Gemeente <{GEMEENTE}>\n\
         Subject: {subject}\n\
         Date: Tue, 3 Jun 2025 10:15:00 +0200\n\
         Message-ID: <{message_id}>\n\
         MIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\n\
         \n\
         {body}\n"
    ))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/mail/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    crlf(&std::fs::read_to_string(&path).expect("fixture"))
}

fn messages(batch: &Batch) -> Vec<&InboundMessage> {
    batch
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Message(m) => Some(m),
            _ => None,
        })
        .collect()
}

fn ids(batch: &Batch) -> Vec<String> {
    messages(batch)
        .iter()
        .map(|m| m.external_id.clone())
        .collect()
}

async fn next_batch(rx: &mut mpsc::Receiver<Batch>, within: Duration) -> Batch {
    tokio::time::timeout(within, rx.recv())
        .await
        .unwrap_or_else(|_| panic!("no batch within {within:?}"))
        .expect("listen ended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_reads_a_resident_mail_without_marking_it() {
    let s = servers!();
    let a = adapter(&s);

    // No cursor: start from now, without history.
    s.append(GEMEENTE, &resident_mail("oud@loket.test", "Oud", "oud"))
        .await
        .unwrap();
    let start = a.backfill(None).await.unwrap();
    assert!(start.events.is_empty());
    let c0 = start.cursor.expect("cursor");
    assert!(c0.ends_with(":1"), "{c0}");

    s.append(
        GEMEENTE,
        &resident_mail(
            "CAFx7Qm1@mail.loket.test",
            "Re: Kapotte lantaarnpaal [Loket #17]",
            "De lamp doet het nog steeds niet.\n\nGroet, Anna\n\nOp 2 jun. 2025 om 09:00 schreef Gemeente <gemeente@loket.test>:\n> Dank voor uw melding.\n> Met vriendelijke groet",
        ),
    )
    .await
    .unwrap();
    let b = a.backfill(Some(&c0)).await.unwrap();
    let got = messages(&b);
    assert_eq!(got.len(), 1, "{b:?}");
    let m = got[0];
    assert_eq!(m.external_id, "CAFx7Qm1@mail.loket.test");
    assert_eq!(m.author_id, "anna@loket.test");
    assert_eq!(m.author_name, "Anna de Vries");
    assert_eq!(m.text, "De lamp doet het nog steeds niet.\n\nGroet, Anna");
    assert_eq!(m.kind, MessageKind::Normal);
    assert_eq!(m.conversation_hint, Some(17));
    assert_eq!(m.sent_at_ms, 1_748_938_500_000);
    assert_eq!(
        m.reply_context["subject"],
        "Re: Kapotte lantaarnpaal [Loket #17]"
    );
    assert_eq!(m.reply_context["message_id"], "CAFx7Qm1@mail.loket.test");
    let c1 = b.cursor.clone().unwrap();
    assert!(c1.ends_with(":2"), "{c1}");

    // Nothing new after the cursor; reading changed no flags.
    assert!(a.backfill(Some(&c1)).await.unwrap().events.is_empty());
    assert_eq!(s.seen_count(GEMEENTE).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_wakes_on_new_mail_and_listen_ends_when_the_receiver_goes() {
    let s = servers!();
    assert!(
        s.capabilities(GEMEENTE)
            .await
            .unwrap()
            .contains(&"IDLE".to_string())
    );
    let a = std::sync::Arc::new(adapter(&s));
    let c0 = a.backfill(None).await.unwrap().cursor;
    let (tx, mut rx) = mpsc::channel(8);
    let task = {
        let a = a.clone();
        tokio::spawn(async move { a.listen(c0, tx).await })
    };
    // Let it connect and enter IDLE.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let started = Instant::now();
    s.append(
        GEMEENTE,
        &resident_mail("idle-1@loket.test", "Vraag", "Hallo"),
    )
    .await
    .unwrap();
    let b = next_batch(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(ids(&b), vec!["idle-1@loket.test"]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(b.cursor.as_deref().is_some_and(|c| c.ends_with(":1")));

    s.append(
        GEMEENTE,
        &resident_mail("idle-2@loket.test", "Vraag 2", "Nog een"),
    )
    .await
    .unwrap();
    let b = next_batch(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(ids(&b), vec!["idle-2@loket.test"]);

    drop(rx);
    let r = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("listen returns after the receiver is dropped")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_is_renewed_without_losing_mail() {
    let s = servers!();
    let a = std::sync::Arc::new(adapter(&s).with_idle_renew(Duration::from_millis(300)));
    let (tx, mut rx) = mpsc::channel(8);
    let task = {
        let a = a.clone();
        tokio::spawn(async move { a.listen(None, tx).await })
    };
    // Several renewals pass.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.append(GEMEENTE, &resident_mail("renew@loket.test", "x", "y"))
        .await
        .unwrap();
    let b = next_batch(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(ids(&b), vec!["renew@loket.test"]);
    drop(rx);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_when_the_server_has_no_idle() {
    let s = servers!(MailOptions {
        idle: false,
        ..MailOptions::default()
    });
    assert!(
        !s.capabilities(GEMEENTE)
            .await
            .unwrap()
            .contains(&"IDLE".to_string())
    );
    let mut config = s.account_config(GEMEENTE);
    config.settings.insert("poll_seconds".into(), "1".into());
    let a = std::sync::Arc::new(EmailAdapter::new(&config).unwrap());
    let c0 = a.backfill(None).await.unwrap().cursor;
    let (tx, mut rx) = mpsc::channel(8);
    let task = {
        let a = a.clone();
        tokio::spawn(async move { a.listen(c0, tx).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    s.append(GEMEENTE, &resident_mail("poll@loket.test", "x", "y"))
        .await
        .unwrap();
    let b = next_batch(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(ids(&b), vec!["poll@loket.test"]);
    drop(rx);
    let r = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("listen returns")
        .unwrap();
    assert!(r.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_in_the_middle_reads_each_mail_exactly_once() {
    let s = servers!();
    let c0 = adapter(&s).backfill(None).await.unwrap().cursor;

    // First run: one mail arrives while listening; its cursor is "stored".
    let first = std::sync::Arc::new(adapter(&s));
    let (tx, mut rx) = mpsc::channel(8);
    let task = {
        let a = first.clone();
        tokio::spawn(async move { a.listen(c0, tx).await })
    };
    tokio::time::sleep(Duration::from_millis(1000)).await;
    s.append(GEMEENTE, &resident_mail("een@loket.test", "1", "een"))
        .await
        .unwrap();
    let b = next_batch(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(ids(&b), vec!["een@loket.test"]);
    let stored = b.cursor.unwrap();

    // The server stops.
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    drop(first);

    // Two mails arrive while nobody listens.
    s.append(GEMEENTE, &resident_mail("twee@loket.test", "2", "twee"))
        .await
        .unwrap();
    s.append(GEMEENTE, &resident_mail("drie@loket.test", "3", "drie"))
        .await
        .unwrap();

    // A new adapter starts from the stored cursor: both, once.
    let second = std::sync::Arc::new(adapter(&s));
    let b = second.backfill(Some(&stored)).await.unwrap();
    assert_eq!(ids(&b), vec!["twee@loket.test", "drie@loket.test"]);
    let stored = b.cursor.unwrap();

    // Listening from there repeats nothing and picks up the next one.
    let (tx, mut rx) = mpsc::channel(8);
    let task = {
        let a = second.clone();
        let c = Some(stored.clone());
        tokio::spawn(async move { a.listen(c, tx).await })
    };
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), rx.recv())
            .await
            .is_err(),
        "listen repeated old mail"
    );
    s.append(GEMEENTE, &resident_mail("vier@loket.test", "4", "vier"))
        .await
        .unwrap();
    let b = next_batch(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(ids(&b), vec!["vier@loket.test"]);
    drop(rx);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_first_sends_what_waited_after_the_cursor() {
    let s = servers!();
    let a = std::sync::Arc::new(adapter(&s));
    let c0 = a.backfill(None).await.unwrap().cursor;
    s.append(GEMEENTE, &resident_mail("wachtte@loket.test", "x", "y"))
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::channel(8);
    let task = tokio::spawn(async move { a.listen(c0, tx).await });
    let b = next_batch(&mut rx, Duration::from_secs(5)).await;
    assert_eq!(ids(&b), vec!["wachtte@loket.test"]);
    drop(rx);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_arrives_in_the_residents_mailbox_threaded() {
    let s = servers!();
    let a = adapter(&s);
    let c0 = a.backfill(None).await.unwrap().cursor.unwrap();
    let raw = crlf(&format!(
        "From: Inwoner <{INWONER}>\n\
         To: {GEMEENTE}\n\
         Subject: Losse stoeptegel bij de bakker\n\
         Date: Tue, 3 Jun 2025 10:15:00 +0200\n\
         Message-ID: <vraag-1@inwoner.loket.test>\n\
         References: <eerder@inwoner.loket.test>\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n\
         Er ligt een losse tegel voor Bakkerij Jansen.\n"
    ));
    s.append(GEMEENTE, &raw).await.unwrap();
    let b = a.backfill(Some(&c0)).await.unwrap();
    let m = messages(&b)[0].clone();

    let reply = Reply {
        conversation_id: 31,
        message_id: 904,
        recipient: m.author_id.clone(),
        text: "Beste inwoner,\n\nDank voor uw melding. We repareren de tegel deze week.\n\nMet vriendelijke groet,\nGemeente Loket".into(),
        subject: "Losse stoeptegel bij de bakker".into(),
        from_name: "Gemeente Loket".into(),
        context: m.reply_context.clone(),
        thread_refs: vec![
            "eerder@inwoner.loket.test".into(),
            "vraag-1@inwoner.loket.test".into(),
        ],
        idempotency_key: "904".into(),
        template: None,
    };
    let sent = a.send(&reply).await.unwrap();
    assert_eq!(sent.external_id.as_deref(), Some("loket-904@loket.test"));

    let got = s
        .wait_for_messages(INWONER, 1, Duration::from_secs(10))
        .await
        .unwrap();
    let parsed = MessageParser::default().parse(&got[0]).unwrap();
    assert_eq!(
        parsed.subject(),
        Some("Re: Losse stoeptegel bij de bakker [Loket #31]")
    );
    assert_eq!(parsed.message_id(), Some("loket-904@loket.test"));
    assert_eq!(
        parsed.in_reply_to().as_text(),
        Some("vraag-1@inwoner.loket.test")
    );
    let refs: Vec<String> = parsed
        .references()
        .as_text_list()
        .map(|l| l.iter().map(|r| r.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(
        refs,
        vec!["eerder@inwoner.loket.test", "vraag-1@inwoner.loket.test"]
    );
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some(GEMEENTE));
    assert_eq!(from.name(), Some("Gemeente Loket"));
    assert!(parsed.header_raw("Auto-Submitted").is_none());
    assert_eq!(
        parsed
            .body_text(0)
            .unwrap()
            .replace("\r\n", "\n")
            .trim_end(),
        reply.text.as_str()
    );

    // Sending the same reply again (an outbox retry) is recognisable by its Message-ID.
    let again = a.send(&reply).await.unwrap();
    assert_eq!(again.external_id, sent.external_id);

    // The resident answers; the adapter ties it to the conversation.
    let resident = EmailAdapter::new(&s.account_config(INWONER)).unwrap();
    let rb = resident.backfill(Some("0:0")).await.unwrap();
    let answer = messages(&rb)[0];
    assert_eq!(answer.external_id, "loket-904@loket.test");
    assert_eq!(answer.conversation_hint, Some(31));
    assert_eq!(answer.author_id, GEMEENTE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_refusals_are_final_and_deferrals_retried() {
    let s = servers!();
    let a = adapter(&s);
    let mut reply = Reply {
        conversation_id: 1,
        message_id: 2,
        recipient: "onbekend@loket.test".into(),
        text: "x".into(),
        subject: "x".into(),
        from_name: "Gemeente".into(),
        context: serde_json::json!({}),
        thread_refs: vec![],
        idempotency_key: "2".into(),
        template: None,
    };
    let e = a.send(&reply).await.unwrap_err();
    assert!(!e.retryable, "{e:?}");
    assert!(e.message.contains("weigerde"), "{}", e.message);

    reply.recipient = "tijdelijk@loket.test".into();
    let e = a.send(&reply).await.unwrap_err();
    assert!(e.retryable, "{e:?}");

    // A server that is not there: retried, Dutch, no password.
    let mut config = s.account_config(GEMEENTE);
    config.settings.insert("smtp_port".into(), "1".into());
    let e = EmailAdapter::new(&config)
        .unwrap()
        .send(&reply)
        .await
        .unwrap_err();
    assert!(e.retryable, "{e:?}");
    assert!(e.message.contains("niet bereikbaar"), "{}", e.message);
    assert!(!e.message.contains(PASSWORD));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_replies_and_bounces_are_classified() {
    let s = servers!();
    let a = adapter(&s);
    let c0 = a.backfill(None).await.unwrap().cursor.unwrap();
    s.append(GEMEENTE, &fixture("outlook_out_of_office.eml"))
        .await
        .unwrap();
    s.append(GEMEENTE, &fixture("postfix_dsn_bounce.eml"))
        .await
        .unwrap();
    let b = a.backfill(Some(&c0)).await.unwrap();
    let got = messages(&b);
    assert_eq!(got.len(), 2);

    let ooo = got[0];
    assert_eq!(ooo.kind, MessageKind::Automatic);
    assert_eq!(ooo.author_id, "p.jansen@voorbeeld-bedrijf.nl");
    assert_eq!(ooo.conversation_hint, Some(17));
    assert!(ooo.text.contains("16 juni afwezig"), "{}", ooo.text);
    assert!(ooo.thread_refs.contains(&"loket-17@loket.test".to_string()));

    let bounce = got[1];
    assert_eq!(
        bounce.kind,
        MessageKind::Bounce {
            about: vec!["loket-123@loket.test".into()]
        }
    );
    assert_eq!(bounce.author_id, "mailer-daemon@mx.loket.test");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn html_attachments_missing_ids_and_oversized_mail() {
    let s = servers!();
    let a = adapter(&s);
    let c0 = a.backfill(None).await.unwrap().cursor.unwrap();

    let html = crlf(
        "From: Anna <anna@loket.test>\n\
         Subject: Graffiti\n\
         Message-ID: <html-1@loket.test>\n\
         MIME-Version: 1.0\n\
         Content-Type: text/html; charset=utf-8\n\
         \n\
         <html><head><style>.x{color:red}</style><script>alert('x')</script></head>\
         <body><div>Op de muur van het <b>buurthuis</b> staat graffiti.</div>\
         <div><br></div><div>Zie <a href=\"https://foto.example/1\">foto</a>.</div></body></html>\n",
    );
    let pdf: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let b64 = {
        use std::fmt::Write;
        // Hand-rolled base64 so the test needs no extra crate.
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for (i, chunk) in pdf.chunks(3).enumerate() {
            let n = chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
                << (8 * (3 - chunk.len()));
            for k in 0..4 {
                if k <= chunk.len() {
                    out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
            if (i + 1) % 19 == 0 {
                let _ = writeln!(out);
            }
        }
        out
    };
    let attachment = crlf(&format!(
        "From: Anna <anna@loket.test>\n\
         Subject: Bewijs\n\
         Message-ID: <bijlage-1@loket.test>\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"grens\"\n\
         \n\
         --grens\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n\
         Hierbij de brief.\n\
         --grens\n\
         Content-Type: application/pdf; name=\"brief gemeente.pdf\"\n\
         Content-Disposition: attachment; filename=\"brief gemeente.pdf\"\n\
         Content-Transfer-Encoding: base64\n\
         \n\
         {b64}\n\
         --grens--\n"
    ));
    let no_id = crlf(
        "From: Anna <anna@loket.test>\n\
         Subject: Zonder kenmerk\n\
         Date: Tue, 3 Jun 2025 10:15:00 +0200\n\
         \n\
         Mijn mailprogramma stuurt geen Message-ID mee.\n",
    );
    let mut big = crlf(
        "From: Anna <anna@loket.test>\n\
         Subject: Heel grote video\n\
         Message-ID: <groot-1@loket.test>\n\
         MIME-Version: 1.0\n\
         Content-Type: text/plain\n\
         \n",
    );
    let line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuv\r\n";
    while big.len() < 11 * 1024 * 1024 {
        big.extend_from_slice(line);
    }

    for raw in [&html, &attachment, &no_id, &big] {
        s.append(GEMEENTE, raw).await.unwrap();
    }
    let b = a.backfill(Some(&c0)).await.unwrap();
    let got = messages(&b);
    assert_eq!(got.len(), 4, "{:?}", ids(&b));

    assert_eq!(
        got[0].text,
        "Op de muur van het buurthuis staat graffiti.\n\nZie foto (https://foto.example/1)."
    );

    assert_eq!(got[1].text, "Hierbij de brief.");
    assert_eq!(got[1].attachments.len(), 1);
    let att = &got[1].attachments[0];
    assert_eq!(att.filename, "brief gemeente.pdf");
    assert_eq!(att.content_type, "application/pdf");
    assert_eq!(att.data.as_deref(), Some(&pdf[..]));

    let synthetic = got[2].external_id.clone();
    assert!(is_synthetic_id(&synthetic), "{synthetic}");
    assert!(got[2].reply_context["message_id"].is_null());
    // Read again from the same cursor: the same id, so de-duplication works.
    let again = a.backfill(Some(&c0)).await.unwrap();
    assert_eq!(messages(&again)[2].external_id, synthetic);

    assert_eq!(got[3].external_id, "groot-1@loket.test");
    assert!(got[3].text.contains("te groot"), "{}", got[3].text);
    assert!(got[3].attachments.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuilt_mailbox_rereads_recent_mail() {
    let s = servers!();
    let a = adapter(&s);
    s.append(GEMEENTE, &resident_mail("r1@loket.test", "1", "een"))
        .await
        .unwrap();
    s.append(GEMEENTE, &resident_mail("r2@loket.test", "2", "twee"))
        .await
        .unwrap();
    let now = a.backfill(None).await.unwrap().cursor.unwrap();
    let (validity, _) = now.split_once(':').unwrap();
    // A cursor from before the mailbox got a new UIDVALIDITY.
    let b = a.backfill(Some("12345:99")).await.unwrap();
    assert_eq!(ids(&b), vec!["r1@loket.test", "r2@loket.test"]);
    assert_eq!(b.cursor.unwrap(), format!("{validity}:2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_connection_reports_counts_and_clear_auth_errors() {
    let s = servers!();
    s.append(GEMEENTE, &resident_mail("t1@loket.test", "x", "y"))
        .await
        .unwrap();
    let ok = adapter(&s).test_connection().await.unwrap();
    assert_eq!(
        ok,
        format!(
            "IMAP: verbonden als {GEMEENTE} (1 bericht in INBOX); SMTP: verbonden als {GEMEENTE}"
        )
    );

    let mut wrong = s.account_config(GEMEENTE);
    wrong
        .secrets
        .insert("imap_password".into(), "fout-wachtwoord".into());
    let e = EmailAdapter::new(&wrong)
        .unwrap()
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Auth, "{e:?}");
    assert!(e.message.contains("IMAP"), "{}", e.message);
    assert!(e.message.contains("geweigerd"), "{}", e.message);
    assert!(!e.message.contains("fout-wachtwoord"));

    let mut wrong_smtp = s.account_config(GEMEENTE);
    wrong_smtp
        .secrets
        .insert("smtp_password".into(), "ook-fout".into());
    let e = EmailAdapter::new(&wrong_smtp)
        .unwrap()
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Auth, "{e:?}");
    assert!(e.message.starts_with("SMTP"), "{}", e.message);
    assert!(e.message.contains("IMAP werkt wel"), "{}", e.message);
    assert!(!e.message.contains("ook-fout"));

    let mut missing_box = s.account_config(GEMEENTE);
    missing_box
        .settings
        .insert("mailbox".into(), "Bestaatniet".into());
    let e = EmailAdapter::new(&missing_box)
        .unwrap()
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Config, "{e:?}");
    assert!(e.message.contains("Bestaatniet"), "{}", e.message);

    let mut closed = s.account_config(GEMEENTE);
    closed.settings.insert("imap_port".into(), "1".into());
    let e = EmailAdapter::new(&closed)
        .unwrap()
        .test_connection()
        .await
        .unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Unreachable, "{e:?}");
    assert!(e.message.contains("niet bereikbaar"), "{}", e.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_reports_a_lost_connection_as_an_error() {
    let mut s = servers!();
    let a = std::sync::Arc::new(adapter(&s));
    let (tx, _rx) = mpsc::channel(8);
    let task = tokio::spawn({
        let a = a.clone();
        async move { a.listen(None, tx).await }
    });
    tokio::time::sleep(Duration::from_millis(1000)).await;
    s.stop_imap();
    let r = tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("listen notices the server is gone")
        .unwrap();
    let e = r.unwrap_err();
    assert_eq!(e.kind, ChannelErrorKind::Unreachable, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificates_are_refused_over_tls_and_starttls() {
    let s = servers!(MailOptions {
        tls: true,
        ..MailOptions::default()
    });
    for (mode, port) in [("tls", s.imaps_port.unwrap()), ("starttls", s.imap_port)] {
        let mut config = s.account_config(GEMEENTE);
        config.settings.insert("imap_tls".into(), mode.into());
        config.settings.insert("imap_port".into(), port.to_string());
        let e = EmailAdapter::new(&config)
            .unwrap()
            .test_connection()
            .await
            .unwrap_err();
        assert_eq!(e.kind, ChannelErrorKind::Unreachable, "{mode}: {e:?}");
        assert!(
            e.message.contains("beveiligde verbinding") && e.message.contains("certificate"),
            "{mode}: {}",
            e.message
        );
    }
    // The same server without TLS still works, so the refusal was about the certificate.
    assert!(adapter(&s).test_connection().await.is_ok());
}
