//! Every figure on a small data set computed by hand (the numbers in the comments), plus
//! business-hours, holiday, DST, empty, single-value and tie cases.

use super::*;
use crate::calendar::WeekSchedule;
use crate::metrics::{Clock, Schedules};
use crate::{Channel, ConversationState, TenantCode};
use chrono::{Duration, TimeZone};
use chrono_tz::Europe::Amsterdam;

fn ams(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Amsterdam
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn tenant(code: &str) -> TenantCode {
    TenantCode::parse(code).unwrap()
}

/// Monday to Friday 09:00–17:00.
fn nine_to_five() -> Schedules {
    Schedules::uniform(
        WeekSchedule::parse([
            "09:00-17:00",
            "09:00-17:00",
            "09:00-17:00",
            "09:00-17:00",
            "09:00-17:00",
            "",
            "",
        ])
        .unwrap(),
    )
}

/// Monday 7 to Sunday 13 July 2025, local.
fn week() -> Period {
    Period::local_days(date(2025, 7, 7), date(2025, 7, 13)).unwrap()
}

/// Sunday 13 July 2025 18:00: "now" for the data set.
fn now() -> DateTime<Utc> {
    ams(2025, 7, 13, 18, 0)
}

fn conv(id: i64, t: &str, ch: Channel, created: DateTime<Utc>) -> ConversationFacts {
    ConversationFacts::new(id, tenant(t), ch, created)
}

/// The data set. A = GM0344, B = GM0363; office hours 09–17 on weekdays.
///
/// | id | tenant | channel  | created      | first response | resolved      | state    |
/// |----|--------|----------|--------------|----------------|---------------|----------|
/// | 1  | A      | webchat  | Fri 4 16:55  | Mon 7 09:10    | Mon 7 10:10   | opgelost |
/// | 2  | A      | email    | Mon 7 10:00  | Mon 7 10:30    | Tue 8 10:00   | open (reopened) |
/// | 3  | B      | webchat  | Tue 8 12:00  | Tue 8 12:05    | Tue 8 12:20   | gesloten |
/// | 4  | B      | mastodon | Wed 9 20:00  | Thu 10 09:30   | –             | wachtend |
/// | 5  | A      | webchat  | Sat 12 11:00 | –              | –             | nieuw    |
/// | 6  | A      | email    | Mon 30/6 10:00 | –            | –             | open     |
/// | 7  | B      | whatsapp | Thu 10 09:00 | –              | –             | open     |
/// | 8  | NL     | webchat  | Sun 13 17:30 | –              | –             | nieuw    |
fn data() -> Vec<ConversationFacts> {
    let mut c1 = conv(1, "GM0344", Channel::Webchat, ams(2025, 7, 4, 16, 55));
    c1.first_response_at = Some(ams(2025, 7, 7, 9, 10));
    c1.first_response_due = Some(ams(2025, 7, 7, 9, 30));
    c1.resolved_at = Some(ams(2025, 7, 7, 10, 10));
    c1.resolution_due = Some(ams(2025, 7, 7, 17, 0));
    c1.state = ConversationState::Opgelost;
    c1.csat = Some(5);
    c1.handle_seconds = 600;
    c1.sentiment = Some(Sentiment::Negatief); // a contact of the week before

    let mut c2 = conv(2, "GM0344", Channel::Email, ams(2025, 7, 7, 10, 0));
    c2.topic = Some("afval".into());
    c2.first_response_at = Some(ams(2025, 7, 7, 10, 30));
    c2.first_response_due = Some(ams(2025, 7, 7, 10, 15));
    c2.resolved_at = Some(ams(2025, 7, 8, 10, 0));
    c2.resolution_due = Some(ams(2025, 7, 7, 17, 0));
    c2.state = ConversationState::Open;
    c2.reopened = 1;
    c2.csat = Some(2);
    c2.handle_seconds = 1500;
    c2.sentiment = Some(Sentiment::Negatief);

    let mut c3 = conv(3, "GM0363", Channel::Webchat, ams(2025, 7, 8, 12, 0));
    c3.topic = Some("afval".into());
    c3.first_response_at = Some(ams(2025, 7, 8, 12, 5));
    c3.first_response_due = Some(ams(2025, 7, 8, 12, 30));
    c3.resolved_at = Some(ams(2025, 7, 8, 12, 20));
    c3.resolution_due = Some(ams(2025, 7, 9, 12, 0));
    c3.state = ConversationState::Gesloten;
    c3.csat = Some(4);
    c3.handle_seconds = 0; // closed without measured activity
    c3.sentiment = Some(Sentiment::Positief);

    let mut c4 = conv(4, "GM0363", Channel::Mastodon, ams(2025, 7, 9, 20, 0));
    c4.topic = Some("parkeren".into());
    c4.first_response_at = Some(ams(2025, 7, 10, 9, 30));
    c4.first_response_due = Some(ams(2025, 7, 10, 9, 0));
    c4.resolution_due = Some(ams(2025, 7, 11, 9, 30));
    c4.state = ConversationState::Wachtend;
    c4.handled_by_pool = true;
    c4.csat = Some(5); // not resolved: does not count
    c4.handle_seconds = 300;
    c4.sentiment = Some(Sentiment::Negatief);

    let mut c5 = conv(5, "GM0344", Channel::Webchat, ams(2025, 7, 12, 11, 0));
    c5.first_response_due = Some(ams(2025, 7, 14, 9, 30));
    c5.handled_by_pool = true;
    c5.sentiment = Some(Sentiment::Neutraal);

    let mut c6 = conv(6, "GM0344", Channel::Email, ams(2025, 6, 30, 10, 0));
    c6.first_response_due = Some(ams(2025, 7, 1, 10, 0));
    c6.state = ConversationState::Open;

    let mut c7 = conv(7, "GM0363", Channel::Whatsapp, ams(2025, 7, 10, 9, 0));
    c7.first_response_due = Some(ams(2025, 7, 11, 9, 0));
    c7.resolution_due = Some(ams(2025, 7, 14, 17, 0));
    c7.state = ConversationState::Open;

    let mut c8 = conv(8, "NL", Channel::Webchat, ams(2025, 7, 13, 17, 30));
    c8.sentiment = Some(Sentiment::Positief);

    vec![c1, c2, c3, c4, c5, c6, c7, c8]
}

fn msg(t: &str, ch: Channel, dir: Direction, at: DateTime<Utc>) -> MessageFacts {
    MessageFacts {
        tenant: tenant(t),
        channel: ch,
        topic: None,
        direction: dir,
        at,
        automatic: false,
        failed: false,
    }
}

fn messages() -> Vec<MessageFacts> {
    use Channel::*;
    use Direction::*;
    let mut auto = msg("GM0344", Email, Out, ams(2025, 7, 7, 10, 0));
    auto.automatic = true;
    let mut failed = msg("GM0363", Mastodon, Out, ams(2025, 7, 10, 9, 25));
    failed.failed = true;
    vec![
        msg("GM0344", Webchat, In, ams(2025, 7, 4, 16, 55)), // before the week
        msg("GM0344", Webchat, Out, ams(2025, 7, 7, 9, 10)),
        msg("GM0344", Email, In, ams(2025, 7, 7, 10, 0)),
        auto,
        msg("GM0344", Email, Out, ams(2025, 7, 7, 10, 30)),
        msg("GM0344", Email, Note, ams(2025, 7, 7, 10, 31)),
        msg("GM0363", Webchat, In, ams(2025, 7, 8, 12, 0)),
        msg("GM0363", Webchat, Out, ams(2025, 7, 8, 12, 5)),
        msg("GM0363", Mastodon, In, ams(2025, 7, 9, 20, 0)),
        failed,
        msg("GM0363", Mastodon, Out, ams(2025, 7, 10, 9, 30)),
        msg("GM0344", Webchat, In, ams(2025, 7, 12, 11, 0)),
        msg("GM0363", Whatsapp, In, ams(2025, 7, 10, 9, 0)),
        msg("GM0363", Whatsapp, In, ams(2025, 7, 10, 9, 40)),
        msg("GM0344", Webchat, In, ams(2025, 7, 14, 0, 0)), // after the week
    ]
}

fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn volume_in_and_out() {
    let m = messages();
    let p = week();
    // In: email Mon, webchat Tue, mastodon Wed, webchat Sat, whatsapp Thu ×2.
    assert_eq!(volume(&m, &p, Flow::In), 6);
    // Out: webchat Mon, email Mon 10:30, webchat Tue, mastodon Thu 09:30 (not the
    // automatic, failed or note messages).
    assert_eq!(volume(&m, &p, Flow::Out), 4);

    let by_channel = volume_by(&m, &p, Flow::In, Dimension::Channel);
    let expect: BTreeMap<GroupKey, u64> = [
        (GroupKey::Channel(Channel::Webchat), 2),
        (GroupKey::Channel(Channel::Email), 1),
        (GroupKey::Channel(Channel::Mastodon), 1),
        (GroupKey::Channel(Channel::Whatsapp), 2),
    ]
    .into();
    assert_eq!(by_channel, expect);

    let by_tenant = volume_by(&m, &p, Flow::Out, Dimension::Tenant);
    assert_eq!(by_tenant[&GroupKey::Tenant(tenant("GM0344"))], 2);
    assert_eq!(by_tenant[&GroupKey::Tenant(tenant("GM0363"))], 2);

    let by_topic = volume_by(&m, &p, Flow::In, Dimension::Topic);
    assert_eq!(by_topic, [(GroupKey::Topic(None), 6)].into());

    let by_how = volume_by(&m, &p, Flow::In, Dimension::HourOfWeek);
    let expect: BTreeMap<GroupKey, u64> = [
        (GroupKey::HourOfWeek(10), 1),          // Mon 10:00
        (GroupKey::HourOfWeek(24 + 12), 1),     // Tue 12:00
        (GroupKey::HourOfWeek(2 * 24 + 20), 1), // Wed 20:00
        (GroupKey::HourOfWeek(3 * 24 + 9), 2),  // Thu 09:00, 09:40
        (GroupKey::HourOfWeek(5 * 24 + 11), 1), // Sat 11:00
    ]
    .into();
    assert_eq!(by_how, expect);

    let by_day = volume_by(&m, &p, Flow::In, Dimension::Day);
    let expect: BTreeMap<GroupKey, u64> = [
        (GroupKey::Day(date(2025, 7, 7)), 1),
        (GroupKey::Day(date(2025, 7, 8)), 1),
        (GroupKey::Day(date(2025, 7, 9)), 1),
        (GroupKey::Day(date(2025, 7, 10)), 2),
        (GroupKey::Day(date(2025, 7, 12)), 1),
    ]
    .into();
    assert_eq!(by_day, expect);
}

#[test]
fn volume_by_hour_of_week_on_dst_nights() {
    let at = |y, mo, d, h, mi| Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
    let m = vec![
        // Autumn 2025: 02:30 CEST and 02:30 CET, both local hour 02 on Sunday.
        msg(
            "GM0344",
            Channel::Webchat,
            Direction::In,
            at(2025, 10, 26, 0, 30),
        ),
        msg(
            "GM0344",
            Channel::Webchat,
            Direction::In,
            at(2025, 10, 26, 1, 30),
        ),
        // Spring 2025: 01:59 CET and one minute later 03:00 CEST.
        msg(
            "GM0344",
            Channel::Webchat,
            Direction::In,
            at(2025, 3, 30, 0, 59),
        ),
        msg(
            "GM0344",
            Channel::Webchat,
            Direction::In,
            at(2025, 3, 30, 1, 0),
        ),
    ];
    let p = Period::new(at(2025, 1, 1, 0, 0), at(2026, 1, 1, 0, 0)).unwrap();
    let by = volume_by(&m, &p, Flow::In, Dimension::HourOfWeek);
    let sunday = 6 * 24;
    let expect: BTreeMap<GroupKey, u64> = [
        (GroupKey::HourOfWeek(sunday + 1), 1),
        (GroupKey::HourOfWeek(sunday + 2), 2),
        (GroupKey::HourOfWeek(sunday + 3), 1),
    ]
    .into();
    assert_eq!(by, expect);
    let by_day = volume_by(&m, &p, Flow::In, Dimension::Day);
    assert_eq!(by_day[&GroupKey::Day(date(2025, 10, 26))], 2);
    assert_eq!(by_day[&GroupKey::Day(date(2025, 3, 30))], 2);
}

#[test]
fn contacts_and_breakdowns() {
    let d = data();
    let p = week();
    // 2, 3, 4, 5, 7, 8 started in the week; 1 and 6 before it.
    assert_eq!(contacts(&d, &p), 6);
    let by = contacts_by(&d, &p, Dimension::Channel);
    assert_eq!(by[&GroupKey::Channel(Channel::Webchat)], 3);
    assert_eq!(by[&GroupKey::Channel(Channel::Email)], 1);
    assert_eq!(by[&GroupKey::Channel(Channel::Mastodon)], 1);
    assert_eq!(by[&GroupKey::Channel(Channel::Whatsapp)], 1);
    let by = contacts_by(&d, &p, Dimension::Topic);
    assert_eq!(by[&GroupKey::Topic(Some("afval".into()))], 2);
    assert_eq!(by[&GroupKey::Topic(Some("parkeren".into()))], 1);
    assert_eq!(by[&GroupKey::Topic(None)], 3);
    let groups = partition(&d, Dimension::Tenant);
    assert_eq!(groups[&GroupKey::Tenant(tenant("GM0344"))].len(), 4);
    assert_eq!(groups[&GroupKey::Tenant(tenant("NL"))].len(), 1);
}

#[test]
fn first_response_time_clock_and_business() {
    let d = data();
    let p = week();
    let s = nine_to_five();
    // First responses in the week: 1, 2, 3, 4.
    // Clock: 1 = Fri 16:55 → Mon 09:10 = 64 h 15 min = 231300; 2 = 1800; 3 = 300;
    // 4 = Wed 20:00 → Thu 09:30 = 48600. Sorted 300, 1800, 48600, 231300.
    let w = first_response_time(&d, &p, Clock::Wall).unwrap();
    assert_eq!(w.count, 4);
    assert_eq!(w.median_s, 1800); // rank 2
    assert_eq!(w.p90_s, 231_300); // rank ⌈3.6⌉ = 4
    assert_eq!(w.mean_s, 70_500.0);
    // Business: 1 = 5 + 10 min = 900; 2 = 1800; 3 = 300; 4 = Thu 09:00–09:30 = 1800.
    // Sorted 300, 900, 1800, 1800 (a tie at the top).
    let b = first_response_time(&d, &p, Clock::Business(&s)).unwrap();
    assert_eq!((b.count, b.median_s, b.p90_s), (4, 900, 1800));
    assert_eq!(b.mean_s, 1200.0);
}

#[test]
fn resolution_time_clock_and_business() {
    let d = data();
    let p = week();
    let s = nine_to_five();
    // First resolutions in the week: 1, 2, 3.
    // Clock: 1 = 231300 + 3600 = 234900; 2 = Mon 10:00 → Tue 10:00 = 86400; 3 = 1200.
    let w = resolution_time(&d, &p, Clock::Wall).unwrap();
    assert_eq!((w.count, w.median_s, w.p90_s), (3, 86_400, 234_900));
    // Business: 1 = 900 + 3600 = 4500; 2 = Mon 10–17 + Tue 9–10 = 8 h = 28800; 3 = 1200.
    let b = resolution_time(&d, &p, Clock::Business(&s)).unwrap();
    assert_eq!((b.count, b.median_s, b.p90_s), (3, 4500, 28_800));
}

#[test]
fn business_time_friday_to_monday() {
    // Friday 16:55 answered Monday 09:10 with office hours 9–17: 15 business minutes.
    let mut c = conv(1, "GM0344", Channel::Email, ams(2025, 7, 4, 16, 55));
    c.first_response_at = Some(ams(2025, 7, 7, 9, 10));
    let p = week();
    let s = nine_to_five();
    let b = first_response_time([&c], &p, Clock::Business(&s)).unwrap();
    assert_eq!((b.count, b.median_s, b.p90_s), (1, 15 * 60, 15 * 60));
    assert_eq!(b.mean_s, 900.0);
}

#[test]
fn business_time_over_koningsdag_and_christmas() {
    let s = nine_to_five();
    // Koningsdag 2023 is Thursday 27 April: Wed 16:30 → Fri 09:30 is 30 + 30 min.
    let mut c = conv(1, "GM0344", Channel::Email, ams(2023, 4, 26, 16, 30));
    c.first_response_at = Some(ams(2023, 4, 28, 9, 30));
    c.resolved_at = Some(ams(2023, 4, 28, 9, 30));
    let p = Period::local_days(date(2023, 4, 24), date(2023, 4, 30)).unwrap();
    let b = first_response_time([&c], &p, Clock::Business(&s)).unwrap();
    assert_eq!(b.median_s, 3600);
    let w = first_response_time([&c], &p, Clock::Wall).unwrap();
    assert_eq!(w.median_s, 41 * 3600);
    let r = resolution_time([&c], &p, Clock::Business(&s)).unwrap();
    assert_eq!(r.median_s, 3600);

    // Christmas 2025: Wed 24 Dec 16:00 → Mon 29 Dec 10:00; 25 and 26 are holidays and
    // 27–28 the weekend: 60 + 60 min.
    let mut c = conv(2, "GM0344", Channel::Email, ams(2025, 12, 24, 16, 0));
    c.first_response_at = Some(ams(2025, 12, 29, 10, 0));
    let p = Period::local_days(date(2025, 12, 29), date(2025, 12, 31)).unwrap();
    let b = first_response_time([&c], &p, Clock::Business(&s)).unwrap();
    assert_eq!(b.median_s, 7200);
    // A 24/7 pool counts every hour, holidays included.
    let always = Schedules::uniform(WeekSchedule::always());
    let b = first_response_time([&c], &p, Clock::Business(&always)).unwrap();
    assert_eq!(b.median_s, (4 * 24 + 18) * 3600);
}

#[test]
fn business_time_across_the_dst_change() {
    // Friday 24 Oct 2025 16:00 CEST → Monday 27 Oct 10:00 CET, across the autumn change:
    // 1 h + 1 h business time; clock time is 66 h + the extra hour = 67 h.
    let s = nine_to_five();
    let mut c = conv(1, "GM0344", Channel::Email, ams(2025, 10, 24, 16, 0));
    c.first_response_at = Some(ams(2025, 10, 27, 10, 0));
    let p = Period::local_days(date(2025, 10, 27), date(2025, 10, 27)).unwrap();
    let b = first_response_time([&c], &p, Clock::Business(&s)).unwrap();
    assert_eq!(b.median_s, 7200);
    let w = first_response_time([&c], &p, Clock::Wall).unwrap();
    assert_eq!(w.median_s, 67 * 3600);
}

#[test]
fn sla_first_response() {
    let d = data();
    let p = week();
    // Met: 1 (09:10 ≤ 09:30), 3 (12:05 ≤ 12:30).
    // Breached in the week: 2 (10:30 > 10:15, decided at 10:15), 4 (09:30 > 09:00),
    // 7 (no answer, due Fri 09:00, open and overdue).
    // Pending: 5 (due Mon 14 09:30, after now). Not counted: 6 (breached on 1 July,
    // before the week), 8 (no target).
    let a = sla_attainment(&d, &p, now(), SlaKind::FirstResponse);
    assert_eq!(
        a,
        SlaAttainment {
            met: 2,
            breached: 3,
            pending: 1
        }
    );
    assert_eq!(a.share().value(), Some(0.4));

    // As known on Thursday 10 July 08:00: 4 was not answered yet and not due (pending);
    // 7 had not started; 5 did not exist yet.
    let early = ams(2025, 7, 10, 8, 0);
    let a = sla_attainment(&d, &p, early, SlaKind::FirstResponse);
    assert_eq!(
        a,
        SlaAttainment {
            met: 2,
            breached: 1,
            pending: 1
        }
    );
}

#[test]
fn sla_resolution() {
    let d = data();
    let p = week();
    // Met: 1 (Mon 10:10 ≤ 17:00), 3 (Tue 12:20 ≤ Wed 12:00).
    // Breached: 2 (resolved Tue 10:00 > Mon 17:00), 4 (waiting for the resident, due Fri
    // 09:30 and not resolved: the clock does not stop).
    // Pending: 7 (due Mon 14 17:00). 5, 6, 8 have no resolution target.
    let a = sla_attainment(&d, &p, now(), SlaKind::Resolution);
    assert_eq!(
        a,
        SlaAttainment {
            met: 2,
            breached: 2,
            pending: 1
        }
    );
    assert_eq!(a.share().value(), Some(0.5));
}

#[test]
fn sla_edges() {
    let t0 = ams(2025, 7, 7, 10, 0);
    let mut c = conv(1, "GM0344", Channel::Email, t0);
    c.first_response_due = Some(t0 + Duration::hours(1));
    let p = week();
    // Answered exactly at the deadline: met.
    c.first_response_at = c.first_response_due;
    assert_eq!(
        c.sla_outcome(SlaKind::FirstResponse, now()),
        Some(SlaOutcome::Met(t0 + Duration::hours(1)))
    );
    // One second late: breached, decided at the deadline.
    c.first_response_at = Some(t0 + Duration::hours(1) + Duration::seconds(1));
    assert_eq!(
        c.sla_outcome(SlaKind::FirstResponse, now()),
        Some(SlaOutcome::Breached(t0 + Duration::hours(1)))
    );
    // Unanswered and "now" is the deadline itself: still pending.
    c.first_response_at = None;
    let due = t0 + Duration::hours(1);
    assert_eq!(
        c.sla_outcome(SlaKind::FirstResponse, due),
        Some(SlaOutcome::Pending)
    );
    assert_eq!(
        c.sla_outcome(SlaKind::FirstResponse, due + Duration::seconds(1)),
        Some(SlaOutcome::Breached(due))
    );
    // No target, no outcome.
    c.first_response_due = None;
    assert_eq!(c.sla_outcome(SlaKind::FirstResponse, now()), None);
    assert_eq!(
        sla_attainment([&c], &p, now(), SlaKind::FirstResponse),
        SlaAttainment::default()
    );
    assert_eq!(SlaAttainment::default().share().value(), None);
}

#[test]
fn deadlines_from_targets_use_business_hours() {
    use crate::sla::SlaTargets;
    // Normaal: first response 8 business hours. Friday 16:55 with 9–17 → Monday 16:55.
    let s = nine_to_five();
    let c = conv(1, "GM0344", Channel::Email, ams(2025, 7, 4, 16, 55))
        .with_deadlines(&s.default, &SlaTargets::default());
    assert_eq!(c.first_response_due, Some(ams(2025, 7, 7, 16, 55)));
    assert!(c.resolution_due.unwrap() > c.first_response_due.unwrap());
}

#[test]
fn backlog_by_age() {
    let d = data();
    // Active now: 2 (open, Mon 7 10:00 → 152 h), 5 (nieuw, Sat 11:00 → 31 h),
    // 6 (open, 30 June → 13 days 8 h), 7 (open, Thu 09:00 → 81 h), 8 (nieuw, 30 min).
    // Not active: 1 opgelost, 3 gesloten, 4 wachtend.
    let b = backlog(&d, now());
    assert_eq!(b.counts, [1, 0, 0, 1, 2, 1]);
    assert_eq!(b.total(), 5);
    // Bucket edges are inclusive below: exactly 1 hour old is "1 tot 4 uur".
    let mut c = conv(9, "GM0344", Channel::Email, now() - Duration::hours(1));
    c.state = ConversationState::Open;
    assert_eq!(backlog([&c], now()).counts, [0, 1, 0, 0, 0, 0]);
    c.created_at = now() - Duration::hours(168);
    assert_eq!(backlog([&c], now()).counts, [0, 0, 0, 0, 0, 1]);
    // Started after as_of: not yet part of the backlog.
    assert_eq!(backlog([&c], now() - Duration::days(30)).total(), 0);
}

#[test]
fn reopen_and_pool_share() {
    let d = data();
    let p = week();
    // First resolved in the week: 1, 2, 3; 2 was reopened.
    let r = reopen_rate(&d, &p);
    assert_eq!(r, Share { part: 1, whole: 3 });
    // Municipal contacts of the week: 2, 3, 4, 5, 7 (8 is the national entry); pool
    // handled 4 and 5.
    let s = pool_share(&d, &p);
    assert_eq!(s, Share { part: 2, whole: 5 });
    assert_eq!(s.percent(), Some(40.0));
}

#[test]
fn sentiment_mix_and_trend() {
    let d = data();
    let p = week();
    // Contacts of the week with a sentiment: 2 neg, 3 pos, 4 neg, 5 neutral, 8 pos
    // (7 has none; 1 started the week before).
    let m = sentiment_mix(&d, &p);
    assert_eq!(
        m,
        SentimentMix {
            negatief: 2,
            neutraal: 1,
            positief: 2
        }
    );
    assert_eq!(m.share(Sentiment::Negatief).value(), Some(0.4));
    assert_eq!(m.net(), Some(0.0));

    let days = sentiment_trend(&d, &p, Granularity::Day);
    let net: Vec<(NaiveDate, Option<f64>)> = days.iter().map(|(d, m)| (*d, m.net())).collect();
    assert_eq!(
        net,
        vec![
            (date(2025, 7, 7), Some(-1.0)),
            (date(2025, 7, 8), Some(1.0)),
            (date(2025, 7, 9), Some(-1.0)),
            (date(2025, 7, 10), None), // 7 has no sentiment
            (date(2025, 7, 11), None),
            (date(2025, 7, 12), Some(0.0)),
            (date(2025, 7, 13), Some(1.0)),
        ]
    );
    let weeks = sentiment_trend(&d, &p, Granularity::Week);
    assert_eq!(weeks, vec![(date(2025, 7, 7), m)]);
}

#[test]
fn sentiment_trend_on_a_dst_day() {
    // 26 Oct 2025 has 25 hours; a contact at 23:30 local belongs to that day.
    let mut c = conv(1, "GM0344", Channel::Webchat, ams(2025, 10, 26, 23, 30));
    c.sentiment = Some(Sentiment::Positief);
    let p = Period::local_days(date(2025, 10, 25), date(2025, 10, 27)).unwrap();
    let t = sentiment_trend([&c], &p, Granularity::Day);
    assert_eq!(t.len(), 3);
    assert_eq!(t[1].0, date(2025, 10, 26));
    assert_eq!(t[1].1.positief, 1);
}

#[test]
fn csat_share_mean_and_count() {
    let d = data();
    let p = week();
    // First resolved in the week with a score: 1 → 5, 2 → 2, 3 → 4 (4 is not resolved).
    let c = csat(&d, &p);
    assert_eq!(
        c,
        Csat {
            responses: 3,
            satisfied: 2,
            score_sum: 11
        }
    );
    assert!(approx(c.share_satisfied().value().unwrap(), 2.0 / 3.0));
    assert!(approx(c.mean().unwrap(), 11.0 / 3.0));
    // Invalid scores are ignored.
    let mut x = Csat::default();
    for s in [0, 6, 3, 255] {
        x.add(s);
    }
    assert_eq!(
        x,
        Csat {
            responses: 1,
            satisfied: 0,
            score_sum: 3
        }
    );
}

#[test]
fn handle_time_of_resolved_conversations() {
    let d = data();
    let p = week();
    // Resolved in the week: 1 → 600, 2 → 1500, 3 → 0 (no activity: not counted).
    let h = handle_time(&d, &p).unwrap();
    assert_eq!((h.count, h.median_s, h.p90_s), (2, 600, 1500));
    assert_eq!(h.mean_s, 1050.0);
}

#[test]
fn cost_per_contact_with_prorated_tools() {
    let d = data();
    let p = week();
    let a: Vec<&ConversationFacts> = d.iter().filter(|c| c.tenant == tenant("GM0344")).collect();
    let settings = CostSettings {
        hourly_cost_eur: 36.0,
        monthly_tool_cost_eur: 620.0,
    };
    // Contacts of A in the week: 2 (1500 s) and 5 (0 s). Labour 1500 / 3600 × 36 = 15.
    // Tools: 7 of July's 31 days × 620 = 140. (15 + 140) / 2 = 77.50.
    let c = contact_cost(a.iter().copied(), &p, &settings);
    assert_eq!(c.contacts, 2);
    assert_eq!(c.handle_seconds, 1500);
    assert!(approx(c.labour_eur, 15.0));
    assert!(approx(c.tools_eur, 140.0));
    assert!(approx(c.per_contact().unwrap(), 77.5));
    // No contacts: no cost per contact (not 0, not infinity).
    let quiet = Period::local_days(date(2025, 8, 1), date(2025, 8, 2)).unwrap();
    let c = contact_cost(a.iter().copied(), &quiet, &settings);
    assert_eq!(c.per_contact(), None);
    assert!(c.tools_eur > 0.0);
}

#[test]
fn tool_cost_proration() {
    // A whole month is exactly the monthly cost, also March with its 23-hour day.
    for m in [2, 3, 7, 10] {
        let p = Period::month(2025, m).unwrap();
        assert!(approx(tool_cost(&p, 620.0), 620.0), "month {m}");
    }
    // 16 June – 15 July: 15/30 of June + 15/31 of July = 310 + 300.
    let p = Period::local_days(date(2025, 6, 16), date(2025, 7, 15)).unwrap();
    assert!(approx(tool_cost(&p, 620.0), 610.0));
    // A year is twelve months.
    let y = Period::local_days(date(2025, 1, 1), date(2025, 12, 31)).unwrap();
    assert!(approx(tool_cost(&y, 100.0), 1200.0));
    let empty = Period::new(p.start(), p.start()).unwrap();
    assert_eq!(tool_cost(&empty, 620.0), 0.0);
}

#[test]
fn contacts_per_thousand_inhabitants() {
    let d = data();
    let p = week();
    let a: Vec<&ConversationFacts> = d.iter().filter(|c| c.tenant == tenant("GM0344")).collect();
    // 2 contacts, 20,000 inhabitants → 0.1.
    assert_eq!(contacts_per_1000(a.iter().copied(), &p, 20_000), Some(0.1));
    assert_eq!(contacts_per_1000(a.iter().copied(), &p, 0), None);
    assert_eq!(per_1000(0, 5000), Some(0.0));
}

#[test]
fn empty_inputs() {
    let none: Vec<ConversationFacts> = vec![];
    let no_msgs: Vec<MessageFacts> = vec![];
    let p = week();
    let s = nine_to_five();
    assert_eq!(volume(&no_msgs, &p, Flow::In), 0);
    assert!(volume_by(&no_msgs, &p, Flow::Out, Dimension::Day).is_empty());
    assert_eq!(contacts(&none, &p), 0);
    assert_eq!(first_response_time(&none, &p, Clock::Wall), None);
    assert_eq!(first_response_time(&none, &p, Clock::Business(&s)), None);
    assert_eq!(resolution_time(&none, &p, Clock::Wall), None);
    let sla = sla_attainment(&none, &p, now(), SlaKind::Resolution);
    assert_eq!(sla, SlaAttainment::default());
    assert_eq!(sla.share().value(), None);
    assert_eq!(backlog(&none, now()).total(), 0);
    assert_eq!(reopen_rate(&none, &p).value(), None);
    assert_eq!(pool_share(&none, &p).value(), None);
    let mix = sentiment_mix(&none, &p);
    assert_eq!(mix.net(), None);
    assert_eq!(mix.share(Sentiment::Positief).value(), None);
    let trend = sentiment_trend(&none, &p, Granularity::Day);
    assert_eq!(trend.len(), 7);
    assert!(trend.iter().all(|(_, m)| m.net().is_none()));
    let c = csat(&none, &p);
    assert_eq!(
        (c.responses, c.mean(), c.share_satisfied().value()),
        (0, None, None)
    );
    assert_eq!(handle_time(&none, &p), None);
    let cost = contact_cost(&none, &p, &CostSettings::default());
    assert_eq!(cost.per_contact(), None);
    assert_eq!(contacts_per_1000(&none, &p, 1000), Some(0.0));
    // The data set over an empty period.
    let d = data();
    let empty = Period::new(now(), now()).unwrap();
    assert_eq!(contacts(&d, &empty), 0);
    assert_eq!(first_response_time(&d, &empty, Clock::Wall), None);
    assert!(sentiment_trend(&d, &empty, Granularity::Week).is_empty());
}

#[test]
fn rollup_merge_equals_direct_computation() {
    // Per-day results merged give the week's result for every summable figure.
    let d = data();
    let p = week();
    let mut sla = SlaAttainment::default();
    let mut reopen = Share::default();
    let mut pool = Share::default();
    let mut mix = SentimentMix::default();
    let mut sat = Csat::default();
    let mut hist = crate::metrics::Histogram::new();
    for (_, day) in p.split(Granularity::Day) {
        sla.merge(&sla_attainment(&d, &day, now(), SlaKind::FirstResponse));
        reopen.merge(&reopen_rate(&d, &day));
        pool.merge(&pool_share(&d, &day));
        mix.merge(&sentiment_mix(&d, &day));
        sat.merge(&csat(&d, &day));
        for c in &d {
            if let Some(at) = c.first_response_at.filter(|&t| day.contains(t)) {
                hist.record(Clock::Wall.seconds(&c.tenant, c.created_at, at));
            }
        }
    }
    assert_eq!(sla, sla_attainment(&d, &p, now(), SlaKind::FirstResponse));
    assert_eq!(reopen, reopen_rate(&d, &p));
    assert_eq!(pool, pool_share(&d, &p));
    assert_eq!(mix, sentiment_mix(&d, &p));
    assert_eq!(sat, csat(&d, &p));
    // A histogram of the same values: count and mean exact, P90 (rank n) is the exact
    // maximum, the median (1800 s, bucket [1792, 1856)) within the documented bound.
    let exact = first_response_time(&d, &p, Clock::Wall).unwrap();
    let est = hist.summary().unwrap();
    assert_eq!(est.count, exact.count);
    assert_eq!(est.mean_s, exact.mean_s);
    assert_eq!(est.p90_s, exact.p90_s, "rank n is the exact maximum");
    let err = est.median_s.abs_diff(exact.median_s) as f64;
    assert_eq!(est.median_s, 1823);
    assert!(err <= exact.median_s as f64 * crate::metrics::histogram::MAX_RELATIVE_ERROR);
}
