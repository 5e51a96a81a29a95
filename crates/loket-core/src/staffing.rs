//! Staffing advice per hour of the week: from measured arrivals to a forecast, from the
//! forecast to the people needed (Erlang C plus shrinkage), and from a roster to a week grid
//! that flags under- and over-staffing. Pure functions over plain data; the server collects
//! the counts and renders the grid.
//!
//! # Slots
//! A week has 168 slots, one per local hour: slot 0 is Monday 00:00–01:00 and slot 167 is
//! Sunday 23:00–24:00 in the municipality's wall-clock time. Daylight saving time is the
//! caller's business: it converts instants to local time before counting, so the autumn
//! night counts the doubled 02:00 hour in one slot and the spring night leaves it empty.
//! Averaged over several weeks that is noise, not a bias worth modelling.
//!
//! # From counts to advice
//! 1. [`forecast`]: the mean of the last weeks (default 4) per slot, times one trend factor
//!    for the whole week, capped at ±20 %.
//! 2. [`advise`]: per slot, the agents Erlang C needs for the group's target
//!    ([`crate::erlang::agents_needed`]), a floor for slots with demand, then shrinkage:
//!    `staff = ceil(agents / (1 − shrinkage))`.
//! 3. [`rostered`] counts who is on a shift per slot; [`WeekGrid::build`] compares and
//!    flags each slot as [`Coverage::Under`], [`Coverage::Over`] or [`Coverage::Ok`].
//! 4. [`pool_advice`] shows what sharing saves: one Erlang C over the summed arrivals of
//!    several municipalities against the sum of their separate advice.

use crate::calendar::WeekSchedule;
use crate::conversation::Channel;
use crate::erlang;
use chrono::{Datelike, NaiveDateTime, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// Slots in a week: 7 days × 24 hours.
pub const SLOTS: usize = 168;

/// Arrivals counted per slot in one past week.
pub type WeekCounts = [u32; SLOTS];

/// Dutch weekday names, Monday first, as shown in the grid.
pub const WEEKDAYS_NL: [&str; 7] = [
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
    "zondag",
];

/// Why staffing input was refused. Shown to a supervisor, hence Dutch.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StaffingError {
    #[error("een krimp (pauzes, overleg, verlof) van {0} % kan niet: kies 0 tot en met 90 %")]
    Shrinkage(u32),
    #[error("de gemiddelde behandeltijd moet meer dan 0 seconden zijn")]
    HandleTime,
    #[error("het servicelevel moet groter dan 0 % en kleiner dan 100 % zijn")]
    ServiceLevel,
    #[error("de doeltijd mag niet negatief zijn")]
    TargetTime,
    #[error("ongeldig aantal berichten per uur in uur {slot} van de week")]
    Rate { slot: usize },
    #[error("een prognose gebruikt 1 tot en met 52 weken en een trend van hoogstens 50 %")]
    Forecast,
    #[error("een dienst moet langer dan 0 minuten duren")]
    EmptyShift,
}

/// A local hour of the week, `0..168`, Monday 00:00 = 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "usize", into = "usize")]
pub struct HourOfWeek(u8);

impl HourOfWeek {
    /// The slot with this index, if below 168.
    pub fn from_index(index: usize) -> Option<Self> {
        u8::try_from(index)
            .ok()
            .filter(|&i| usize::from(i) < SLOTS)
            .map(Self)
    }

    /// The slot of an hour (0–23) on a weekday.
    pub fn new(weekday: Weekday, hour: u32) -> Option<Self> {
        if hour >= 24 {
            return None;
        }
        Self::from_index(weekday.num_days_from_monday() as usize * 24 + hour as usize)
    }

    /// The slot a local (wall-clock) time falls in.
    pub fn of_local(t: NaiveDateTime) -> Self {
        Self((t.weekday().num_days_from_monday() * 24 + t.hour()) as u8)
    }

    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// Day of the week, 0 = Monday.
    pub fn day(self) -> usize {
        self.index() / 24
    }

    pub fn hour(self) -> usize {
        self.index() % 24
    }

    /// All 168 slots in order.
    pub fn all() -> impl Iterator<Item = Self> {
        (0..SLOTS as u8).map(Self)
    }
}

impl TryFrom<usize> for HourOfWeek {
    type Error = String;
    fn try_from(i: usize) -> Result<Self, String> {
        Self::from_index(i).ok_or_else(|| format!("uur van de week {i} bestaat niet (0–167)"))
    }
}

impl From<HourOfWeek> for usize {
    fn from(h: HourOfWeek) -> usize {
        h.index()
    }
}

impl fmt::Display for HourOfWeek {
    /// "dinsdag 14:00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:02}:00", WEEKDAYS_NL[self.day()], self.hour())
    }
}

/// Channels grouped by how residents wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelGroup {
    /// Webchat: the resident waits with the window open; seconds count.
    Realtime,
    /// Social media, messaging apps, e-mail and the rest: an answer within the hour is good.
    Async,
}

impl ChannelGroup {
    pub const ALL: [ChannelGroup; 2] = [Self::Realtime, Self::Async];

    /// The group a channel belongs to: only webchat is real-time.
    pub fn of(channel: Channel) -> Self {
        match channel {
            Channel::Webchat => Self::Realtime,
            Channel::Api
            | Channel::Email
            | Channel::Mastodon
            | Channel::Whatsapp
            | Channel::Messenger
            | Channel::Instagram
            | Channel::Open311 => Self::Async,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Realtime => "realtime",
            Self::Async => "async",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }

    pub fn label_nl(self) -> &'static str {
        match self {
            Self::Realtime => "Chat",
            Self::Async => "Sociale media en e-mail",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Realtime => "Chat",
            Self::Async => "Social media and e-mail",
        }
    }
}

/// Arrivals per hour for each slot of a week: non-negative and finite.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeekRates(#[serde(with = "slots_serde")] [f64; SLOTS]);

mod slots_serde {
    use super::SLOTS;
    use serde::Serializer;
    pub fn serialize<S: Serializer>(v: &[f64; SLOTS], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter())
    }
}

impl Default for WeekRates {
    fn default() -> Self {
        Self::zero()
    }
}

impl WeekRates {
    pub fn zero() -> Self {
        Self([0.0; SLOTS])
    }

    /// Checked constructor: every rate must be finite and at least 0.
    pub fn parse(rates: [f64; SLOTS]) -> Result<Self, StaffingError> {
        match rates.iter().position(|r| !r.is_finite() || *r < 0.0) {
            Some(slot) => Err(StaffingError::Rate { slot }),
            None => Ok(Self(rates)),
        }
    }

    /// Counts of one week read as rates per hour.
    pub fn from_counts(counts: &WeekCounts) -> Self {
        Self(counts.map(f64::from))
    }

    pub fn get(&self, slot: HourOfWeek) -> f64 {
        self.0[slot.index()]
    }

    pub fn as_array(&self) -> &[f64; SLOTS] {
        &self.0
    }

