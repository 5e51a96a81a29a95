//! The weekly summary for supervisors: last week's key figures next to the week before, the
//! biggest topics and a link to the dashboard, mailed on Monday morning through the platform's
//! own SMTP server (`[mail]` in the configuration) and shown as a preview in the UI. Each
//! (tenant, week, recipient) is claimed in the database before sending, so several nodes send
//! it once; a failed send is retried a few times.

use crate::charts::esc;
use crate::config::MailConfig;
use crate::dashboard::{self, Tile};
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::state::{AppState, Tenant};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Amsterdam;
use lettre::message::{Mailbox, MultiPart};
use loket_channels::email::Security;
use loket_channels::email::smtp::{self, SmtpSettings};
use loket_core::{Role, TenantKind};

/// A rendered summary.
#[derive(Debug, Clone)]
pub struct Summary {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub week_start: NaiveDate,
}

/// The Monday of the last week whose summary is due at `now`: last week from Monday
/// `weekly_hour` (local time) on, the week before until then.
pub fn due_week(now: DateTime<Utc>, weekly_hour: u32) -> NaiveDate {
    let local = now.with_timezone(&Amsterdam);
    let today = local.date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let from = Amsterdam
        .from_local_datetime(
            &monday
                .and_hms_opt(weekly_hour.min(23), 0, 0)
                .unwrap_or_default(),
        )
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now);
    if now >= from {
        monday - Duration::days(7)
    } else {
        monday - Duration::days(14)
    }
}

/// Who gets the summary of `tenant`: its supervisors, and for a pool or the national view
/// also its coordinators.
fn wants_summary(tenant: &Tenant, role: Role) -> bool {
    role == Role::Supervisor || (tenant.kind != TenantKind::Gemeente && role == Role::Coordinator)
}

fn change(now: &Tile, before: &Tile) -> String {
    if now.value == before.value {
        "gelijk aan de week ervoor".into()
    } else {
        format!("week ervoor {}", before.value)
    }
}

/// Builds the summary of the week starting on Monday `week` for `tenant`.
pub async fn build(
    state: &AppState,
    tenant: &Tenant,
    week: NaiveDate,
) -> Result<Summary, AppError> {
    let last = week + Duration::days(6);
    let (tiles, topics) = dashboard::week_figures(state, tenant, week, last).await?;
    let (before, _) = dashboard::week_figures(
        state,
        tenant,
        week - Duration::days(7),
        week - Duration::days(1),
    )
    .await?;
    let wk = week.iso_week().week();
    let span = format!(
        "{} t/m {}",
        dashboard::day_label(week, Tr(Lang::Nl)),
        dashboard::day_label(last, Tr(Lang::Nl))
    );
    let subject = format!(
        "Weekoverzicht webcare {} — week {wk} ({span} {})",
        tenant.display_name,
        last.year()
    );
    let link = format!(
        "{}/dashboard/{}?periode=aangepast&van={week}&tot={last}",
        state.config.base_url.trim_end_matches('/'),
        tenant.code
    );
    let mut text = format!("{subject}\n\n");
    let mut rows = String::new();
    for t in &tiles {
        let prev = before
            .iter()
            .find(|b| b.figure == t.figure && b.label == t.label);
        let cmp = prev.map(|p| change(t, p)).unwrap_or_default();
        text.push_str(&format!("{}: {}", t.label, t.value));
        if !cmp.is_empty() {
            text.push_str(&format!(" ({cmp})"));
        }
        text.push('\n');
        rows.push_str(&format!(
            "<tr><th scope=\"row\" style=\"text-align:left;padding:4px 12px 4px 0\">{}</th><td style=\"padding:4px 12px 4px 0\"><strong>{}</strong></td><td style=\"color:#545b63\">{}</td></tr>",
            esc(&t.label),
            esc(&t.value),
            esc(&cmp)
        ));
    }
    let mut topic_list = String::new();
    if !topics.is_empty() {
        text.push_str("\nMeeste contacten over:\n");
        for (i, (name, n)) in topics.iter().take(5).enumerate() {
            text.push_str(&format!("{}. {name} ({n})\n", i + 1));
            topic_list.push_str(&format!("<li>{} ({})</li>", esc(name), esc(n)));
        }
    }
    text.push_str(&format!(
        "\nAlle cijfers, per dag, kanaal en onderwerp: {link}\n\nU krijgt dit overzicht elke maandag als supervisor van {} in Loket.\n",
        tenant.display_name
    ));
    let html = format!(
        "<!doctype html><html lang=\"nl\"><head><meta charset=\"utf-8\"><title>{s}</title></head><body style=\"font-family:sans-serif;color:#1b1b1b\"><h1 style=\"font-size:18px;color:#154273\">{s}</h1><table>{rows}</table>{topics}<p><a href=\"{l}\">Alle cijfers in Loket</a></p><p style=\"color:#545b63;font-size:13px\">U krijgt dit overzicht elke maandag als supervisor van {name} in Loket.</p></body></html>",
        s = esc(&subject),
        l = esc(&link),
        name = esc(&tenant.display_name),
        topics = if topic_list.is_empty() {
            String::new()
        } else {
            format!(
                "<h2 style=\"font-size:15px;color:#154273\">Meeste contacten over</h2><ol>{topic_list}</ol>"
            )
        }
    );
    Ok(Summary {
        subject,
        text,
        html,
        week_start: week,
    })
}

