//! The weekly summary mail: supervisors (not agents) get last week's figures once, through a
//! real SMTP server delivering into Dovecot; a failed send is recorded and retried.

use crate::both;
use crate::helpers::*;
use loket_channels::standin::mail::{self, MailServers};
use loket_server::config::MailConfig;
use std::time::Duration;

both!(
    weekly_summary_to_supervisors_once,
    weekly_summary_failure_is_recorded_and_retried
);

fn servers() -> Option<MailServers> {
    match MailServers::start() {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("!!! weekly summary mail test SKIPPED: {e} !!!");
            None
        }
    }
}

fn config(port: u16) -> MailConfig {
    MailConfig {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_security: "geen".into(),
        smtp_user: mail::GEMEENTE.into(),
        smtp_password: loket_server::config::Secret(mail::PASSWORD.into()),
        from: "loket@loket.test".into(),
        ..MailConfig::default()
    }
}

async fn traffic(app: &TestApp) {
    let key = app.api_key("GM0344", None).await;
    for (i, text) in [
        "Er ligt een losse stoeptegel op de Oudegracht.",
        "Wanneer wordt het grofvuil opgehaald?",
    ]
    .iter()
    .enumerate()
    {
        let r = app
            .inbound(
                &key,
                &inbound_body(&format!("w-{i}"), &format!("inw-{i}"), text),
            )
            .await;
        assert_eq!(r.status(), 202);
    }
}

fn next_monday_noon() -> chrono::DateTime<chrono::Utc> {
    use chrono::{Datelike, TimeZone};
    let tz = chrono_tz::Europe::Amsterdam;
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let monday = today - chrono::Duration::days(i64::from(today.weekday().num_days_from_monday()))
        + chrono::Duration::days(7);
    tz.from_local_datetime(&monday.and_hms_opt(12, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn decoded(raw: &[u8]) -> String {
    // The plain part may be quoted-printable: undo soft line breaks and =XX escapes.
    let s = String::from_utf8_lossy(raw).replace("=\r\n", "");
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn weekly_summary_to_supervisors_once(app: TestApp) {
    let Some(servers) = servers() else { return };
    traffic(&app).await;
    app.user(
        mail::INWONER,
        "Sanne Supervisor",
        &[("GM0344", "supervisor")],
    )
    .await;
    app.user(mail::INWONER2, "Anna Agent", &[("GM0344", "agent")])
        .await;
    // Next Monday at noon, this week is "last week".
    let next_week = next_monday_noon();
    let cfg = config(servers.smtp_port);
    let sent = loket_server::summary::send_due(&app.state, &cfg, next_week)
        .await
        .unwrap();
    let log = app
        .state
        .store
        .weekly_summaries("GM0344", 10)
        .await
        .unwrap();
    assert_eq!(sent, 1, "one supervisor: {log:?}\n{}", servers.smtp_log());
    let msgs = servers
        .wait_for_messages(mail::INWONER, 1, Duration::from_secs(10))
        .await
        .unwrap();
    let raw = decoded(&msgs[0]);
    assert!(raw.contains("Subject: Weekoverzicht webcare"), "{raw}");
    assert!(raw.contains("Contacten: 2"), "{raw}");
    assert!(
        raw.contains("/dashboard/GM0344?periode=aangepast&van="),
        "{raw}"
    );
    assert!(
        raw.contains("Content-Type: text/html"),
        "an HTML alternative"
    );
    // Sent once: a second run (another node, a restart) sends nothing.
    let again = loket_server::summary::send_due(&app.state, &cfg, next_week)
        .await
        .unwrap();
    assert_eq!(again, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(servers.messages(mail::INWONER).await.unwrap().len(), 1);
    assert!(
        servers.messages(mail::INWONER2).await.unwrap().is_empty(),
        "agents get none"
    );
    // The UI shows the preview and the log to the supervisor.
    let sanne = app.login(mail::INWONER).await;
    let r = sanne.get("/dashboard/GM0344/weekoverzicht").await;
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Weekoverzicht webcare"));
    assert!(html.contains("verstuurd"));
    assert!(html.contains("Sanne Supervisor"));
    let anna = app.login(mail::INWONER2).await;
    assert_eq!(
        anna.get("/dashboard/GM0344/weekoverzicht").await.status(),
        403
    );
}

async fn weekly_summary_failure_is_recorded_and_retried(app: TestApp) {
    traffic(&app).await;
    app.user(
        "sanne@test.nl",
        "Sanne Supervisor",
        &[("GM0344", "supervisor")],
    )
    .await;
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = config(port);
    let now = next_monday_noon();
    let sent = loket_server::summary::send_due(&app.state, &cfg, now)
        .await
        .unwrap();
    assert_eq!(sent, 0);
    let rows = app
        .state
        .store
        .weekly_summaries("GM0344", 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, "mislukt");
    assert!(rows[0].error.as_deref().unwrap_or("").len() > 5, "{rows:?}");
    // Retried on the next run, up to the limit.
    for _ in 0..10 {
        loket_server::summary::send_due(&app.state, &cfg, now)
            .await
            .unwrap();
    }
    let rows = app
        .state
        .store
        .weekly_summaries("GM0344", 10)
        .await
        .unwrap();
    assert_eq!(rows[0].attempts, loket_store::summaries::MAX_ATTEMPTS);
    // Without a mail server configured nothing is attempted.
    let off = MailConfig::default();
    assert_eq!(
        loket_server::summary::send_due(&app.state, &off, now)
            .await
            .unwrap(),
        0
    );
}