    /// Expected arrivals in the whole week.
    pub fn total(&self) -> f64 {
        self.0.iter().sum()
    }

    /// Slot-wise sum, e.g. of the municipalities a pool serves.
    pub fn sum<'a>(parts: impl IntoIterator<Item = &'a WeekRates>) -> WeekRates {
        let mut out = [0.0; SLOTS];
        for p in parts {
            for (o, r) in out.iter_mut().zip(p.0.iter()) {
                *o += r;
            }
        }
        WeekRates(out)
    }

    fn scaled(&self, factor: f64) -> WeekRates {
        WeekRates(self.0.map(|r| r * factor))
    }

    /// Moves the arrivals of closed slots to the next open slot (wrapping from Sunday to
    /// Monday), for asynchronous channels: the SLA clock stops while the municipality is
    /// closed, so a message sent on Saturday is work for Monday morning, not for Saturday.
    /// Unchanged when no slot is open.
    pub fn defer_closed(&self, open: &[bool; SLOTS]) -> WeekRates {
        let Some(first_open) = open.iter().position(|&o| o) else {
            return self.clone();
        };
        let mut out = [0.0; SLOTS];
        // Walk backwards from the first open slot, so every closed slot knows the next open
        // one after it, around the end of the week.
        let mut next_open = first_open;
        for step in 0..SLOTS {
            let i = (first_open + SLOTS - step) % SLOTS;
            if open[i] {
                next_open = i;
            }
            out[next_open] += self.0[i];
        }
        WeekRates(out)
    }
}

/// Minutes of `[start, end)` (minutes since midnight, `end` up to 1440) inside each hour of
/// one day.
fn minutes_per_hour(start: u32, end: u32) -> [u32; 24] {
    let mut out = [0; 24];
    for (h, o) in out.iter_mut().enumerate() {
        let (a, b) = (h as u32 * 60, h as u32 * 60 + 60);
        *o = end.min(b).saturating_sub(start.max(a));
    }
    out
}

fn minute_of_day(t: NaiveTime) -> u32 {
    t.hour() * 60 + t.minute()
}

/// Whether at least half of an hour lies inside the given minutes: the rule for opening
/// hours and for shifts alike, so 08:30–17:00 covers the slots 08:00 to 16:00.
const HALF_HOUR: u32 = 30;

/// The slots in which a schedule is open for at least half the hour. Holidays are not part
/// of a template week and are ignored.
pub fn open_slots(schedule: &WeekSchedule) -> [bool; SLOTS] {
    let mut out = [false; SLOTS];
    for (day, hours) in schedule.days.iter().enumerate() {
        let Some(h) = hours else { continue };
        let start = minute_of_day(h.open);
        let end = match minute_of_day(h.close) {
            0 => 1440,
            m => m,
        };
        for (hour, m) in minutes_per_hour(start, end).into_iter().enumerate() {
            out[day * 24 + hour] = m >= HALF_HOUR;
        }
    }
    out
}

/// How the coming week is forecast from past weeks.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ForecastParams {
    weeks: usize,
    max_trend: f64,
}

impl Default for ForecastParams {
    /// The last 4 weeks, trend capped at ±20 %.
    fn default() -> Self {
        Self {
            weeks: 4,
            max_trend: 0.20,
        }
    }
}

impl ForecastParams {
    /// `weeks` in 1..=52; `max_trend` (a fraction) in 0..=0.5. A `max_trend` of 0 turns the
    /// trend off.
    pub fn new(weeks: usize, max_trend: f64) -> Result<Self, StaffingError> {
        if !(1..=52).contains(&weeks) || !(0.0..=0.5).contains(&max_trend) {
            return Err(StaffingError::Forecast);
        }
        Ok(Self { weeks, max_trend })
    }

    pub fn weeks(&self) -> usize {
        self.weeks
    }

    pub fn max_trend(&self) -> f64 {
        self.max_trend
    }
}

/// The forecast for the coming week and how it was made, so the page can explain it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Forecast {
    /// The mean of the weeks used, per slot.
    pub baseline: WeekRates,
    /// The factor applied to every slot: 1.0 is no trend, 1.2 the cap for growth.
    pub trend: f64,
    /// `baseline × trend`: the expected arrivals per hour in the coming week.
    pub rates: WeekRates,
    /// How many past weeks were available and used (at most the configured number).
    pub weeks_used: usize,
}

/// Forecasts the coming week from `history` (one entry per past week, oldest first).
///
/// - **Baseline**: per slot, the mean of the last `params.weeks()` weeks (fewer if fewer are
///   available). A mean over four weeks smooths a single busy evening without lagging a
///   season behind.
/// - **Trend**: a straight line (least squares) through the weekly totals of those weeks,
///   extended one week ahead, divided by their mean total; capped to 1 ± `max_trend`, and
///   1.0 with fewer than two weeks or no arrivals. One factor for the whole week keeps the
///   shape of the week as measured and only moves its level.
pub fn forecast(history: &[WeekCounts], params: ForecastParams) -> Forecast {
    let used = &history[history.len().saturating_sub(params.weeks)..];
    if used.is_empty() {
        return Forecast {
            baseline: WeekRates::zero(),
            trend: 1.0,
            rates: WeekRates::zero(),
            weeks_used: 0,
        };
    }
    let n = used.len() as f64;
    let mut baseline = [0.0; SLOTS];
    for week in used {
        for (b, &c) in baseline.iter_mut().zip(week.iter()) {
            *b += f64::from(c);
        }
    }
    for b in &mut baseline {
        *b /= n;
    }
    let totals: Vec<f64> = used
        .iter()
        .map(|w| w.iter().map(|&c| f64::from(c)).sum())
        .collect();
    let trend = trend_factor(&totals, params.max_trend);
    let baseline = WeekRates(baseline);
    Forecast {
        rates: baseline.scaled(trend),
        baseline,
        trend,
        weeks_used: used.len(),
    }
}

/// Least-squares line through `totals` at x = 0, 1, …, extended to x = n, relative to the
/// mean, capped to 1 ± `cap`.
fn trend_factor(totals: &[f64], cap: f64) -> f64 {
    let n = totals.len();
    if n < 2 {
        return 1.0;
    }
    let nf = n as f64;
    let mean = totals.iter().sum::<f64>() / nf;
    if mean <= 0.0 {
        return 1.0;
    }
    let x_mean = (nf - 1.0) / 2.0;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, t) in totals.iter().enumerate() {
        let dx = i as f64 - x_mean;
        sxy += dx * (t - mean);
        sxx += dx * dx;
    }
    let slope = sxy / sxx;
    let next = mean + slope * (nf - x_mean);
    (next / mean).clamp(1.0 - cap, 1.0 + cap)
}

/// Share of paid time that agents are not available for contacts (breaks, meetings,
/// training, leave), in whole percent, 0–90.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Shrinkage(u32);

impl Default for Shrinkage {
    /// 30 %, the industry's usual first assumption.
    fn default() -> Self {
        Self(30)
    }
}