fn settings(cfg: &MailConfig) -> SmtpSettings {
    SmtpSettings {
        host: cfg.smtp_host.clone(),
        port: cfg.smtp_port,
        security: match cfg.smtp_security.as_str() {
            "tls" => Security::Tls,
            "geen" | "none" => Security::None,
            _ => Security::StartTls,
        },
        user: cfg.smtp_user.clone(),
        password: cfg.smtp_password.0.clone(),
    }
}

/// Sends every summary due at `now` that was not sent yet; returns how many were sent.
/// Does nothing without an SMTP host.
pub async fn send_due(
    state: &AppState,
    cfg: &MailConfig,
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    if cfg.smtp_host.trim().is_empty() {
        return Ok(0);
    }
    let from: Mailbox = format!("Loket <{}>", cfg.from)
        .parse()
        .map_err(|e| anyhow::anyhow!("afzender {}: {e}", cfg.from))?;
    let transport = smtp::transport(&settings(cfg), !cfg.smtp_user.is_empty())?;
    let week = due_week(now, cfg.weekly_hour);
    let week_key = week.to_string();
    let tenants = state.tenants();
    let mut codes: Vec<&String> = tenants.keys().collect();
    codes.sort();
    let mut sent = 0;
    for code in codes {
        let tenant = &tenants[code];
        let users = state.store.tenant_users(std::slice::from_ref(code)).await?;
        let recipients: Vec<_> = users
            .into_iter()
            .filter(|(_, ms)| {
                ms.iter()
                    .any(|m| Role::parse(&m.role).is_some_and(|r| wants_summary(tenant, r)))
            })
            .map(|(u, _)| u)
            .collect();
        if recipients.is_empty() {
            continue;
        }
        let mut summary: Option<Summary> = None;
        for user in recipients {
            if !state
                .store
                .claim_weekly_summary(code, &week_key, user.id)
                .await?
            {
                continue;
            }
            if summary.is_none() {
                match build(state, tenant, week).await {
                    Ok(s) => summary = Some(s),
                    Err(e) => {
                        let reason = format!("overzicht maken mislukt: {e}");
                        state
                            .store
                            .finish_weekly_summary(code, &week_key, user.id, Some(&reason))
                            .await?;
                        continue;
                    }
                }
            }
            let s = summary.as_ref().expect("built above");
            let result = async {
                let to: Mailbox = format!(
                    "{} <{}>",
                    user.name.replace(['<', '>', '"'], ""),
                    user.email
                )
                .parse()
                .map_err(|_| format!("ongeldig e-mailadres van gebruiker {}", user.id))?;
                let message = lettre::Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(s.subject.clone())
                    .multipart(MultiPart::alternative_plain_html(
                        s.text.clone(),
                        s.html.clone(),
                    ))
                    .map_err(|e| format!("bericht maken mislukt: {e}"))?;
                lettre::AsyncTransport::send(&transport, message)
                    .await
                    .map(|_| ())
                    .map_err(|e| smtp::describe(&e, &cfg.smtp_user).0)
            }
            .await;
            match result {
                Ok(()) => {
                    sent += 1;
                    state
                        .store
                        .finish_weekly_summary(code, &week_key, user.id, None)
                        .await?;
                }
                Err(reason) => {
                    tracing::warn!(tenant = %code, user = user.id, %reason, "weekly summary not sent");
                    state
                        .store
                        .finish_weekly_summary(code, &week_key, user.id, Some(&reason))
                        .await?;
                }
            }
        }
    }
    Ok(sent)
}

/// The background task: checks every five minutes whether a summary is due.
pub async fn run(state: AppState) {
    let cfg = state.config.mail.clone();
    if cfg.smtp_host.trim().is_empty() {
        tracing::info!("no [mail] SMTP host configured: weekly summaries are shown in the UI only");
        return;
    }
    let mut t = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        t.tick().await;
        match send_due(&state, &cfg, Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sent = n, "weekly summaries sent"),
            Err(e) => tracing::warn!(error = %e, "weekly summaries"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_due_week_turns_on_monday_morning() {
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        // Monday 30 November 2026, 06:59 local (05:59 UTC): still the week of 16 November.
        assert_eq!(due_week(at("2026-11-30T05:59:00Z"), 7), d("2026-11-16"));
        // 07:00 local: last week (23–29 November).
        assert_eq!(due_week(at("2026-11-30T06:00:00Z"), 7), d("2026-11-23"));
        // Sunday evening: still the week before.
        assert_eq!(due_week(at("2026-12-06T22:00:00Z"), 7), d("2026-11-23"));
        // Summer time: Monday 6 July 2026 07:00 local is 05:00 UTC.
        assert_eq!(due_week(at("2026-07-06T05:00:00Z"), 7), d("2026-06-29"));
        assert_eq!(due_week(at("2026-07-06T04:59:00Z"), 7), d("2026-06-22"));
    }
}
