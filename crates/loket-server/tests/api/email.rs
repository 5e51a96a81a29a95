//! E-mail end to end against real mail servers (Dovecot for IMAP, an SMTP server from PyPI that
//! delivers into Dovecot's mailboxes): a resident's mail in, the reply out and threaded, the
//! resident's answer back in the same conversation, a restart in the middle, automatic replies
//! and bounces, attachments.

use crate::both;
use crate::channels::{connect, inbound_count, messages, on_channel};
use crate::helpers::*;
use loket_channels::standin::mail::{self, MailServers};
use std::time::Duration;

both!(
    email_in_reply_out_and_threaded_answer,
    email_restart_auto_replies_bounces_and_garbage,
);

/// Real mail servers, or `None` (said loudly) on a machine without Dovecot; CI installs it and
/// fails on the SKIPPED line.
fn servers() -> Option<MailServers> {
    match MailServers::start() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("!!! e-mail test SKIPPED: {e} !!!");
            None
        }
    }
}

async fn email_setup(app: &TestApp, servers: &MailServers) -> (Agent, i64) {
    let admin = app
        .agent("beheer@utrecht.nl", &[("GM0344", "beheerder")])
        .await;
    let cfg = servers.account_config(mail::GEMEENTE);
    let mut fields: Vec<(String, String)> = cfg
        .settings
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    fields.extend(cfg.secrets.iter().map(|(k, v)| (k.clone(), v.clone())));
    fields.push(("from_name".into(), "Gemeente Utrecht".into()));
    fields.push(("enabled".into(), "1".into()));
    let f: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let id = connect(&admin, "GM0344", "email", &f).await;
    let anna = app.agent("anna@utrecht.nl", &[("GM0344", "agent")]).await;
    (anna, id)
}

fn resident_mail(id: &str, subject: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: Jan Inwoner <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Sun, 29 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n{extra}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        from = mail::INWONER,
        to = mail::GEMEENTE,
    )
    .into_bytes()
}

fn header(raw: &str, name: &str) -> Option<String> {
    raw.lines()
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l.as_bytes()[name.len()] == b':'
        })
        .map(|l| l[name.len() + 1..].trim().to_string())
}

async fn reply(a: &Agent, cid: i64, text: &str) {
    let r = a
        .post(
            &format!("/api/v1/conversations/{cid}/messages"),
            &serde_json::json!({ "body": text }),
        )
        .await;
    assert_eq!(r.status(), 201);
}

async fn email_in_reply_out_and_threaded_answer(app: TestApp) {
    let Some(servers) = servers() else { return };
    let (anna, _id) = email_setup(&app, &servers).await;
    servers
        .append(
            mail::GEMEENTE,
            &resident_mail(
                "jan-1@loket.test",
                "Losse stoeptegel",
                "Goedemorgen,\r\n\r\nVoor Oudegracht 12 in Utrecht ligt een losse stoeptegel.\r\n\r\nJan",
                "",
            ),
        )
        .await
        .unwrap();
    let cid = crate::helpers::eventually(20, "the mail in the inbox", || async {
        on_channel(&anna, "email")
            .await
            .first()
            .map(|c| c["id"].as_i64().unwrap())
    })
    .await;
    let msgs = messages(&anna, cid).await;
    assert!(
        msgs[0]["body"]
            .as_str()
            .unwrap()
            .contains("losse stoeptegel")
    );
    // Loket reads without marking the municipality's mail as read.
    assert_eq!(servers.seen_count(mail::GEMEENTE).await.unwrap(), 0);
    reply(
        &anna,
        cid,
        "Dank voor uw melding, we maken de tegel deze week.",
    )
    .await;
    let got = servers
        .wait_for_messages(mail::INWONER, 1, Duration::from_secs(20))
        .await
        .unwrap();
    let raw = String::from_utf8_lossy(&got[0]).to_string();
    assert_eq!(
        header(&raw, "In-Reply-To").as_deref(),
        Some("<jan-1@loket.test>"),
        "{raw}"
    );
    let subject = header(&raw, "Subject").unwrap();
    assert!(subject.contains(&format!("[Loket #{cid}]")), "{subject}");
    assert!(subject.starts_with("Re: "), "{subject}");
    assert!(
        raw.contains("Gemeente Utrecht"),
        "sent in the municipality's name"
    );
    assert!(raw.contains("deze week"));
    let ours = header(&raw, "Message-ID").unwrap();
    // The resident answers the reply: the same conversation, found by In-Reply-To.
    servers
        .append(
            mail::GEMEENTE,
            &resident_mail(
                "jan-2@loket.test",
                &format!("Re: {subject}"),
                "Dank u wel!\r\n\r\nOp 29 november schreef Gemeente Utrecht:\r\n> Dank voor uw melding",
                &format!("In-Reply-To: {ours}\r\nReferences: <jan-1@loket.test> {ours}\r\n"),
            ),
        )
        .await
        .unwrap();
    inbound_count(&app, &anna, "email", 2).await;
    assert_eq!(
        on_channel(&anna, "email").await.len(),
        1,
        "one conversation"
    );
    // An HTML-only mail with an attachment from someone else: shown as text, file kept.
    let html_mail = format!(
        "From: Els <{from}>\r\nTo: {to}\r\nSubject: Foto van de schade\r\nMessage-ID: <els-1@loket.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Zie de <b>foto</b> van de kapotte bank.</p><script>alert(1)</script></body></html>\r\n--b1\r\nContent-Type: image/png; name=\"bank.png\"\r\nContent-Disposition: attachment; filename=\"bank.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b1--\r\n",
        from = mail::INWONER2,
        to = mail::GEMEENTE
    );
    servers
        .append(mail::GEMEENTE, html_mail.as_bytes())
        .await
        .unwrap();
    let els = crate::helpers::eventually(20, "the HTML mail", || async {
        on_channel(&anna, "email")
            .await
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .find(|&i| i != cid)
    })
    .await;
    let c = anna.json(&format!("/api/v1/conversations/{els}")).await;
    let body = c["messages"][0]["body"].as_str().unwrap();
    assert!(body.contains("foto van de kapotte bank"), "{body}");
    assert!(!body.contains('<') && !body.contains("alert"), "{body}");
    let att = &c["attachments"][0];
    assert_eq!(att["filename"], "bank.png");
    let r = anna
        .get(&format!("/bijlagen/{}", att["id"].as_i64().unwrap()))
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(&r.bytes().await.unwrap()[..4], b"\x89PNG");
    // Another municipality cannot fetch it.
    let other = app.agent("adam@amsterdam.nl", &[("GM0363", "agent")]).await;
    let r = other
        .get(&format!("/bijlagen/{}", att["id"].as_i64().unwrap()))
        .await;
    assert_eq!(r.status(), 404);
}