impl Shrinkage {
    pub fn parse(percent: u32) -> Result<Self, StaffingError> {
        if percent <= 90 {
            Ok(Self(percent))
        } else {
            Err(StaffingError::Shrinkage(percent))
        }
    }

    pub fn percent(self) -> u32 {
        self.0
    }

    /// People to roster so that `agents` are available: `ceil(agents / (1 − shrinkage))`,
    /// in integers so 14 agents at 30 % are exactly 20 (in floating point 14 / 0.7 can land
    /// a hair above 20 and round up to 21). Rounding up, not to the nearest: 4 agents at
    /// 35 % (6.15) need 7 people, where some calculators show 6 and then miss the target.
    pub fn staff_for(self, agents: u32) -> u32 {
        let avail = u64::from(100 - self.0);
        let staff = (u64::from(agents) * 100).div_ceil(avail);
        u32::try_from(staff).unwrap_or(u32::MAX)
    }
}

impl TryFrom<u32> for Shrinkage {
    type Error = StaffingError;
    fn try_from(p: u32) -> Result<Self, StaffingError> {
        Self::parse(p)
    }
}

impl From<Shrinkage> for u32 {
    fn from(s: Shrinkage) -> u32 {
        s.0
    }
}

/// The service target and handle time of one channel group.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GroupParams {
    aht_seconds: f64,
    target_service_level: f64,
    target_seconds: f64,
    shrinkage: Shrinkage,
    min_agents: u32,
}

impl GroupParams {
    /// Checked constructor: handle time above 0 s, service level strictly between 0 and 1,
    /// target time at least 0 s. Shrinkage defaults to 30 %, the floor to none.
    pub fn new(
        aht_seconds: f64,
        target_service_level: f64,
        target_seconds: f64,
    ) -> Result<Self, StaffingError> {
        if !(aht_seconds.is_finite() && aht_seconds > 0.0) {
            return Err(StaffingError::HandleTime);
        }
        if !(target_service_level > 0.0 && target_service_level < 1.0) {
            return Err(StaffingError::ServiceLevel);
        }
        if !(target_seconds.is_finite() && target_seconds >= 0.0) {
            return Err(StaffingError::TargetTime);
        }
        Ok(Self {
            aht_seconds,
            target_service_level,
            target_seconds,
            shrinkage: Shrinkage::default(),
            min_agents: 0,
        })
    }

    /// The defaults until a handle time has been measured:
    /// - chat: 80 % answered within 60 s, 6 minutes of agent time per chat;
    /// - social and e-mail: 80 % answered within 1 hour, 5 minutes per message.
    ///
    /// For asynchronous channels Erlang C is applied on the hour scale: arrivals per hour,
    /// the handle time, and a target of 3,600 s. That is an approximation. Erlang C assumes
    /// a steady state within the slot, yet with a one-hour target a message that arrives at
    /// 16:50 is answered in the next slot; agents batch and interleave messages rather than
    /// taking them one at a time as they arrive; and residents do not hang up on an e-mail.
    /// With a target that long relative to the handle time the waiting term nearly vanishes,
    /// so the advice comes down to "enough agents for the workload, rounded up, and at least
    /// one whenever messages arrive" — a sound capacity figure, not a queue prediction. Use
    /// [`WeekRates::defer_closed`] when the SLA only runs in business hours.
    pub fn default_for(group: ChannelGroup) -> Self {
        let (aht, target) = match group {
            ChannelGroup::Realtime => (360.0, 60.0),
            ChannelGroup::Async => (300.0, 3_600.0),
        };
        Self {
            aht_seconds: aht,
            target_service_level: 0.80,
            target_seconds: target,
            shrinkage: Shrinkage::default(),
            min_agents: 0,
        }
    }

    pub fn with_shrinkage(mut self, shrinkage: Shrinkage) -> Self {
        self.shrinkage = shrinkage;
        self
    }

    /// A floor for every slot with forecast demand ("never alone on chat": 2). Slots without
    /// demand stay at 0: whether to staff an empty hour is a roster decision, not advice.
    pub fn with_min_agents(mut self, min_agents: u32) -> Self {
        self.min_agents = min_agents;
        self
    }

    /// Replaces the handle time, e.g. with the measured one; refused when not above 0 s.
    pub fn with_aht_seconds(mut self, aht_seconds: f64) -> Result<Self, StaffingError> {
        if !(aht_seconds.is_finite() && aht_seconds > 0.0) {
            return Err(StaffingError::HandleTime);
        }
        self.aht_seconds = aht_seconds;
        Ok(self)
    }

    pub fn aht_seconds(&self) -> f64 {
        self.aht_seconds
    }
    pub fn target_service_level(&self) -> f64 {
        self.target_service_level
    }
    pub fn target_seconds(&self) -> f64 {
        self.target_seconds
    }
    pub fn shrinkage(&self) -> Shrinkage {
        self.shrinkage
    }
    pub fn min_agents(&self) -> u32 {
        self.min_agents
    }

    /// Agents needed on the queue at `rate` arrivals per hour, floor included.
    pub fn agents_for(&self, rate: f64) -> u32 {
        if rate.is_nan() || rate <= 0.0 {
            return 0;
        }
        erlang::agents_needed(
            rate,
            self.aht_seconds,
            self.target_service_level,
            self.target_seconds,
        )
        .max(self.min_agents)
    }
}

/// The advice for one slot.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct SlotAdvice {
    pub slot: HourOfWeek,
    /// Forecast arrivals in this hour.
    pub arrivals: f64,
    /// Offered load in Erlangs: arrivals × handle time.
    pub traffic_erlangs: f64,
    /// Agents answering contacts that Erlang C (and the floor) call for.
    pub agents: u32,
    /// People to roster: `agents` plus shrinkage.
    pub staff: u32,
    /// The expected share answered within the target with `agents`; 1.0 without demand.
    pub service_level: f64,
}

/// The advice for one channel group over a week.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupAdvice {
    pub group: ChannelGroup,
    pub params: GroupParams,
    /// 168 entries, slot order.
    pub slots: Vec<SlotAdvice>,
}

impl GroupAdvice {
    /// People to roster per slot.
    pub fn staff(&self) -> [u32; SLOTS] {
        let mut out = [0; SLOTS];
        for s in &self.slots {
            out[s.slot.index()] = s.staff;
        }
        out
    }

    /// Person-hours to roster in the week.
    pub fn staff_hours(&self) -> u64 {
        self.slots.iter().map(|s| u64::from(s.staff)).sum()
    }

    /// The busiest slot's staff.
    pub fn peak_staff(&self) -> u32 {
        self.slots.iter().map(|s| s.staff).max().unwrap_or(0)
    }
}

