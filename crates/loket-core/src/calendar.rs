//! Dutch public holidays and business hours in Europe/Amsterdam.
//!
//! The SLA clock only runs while a municipality is open, so every deadline depends on these
//! rules. Opening hours are wall-clock times in Amsterdam; all arithmetic is done on UTC
//! instants, so a DST change makes that day one hour shorter or longer, never wrong.

use chrono::{
    DateTime, Datelike, Days, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone,
    Timelike, Utc, Weekday,
};
use chrono_tz::Europe::Amsterdam;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Easter Sunday (Gregorian), by the anonymous Gregorian algorithm (Meeus/Jones/Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // The algorithm always yields a day in March or April.
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a valid date")
}

/// Koningsdag: 27 April, moved to the 26th when the 27th is a Sunday (the rule since 2014).
fn koningsdag(year: i32) -> Option<NaiveDate> {
    let d = NaiveDate::from_ymd_opt(year, 4, 27)?;
    Some(if d.weekday() == Weekday::Sun {
        d.pred_opt()?
    } else {
        d
    })
}

/// The days on which a municipality's front office is closed, in date order.
///
/// Bevrijdingsdag (5 May) is included every year, not only in lustrum years: Loket treats
/// municipalities as closed on it.
pub fn holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d);
    let easter = easter_sunday(year);
    let from_easter = |days: i64| easter.checked_add_signed(Duration::days(days));
    let mut out: Vec<(NaiveDate, &'static str)> = [
        (ymd(1, 1), "Nieuwjaarsdag"),
        (from_easter(-2), "Goede Vrijdag"),
        (Some(easter), "Eerste Paasdag"),
        (from_easter(1), "Tweede Paasdag"),
        (koningsdag(year), "Koningsdag"),
        (ymd(5, 5), "Bevrijdingsdag"),
        (from_easter(39), "Hemelvaartsdag"),
        (from_easter(49), "Eerste Pinksterdag"),
        (from_easter(50), "Tweede Pinksterdag"),
        (ymd(12, 25), "Eerste Kerstdag"),
        (ymd(12, 26), "Tweede Kerstdag"),
    ]
    .into_iter()
    .filter_map(|(d, name)| d.map(|d| (d, name)))
    .collect();
    out.sort_by_key(|(d, _)| *d);
    out
}

/// The name of the holiday on `date`, if any.
pub fn is_holiday(date: NaiveDate) -> Option<&'static str> {
    // Fixed dates first: no Easter computation for most days.
    match (date.month(), date.day()) {
        (1, 1) => return Some("Nieuwjaarsdag"),
        (5, 5) => return Some("Bevrijdingsdag"),
        (12, 25) => return Some("Eerste Kerstdag"),
        (12, 26) => return Some("Tweede Kerstdag"),
        (4, 26) | (4, 27) if koningsdag(date.year()) == Some(date) => return Some("Koningsdag"),
        (3..=6, _) => {}
        _ => return None,
    }
    let offset = (date - easter_sunday(date.year())).num_days();
    match offset {
        -2 => Some("Goede Vrijdag"),
        0 => Some("Eerste Paasdag"),
        1 => Some("Tweede Paasdag"),
        39 => Some("Hemelvaartsdag"),
        49 => Some("Eerste Pinksterdag"),
        50 => Some("Tweede Pinksterdag"),
        _ => None,
    }
}

/// Why opening hours could not be accepted. Shown to a tenant admin, hence Dutch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "ongeldige openingstijden {0:?}: gebruik bijvoorbeeld 08:30-17:00, of laat leeg voor gesloten"
    )]
    Format(String),
    #[error("ongeldige tijd {0:?}: gebruik UU:MM, bijvoorbeeld 08:30")]
    Time(String),
    #[error("de sluitingstijd {close} ligt niet na de openingstijd {open}")]
    CloseNotAfterOpen { open: String, close: String },
    #[error("er moet minstens één dag met openingstijden zijn")]
    AllClosed,
}

/// Opening hours of one day, `[open, close)` in Amsterdam wall-clock time.
///
/// `close` of 00:00 means the end of the day (written "24:00"), so a day can be open around
/// the clock without a special case. Serialised as `{"open": "08:30", "close": "17:00"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "DayHoursRepr", into = "DayHoursRepr")]
pub struct DayHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