async fn email_restart_auto_replies_bounces_and_garbage(app: TestApp) {
    let Some(servers) = servers() else { return };
    let (anna, id) = email_setup(&app, &servers).await;
    servers
        .append(
            mail::GEMEENTE,
            &resident_mail(
                "r-1@loket.test",
                "Grofvuil",
                "Wanneer komt het grofvuil?",
                "",
            ),
        )
        .await
        .unwrap();
    inbound_count(&app, &anna, "email", 1).await;
    // Loket goes down; mail keeps arriving.
    let mut app = app;
    app.stop().await;
    for i in 2..=3 {
        servers
            .append(
                mail::GEMEENTE,
                &resident_mail(
                    &format!("r-{i}@loket.test"),
                    &format!("Vraag {i}"),
                    "Mijn paspoort is verlopen, hoe maak ik een afspraak?",
                    "",
                ),
            )
            .await
            .unwrap();
    }
    let app = app.restart().await;
    let anna = app.login("anna@utrecht.nl").await;
    inbound_count(&app, &anna, "email", 3).await;
    // The position is lost (a crash before it was stored): everything is read again, stored once.
    let cursor = app
        .state
        .store
        .channel_account(id)
        .await
        .unwrap()
        .cursor
        .unwrap();
    let validity = cursor.split(':').next().unwrap();
    app.state
        .store
        .set_channel_cursor(id, &format!("{validity}:0"))
        .await
        .unwrap();
    let app = app.restart().await;
    let anna = app.login("anna@utrecht.nl").await;
    // An out-of-office answer and a message that is not a mail at all: nothing to answer.
    servers
        .append(
            mail::GEMEENTE,
            &resident_mail(
                "ooo-1@loket.test",
                "Automatisch antwoord: Grofvuil",
                "Ik ben afwezig tot maandag.",
                "Auto-Submitted: auto-replied\r\n",
            ),
        )
        .await
        .unwrap();
    servers
        .append(mail::GEMEENTE, b"\x00\x01 dit is geen e-mail\r\n")
        .await
        .unwrap();
    // A reply that bounces.
    let cid = on_channel(&anna, "email").await[0]["id"].as_i64().unwrap();
    reply(&anna, cid, "U kunt een afspraak maken via de website.").await;
    let got = servers
        .wait_for_messages(mail::INWONER, 1, Duration::from_secs(20))
        .await
        .unwrap();
    let ours = header(&String::from_utf8_lossy(&got[0]), "Message-ID").unwrap();
    let dsn = format!(
        "From: Mail Delivery System <MAILER-DAEMON@loket.test>\r\nTo: {to}\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@loket.test>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r1\"\r\n\r\n--r1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--r1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; loket.test\r\n\r\nFinal-Recipient: rfc822; {res}\r\nAction: failed\r\nStatus: 5.1.1\r\n--r1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {ours}\r\nSubject: Re: Grofvuil\r\n--r1--\r\n",
        to = mail::GEMEENTE,
        res = mail::INWONER
    );
    servers
        .append(mail::GEMEENTE, dsn.as_bytes())
        .await
        .unwrap();
    crate::helpers::eventually(20, "the reply marked as bounced", || async {
        let msgs = messages(&anna, cid).await;
        let out = msgs.iter().rev().find(|m| m["direction"] == "out")?;
        (out["delivery_state"] == "mislukt").then_some(())
    })
    .await;
    // Mail still flows after all that; nothing above opened a conversation.
    servers
        .append(
            mail::GEMEENTE,
            &resident_mail(
                "r-4@loket.test",
                "Nog een vraag",
                "Is het zwembad open?",
                "",
            ),
        )
        .await
        .unwrap();
    inbound_count(&app, &anna, "email", 4).await;
    let row = app.state.store.channel_account(id).await.unwrap();
    assert!(
        row.ignored >= 2,
        "auto-reply and bounce ignored: {}",
        row.ignored
    );
}