/// Erlang C and shrinkage for every slot of `rates`.
pub fn advise(group: ChannelGroup, rates: &WeekRates, params: &GroupParams) -> GroupAdvice {
    let slots = HourOfWeek::all()
        .map(|slot| {
            let arrivals = rates.get(slot);
            let agents = params.agents_for(arrivals);
            SlotAdvice {
                slot,
                arrivals,
                traffic_erlangs: erlang::traffic_erlangs(arrivals, params.aht_seconds),
                agents,
                staff: params.shrinkage.staff_for(agents),
                service_level: erlang::service_level(
                    agents,
                    arrivals,
                    params.aht_seconds,
                    params.target_seconds,
                ),
            }
        })
        .collect();
    GroupAdvice {
        group,
        params: *params,
        slots,
    }
}

/// Shared against separate staffing for the municipalities of a pool.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolAdvice {
    /// One Erlang C over the summed arrivals of all members.
    pub shared: GroupAdvice,
    /// Per slot, the sum of the members' separate advice (people to roster).
    pub separate_staff: Vec<u32>,
    /// Busiest slot, shared: the "gedeeld" figure.
    pub shared_peak: u32,
    /// Busiest slot of the summed separate advice: the "apart" figure.
    pub separate_peak: u32,
    /// Person-hours per week, shared and separate.
    pub shared_hours: u64,
    pub separate_hours: u64,
}

impl PoolAdvice {
    /// "gedeeld: 7 medewerkers, apart: 11 (drukste uur); 120 tegen 164 uur per week".
    pub fn summary_nl(&self) -> String {
        format!(
            "gedeeld: {} {}, apart: {} (drukste uur); {} tegen {} uur per week",
            self.shared_peak,
            if self.shared_peak == 1 {
                "medewerker"
            } else {
                "medewerkers"
            },
            self.separate_peak,
            self.shared_hours,
            self.separate_hours
        )
    }

    /// "shared: 7 agents, separate: 11 (busiest hour); 120 against 164 hours per week".
    pub fn summary_en(&self) -> String {
        format!(
            "shared: {} {}, separate: {} (busiest hour); {} against {} hours per week",
            self.shared_peak,
            if self.shared_peak == 1 {
                "agent"
            } else {
                "agents"
            },
            self.separate_peak,
            self.shared_hours,
            self.separate_hours
        )
    }

    /// Person-hours per week that sharing saves.
    pub fn hours_saved(&self) -> u64 {
        self.separate_hours.saturating_sub(self.shared_hours)
    }
}

/// Advice for a pool serving `members` (each its own forecast rates), all under the same
/// target, handle time and shrinkage. Pooling never needs more people than staffing each
/// municipality apart, and with real loads clearly fewer: one queue absorbs the peaks of
/// many, and each small municipality no longer needs its own "at least one" person.
pub fn pool_advice(group: ChannelGroup, members: &[WeekRates], params: &GroupParams) -> PoolAdvice {
    let shared = advise(group, &WeekRates::sum(members), params);
    let mut separate = [0u32; SLOTS];
    for m in members {
        for (s, x) in separate.iter_mut().zip(advise(group, m, params).staff()) {
            *s = s.saturating_add(x);
        }
    }
    PoolAdvice {
        shared_peak: shared.peak_staff(),
        shared_hours: shared.staff_hours(),
        shared,
        separate_peak: separate.iter().copied().max().unwrap_or(0),
        separate_hours: separate.iter().map(|&s| u64::from(s)).sum(),
        separate_staff: separate.to_vec(),
    }
}

/// One rostered shift in the template week.
///
/// `end` at or before `start` means the shift runs past midnight into the next day (Sunday
/// wraps to Monday); `end` 00:00 is midnight.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub agent_id: i64,
    /// The municipality or pool the agent works for in this shift (a tenant code).
    pub tenant_or_pool: crate::TenantCode,
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Shift {
    /// Checked constructor: a shift must last longer than zero minutes. Start equal to end
    /// is refused as a likely typo; write a 24-hour shift as two shifts.
    pub fn new(
        agent_id: i64,
        tenant_or_pool: crate::TenantCode,
        weekday: Weekday,
        start: NaiveTime,
        end: NaiveTime,
    ) -> Result<Self, StaffingError> {
        if minute_of_day(start) == minute_of_day(end) {
            return Err(StaffingError::EmptyShift);
        }
        Ok(Self {
            agent_id,
            tenant_or_pool,
            weekday,
            start,
            end,
        })
    }

    /// The slots this shift covers for at least half the hour.
    pub fn slots(&self) -> Vec<HourOfWeek> {
        let day = self.weekday.num_days_from_monday() as usize;
        let start = minute_of_day(self.start);
        let end = minute_of_day(self.end);
        let mut spans = Vec::with_capacity(2);
        if end > start {
            spans.push((day, start, end));
        } else if end < start {
            spans.push((day, start, 1440));
            spans.push(((day + 1) % 7, 0, end));
        }
        let mut out = Vec::new();
        for (d, a, b) in spans {
            for (h, m) in minutes_per_hour(a, b).into_iter().enumerate() {
                if m >= HALF_HOUR {
                    out.extend(HourOfWeek::from_index(d * 24 + h));
                }
            }
        }
        out
    }
}

/// Distinct agents on shift per slot for the given tenants or pools (an agent on two
/// overlapping shifts counts once). A shift counts in a slot when it covers at least half
/// of that hour.
pub fn rostered(shifts: &[Shift], units: &[crate::TenantCode]) -> [u32; SLOTS] {
    let mut who: Vec<BTreeSet<i64>> = vec![BTreeSet::new(); SLOTS];
    for s in shifts.iter().filter(|s| units.contains(&s.tenant_or_pool)) {
        for slot in s.slots() {
            who[slot.index()].insert(s.agent_id);
        }
    }
    let mut out = [0; SLOTS];
    for (o, w) in out.iter_mut().zip(&who) {
        *o = u32::try_from(w.len()).unwrap_or(u32::MAX);
    }
    out
}

/// How far rostered may be above the advice before it is flagged as over-staffed, and below
/// it before it is flagged as under-staffed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tolerance {
    pub under: u32,
    pub over: u32,
}

impl Default for Tolerance {
    /// Any shortage is flagged; one person of slack is not.
    fn default() -> Self {
        Self { under: 0, over: 1 }
    }
}

/// Rostered against needed in one slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "by", rename_all = "lowercase")]
pub enum Coverage {
    /// This many people short.
    Under(u32),
    /// This many people more than needed.
    Over(u32),
    Ok,
}

impl Coverage {
    /// `Under(needed − rostered)` when the shortage exceeds `tolerance.under`;
    /// `Over(rostered − needed)` when the surplus exceeds `tolerance.over`; else `Ok`.
    pub fn compare(needed: u32, rostered: u32, tolerance: Tolerance) -> Self {
        if rostered < needed && needed - rostered > tolerance.under {
            Self::Under(needed - rostered)
        } else if rostered > needed && rostered - needed > tolerance.over {
            Self::Over(rostered - needed)
        } else {
            Self::Ok
        }
    }