#[derive(Serialize, Deserialize)]
struct DayHoursRepr {
    open: String,
    close: String,
}

impl TryFrom<DayHoursRepr> for DayHours {
    type Error = ScheduleError;
    fn try_from(r: DayHoursRepr) -> Result<Self, Self::Error> {
        DayHours::new(parse_time(&r.open, false)?, parse_time(&r.close, true)?)
    }
}

impl From<DayHours> for DayHoursRepr {
    fn from(h: DayHours) -> Self {
        DayHoursRepr {
            open: format_time(h.open, false),
            close: format_time(h.close, true),
        }
    }
}

const MIDNIGHT: NaiveTime = NaiveTime::MIN;

impl DayHours {
    /// Checked constructor: the day must have some open time.
    pub fn new(open: NaiveTime, close: NaiveTime) -> Result<Self, ScheduleError> {
        if close != MIDNIGHT && close <= open {
            return Err(ScheduleError::CloseNotAfterOpen {
                open: format_time(open, false),
                close: format_time(close, true),
            });
        }
        Ok(Self { open, close })
    }

    /// Open from midnight to midnight.
    pub const fn all_day() -> Self {
        Self {
            open: MIDNIGHT,
            close: MIDNIGHT,
        }
    }

    /// Whether this is open for the whole day.
    pub fn is_all_day(&self) -> bool {
        self.open == MIDNIGHT && self.close == MIDNIGHT
    }

    /// Whether the hours contain any open time (fields are public, so this is not guaranteed).
    fn is_valid(&self) -> bool {
        self.close == MIDNIGHT || self.open < self.close
    }
}

impl fmt::Display for DayHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{}",
            format_time(self.open, false),
            format_time(self.close, true)
        )
    }
}

fn format_time(t: NaiveTime, is_close: bool) -> String {
    if is_close && t == MIDNIGHT {
        "24:00".to_string()
    } else {
        t.format("%H:%M").to_string()
    }
}

fn parse_time(s: &str, is_close: bool) -> Result<NaiveTime, ScheduleError> {
    let s = s.trim();
    if is_close && s == "24:00" {
        return Ok(MIDNIGHT);
    }
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| ScheduleError::Time(s.to_string()))?;
    let num = |x: &str| -> Option<u32> {
        if (1..=2).contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit()) {
            x.parse().ok()
        } else {
            None
        }
    };
    match (num(h), num(m)) {
        (Some(h), Some(m)) => NaiveTime::from_hms_opt(h, m, 0),
        _ => None,
    }
    .ok_or_else(|| ScheduleError::Time(s.to_string()))
}

/// Parses one day as typed by a tenant admin: `"08:30-17:00"`, or `""` / `"gesloten"` for
/// closed. `"00:00-24:00"` is open all day.
pub fn parse_day(s: &str) -> Result<Option<DayHours>, ScheduleError> {
    let t = s.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("gesloten") {
        return Ok(None);
    }
    // Accept the en dash that word processors put in "08:30–17:00".
    let (open, close) = t
        .split_once('-')
        .or_else(|| t.split_once('–'))
        .ok_or_else(|| ScheduleError::Format(t.to_string()))?;
    DayHours::new(parse_time(open, false)?, parse_time(close, true)?).map(Some)
}

/// Opening hours per weekday; index 0 is Monday.
///
/// Holidays close every schedule except one that is open all day on all seven days
/// ([`WeekSchedule::always`]): a 24/7 service has no days off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeekSchedule {
    pub days: [Option<DayHours>; 7],
}

impl Default for WeekSchedule {
    fn default() -> Self {
        Self::default_office()
    }
}

impl WeekSchedule {
    /// Checked constructor: rejects invalid days and a week without any open time, which
    /// would make an SLA clock that never runs.
    pub fn new(days: [Option<DayHours>; 7]) -> Result<Self, ScheduleError> {
        let s = Self { days };
        for d in s.days.iter().flatten() {
            DayHours::new(d.open, d.close)?;
        }
        if !s.has_open_time() {
            return Err(ScheduleError::AllClosed);
        }
        Ok(s)
    }

