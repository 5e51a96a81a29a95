//! `loket demo --history-days N`: a deterministic, realistic history for all municipalities,
//! written straight into the tables (and the rollups) in large batches, not through intake.
//!
//! The model, per municipality: about [`CONTACTS_PER_INHABITANT_YEAR`] contacts per inhabitant
//! per year; more on weekdays (Monday busiest) and in office hours with an evening bump; a
//! channel mix; topics from the text engine's taxonomy (a few common ones dominate); 28 %
//! negative, 57 % neutral and 15 % positive; first responses and resolutions log-normal per
//! channel, counted from the next office hour when a message comes in outside office hours
//! (weekdays 8–17, Dutch time approximated by UTC+1, +2 in summer); ~5 % of resolutions
//! reopened; small municipalities have part of their conversations answered by the regional
//! pool. The same seed gives the same history (relative to the end time).

use loket_store::history::{HistoryBatch, HistoryConversation};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Instant;

/// Contacts per inhabitant per year (gives about 2.1 million a year for the Netherlands).
pub const CONTACTS_PER_INHABITANT_YEAR: f64 = 0.12;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// Channel, share, first-response median (s), its sigma, resolution median after it (s).
const CHANNELS: &[(&str, f64, f64, f64, f64)] = &[
    ("webchat", 0.28, 150.0, 0.9, 900.0),
    ("email", 0.27, 14_400.0, 1.0, 86_400.0),
    ("whatsapp", 0.15, 1_800.0, 1.1, 21_600.0),
    ("messenger", 0.08, 2_400.0, 1.1, 43_200.0),
    ("instagram", 0.04, 3_000.0, 1.1, 43_200.0),
    ("mastodon", 0.03, 3_600.0, 1.2, 43_200.0),
    ("api", 0.10, 7_200.0, 1.0, 86_400.0),
    ("open311", 0.05, 10_800.0, 1.0, 3.0 * 86_400.0),
];

/// Weekday factors, Monday first.
const WEEKDAY: [f64; 7] = [1.30, 1.18, 1.12, 1.08, 0.98, 0.52, 0.48];

/// Arrivals by local hour of day.
const HOURS: [f64; 24] = [
    0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.6, 3.6, 5.2, 5.6, 5.3, 4.6, 4.8, 4.9, 4.6, 4.2, 3.6, 3.0,
    3.2, 3.5, 3.0, 1.8, 0.8,
];

/// What was generated and how long it took.
pub struct Generated {
    pub conversations: u64,
    pub messages: u64,
    pub tenants: usize,
    pub seconds: f64,
}

struct Sampler {
    rng: StdRng,
}