    /// "2 te weinig", "1 te veel", "op sterkte".
    pub fn label_nl(self) -> String {
        match self {
            Self::Under(n) => format!("{n} te weinig"),
            Self::Over(n) => format!("{n} te veel"),
            Self::Ok => "op sterkte".to_string(),
        }
    }

    /// "2 short", "1 too many", "fully staffed".
    pub fn label_en(self) -> String {
        match self {
            Self::Under(n) => format!("{n} short"),
            Self::Over(n) => format!("{n} too many"),
            Self::Ok => "fully staffed".to_string(),
        }
    }

    /// A stable class name for the table cell.
    pub fn css_class(self) -> &'static str {
        match self {
            Self::Under(_) => "onder",
            Self::Over(_) => "boven",
            Self::Ok => "ok",
        }
    }
}

/// One cell of the week grid.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GridCell {
    pub slot: HourOfWeek,
    /// "08:00".
    pub hour_label: &'static str,
    /// People needed, all groups together.
    pub needed: u32,
    /// Of which for chat.
    pub realtime: u32,
    /// Of which for social media and e-mail.
    pub asynchronous: u32,
    pub rostered: u32,
    pub status: Coverage,
}

/// One weekday of the grid.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GridRow {
    pub weekday: &'static str,
    /// 24 cells, 00:00 first.
    pub cells: Vec<GridCell>,
}

/// Totals for the caption of the grid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct GridSummary {
    pub needed_hours: u64,
    pub rostered_hours: u64,
    /// Person-hours short, summed over under-staffed slots.
    pub short_hours: u64,
    pub under_slots: u32,
    pub over_slots: u32,
}

/// Needed against rostered for the week: 7 rows (Monday first) of 24 cells, ready for a
/// server-rendered table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeekGrid {
    pub hours: Vec<&'static str>,
    pub rows: Vec<GridRow>,
    pub summary: GridSummary,
}

const HOUR_LABELS: [&str; 24] = [
    "00:00", "01:00", "02:00", "03:00", "04:00", "05:00", "06:00", "07:00", "08:00", "09:00",
    "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00", "17:00", "18:00", "19:00",
    "20:00", "21:00", "22:00", "23:00",
];

impl WeekGrid {
    /// Builds the grid from the advice of each group (needed = the sum of their staff: an
    /// agent is counted for one group at a time, which is slightly cautious for blended
    /// agents) and the rostered people per slot.
    pub fn build(advice: &[GroupAdvice], rostered: &[u32; SLOTS], tolerance: Tolerance) -> Self {
        let mut realtime = [0u32; SLOTS];
        let mut asynchronous = [0u32; SLOTS];
        for a in advice {
            let target = match a.group {
                ChannelGroup::Realtime => &mut realtime,
                ChannelGroup::Async => &mut asynchronous,
            };
            for (t, s) in target.iter_mut().zip(a.staff()) {
                *t = t.saturating_add(s);
            }
        }
        let mut summary = GridSummary::default();
        let rows = (0..7)
            .map(|day| GridRow {
                weekday: WEEKDAYS_NL[day],
                cells: (0..24)
                    .map(|hour| {
                        let i = day * 24 + hour;
                        let needed = realtime[i].saturating_add(asynchronous[i]);
                        let status = Coverage::compare(needed, rostered[i], tolerance);
                        summary.needed_hours += u64::from(needed);
                        summary.rostered_hours += u64::from(rostered[i]);
                        match status {
                            Coverage::Under(n) => {
                                summary.under_slots += 1;
                                summary.short_hours += u64::from(n);
                            }
                            Coverage::Over(_) => summary.over_slots += 1,
                            Coverage::Ok => {}
                        }
                        GridCell {
                            slot: HourOfWeek(i as u8),
                            hour_label: HOUR_LABELS[hour],
                            needed,
                            realtime: realtime[i],
                            asynchronous: asynchronous[i],
                            rostered: rostered[i],
                            status,
                        }
                    })
                    .collect(),
            })
            .collect();
        Self {
            hours: HOUR_LABELS.to_vec(),
            rows,
            summary,
        }
    }