    /// Parses seven days as typed by a tenant admin (see [`parse_day`]), Monday first.
    pub fn parse(days: [&str; 7]) -> Result<Self, ScheduleError> {
        let mut out = [None; 7];
        for (slot, s) in out.iter_mut().zip(days) {
            *slot = parse_day(s)?;
        }
        Self::new(out)
    }

    /// Monday to Friday 08:30–17:00: the common front-office hours of a municipality.
    pub fn default_office() -> Self {
        let h = DayHours {
            open: NaiveTime::from_hms_opt(8, 30, 0).expect("valid time"),
            close: NaiveTime::from_hms_opt(17, 0, 0).expect("valid time"),
        };
        Self {
            days: [Some(h), Some(h), Some(h), Some(h), Some(h), None, None],
        }
    }

    /// Open around the clock, holidays included (for national and crisis pools).
    pub fn always() -> Self {
        Self {
            days: [Some(DayHours::all_day()); 7],
        }
    }

    /// Whether this schedule is open around the clock and therefore ignores holidays.
    pub fn is_always(&self) -> bool {
        self.days.iter().all(|d| d.is_some_and(|h| h.is_all_day()))
    }

    /// Whether any weekday has open time; false means business time never elapses.
    pub fn has_open_time(&self) -> bool {
        self.days.iter().flatten().any(DayHours::is_valid)
    }

    /// The hours of a weekday.
    pub fn day(&self, weekday: Weekday) -> Option<DayHours> {
        self.days[weekday.num_days_from_monday() as usize]
    }

    /// The open interval of a local date in UTC, if the office opens that day.
    fn interval(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let h = self.day(date.weekday()).filter(DayHours::is_valid)?;
        if !self.is_always() && is_holiday(date).is_some() {
            return None;
        }
        let start = resolve_local(date.and_time(h.open), true);
        let end = if h.close == MIDNIGHT {
            resolve_local(date.succ_opt()?.and_time(MIDNIGHT), false)
        } else {
            resolve_local(date.and_time(h.close), false)
        };
        (start < end).then_some((start, end))
    }
}

/// Maps Amsterdam wall-clock time to UTC. In the autumn overlap an opening takes the earlier
/// instant and a closing the later one (the longest day); a time in the spring gap moves to
/// the first instant after it.
fn resolve_local(local: NaiveDateTime, is_open: bool) -> DateTime<Utc> {
    let mut t = local;
    // Gaps in Europe/Amsterdam are one hour; the loop is bounded for safety.
    for _ in 0..4 {
        match Amsterdam.from_local_datetime(&t) {
            LocalResult::Single(d) => return d.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => {
                return if is_open { a } else { b }.with_timezone(&Utc);
            }
            LocalResult::None => {
                // Move to the next whole hour, where the gap ends.
                let hour = t
                    .date()
                    .and_time(NaiveTime::from_hms_opt(t.hour(), 0, 0).unwrap_or(MIDNIGHT));
                t = hour + Duration::hours(1);
            }
        }
    }
    Utc.from_utc_datetime(&local)
}

fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&Amsterdam).date_naive()
}

/// Days scanned before giving up: far beyond any SLA window, small enough to stay fast.
const MAX_SCAN_DAYS: u64 = 366 * 100;

/// Whether the office is open at `at`. Holidays are closed unless the schedule is
/// [`WeekSchedule::always`].
pub fn is_open(schedule: &WeekSchedule, at: DateTime<Utc>) -> bool {
    // Intervals never cross local midnight, so only the local date of `at` matters.
    schedule
        .interval(local_date(at))
        .is_some_and(|(s, e)| s <= at && at < e)
}

/// The first moment at or after `at` when the office is open; `None` if it does not open
/// within a year (e.g. a schedule without open days).
pub fn next_open(schedule: &WeekSchedule, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !schedule.has_open_time() {
        return None;
    }
    let mut date = local_date(at);
    for _ in 0..=366 {
        if let Some((s, e)) = schedule.interval(date)
            && at < e
        {
            return Some(s.max(at));
        }
        date = date.succ_opt()?;
    }
    None
}