impl Sampler {
    fn unit(&mut self) -> f64 {
        self.rng.r#gen::<f64>()
    }
    fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(1e-12);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    /// Log-normal with the given median and sigma, in ms.
    fn lognormal_ms(&mut self, median_s: f64, sigma: f64) -> i64 {
        (median_s * (sigma * self.normal()).exp() * 1000.0) as i64
    }
    fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda > 30.0 {
            return (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let l = (-lambda).exp();
        let (mut k, mut p) = (0u64, 1.0);
        loop {
            p *= self.unit();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
    fn pick<'a, T>(&mut self, items: &'a [T], weight: impl Fn(&T) -> f64) -> &'a T {
        let total: f64 = items.iter().map(&weight).sum();
        let mut x = self.unit() * total;
        for it in items {
            x -= weight(it);
            if x <= 0.0 {
                return it;
            }
        }
        &items[items.len() - 1]
    }
}

/// Offset of Dutch time from UTC at `ms`, approximated: summer time from about 30 March to
/// about 26 October (the exact last Sundays do not matter for demo data).
fn local_offset(ms: i64) -> i64 {
    // Days since 1 March of the civil year (Hinnant's days-from-civil, inverted).
    let z = ms.div_euclid(DAY) + 719_468;
    let doe = z - z.div_euclid(146_097) * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let since_march = doe - (365 * yoe + yoe / 4 - yoe / 100);
    if (29..239).contains(&since_march) {
        2 * HOUR
    } else {
        HOUR
    }
}

/// Monday = 0, local hour, for a UTC time.
fn local_weekday_hour(ms: i64) -> (i64, i64) {
    let local = ms + local_offset(ms);
    let days = local.div_euclid(DAY);
    ((days + 3).rem_euclid(7), local.rem_euclid(DAY) / HOUR)
}

fn in_office(ms: i64) -> bool {
    let (wd, h) = local_weekday_hour(ms);
    wd < 5 && (8..17).contains(&h)
}

/// `ms` if in office hours, else the start of the next office hour.
fn next_office(ms: i64) -> i64 {
    if in_office(ms) {
        return ms;
    }
    let mut t = ms.div_euclid(HOUR) * HOUR + HOUR;
    for _ in 0..24 * 8 {
        if in_office(t) {
            return t;
        }
        t += HOUR;
    }
    ms
}

/// Generates `days` of history ending at `end_ms` for all municipalities and writes it.
pub async fn generate(
    store: &loket_store::Store,
    days: u32,
    seed: u64,
    scale: f64,
    end_ms: i64,
) -> anyhow::Result<Generated> {
    let started = Instant::now();
    let topics: Vec<(&'static str, &'static str)> = loket_text::topics::all()
        .iter()
        .filter(|t| t.parent.is_some())
        .map(|t| (t.code, t.label_nl))
        .collect();
    anyhow::ensure!(!topics.is_empty(), "geen onderwerpen in de taxonomie");
    let topic_weight: Vec<f64> = (0..topics.len())
        .map(|i| 1.0 / ((i % 17) as f64 + 1.0).powf(0.9))
        .collect();
    let topic_idx: Vec<usize> = (0..topics.len()).collect();
    let start = (end_ms - i64::from(days) * DAY).div_euclid(DAY) * DAY;
    let settings = loket_core::tenant::TenantSettings::default();
    let (mut conversations, mut messages, mut tenants) = (0u64, 0u64, 0usize);
    for (gi, g) in loket_text::gemeenten::all().iter().enumerate() {
        let inhabitants = f64::from(loket_core::inhabitants(g.code).unwrap_or(25_000));
        let mut s = Sampler {
            rng: StdRng::seed_from_u64(seed ^ (gi as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        };
        let per_day = inhabitants * CONTACTS_PER_INHABITANT_YEAR * scale / 365.0;
        let pool_share = if inhabitants < 30_000.0 { 0.25 } else { 0.0 };
        let mut batch = HistoryBatch::default();
        let mut day = start;
        while day < end_ms {
            let (wd, _) = local_weekday_hour(day + 12 * HOUR);
            let doy = ((day - start) / DAY) as f64;
            let season = 1.0 + 0.12 * (2.0 * std::f64::consts::PI * (doy / 365.0 + 0.1)).cos();
            let n = s.poisson(per_day * WEEKDAY[wd as usize] * season / 0.951);
            let hours: Vec<usize> = (0..24).collect();
            for _ in 0..n {
                let h = *s.pick(&hours, |&h| HOURS[h]) as i64;
                let created = day + h * HOUR - local_offset(day) + (s.unit() * HOUR as f64) as i64;
                if created >= end_ms || created < start {
                    continue;
                }
                let &(channel, _, fr_med, fr_sigma, res_med) = s.pick(CHANNELS, |c| c.1);
                let topic = if s.unit() < 0.1 {
                    None
                } else {
                    Some(topics[*s.pick(&topic_idx, |&i| topic_weight[i])])
                };
                let sentiment = *s.pick(
                    &[("negatief", 0.28), ("neutraal", 0.57), ("positief", 0.15)],
                    |x| x.1,
                );
                let priority = s
                    .pick(
                        &[
                            ("normaal", 0.85),
                            ("hoog", 0.10),
                            ("laag", 0.04),
                            ("spoed", 0.01),
                        ],
                        |x| x.1,
                    )
                    .0;
                let label = topic.map_or("een vraag", |t| t.1);
                let mut c = HistoryConversation {
                    tenant_code: g.code.to_string(),
                    channel: channel.to_string(),
                    topic: topic.map(|t| t.0.to_string()),
                    priority: priority.to_string(),
                    state: "nieuw".into(),
                    subject: format!("{label}: vraag van een inwoner"),
                    sentiment: Some(sentiment.0.to_string()),
                    created_at: created,
                    first_response_at: None,
                    first_resolved_at: None,
                    resolved_at: None,
                    reopened_at: vec![],
                    handled_by_pool: false,
                    first_response_due: None,
                    resolution_due: None,
                    handle_seconds: 0,
                    csat_score: None,
                    messages: vec![(
                        "in",
                        format!("Ik heb een vraag over {}.", label.to_lowercase()),
                        created,
                    )],
                };
                let speed = if priority == "spoed" { 0.2 } else { 1.0 };
                let answered = s.unit() < 0.97;
                if answered {
                    let from = if channel == "webchat" && in_office(created) {
                        created
                    } else {
                        next_office(created)
                    };
                    let fr = from + (s.lognormal_ms(fr_med * speed, fr_sigma)).max(1000);
                    if fr < end_ms {
                        c.first_response_at = Some(fr);
                        c.handled_by_pool = s.unit() < pool_share;
                        c.state = "wachtend".into();
                        c.messages.push((
                            "out",
                            "Dank voor uw bericht. We zoeken het voor u uit.".into(),
                            fr,
                        ));
                        let mut last = fr;
                        if s.unit() < 0.35 {
                            let back = fr + s.lognormal_ms(7_200.0, 1.0);
                            let ans = next_office(back) + s.lognormal_ms(fr_med, fr_sigma);
                            if ans < end_ms {
                                c.messages
                                    .push(("in", "Dank, nog een aanvulling.".into(), back));
                                c.messages
                                    .push(("out", "Dank voor de aanvulling.".into(), ans));
                                last = ans;
                            }
                        }
                        if s.unit() < 0.93 {
                            let res = last + s.lognormal_ms(res_med, 1.2);
                            if res < end_ms {
                                c.first_resolved_at = Some(res);
                                c.resolved_at = Some(res);
                                c.state = "opgelost".into();
                                if s.unit() < 0.05 {
                                    let re = res + s.lognormal_ms(2.0 * 86_400.0, 1.0);
                                    if re < end_ms {
                                        c.reopened_at.push(re);
                                        c.messages.push((
                                            "in",
                                            "Het is nog steeds niet opgelost.".into(),
                                            re,
                                        ));
                                        c.state = "open".into();
                                        c.resolved_at = None;
                                        let again = next_office(re) + s.lognormal_ms(res_med, 1.0);
                                        if again < end_ms {
                                            c.resolved_at = Some(again);
                                            c.state = "opgelost".into();
                                        }
                                    }
                                }
                            }
                        }
                    }
                } else {
                    // Never answered: closed after a few days (counts as resolved, no response).
                    let closed = next_office(created) + s.lognormal_ms(3.0 * 86_400.0, 0.5);
                    if closed < end_ms {
                        c.first_resolved_at = Some(closed);
                        c.resolved_at = Some(closed);
                        c.state = "gesloten".into();
                    }
                }
                if c.state == "opgelost"
                    && c.resolved_at.is_some_and(|r| r < end_ms - 14 * DAY)
                    && s.unit() < 0.6
                {
                    c.state = "gesloten".into();
                }
                // Deadlines as intake sets them (the default opening hours and targets).
                let at = chrono::DateTime::from_timestamp_millis(created).unwrap_or_default();
                let prio =
                    loket_core::Priority::parse(priority).unwrap_or(loket_core::Priority::Normaal);
                for (kind, due) in [
                    (
                        loket_core::sla::SlaKind::FirstResponse,
                        &mut c.first_response_due,
                    ),
                    (loket_core::sla::SlaKind::Resolution, &mut c.resolution_due),
                ] {
                    *due = Some(
                        loket_core::sla::deadline(&settings.hours, &settings.sla, prio, kind, at)
                            .timestamp_millis(),
                    );
                }
                // Agent time: a few minutes per answer, more for long threads.
                let replies = c.messages.iter().filter(|m| m.0 == "out").count() as i64;
                c.handle_seconds = (0..replies)
                    .map(|_| s.lognormal_ms(210.0, 0.6) / 1000)
                    .sum();
                // A third of the residents answer the survey; faster help, happier residents.
                if c.first_resolved_at.is_some() && c.first_response_at.is_some() && s.unit() < 0.33
                {
                    let quick = c
                        .first_response_due
                        .zip(c.first_response_at)
                        .is_some_and(|(due, at)| at <= due);
                    let weights: [f64; 5] = if quick {
                        [0.04, 0.05, 0.11, 0.36, 0.44]
                    } else {
                        [0.14, 0.14, 0.22, 0.30, 0.20]
                    };
                    let scores = [1i64, 2, 3, 4, 5];
                    c.csat_score = Some(*s.pick(&scores, |k| weights[(*k - 1) as usize]));
                }
                messages += c.messages.len() as u64;
                batch.conversations.push(c);
            }
            day += DAY;
        }
        conversations += batch.conversations.len() as u64;
        tenants += 1;
        store.insert_history(&batch).await?;
        if tenants.is_multiple_of(50) {
            tracing::info!(tenants, conversations, "historie");
        }
    }
    store.after_history().await?;
    Ok(Generated {
        conversations,
        messages,
        tenants,
        seconds: started.elapsed().as_secs_f64(),
    })
}
