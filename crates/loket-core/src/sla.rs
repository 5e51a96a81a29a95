//! Service-level targets and deadlines: when a conversation must have its first answer and
//! when it must be resolved, counted in the tenant's business hours.

use crate::Priority;
use crate::calendar::{WeekSchedule, add_business_time};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// One office day of the default schedule (08:30–17:00), so "N days" in a target ends at
/// the same time of day N business days later.
pub const OFFICE_DAY_MINUTES: u32 = 510;

/// Targets per priority, indexed by `Priority as usize` (Laag, Normaal, Hoog, Spoed), in
/// minutes of business time (clock time for Spoed, see [`deadline`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlaTargets {
    pub first_response_minutes: [u32; 4],
    pub resolution_minutes: [u32; 4],
}

impl Default for SlaTargets {
    /// A common municipal norm: spoed 30 min / 4 h, hoog 2 h / 1 day, normaal 8 h / 5 days,
    /// laag 2 days / 10 days.
    fn default() -> Self {
        const D: u32 = OFFICE_DAY_MINUTES;
        Self {
            first_response_minutes: [2 * D, 8 * 60, 2 * 60, 30],
            resolution_minutes: [10 * D, 5 * D, D, 4 * 60],
        }
    }
}

impl SlaTargets {
    pub fn first_response(&self, p: Priority) -> Duration {
        Duration::minutes(i64::from(self.first_response_minutes[p as usize]))
    }

    pub fn resolution(&self, p: Priority) -> Duration {
        Duration::minutes(i64::from(self.resolution_minutes[p as usize]))
    }

    pub fn target(&self, p: Priority, kind: SlaKind) -> Duration {
        match kind {
            SlaKind::FirstResponse => self.first_response(p),
            SlaKind::Resolution => self.resolution(p),
        }
    }
}

/// Which clock a deadline belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaKind {
    FirstResponse,
    Resolution,
}

/// The moment by which the target of `kind` must be met for a conversation that started
/// (or was reopened) at `since`.
///
/// Spoed counts clock time, not business time: a spoed message (a dangerous situation, a
/// crisis) must not wait for Monday morning because it arrived on Friday evening; whoever
/// handles it out of hours (a pool, the on-call agent) is held to the clock.
pub fn deadline(
    schedule: &WeekSchedule,
    targets: &SlaTargets,
    priority: Priority,
    kind: SlaKind,
    since: DateTime<Utc>,
) -> DateTime<Utc> {
    let target = targets.target(priority, kind);
    if priority == Priority::Spoed {
        since + target
    } else {
        add_business_time(schedule, since, target)
    }
}

/// Where a conversation stands against a deadline. `left` and `by` are clock time, which is
/// what an agent reads on the wall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlaStatus {
    Ok { left: Duration },
    DueSoon { left: Duration },
    Breached { by: Duration },
}

/// Less than this much clock time left counts as due soon. A fixed threshold (rather than a
/// share of the window) needs only the deadline, and half an hour is enough to act on.
pub const DUE_SOON: Duration = Duration::minutes(30);

/// Status of `deadline` at `now`. The deadline itself is the last moment that still meets
/// the target; from one instant later it is breached.
pub fn status(deadline: DateTime<Utc>, now: DateTime<Utc>) -> SlaStatus {
    status_with_threshold(deadline, now, DUE_SOON)
}

/// [`status`] with a custom due-soon threshold, e.g. for a dashboard with its own rule.
pub fn status_with_threshold(
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
    due_soon: Duration,
) -> SlaStatus {
    let left = deadline - now;
    if left < Duration::zero() {
        SlaStatus::Breached { by: -left }
    } else if left < due_soon {
        SlaStatus::DueSoon { left }
    } else {
        SlaStatus::Ok { left }
    }
}

impl SlaStatus {
    /// Label for the agent UI: "nog 2 u 15 min" or "3 min te laat".
    pub fn label_nl(&self) -> String {
        match *self {
            SlaStatus::Ok { left } | SlaStatus::DueSoon { left } => format_left_nl(left),
            SlaStatus::Breached { by } => format_left_nl(-by),
        }
    }

    pub fn is_breached(&self) -> bool {
        matches!(self, SlaStatus::Breached { .. })
    }
}