    pub fn cell(&self, slot: HourOfWeek) -> &GridCell {
        &self.rows[slot.day()].cells[slot.hour()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantCode;
    use proptest::prelude::*;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn flat(rate: f64) -> WeekRates {
        WeekRates::parse([rate; SLOTS]).unwrap()
    }

    fn slot(day: Weekday, hour: u32) -> HourOfWeek {
        HourOfWeek::new(day, hour).unwrap()
    }

    #[test]
    fn hour_of_week_indices() {
        assert_eq!(slot(Weekday::Mon, 0).index(), 0);
        assert_eq!(slot(Weekday::Tue, 14).index(), 38);
        assert_eq!(slot(Weekday::Sun, 23).index(), 167);
        assert_eq!(HourOfWeek::new(Weekday::Mon, 24), None);
        assert_eq!(HourOfWeek::from_index(168), None);
        assert_eq!(slot(Weekday::Tue, 14).to_string(), "dinsdag 14:00");
        let local = chrono::NaiveDate::from_ymd_opt(2025, 3, 30) // a Sunday
            .unwrap()
            .and_hms_opt(23, 59, 0)
            .unwrap();
        assert_eq!(HourOfWeek::of_local(local).index(), 167);
        assert_eq!(HourOfWeek::all().count(), SLOTS);
        let json = serde_json::to_string(&slot(Weekday::Mon, 5)).unwrap();
        assert_eq!(json, "5");
        assert!(serde_json::from_str::<HourOfWeek>("168").is_err());
    }

    #[test]
    fn channel_groups() {
        assert_eq!(ChannelGroup::of(Channel::Webchat), ChannelGroup::Realtime);
        for c in Channel::ALL.into_iter().filter(|&c| c != Channel::Webchat) {
            assert_eq!(ChannelGroup::of(c), ChannelGroup::Async, "{c:?}");
        }
        for g in ChannelGroup::ALL {
            assert_eq!(ChannelGroup::parse(g.as_str()), Some(g));
        }
    }

    #[test]
    fn rates_are_validated() {
        let mut r = [1.0; SLOTS];
        r[7] = -0.5;
        assert_eq!(WeekRates::parse(r), Err(StaffingError::Rate { slot: 7 }));
        r[7] = f64::NAN;
        assert_eq!(WeekRates::parse(r), Err(StaffingError::Rate { slot: 7 }));
        r[7] = 0.0;
        assert!(WeekRates::parse(r).is_ok());
    }

    fn week_with(total_per_slot: u32) -> WeekCounts {
        [total_per_slot; SLOTS]
    }

    #[test]
    fn forecast_is_the_mean_of_the_last_weeks() {
        // Six weeks of history; only the last four count. Their slot 10 values are 2, 4, 6, 0
        // while all other slots are flat, so the mean is 3.
        let mut weeks = vec![week_with(100), week_with(100)];
        for v in [2, 4, 6, 0] {
            let mut w = week_with(5);
            w[10] = v;
            weeks.push(w);
        }
        let f = forecast(&weeks, ForecastParams::default());
        assert_eq!(f.weeks_used, 4);
        assert_eq!(f.baseline.as_array()[10], 3.0);
        assert_eq!(f.baseline.as_array()[11], 5.0);
        // Totals of the four weeks differ by the slot-10 values only: a tiny trend.
        assert!((f.trend - 1.0).abs() < 0.01, "{}", f.trend);
    }

    #[test]
    fn forecast_trend_is_a_line_through_weekly_totals() {
        // Weekly totals 100, 105, 110, 115 (all in slot 0): mean 107.5, slope 5, the line at
        // the coming week gives 120, so the factor is 120 / 107.5.
        let weeks: Vec<WeekCounts> = [100, 105, 110, 115]
            .into_iter()
            .map(|t| {
                let mut w = [0; SLOTS];
                w[0] = t;
                w
            })
            .collect();
        let f = forecast(&weeks, ForecastParams::default());
        assert!((f.trend - 120.0 / 107.5).abs() < 1e-12, "{}", f.trend);
        assert!((f.rates.as_array()[0] - 120.0).abs() < 1e-9);
        // Steep growth is capped at +20 %, steep decline at −20 %.
        let grow: Vec<WeekCounts> = [100, 200, 300, 400].map(week_with).to_vec();
        assert_eq!(forecast(&grow, ForecastParams::default()).trend, 1.2);
        let fall: Vec<WeekCounts> = [400, 300, 200, 100].map(week_with).to_vec();
        assert_eq!(forecast(&fall, ForecastParams::default()).trend, 0.8);
        // No trend configured.
        let off = ForecastParams::new(4, 0.0).unwrap();
        assert_eq!(forecast(&grow, off).trend, 1.0);
    }

    #[test]
    fn forecast_with_little_or_no_history() {
        let f = forecast(&[], ForecastParams::default());
        assert_eq!((f.weeks_used, f.trend, f.rates.total()), (0, 1.0, 0.0));
        let one = forecast(&[week_with(2)], ForecastParams::default());
        assert_eq!((one.weeks_used, one.trend), (1, 1.0));
        assert_eq!(one.rates.as_array()[100], 2.0);
        let silent = forecast(&[week_with(0), week_with(0)], ForecastParams::default());
        assert_eq!(silent.trend, 1.0);
        assert!(ForecastParams::new(0, 0.2).is_err());
        assert!(ForecastParams::new(4, 0.6).is_err());
        assert!(ForecastParams::new(4, f64::NAN).is_err());
    }

    #[test]
    fn shrinkage_rounds_up_in_integers() {
        let s30 = Shrinkage::parse(30).unwrap();
        // pyworkforce 0.1.0 README: 14 raw positions, 20 positions after 30 % shrinkage.
        assert_eq!(s30.staff_for(14), 20);
        assert_eq!(s30.staff_for(7), 10);
        assert_eq!(s30.staff_for(15), 22); // 21.43
        assert_eq!(s30.staff_for(1), 2); // 1.43
        assert_eq!(s30.staff_for(0), 0);
        // Call Centre Helper forum: 4 agents at 35 % are 6.15 people; rounded up, 7.
        assert_eq!(Shrinkage::parse(35).unwrap().staff_for(4), 7);
        assert_eq!(Shrinkage::parse(0).unwrap().staff_for(9), 9);
        assert_eq!(Shrinkage::parse(90).unwrap().staff_for(1), 10);
        assert_eq!(Shrinkage::parse(91), Err(StaffingError::Shrinkage(91)));
        assert_eq!(
            StaffingError::Shrinkage(91).to_string(),
            "een krimp (pauzes, overleg, verlof) van 91 % kan niet: kies 0 tot en met 90 %"
        );
        assert_eq!(Shrinkage::default().percent(), 30);
        assert_eq!(Shrinkage::parse(20).unwrap().staff_for(u32::MAX), u32::MAX);
    }

    #[test]
    fn group_params_are_validated() {
        assert_eq!(
            GroupParams::new(0.0, 0.8, 60.0),
            Err(StaffingError::HandleTime)
        );
        assert_eq!(
            GroupParams::new(300.0, 1.0, 60.0),
            Err(StaffingError::ServiceLevel)
        );
        assert_eq!(
            GroupParams::new(300.0, f64::NAN, 60.0),
            Err(StaffingError::ServiceLevel)
        );
        assert_eq!(
            GroupParams::new(300.0, 0.8, -1.0),
            Err(StaffingError::TargetTime)
        );
        let p = GroupParams::default_for(ChannelGroup::Async);
        assert_eq!(
            (p.target_service_level(), p.target_seconds()),
            (0.8, 3_600.0)
        );
        assert!(p.with_aht_seconds(-3.0).is_err());
        assert_eq!(p.with_aht_seconds(200.0).unwrap().aht_seconds(), 200.0);
    }

    /// The Call Centre Helper / pyworkforce example as one slot: 200 chats an hour, 180 s,
    /// 80 % within 20 s, 30 % shrinkage → 14 agents, 20 people.
    #[test]
    fn advice_per_slot_matches_the_textbook_example() {
        let mut r = [0.0; SLOTS];
        r[slot(Weekday::Wed, 10).index()] = 200.0;
        let p = GroupParams::new(180.0, 0.8, 20.0).unwrap();
        let a = advise(ChannelGroup::Realtime, &WeekRates::parse(r).unwrap(), &p);
        let s = a.slots[slot(Weekday::Wed, 10).index()];
        assert_eq!((s.agents, s.staff), (14, 20));
        assert!((s.traffic_erlangs - 10.0).abs() < 1e-12);
        assert!((s.service_level - 0.88835).abs() < 1e-5);
        // Every other slot: nobody needed, service level trivially met.
        let quiet = a.slots[0];
        assert_eq!(
            (quiet.agents, quiet.staff, quiet.service_level),
            (0, 0, 1.0)
        );
        assert_eq!(a.staff_hours(), 20);
        assert_eq!(a.peak_staff(), 20);
    }

    #[test]
    fn small_hand_checked_async_case() {
        // 3 messages an hour at 5 minutes each: 0.25 Erlang. One agent answers nearly all
        // within the hour (SL = 1 − 0.25·e^(−0.75·12) ≈ 0.99997), so 1 agent and, with 30 %
        // shrinkage, ceil(1 / 0.7) = 2 people on the roster.
        let p = GroupParams::default_for(ChannelGroup::Async);
        let a = advise(ChannelGroup::Async, &flat(3.0), &p);
        let s = a.slots[50];
        assert_eq!((s.agents, s.staff), (1, 2));
        let expected = 1.0 - 0.25 * (-0.75f64 * 12.0).exp();
        assert!((s.service_level - expected).abs() < 1e-12);
        // A trickle still needs one agent: the model has no "answer it tomorrow".
        assert_eq!(p.agents_for(0.01), 1);
        assert_eq!(p.agents_for(0.0), 0);
        // The floor applies only where there is demand.
        let never_alone = p.with_min_agents(2);
        assert_eq!(never_alone.agents_for(0.01), 2);
        assert_eq!(never_alone.agents_for(0.0), 0);
    }

    #[test]
    fn chat_default_target_small_case() {
        // 20 chats an hour at 6 minutes: 2 Erlangs. By hand: C(3, 2) = 4/9 and
        // SL = 1 − 4/9·e^(−1·60/360) = 0.6238 < 0.8; C(4, 2) = 0.1739 and
        // SL = 1 − 0.1739·e^(−2/6) = 0.8754 ≥ 0.8. So 4 agents, ceil(4 / 0.7) = 6 people.
        let p = GroupParams::default_for(ChannelGroup::Realtime);
        assert!((erlang::erlang_c(3, 2.0) - 4.0 / 9.0).abs() < 1e-12);
        assert!((erlang::service_level(3, 20.0, 360.0, 60.0) - 0.6238).abs() < 5e-5);
        assert!((erlang::service_level(4, 20.0, 360.0, 60.0) - 0.8754).abs() < 5e-5);
        assert_eq!(p.agents_for(20.0), 4);
        assert_eq!(p.shrinkage().staff_for(4), 6);
    }

    #[test]
    fn closed_slots_defer_to_the_next_opening() {
        let open = open_slots(&WeekSchedule::default_office());
        // 08:30–17:00: slots 08:00 (30 min) to 16:00 open; 17:00 closed.
        assert!(open[slot(Weekday::Mon, 8).index()]);
        assert!(open[slot(Weekday::Mon, 16).index()]);
        assert!(!open[slot(Weekday::Mon, 17).index()]);
        assert!(!open[slot(Weekday::Mon, 7).index()]);
        assert!(!open[slot(Weekday::Sat, 12).index()]);
        assert_eq!(open.iter().filter(|&&o| o).count(), 5 * 9);

        let deferred = flat(1.0).defer_closed(&open);
        assert!((deferred.total() - 168.0).abs() < 1e-9);
        // Monday 08:00 takes Friday 17:00 to Monday 08:00: 7 + 48 + 8 hours, plus its own.
        assert_eq!(deferred.get(slot(Weekday::Mon, 8)), 64.0);
        // Tuesday 08:00 takes Monday 17:00 to Tuesday 08:00: 15 hours, plus its own.
        assert_eq!(deferred.get(slot(Weekday::Tue, 8)), 16.0);
        assert_eq!(deferred.get(slot(Weekday::Tue, 9)), 1.0);
        assert_eq!(deferred.get(slot(Weekday::Sat, 9)), 0.0);
        // All closed: nothing moves.
        assert_eq!(flat(1.0).defer_closed(&[false; SLOTS]), flat(1.0));
        // Around the clock: every slot open.
        assert!(open_slots(&WeekSchedule::always()).iter().all(|&o| o));
    }

    fn code(s: &str) -> TenantCode {
        TenantCode::parse(s).unwrap()
    }

    #[test]
    fn roster_counts_distinct_agents_per_slot() {
        let utrecht = code("GM0344");
        let pool = code("PV26");
        let shifts = vec![
            Shift::new(1, utrecht.clone(), Weekday::Mon, t(8, 30), t(17, 0)).unwrap(),
            // Overlapping second shift of the same agent: still one person.
            Shift::new(1, utrecht.clone(), Weekday::Mon, t(12, 0), t(13, 0)).unwrap(),
            // Starts at 09:45: covers 09:00 for only 15 minutes, so counts from 10:00.
            Shift::new(2, utrecht.clone(), Weekday::Mon, t(9, 45), t(12, 0)).unwrap(),
            // Night shift over midnight, Sunday into Monday.
            Shift::new(3, pool.clone(), Weekday::Sun, t(22, 0), t(2, 0)).unwrap(),
        ];
        let own = rostered(&shifts, std::slice::from_ref(&utrecht));
        assert_eq!(own[slot(Weekday::Mon, 8).index()], 1);
        assert_eq!(own[slot(Weekday::Mon, 9).index()], 1);
        assert_eq!(own[slot(Weekday::Mon, 10).index()], 2);
        assert_eq!(own[slot(Weekday::Mon, 12).index()], 1);
        assert_eq!(own[slot(Weekday::Mon, 17).index()], 0);
        assert_eq!(own.iter().sum::<u32>(), 9 + 2);
        let p = rostered(&shifts, std::slice::from_ref(&pool));
        assert_eq!(p[slot(Weekday::Sun, 22).index()], 1);
        assert_eq!(p[slot(Weekday::Sun, 23).index()], 1);
        assert_eq!(p[slot(Weekday::Mon, 0).index()], 1);
        assert_eq!(p[slot(Weekday::Mon, 1).index()], 1);
        assert_eq!(p[slot(Weekday::Mon, 2).index()], 0);
        let both = rostered(&shifts, &[utrecht.clone(), pool]);
        assert_eq!(both.iter().sum::<u32>(), 11 + 4);
        // Until midnight, written 00:00.
        let late = Shift::new(4, utrecht.clone(), Weekday::Fri, t(18, 0), t(0, 0)).unwrap();
        assert_eq!(late.slots().len(), 6);
        assert_eq!(
            Shift::new(5, utrecht, Weekday::Fri, t(9, 0), t(9, 0)),
            Err(StaffingError::EmptyShift)
        );
    }

    #[test]
    fn coverage_with_tolerance() {
        let tol = Tolerance::default();
        assert_eq!(Coverage::compare(5, 3, tol), Coverage::Under(2));
        assert_eq!(Coverage::compare(5, 4, tol), Coverage::Under(1));
        assert_eq!(Coverage::compare(5, 5, tol), Coverage::Ok);
        assert_eq!(Coverage::compare(5, 6, tol), Coverage::Ok);
        assert_eq!(Coverage::compare(5, 7, tol), Coverage::Over(2));
        assert_eq!(Coverage::compare(0, 1, tol), Coverage::Ok);
        let lenient = Tolerance { under: 1, over: 0 };
        assert_eq!(Coverage::compare(5, 4, lenient), Coverage::Ok);
        assert_eq!(Coverage::compare(5, 3, lenient), Coverage::Under(2));
        assert_eq!(Coverage::compare(5, 6, lenient), Coverage::Over(1));
        assert_eq!(Coverage::Under(2).label_nl(), "2 te weinig");
        assert_eq!(Coverage::Over(1).label_nl(), "1 te veel");
        assert_eq!(Coverage::Ok.label_nl(), "op sterkte");
        assert_eq!(Coverage::Under(2).label_en(), "2 short");
        assert_eq!(Coverage::Over(1).label_en(), "1 too many");
        assert_eq!(Coverage::Ok.label_en(), "fully staffed");
        assert_eq!(
            serde_json::to_value(Coverage::Under(2)).unwrap(),
            serde_json::json!({"status": "under", "by": 2})
        );
    }

    #[test]
    fn week_grid_combines_groups_and_roster() {
        let mut chat = [0.0; SLOTS];
        chat[slot(Weekday::Mon, 10).index()] = 20.0; // 4 agents → 6 people (see above)
        let chat = advise(
            ChannelGroup::Realtime,
            &WeekRates::parse(chat).unwrap(),
            &GroupParams::default_for(ChannelGroup::Realtime),
        );
        let mut social = [0.0; SLOTS];
        social[slot(Weekday::Mon, 10).index()] = 3.0; // 1 agent → 2 people
        social[slot(Weekday::Sat, 11).index()] = 3.0;
        let social = advise(
            ChannelGroup::Async,
            &WeekRates::parse(social).unwrap(),
            &GroupParams::default_for(ChannelGroup::Async),
        );
        let mut roster = [0u32; SLOTS];
        roster[slot(Weekday::Mon, 10).index()] = 5;
        roster[slot(Weekday::Tue, 3).index()] = 2;
        let g = WeekGrid::build(&[chat, social], &roster, Tolerance::default());
        assert_eq!(g.rows.len(), 7);
        assert!(g.rows.iter().all(|r| r.cells.len() == 24));
        assert_eq!(g.rows[5].weekday, "zaterdag");
        assert_eq!(g.hours[8], "08:00");
        let mon10 = g.cell(slot(Weekday::Mon, 10));
        assert_eq!(
            (
                mon10.needed,
                mon10.realtime,
                mon10.asynchronous,
                mon10.rostered
            ),
            (8, 6, 2, 5)
        );
        assert_eq!(mon10.status, Coverage::Under(3));
        assert_eq!(mon10.hour_label, "10:00");
        assert_eq!(g.cell(slot(Weekday::Sat, 11)).status, Coverage::Under(2));
        assert_eq!(g.cell(slot(Weekday::Tue, 3)).status, Coverage::Over(2));
        assert_eq!(g.cell(slot(Weekday::Tue, 4)).status, Coverage::Ok);
        assert_eq!(
            g.summary,
            GridSummary {
                needed_hours: 10,
                rostered_hours: 7,
                short_hours: 5,
                under_slots: 2,
                over_slots: 1,
            }
        );
        // Serialises for a template engine.
        let v = serde_json::to_value(&g).unwrap();
        assert_eq!(v["rows"][0]["cells"][10]["status"]["status"], "under");
    }

    #[test]
    fn pooling_saves_people() {
        // Five small municipalities, 10 chats an hour each in office hours.
        let open = open_slots(&WeekSchedule::default_office());
        let member = WeekRates::parse(open.map(|o| if o { 10.0 } else { 0.0 })).unwrap();
        let members = vec![member; 5];
        let p = GroupParams::default_for(ChannelGroup::Realtime);
        let pool = pool_advice(ChannelGroup::Realtime, &members, &p);
        // Apart: 10 chats × 6 min = 1 Erlang each → 3 agents (SL 0.935; 2 give 0.718) →
        // ceil(3 / 0.7) = 5 people, 25 for five. Together: 5 Erlangs → 8 agents (SL 0.899;
        // 7 give 0.768) → ceil(8 / 0.7) = 12 people.
        assert_eq!(p.agents_for(10.0), 3);
        assert_eq!(p.agents_for(50.0), 8);
        assert_eq!((pool.shared_peak, pool.separate_peak), (12, 25));
        assert_eq!(pool.shared_hours, 12 * 45);
        assert_eq!(pool.separate_hours, 25 * 45);
        assert_eq!(pool.hours_saved(), 13 * 45);
        assert_eq!(
            pool.summary_nl(),
            "gedeeld: 12 medewerkers, apart: 25 (drukste uur); 540 tegen 1125 uur per week"
        );
        assert_eq!(
            pool.summary_en(),
            "shared: 12 agents, separate: 25 (busiest hour); 540 against 1125 hours per week"
        );
        // A single member: pooling changes nothing.
        let alone = pool_advice(ChannelGroup::Realtime, &members[..1], &p);
        assert_eq!(alone.shared_hours, alone.separate_hours);
        // No members.
        let none = pool_advice(ChannelGroup::Realtime, &[], &p);
        assert_eq!((none.shared_peak, none.separate_peak), (0, 0));
    }

    proptest! {
        #[test]
        fn pooled_never_needs_more_than_separate(
            rates in proptest::collection::vec(0.0f64..120.0, 1..6),
            aht in 60.0f64..900.0,
            sl in 0.5f64..0.95,
            target in prop_oneof![Just(20.0), Just(60.0), Just(3_600.0)],
            shrink in 0u32..60,
            floor in 0u32..3,
        ) {
            let p = GroupParams::new(aht, sl, target)
                .unwrap()
                .with_shrinkage(Shrinkage::parse(shrink).unwrap())
                .with_min_agents(floor);
            let shared = p.shrinkage().staff_for(p.agents_for(rates.iter().sum()));
            let separate: u32 = rates
                .iter()
                .map(|&r| p.shrinkage().staff_for(p.agents_for(r)))
                .sum();
            prop_assert!(shared <= separate, "{shared} > {separate}");
        }

        #[test]
        fn staff_is_ceil_of_agents_over_availability(agents in 0u32..10_000, shrink in 0u32..=90) {
            let s = Shrinkage::parse(shrink).unwrap().staff_for(agents);
            // staff people, each available (100 − shrink) % of the time, cover `agents`;
            // one person fewer does not.
            prop_assert!(u64::from(s) * u64::from(100 - shrink) >= u64::from(agents) * 100);
            if s > 0 {
                prop_assert!(
                    u64::from(s - 1) * u64::from(100 - shrink) < u64::from(agents) * 100
                );
            }
        }

        #[test]
        fn deferral_keeps_the_week_total(
            rates in proptest::collection::vec(0.0f64..50.0, SLOTS),
            open in proptest::collection::vec(any::<bool>(), SLOTS),
        ) {
            let r = WeekRates::parse(rates.try_into().unwrap()).unwrap();
            let mask: [bool; SLOTS] = open.try_into().unwrap();
            let d = r.defer_closed(&mask);
            prop_assert!((d.total() - r.total()).abs() < 1e-6);
            if mask.iter().any(|&o| o) {
                for (open, r) in mask.iter().zip(d.as_array()) {
                    if !open {
                        prop_assert_eq!(*r, 0.0);
                    }
                }
            }
        }

        #[test]
        fn trend_stays_within_the_cap(
            totals in proptest::collection::vec(0u32..10_000, 0..10),
            cap in 0.0f64..=0.5,
        ) {
            let weeks: Vec<WeekCounts> = totals
                .iter()
                .map(|&t| {
                    let mut w = [0; SLOTS];
                    w[0] = t;
                    w
                })
                .collect();
            let f = forecast(&weeks, ForecastParams::new(8, cap).unwrap());
            prop_assert!(f.trend >= 1.0 - cap - 1e-12 && f.trend <= 1.0 + cap + 1e-12);
        }
    }
}