/// The moment at which `d` of open time has elapsed after `start`; a start outside hours
/// starts the clock at the next opening. A zero or negative `d` returns `start`.
///
/// To stay total, a schedule without any open time counts clock time instead (a tenant
/// that configured no hours still gets a deadline), and durations beyond about a century
/// of business time stop at the last day scanned.
pub fn add_business_time(
    schedule: &WeekSchedule,
    start: DateTime<Utc>,
    d: Duration,
) -> DateTime<Utc> {
    if d <= Duration::zero() {
        return start;
    }
    if !schedule.has_open_time() {
        return start
            .checked_add_signed(d)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
    }
    let mut remaining = d;
    let mut cursor = start;
    let mut date = local_date(start);
    for _ in 0..MAX_SCAN_DAYS {
        if let Some((s, e)) = schedule.interval(date) {
            let from = s.max(cursor);
            if from < e {
                let available = e - from;
                if remaining <= available {
                    return from + remaining;
                }
                remaining -= available;
                cursor = e;
            }
        }
        date = match date.checked_add_days(Days::new(1)) {
            Some(next) => next,
            None => break,
        };
    }
    cursor
}

/// Open time elapsed between `a` and `b`; zero if `b <= a`.
pub fn business_time_between(
    schedule: &WeekSchedule,
    a: DateTime<Utc>,
    b: DateTime<Utc>,
) -> Duration {
    if b <= a {
        return Duration::zero();
    }
    let last = local_date(b);
    let mut date = local_date(a);
    let mut total = Duration::zero();
    while date <= last {
        if let Some((s, e)) = schedule.interval(date) {
            let (from, to) = (s.max(a), e.min(b));
            if from < to {
                total += to - from;
            }
        }
        date = match date.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Amsterdam wall-clock time to UTC (unambiguous times only).
    pub(crate) fn ams(y: i32, m: u32, day: u32, h: u32, min: u32) -> DateTime<Utc> {
        Amsterdam
            .with_ymd_and_hms(y, m, day, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn easter_known_years() {
        // Published Easter Sunday dates.
        for (y, m, day) in [
            (2000, 4, 23),
            (2008, 3, 23),
            (2011, 4, 24),
            (2019, 4, 21),
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), d(y, m, day), "{y}");
        }
    }

    #[test]
    fn holidays_2025() {
        let h = holidays(2025);
        let expect = [
            (d(2025, 1, 1), "Nieuwjaarsdag"),
            (d(2025, 4, 18), "Goede Vrijdag"),
            (d(2025, 4, 20), "Eerste Paasdag"),
            (d(2025, 4, 21), "Tweede Paasdag"),
            (d(2025, 4, 26), "Koningsdag"), // the 27th is a Sunday
            (d(2025, 5, 5), "Bevrijdingsdag"),
            (d(2025, 5, 29), "Hemelvaartsdag"),
            (d(2025, 6, 8), "Eerste Pinksterdag"),
            (d(2025, 6, 9), "Tweede Pinksterdag"),
            (d(2025, 12, 25), "Eerste Kerstdag"),
            (d(2025, 12, 26), "Tweede Kerstdag"),
        ];
        assert_eq!(h, expect);
    }

    #[test]
    fn koningsdag_normal_year() {
        assert_eq!(is_holiday(d(2024, 4, 27)), Some("Koningsdag"));
        assert_eq!(is_holiday(d(2024, 4, 26)), None);
        assert_eq!(is_holiday(d(2025, 4, 27)), None);
    }

    #[test]
    fn ordinary_days_are_not_holidays() {
        assert_eq!(is_holiday(d(2025, 4, 22)), None);
        assert_eq!(is_holiday(d(2025, 7, 1)), None);
        assert_eq!(is_holiday(d(2025, 12, 24)), None);
    }

    proptest! {
        #[test]
        fn is_holiday_agrees_with_holidays(year in 1900i32..2200, ord in 1u32..366) {
            let date = NaiveDate::from_yo_opt(year, ord).unwrap();
            let listed = holidays(year).into_iter().find(|(x, _)| *x == date).map(|(_, n)| n);
            prop_assert_eq!(is_holiday(date), listed);
        }

        #[test]
        fn easter_is_a_sunday_in_spring(year in 1583i32..4000) {
            let e = easter_sunday(year);
            prop_assert_eq!(e.weekday(), Weekday::Sun);
            prop_assert!(e >= d(year, 3, 22) && e <= d(year, 4, 25));
        }
    }

    #[test]
    fn parse_day_forms() {
        let h = parse_day("08:30-17:00").unwrap().unwrap();
        assert_eq!(h.to_string(), "08:30-17:00");
        assert_eq!(parse_day(" 8:30 – 17:00 ").unwrap(), Some(h));
        assert_eq!(parse_day("").unwrap(), None);
        assert_eq!(parse_day("Gesloten").unwrap(), None);
        assert!(parse_day("00:00-24:00").unwrap().unwrap().is_all_day());
        assert!(matches!(
            parse_day("17:00-08:30"),
            Err(ScheduleError::CloseNotAfterOpen { .. })
        ));
        assert!(matches!(
            parse_day("25:00-26:00"),
            Err(ScheduleError::Time(_))
        ));
        assert!(matches!(
            parse_day("08:30-8:300"),
            Err(ScheduleError::Time(_))
        ));
        assert!(matches!(parse_day("morgen"), Err(ScheduleError::Format(_))));
        let msg = parse_day("17:00-09:00").unwrap_err().to_string();
        assert!(msg.contains("sluitingstijd"), "{msg}");
    }

    #[test]
    fn schedule_constructor_rejects_all_closed() {
        assert_eq!(
            WeekSchedule::parse(["", "", "", "", "", "gesloten", ""]),
            Err(ScheduleError::AllClosed)
        );
        let s = WeekSchedule::parse([
            "08:30-17:00",
            "08:30-17:00",
            "08:30-17:00",
            "08:30-17:00",
            "08:30-17:00",
            "",
            "",
        ])
        .unwrap();
        assert_eq!(s, WeekSchedule::default_office());
    }

    #[test]
    fn serde_uses_hh_mm_strings() {
        let json = serde_json::to_string(&WeekSchedule::default_office()).unwrap();
        assert!(
            json.contains(r#"{"open":"08:30","close":"17:00"}"#),
            "{json}"
        );
        assert!(json.ends_with("null,null]}"), "{json}");
        let back: WeekSchedule = serde_json::from_str(&json).unwrap();
        assert_eq!(back, WeekSchedule::default_office());
        let always = serde_json::to_string(&WeekSchedule::always()).unwrap();
        assert!(always.contains(r#""close":"24:00""#), "{always}");
        let back: WeekSchedule = serde_json::from_str(&always).unwrap();
        assert!(back.is_always());
        let bad = r#"{"days":[{"open":"17:00","close":"09:00"},null,null,null,null,null,null]}"#;
        assert!(serde_json::from_str::<WeekSchedule>(bad).is_err());
    }

    #[test]
    fn repr_rejects_bad_hours() {
        let bad = DayHoursRepr {
            open: "17:00".into(),
            close: "09:00".into(),
        };
        assert!(DayHours::try_from(bad).is_err());
    }

    #[test]
    fn open_and_closed_moments() {
        let s = WeekSchedule::default_office();
        // Tuesday 1 July 2025.
        assert!(!is_open(&s, ams(2025, 7, 1, 8, 29)));
        assert!(is_open(&s, ams(2025, 7, 1, 8, 30)));
        assert!(is_open(&s, ams(2025, 7, 1, 16, 59)));
        assert!(!is_open(&s, ams(2025, 7, 1, 17, 0)));
        // Saturday.
        assert!(!is_open(&s, ams(2025, 7, 5, 10, 0)));
        // Koningsdag 2025 is Saturday 26 April; Tweede Paasdag Monday 21 April.
        assert!(!is_open(&s, ams(2025, 4, 21, 10, 0)));
        // Always is open on Christmas.
        assert!(is_open(&WeekSchedule::always(), ams(2025, 12, 25, 3, 0)));
        assert!(!is_open(&s, ams(2025, 12, 25, 10, 0)));
    }

    #[test]
    fn next_open_cases() {
        let s = WeekSchedule::default_office();
        // Friday evening → Monday morning.
        assert_eq!(
            next_open(&s, ams(2025, 7, 4, 18, 0)),
            Some(ams(2025, 7, 7, 8, 30))
        );
        // Already open → same moment.
        let t = ams(2025, 7, 7, 9, 0);
        assert_eq!(next_open(&s, t), Some(t));
        // Christmas Eve after hours → 29 December (25, 26 holidays, 27-28 weekend).
        assert_eq!(
            next_open(&s, ams(2025, 12, 24, 17, 0)),
            Some(ams(2025, 12, 29, 8, 30))
        );
        let closed = WeekSchedule { days: [None; 7] };
        assert_eq!(next_open(&closed, t), None);
    }

    #[test]
    fn add_business_time_basics() {
        let s = WeekSchedule::default_office();
        // Friday 16:00 + 2 h → Monday 09:30.
        assert_eq!(
            add_business_time(&s, ams(2025, 7, 4, 16, 0), Duration::hours(2)),
            ams(2025, 7, 7, 9, 30)
        );
        // Saturday start → clock starts Monday 08:30.
        assert_eq!(
            add_business_time(&s, ams(2025, 7, 5, 12, 0), Duration::minutes(30)),
            ams(2025, 7, 7, 9, 0)
        );
        // Exactly to closing time stays on that day.
        assert_eq!(
            add_business_time(&s, ams(2025, 7, 7, 8, 30), Duration::minutes(510)),
            ams(2025, 7, 7, 17, 0)
        );
        // Zero duration.
        let t = ams(2025, 7, 5, 12, 0);
        assert_eq!(add_business_time(&s, t, Duration::zero()), t);
    }

    #[test]
    fn all_closed_falls_back_to_clock_time() {
        let closed = WeekSchedule { days: [None; 7] };
        let t = ams(2025, 7, 5, 12, 0);
        assert_eq!(
            add_business_time(&closed, t, Duration::hours(3)),
            t + Duration::hours(3)
        );
        assert_eq!(
            business_time_between(&closed, t, t + Duration::days(3)),
            Duration::zero()
        );
    }

    #[test]
    fn invalid_public_fields_do_not_hang() {
        let bad = DayHours {
            open: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
            close: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        };
        let s = WeekSchedule {
            days: [Some(bad); 7],
        };
        let t = ams(2025, 7, 5, 12, 0);
        assert!(!s.has_open_time());
        assert_eq!(
            add_business_time(&s, t, Duration::hours(1)),
            t + Duration::hours(1)
        );
        assert!(!is_open(&s, t));
    }

    #[test]
    fn dst_days_with_always() {
        let s = WeekSchedule::always();
        // 30 March 2025: clocks go 02:00 → 03:00, the day has 23 hours.
        let spring = d(2025, 3, 30);
        let (a, b) = s.interval(spring).unwrap();
        assert_eq!(b - a, Duration::hours(23));
        // 26 October 2025: 03:00 → 02:00, the day has 25 hours.
        let (a, b) = s.interval(d(2025, 10, 26)).unwrap();
        assert_eq!(b - a, Duration::hours(25));
    }

    #[test]
    fn hours_inside_dst_gap_and_overlap() {
        // Open 02:30-03:30 every day: on the spring day 02:30 does not exist and opening
        // moves to 03:00 CEST; on the autumn day 02:30 happens twice and the first counts.
        let h = parse_day("02:30-03:30").unwrap();
        let s = WeekSchedule { days: [h; 7] };
        let (a, b) = s.interval(d(2025, 3, 30)).unwrap();
        assert_eq!(a, Utc.with_ymd_and_hms(2025, 3, 30, 1, 0, 0).unwrap());
        assert_eq!(b - a, Duration::minutes(30));
        let (a, b) = s.interval(d(2025, 10, 26)).unwrap();
        assert_eq!(a, Utc.with_ymd_and_hms(2025, 10, 26, 0, 30, 0).unwrap());
        assert_eq!(b - a, Duration::minutes(120));
    }

    #[test]
    fn office_hours_in_utc_follow_dst() {
        let s = WeekSchedule::default_office();
        // Winter: 08:30 CET = 07:30 UTC; summer: 08:30 CEST = 06:30 UTC.
        assert_eq!(
            next_open(&s, Utc.with_ymd_and_hms(2025, 1, 6, 0, 0, 0).unwrap()),
            Some(Utc.with_ymd_and_hms(2025, 1, 6, 7, 30, 0).unwrap())
        );
        assert_eq!(
            next_open(&s, Utc.with_ymd_and_hms(2025, 7, 7, 0, 0, 0).unwrap()),
            Some(Utc.with_ymd_and_hms(2025, 7, 7, 6, 30, 0).unwrap())
        );
        // Friday 28 March 16:00 CET + 2 h crosses the spring change → Monday 31 March
        // 09:30 CEST = 07:30 UTC.
        assert_eq!(
            add_business_time(&s, ams(2025, 3, 28, 16, 0), Duration::hours(2)),
            Utc.with_ymd_and_hms(2025, 3, 31, 7, 30, 0).unwrap()
        );
    }

    #[test]
    fn business_time_between_basics() {
        let s = WeekSchedule::default_office();
        let a = ams(2025, 7, 4, 16, 0);
        let b = ams(2025, 7, 7, 9, 30);
        assert_eq!(business_time_between(&s, a, b), Duration::hours(2));
        assert_eq!(business_time_between(&s, b, a), Duration::zero());
        // A full week is 5 × 8.5 h.
        assert_eq!(
            business_time_between(&s, ams(2025, 7, 7, 0, 0), ams(2025, 7, 14, 0, 0)),
            Duration::minutes(5 * 510)
        );
    }

    fn schedule_strategy() -> impl Strategy<Value = WeekSchedule> {
        let day = prop_oneof![
            1 => Just(None),
            3 => (0u32..23 * 4, 1u32..24 * 4).prop_map(|(o, len)| {
                let open = o * 15;
                let close = (open + len * 15).min(24 * 60);
                let t = |m: u32| NaiveTime::from_hms_opt(m / 60 % 24, m % 60, 0).unwrap();
                Some(DayHours::new(t(open), t(close)).unwrap())
            }),
        ];
        proptest::array::uniform7(day).prop_map(|days| WeekSchedule { days })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Adding business time and measuring it back are inverse, across DST and holidays.
        #[test]
        fn add_then_measure_round_trips(
            s in schedule_strategy(),
            start_s in 1_700_000_000i64..1_800_000_000,
            mins in 0i64..20_000,
        ) {
            prop_assume!(s.has_open_time());
            let start = DateTime::from_timestamp(start_s, 0).unwrap();
            let d = Duration::minutes(mins);
            let end = add_business_time(&s, start, d);
            prop_assert!(end >= start);
            prop_assert_eq!(business_time_between(&s, start, end), d);
            if mins > 0 {
                // The deadline falls inside (or at the closing moment of) open time.
                let just_before = end - Duration::seconds(1);
                prop_assert!(is_open(&s, just_before) || is_open(&s, end) );
            }
        }

        #[test]
        fn next_open_is_open(s in schedule_strategy(), t in 1_700_000_000i64..1_800_000_000) {
            let at = DateTime::from_timestamp(t, 0).unwrap();
            match next_open(&s, at) {
                Some(o) => {
                    prop_assert!(o >= at);
                    prop_assert!(is_open(&s, o));
                    prop_assert_eq!(business_time_between(&s, at, o), Duration::zero());
                }
                None => prop_assert!(!s.has_open_time()),
            }
        }

        #[test]
        fn between_is_additive(
            s in schedule_strategy(),
            a in 1_700_000_000i64..1_800_000_000,
            x in 0i64..2_000_000,
            y in 0i64..2_000_000,
        ) {
            let a = DateTime::from_timestamp(a, 0).unwrap();
            let b = a + Duration::seconds(x);
            let c = b + Duration::seconds(y);
            prop_assert_eq!(
                business_time_between(&s, a, b) + business_time_between(&s, b, c),
                business_time_between(&s, a, c)
            );
            prop_assert!(business_time_between(&s, a, c) <= c - a);
        }
    }
}