/// Time left in Dutch: positive is "nog …", negative is "… te laat". Minutes round down, so
/// the time shown left is never more than the time really left.
pub fn format_left_nl(d: Duration) -> String {
    if d == Duration::zero() {
        return "nu".to_string();
    }
    let late = d < Duration::zero();
    let secs = d.num_seconds().unsigned_abs();
    let text = if secs < 60 {
        "minder dan 1 min".to_string()
    } else {
        let mins = secs / 60;
        let (days, hours, min) = (mins / 1440, mins % 1440 / 60, mins % 60);
        if days > 0 {
            let day_word = if days == 1 { "dag" } else { "dagen" };
            if hours > 0 {
                format!("{days} {day_word} {hours} u")
            } else {
                format!("{days} {day_word}")
            }
        } else if hours > 0 {
            if min > 0 {
                format!("{hours} u {min} min")
            } else {
                format!("{hours} u")
            }
        } else {
            format!("{min} min")
        }
    };
    if late {
        format!("{text} te laat")
    } else {
        format!("nog {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{business_time_between, is_open};
    use chrono::TimeZone;
    use chrono_tz::Europe::Amsterdam;
    use proptest::prelude::*;

    fn ams(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Amsterdam
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn office() -> WeekSchedule {
        WeekSchedule::default_office()
    }

    fn dl(p: Priority, kind: SlaKind, since: DateTime<Utc>) -> DateTime<Utc> {
        deadline(&office(), &SlaTargets::default(), p, kind, since)
    }

    #[test]
    fn default_targets() {
        let t = SlaTargets::default();
        assert_eq!(t.first_response(Priority::Spoed), Duration::minutes(30));
        assert_eq!(t.resolution(Priority::Spoed), Duration::hours(4));
        assert_eq!(t.first_response(Priority::Hoog), Duration::hours(2));
        assert_eq!(t.first_response(Priority::Normaal), Duration::hours(8));
        assert_eq!(t.resolution(Priority::Normaal), Duration::minutes(5 * 510));
        assert_eq!(t.resolution(Priority::Laag), Duration::minutes(10 * 510));
    }

    #[test]
    fn across_a_weekend() {
        // Friday 4 July 2025 16:00 + 2 h (hoog) → Monday 09:30.
        assert_eq!(
            dl(
                Priority::Hoog,
                SlaKind::FirstResponse,
                ams(2025, 7, 4, 16, 0)
            ),
            ams(2025, 7, 7, 9, 30)
        );
        // Hoog resolution: one office day from Friday 10:00 → Monday 10:00.
        assert_eq!(
            dl(Priority::Hoog, SlaKind::Resolution, ams(2025, 7, 4, 10, 0)),
            ams(2025, 7, 7, 10, 0)
        );
    }

    #[test]
    fn across_koningsdag() {
        // Koningsdag 2024 is Saturday 27 April — no effect; in 2023 it is Thursday 27 April.
        // Wednesday 26 April 2023 16:00 + 2 h → Friday 28 April 09:30.
        assert_eq!(
            dl(
                Priority::Hoog,
                SlaKind::FirstResponse,
                ams(2023, 4, 26, 16, 0)
            ),
            ams(2023, 4, 28, 9, 30)
        );
    }

    #[test]
    fn across_easter_monday() {
        // Thursday 17 April 2025 16:00; Goede Vrijdag 18, weekend, Tweede Paasdag 21 April.
        // Normaal first response 8 h: 1 h on Thursday, 7 h from Tuesday 08:30 → 15:30.
        assert_eq!(
            dl(
                Priority::Normaal,
                SlaKind::FirstResponse,
                ams(2025, 4, 17, 16, 0)
            ),
            ams(2025, 4, 22, 15, 30)
        );
    }

    #[test]
    fn across_christmas() {
        // Wednesday 24 December 2025 12:00, normaal resolution 5 office days:
        // 5 h on the 24th, then 25–26 holidays, weekend, 29, 30, 31 Dec, 1 Jan holiday,
        // 2 Jan, 5 Jan: 24th (5 h) + 29, 30, 31, 2 (4 × 8.5 h = 34 h) = 39 h; 3.5 h more on
        // Monday 5 January → 12:00.
        assert_eq!(
            dl(
                Priority::Normaal,
                SlaKind::Resolution,
                ams(2025, 12, 24, 12, 0)
            ),
            ams(2026, 1, 5, 12, 0)
        );
    }

    #[test]
    fn on_dst_change_weekend() {
        // Friday 24 October 2025 16:00 CEST + 2 h; clocks go back on Sunday 26 October.
        // Monday 27 October 09:30 CET = 08:30 UTC (on summer time it would be 07:30 UTC).
        let d = dl(
            Priority::Hoog,
            SlaKind::FirstResponse,
            ams(2025, 10, 24, 16, 0),
        );
        assert_eq!(d, Utc.with_ymd_and_hms(2025, 10, 27, 8, 30, 0).unwrap());
        // Spoed on the autumn DST night counts real elapsed time: 01:30 CEST + 4 h is
        // 04:30 CET, which reads as three hours on the wall clock.
        let since = Utc.with_ymd_and_hms(2025, 10, 25, 23, 30, 0).unwrap();
        let d = dl(Priority::Spoed, SlaKind::Resolution, since);
        assert_eq!(d - since, Duration::hours(4));
        assert_eq!(
            d.with_timezone(&Amsterdam).format("%H:%M").to_string(),
            "04:30"
        );
    }

    #[test]
    fn start_outside_hours() {
        // Tuesday 07:00 → the clock starts at 08:30; hoog 2 h → 10:30.
        assert_eq!(
            dl(
                Priority::Hoog,
                SlaKind::FirstResponse,
                ams(2025, 7, 8, 7, 0)
            ),
            ams(2025, 7, 8, 10, 30)
        );
        // Tuesday 20:00 → Wednesday 10:30.
        assert_eq!(
            dl(
                Priority::Hoog,
                SlaKind::FirstResponse,
                ams(2025, 7, 8, 20, 0)
            ),
            ams(2025, 7, 9, 10, 30)
        );
    }

    #[test]
    fn spoed_counts_clock_time() {
        // Saturday night, spoed: 30 minutes, regardless of office hours.
        let since = ams(2025, 7, 5, 23, 50);
        assert_eq!(
            dl(Priority::Spoed, SlaKind::FirstResponse, since),
            ams(2025, 7, 6, 0, 20)
        );
    }

    #[test]
    fn status_thresholds() {
        let d = ams(2025, 7, 7, 12, 0);
        assert_eq!(
            status(d, d - Duration::hours(1)),
            SlaStatus::Ok {
                left: Duration::hours(1)
            }
        );
        assert_eq!(
            status(d, d - Duration::minutes(30)),
            SlaStatus::Ok {
                left: Duration::minutes(30)
            }
        );
        assert_eq!(
            status(d, d - Duration::minutes(29)),
            SlaStatus::DueSoon {
                left: Duration::minutes(29)
            }
        );
        assert_eq!(
            status(d, d),
            SlaStatus::DueSoon {
                left: Duration::zero()
            }
        );
        assert_eq!(
            status(d, d + Duration::minutes(3)),
            SlaStatus::Breached {
                by: Duration::minutes(3)
            }
        );
        assert_eq!(
            status(d, d + Duration::minutes(3)).label_nl(),
            "3 min te laat"
        );
        assert!(status(d, d + Duration::seconds(1)).is_breached());
    }

    #[test]
    fn format_examples() {
        let m = Duration::minutes;
        assert_eq!(format_left_nl(m(135)), "nog 2 u 15 min");
        assert_eq!(format_left_nl(-m(3)), "3 min te laat");
        assert_eq!(format_left_nl(Duration::days(2)), "nog 2 dagen");
        assert_eq!(format_left_nl(Duration::days(1) + m(200)), "nog 1 dag 3 u");
        assert_eq!(format_left_nl(m(120)), "nog 2 u");
        assert_eq!(format_left_nl(m(45)), "nog 45 min");
        assert_eq!(
            format_left_nl(Duration::seconds(59)),
            "nog minder dan 1 min"
        );
        assert_eq!(
            format_left_nl(-Duration::seconds(20)),
            "minder dan 1 min te laat"
        );
        assert_eq!(format_left_nl(Duration::zero()), "nu");
        assert_eq!(format_left_nl(-Duration::days(3)), "3 dagen te laat");
    }

    #[test]
    fn targets_serde_round_trip() {
        let t = SlaTargets::default();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<SlaTargets>(&json).unwrap(), t);
    }

    fn priority() -> impl Strategy<Value = Priority> {
        prop::sample::select(Priority::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn deadline_meets_target_exactly(
            p in priority(),
            first in any::<bool>(),
            since_s in 1_700_000_000i64..1_800_000_000,
        ) {
            let kind = if first { SlaKind::FirstResponse } else { SlaKind::Resolution };
            let since = DateTime::from_timestamp(since_s, 0).unwrap();
            let t = SlaTargets::default();
            let d = deadline(&office(), &t, p, kind, since);
            prop_assert!(d > since);
            if p == Priority::Spoed {
                prop_assert_eq!(d - since, t.target(p, kind));
            } else {
                prop_assert_eq!(business_time_between(&office(), since, d), t.target(p, kind));
                prop_assert!(is_open(&office(), d - Duration::seconds(1)));
            }
        }

        #[test]
        fn later_start_never_earlier_deadline(
            p in priority(),
            a in 1_700_000_000i64..1_800_000_000,
            gap in 0i64..1_000_000,
        ) {
            let t = SlaTargets::default();
            let a = DateTime::from_timestamp(a, 0).unwrap();
            let b = a + Duration::seconds(gap);
            prop_assert!(
                deadline(&office(), &t, p, SlaKind::Resolution, a)
                    <= deadline(&office(), &t, p, SlaKind::Resolution, b)
            );
        }

        #[test]
        fn status_is_consistent(off in -1_000_000i64..1_000_000) {
            let d = DateTime::from_timestamp(1_750_000_000, 0).unwrap();
            let now = d - Duration::seconds(off);
            match status(d, now) {
                SlaStatus::Ok { left } => prop_assert!(left >= DUE_SOON && left == d - now),
                SlaStatus::DueSoon { left } => prop_assert!(left >= Duration::zero() && left < DUE_SOON),
                SlaStatus::Breached { by } => prop_assert!(by > Duration::zero() && now - d == by),
            }
            let label = status(d, now).label_nl();
            prop_assert_eq!(label.ends_with("te laat"), now > d);
        }
    }
}
