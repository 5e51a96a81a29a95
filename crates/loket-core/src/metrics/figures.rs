//! One function per figure of [`super::FIGURES`]. Each takes the facts (any iterator of
//! references, so callers can filter by channel, topic or team first) and a [`Period`].

use super::stats::{DurationSummary, Share};
use super::{ConversationFacts, Dimension, Granularity, GroupKey, MessageFacts, Period, Sentiment};
use crate::sla::SlaKind;
use crate::{Direction, TenantKind};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::Clock;

// ---------------------------------------------------------------------------------------
// Volume and contacts

/// Which messages a volume counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// Messages from residents.
    In,
    /// Replies sent by agents: not internal notes, not automatic messages, not failed ones.
    Out,
}

impl MessageFacts {
    /// Whether this message counts in the volume of `flow`.
    pub fn counts_as(&self, flow: Flow) -> bool {
        match flow {
            Flow::In => self.direction == Direction::In,
            Flow::Out => self.direction == Direction::Out && !self.automatic && !self.failed,
        }
    }
}

/// `volume_in` / `volume_out`: messages of `flow` with `at` in the period.
pub fn volume<'a>(
    messages: impl IntoIterator<Item = &'a MessageFacts>,
    period: &Period,
    flow: Flow,
) -> u64 {
    messages
        .into_iter()
        .filter(|m| m.counts_as(flow) && period.contains(m.at))
        .count() as u64
}

/// [`volume`] broken down by a dimension (hour of week and day from `at`, in Amsterdam
/// time). Keys without messages are absent.
pub fn volume_by<'a>(
    messages: impl IntoIterator<Item = &'a MessageFacts>,
    period: &Period,
    flow: Flow,
    by: Dimension,
) -> BTreeMap<GroupKey, u64> {
    let mut out = BTreeMap::new();
    for m in messages {
        if m.counts_as(flow) && period.contains(m.at) {
            *out.entry(m.key(by)).or_default() += 1;
        }
    }
    out
}

impl ConversationFacts {
    /// A contact of the period: the conversation started in it.
    pub fn is_contact_in(&self, period: &Period) -> bool {
        period.contains(self.created_at)
    }

    /// The first response was sent in the period.
    pub fn first_response_in(&self, period: &Period) -> bool {
        self.first_response_at.is_some_and(|t| period.contains(t))
    }

    /// The conversation was first resolved in the period.
    pub fn resolved_in(&self, period: &Period) -> bool {
        self.resolved_at.is_some_and(|t| period.contains(t))
    }
}

/// `contacts`: conversations started in the period.
pub fn contacts<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
) -> u64 {
    convs
        .into_iter()
        .filter(|c| c.is_contact_in(period))
        .count() as u64
}

/// [`contacts`] broken down by a dimension (hour of week and day from `created_at`).
pub fn contacts_by<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
    by: Dimension,
) -> BTreeMap<GroupKey, u64> {
    let mut out = BTreeMap::new();
    for c in convs {
        if c.is_contact_in(period) {
            *out.entry(c.key(by)).or_default() += 1;
        }
    }
    out
}

/// Groups conversations by a dimension, to compute any figure per channel, topic or
/// tenant. Time dimensions use `created_at`; for an event figure per day or week, call it
/// per bucket of [`Period::split`] instead.
pub fn partition<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    by: Dimension,
) -> BTreeMap<GroupKey, Vec<&'a ConversationFacts>> {
    let mut out: BTreeMap<GroupKey, Vec<&'a ConversationFacts>> = BTreeMap::new();
    for c in convs {
        out.entry(c.key(by)).or_default().push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Response and resolution times

/// `first_response_time`: from `created_at` to `first_response_at` on `clock`, for
/// conversations whose first response lies in the period. `None` when there are none.
pub fn first_response_time<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
    clock: Clock<'_>,
) -> Option<DurationSummary> {
    DurationSummary::of(
        convs
            .into_iter()
            .filter_map(|c| {
                let at = c.first_response_at.filter(|&t| period.contains(t))?;
                Some(clock.seconds(&c.tenant, c.created_at, at))
            })
            .collect(),
    )
}

/// `resolution_time`: from `created_at` to the first resolution on `clock`, for
/// conversations first resolved in the period. `None` when there are none.
pub fn resolution_time<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
    clock: Clock<'_>,
) -> Option<DurationSummary> {
    DurationSummary::of(
        convs
            .into_iter()
            .filter_map(|c| {
                let at = c.resolved_at.filter(|&t| period.contains(t))?;
                Some(clock.seconds(&c.tenant, c.created_at, at))
            })
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// SLA attainment

/// How a conversation fared against one deadline, as known at some moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlaOutcome {
    /// Done on or before the deadline; decided at the moment it was done.
    Met(DateTime<Utc>),
    /// Not done by the deadline; decided at the deadline, whether it was done later or is
    /// still open.
    Breached(DateTime<Utc>),
    /// Not done yet and the deadline has not passed: no outcome yet.
    Pending,
}

impl ConversationFacts {
    /// The outcome of the `kind` deadline as known at `as_of`; `None` when no target
    /// applies. The deadline itself still meets the target (as in [`crate::sla::status`]);
    /// waiting for the resident does not stop the clock.
    pub fn sla_outcome(&self, kind: SlaKind, as_of: DateTime<Utc>) -> Option<SlaOutcome> {
        let (done, due) = match kind {
            SlaKind::FirstResponse => (self.first_response_at, self.first_response_due?),
            SlaKind::Resolution => (self.resolved_at, self.resolution_due?),
        };
        let done = done.filter(|&t| t <= as_of);
        Some(match done {
            Some(t) if t <= due => SlaOutcome::Met(t),
            _ if due < as_of => SlaOutcome::Breached(due),
            _ => SlaOutcome::Pending,
        })
    }
}

/// SLA attainment over a period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaAttainment {
    /// Outcome decided in the period: met.
    pub met: u64,
    /// Outcome decided in the period: breached (done late, or open past the deadline).
    pub breached: u64,
    /// Started in the period (and by `as_of`), not done and not yet due at `as_of`: shown
    /// apart, not in the share.
    pub pending: u64,
}

impl SlaAttainment {
    /// `met / (met + breached)`; its value is `None` when nothing was decided.
    pub fn share(&self) -> Share {
        Share {
            part: self.met,
            whole: self.met + self.breached,
        }
    }

    pub fn merge(&mut self, other: &SlaAttainment) {
        self.met += other.met;
        self.breached += other.breached;
        self.pending += other.pending;
    }
}

/// `sla_first_response` / `sla_resolution`: each conversation with a target counts once,
/// in the period in which its outcome was decided (see [`SlaOutcome`]); outcomes after
/// `as_of` are not known yet.
pub fn sla_attainment<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
    as_of: DateTime<Utc>,
    kind: SlaKind,
) -> SlaAttainment {
    let mut out = SlaAttainment::default();
    for c in convs {
        match c.sla_outcome(kind, as_of) {
            Some(SlaOutcome::Met(t)) if period.contains(t) => out.met += 1,
            Some(SlaOutcome::Breached(t)) if period.contains(t) => out.breached += 1,
            Some(SlaOutcome::Pending) if period.contains(c.created_at) && c.created_at <= as_of => {
                out.pending += 1
            }
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Backlog

/// Age classes of the backlog, `[lower, upper)` in hours of clock time.
pub const BACKLOG_BUCKETS: [(&str, u32, Option<u32>); 6] = [
    ("korter dan 1 uur", 0, Some(1)),
    ("1 tot 4 uur", 1, Some(4)),
    ("4 tot 24 uur", 4, Some(24)),
    ("1 tot 3 dagen", 24, Some(72)),
    ("3 tot 7 dagen", 72, Some(168)),
    ("7 dagen of langer", 168, None),
];

/// The backlog at one moment, per age class of [`BACKLOG_BUCKETS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    pub counts: [u64; 6],
}

impl Backlog {
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }
}

/// `backlog`: conversations that now wait for an agent ([`crate::ConversationState::is_active`]:
/// nieuw or open) and started at or before `as_of`, by clock age `as_of − created_at`.
/// A snapshot: the state is the current one, `as_of` only sets the ages.
pub fn backlog<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    as_of: DateTime<Utc>,
) -> Backlog {
    let mut out = Backlog::default();
    for c in convs {
        if !c.state.is_active() || c.created_at > as_of {
            continue;
        }
        let hours = (as_of - c.created_at).num_seconds() / 3600;
        let i = BACKLOG_BUCKETS
            .iter()
            .rposition(|&(_, lower, _)| hours >= i64::from(lower))
            .unwrap_or(0);
        out.counts[i] += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Reopen rate and pool share

/// `reopen_rate`: of the conversations first resolved in the period, those reopened at
/// least once (so far: a later reopen raises the figure of that period).
pub fn reopen_rate<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
) -> Share {
    let mut out = Share::default();
    for c in convs.into_iter().filter(|c| c.resolved_in(period)) {
        out.whole += 1;
        out.part += u64::from(c.reopened > 0);
    }
    out
}

/// `pool_share`: of the contacts of municipalities in the period, those a regional pool
/// handled on the municipality's behalf. Conversations of pools and the national entry
/// themselves do not count.
pub fn pool_share<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
) -> Share {
    let mut out = Share::default();
    for c in convs
        .into_iter()
        .filter(|c| c.is_contact_in(period) && c.tenant.kind() == TenantKind::Gemeente)
    {
        out.whole += 1;
        out.part += u64::from(c.handled_by_pool);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Sentiment

/// Counts per sentiment class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentimentMix {
    pub negatief: u64,
    pub neutraal: u64,
    pub positief: u64,
}

impl SentimentMix {
    pub fn total(&self) -> u64 {
        self.negatief + self.neutraal + self.positief
    }

    pub fn count(&self, s: Sentiment) -> u64 {
        match s {
            Sentiment::Negatief => self.negatief,
            Sentiment::Neutraal => self.neutraal,
            Sentiment::Positief => self.positief,
        }
    }

    /// Share of one class among all with a sentiment.
    pub fn share(&self, s: Sentiment) -> Share {
        Share {
            part: self.count(s),
            whole: self.total(),
        }
    }

    /// Net sentiment `(positief − negatief) / total`, from −1 to +1; `None` when empty.
    pub fn net(&self) -> Option<f64> {
        let total = self.total();
        (total > 0).then(|| (self.positief as f64 - self.negatief as f64) / total as f64)
    }

    pub fn add(&mut self, s: Sentiment) {
        match s {
            Sentiment::Negatief => self.negatief += 1,
            Sentiment::Neutraal => self.neutraal += 1,
            Sentiment::Positief => self.positief += 1,
        }
    }

    pub fn merge(&mut self, other: &SentimentMix) {
        self.negatief += other.negatief;
        self.neutraal += other.neutraal;
        self.positief += other.positief;
    }
}

/// `sentiment_mix`: contacts of the period by the sentiment of their first message;
/// contacts without a sentiment do not count.
pub fn sentiment_mix<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
) -> SentimentMix {
    let mut out = SentimentMix::default();
    for c in convs.into_iter().filter(|c| c.is_contact_in(period)) {
        if let Some(s) = c.sentiment {
            out.add(s);
        }
    }
    out
}

/// `sentiment_trend`: [`sentiment_mix`] per local day or ISO week of the period (every
/// bucket present, empty ones too, labelled by their first date); read the trend from
/// [`SentimentMix::net`].
pub fn sentiment_trend<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
    by: Granularity,
) -> Vec<(NaiveDate, SentimentMix)> {
    let buckets = period.split(by);
    let mut out: Vec<(NaiveDate, SentimentMix)> = buckets
        .iter()
        .map(|(d, _)| (*d, SentimentMix::default()))
        .collect();
    for c in convs.into_iter().filter(|c| c.is_contact_in(period)) {
        let Some(s) = c.sentiment else { continue };
        // Buckets are sorted and contiguous: the last one starting at or before the moment.
        let i = buckets.partition_point(|(_, p)| p.start() <= c.created_at);
        if let Some((_, mix)) = i.checked_sub(1).and_then(|i| out.get_mut(i)) {
            mix.add(s);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Satisfaction

/// CSAT, kept as sums so it can be added up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Csat {
    /// Valid answers (scores 1–5).
    pub responses: u64,
    /// Answers of 4 or 5.
    pub satisfied: u64,
    /// Sum of the scores.
    pub score_sum: u64,
}

impl Csat {
    /// Share of 4 and 5 among all valid answers; `None` without answers.
    pub fn share_satisfied(&self) -> Share {
        Share {
            part: self.satisfied,
            whole: self.responses,
        }
    }

    /// Mean score 1–5; `None` without answers.
    pub fn mean(&self) -> Option<f64> {
        (self.responses > 0).then(|| self.score_sum as f64 / self.responses as f64)
    }

    /// Adds one score; scores outside 1–5 are ignored.
    pub fn add(&mut self, score: u8) {
        if (1..=5).contains(&score) {
            self.responses += 1;
            self.satisfied += u64::from(score >= 4);
            self.score_sum += u64::from(score);
        }
    }

    pub fn merge(&mut self, other: &Csat) {
        self.responses += other.responses;
        self.satisfied += other.satisfied;
        self.score_sum += other.score_sum;
    }
}

/// `csat`: survey answers of conversations first resolved in the period.
pub fn csat<'a>(convs: impl IntoIterator<Item = &'a ConversationFacts>, period: &Period) -> Csat {
    let mut out = Csat::default();
    for c in convs.into_iter().filter(|c| c.resolved_in(period)) {
        if let Some(score) = c.csat {
            out.add(score);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Handle time and cost

/// `handle_time`: agent handle time of conversations first resolved in the period;
/// conversations without any measured agent activity (0 s) do not count. `None` when
/// there are none.
pub fn handle_time<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
) -> Option<DurationSummary> {
    DurationSummary::of(
        convs
            .into_iter()
            .filter(|c| c.resolved_in(period) && c.handle_seconds > 0)
            .map(|c| c.handle_seconds)
            .collect(),
    )
}

/// A tenant's cost settings, in euro.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CostSettings {
    /// Cost of one hour of agent time.
    pub hourly_cost_eur: f64,
    /// Fixed cost of tools per calendar month.
    pub monthly_tool_cost_eur: f64,
}

/// The parts of the cost of the contacts of a period; summable over tenants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ContactCost {
    pub contacts: u64,
    pub handle_seconds: u64,
    /// `handle_seconds / 3600 × hourly cost`.
    pub labour_eur: f64,
    /// The period's share of the monthly tool cost ([`tool_cost`]).
    pub tools_eur: f64,
}

impl ContactCost {
    pub fn total_eur(&self) -> f64 {
        self.labour_eur + self.tools_eur
    }

    /// `cost_per_contact`: total cost divided by contacts; `None` without contacts.
    pub fn per_contact(&self) -> Option<f64> {
        (self.contacts > 0).then(|| self.total_eur() / self.contacts as f64)
    }

    pub fn merge(&mut self, other: &ContactCost) {
        self.contacts += other.contacts;
        self.handle_seconds += other.handle_seconds;
        self.labour_eur += other.labour_eur;
        self.tools_eur += other.tools_eur;
    }
}

/// The part of a fixed monthly cost that falls in the period, prorated by time: for each
/// local calendar month the period overlaps, `monthly × overlap / length of that month`.
/// A whole month gives exactly `monthly`; half of a 30-day month gives half.
pub fn tool_cost(period: &Period, monthly_eur: f64) -> f64 {
    if period.is_empty() {
        return 0.0;
    }
    let mut total = 0.0;
    let first = super::local_day(period.start());
    let (mut y, mut m) = (first.year(), first.month());
    while let Ok(month) = Period::month(y, m) {
        if month.start() >= period.end() {
            break;
        }
        if let Some(overlap) = month.intersect(period) {
            let share = overlap.duration().num_milliseconds() as f64
                / month.duration().num_milliseconds() as f64;
            total += monthly_eur * share;
        }
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    total
}

/// Cost of the contacts of one tenant in the period: the handle time of the conversations
/// that started in it times the hourly cost, plus [`tool_cost`] of the period. Pass one
/// tenant's conversations; add tenants up with [`ContactCost::merge`].
pub fn contact_cost<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
    settings: &CostSettings,
) -> ContactCost {
    let mut out = ContactCost::default();
    for c in convs.into_iter().filter(|c| c.is_contact_in(period)) {
        out.contacts += 1;
        out.handle_seconds += c.handle_seconds;
    }
    out.labour_eur = out.handle_seconds as f64 / 3600.0 * settings.hourly_cost_eur;
    out.tools_eur = tool_cost(period, settings.monthly_tool_cost_eur);
    out
}

/// `contacts_per_1000`: contacts of the period per 1,000 inhabitants; `None` when the
/// number of inhabitants is unknown (0). Not annualised: compare equal periods.
pub fn contacts_per_1000<'a>(
    convs: impl IntoIterator<Item = &'a ConversationFacts>,
    period: &Period,
    inhabitants: u32,
) -> Option<f64> {
    per_1000(contacts(convs, period), inhabitants)
}

/// `contacts × 1000 / inhabitants`; `None` when `inhabitants` is 0.
pub fn per_1000(contacts: u64, inhabitants: u32) -> Option<f64> {
    (inhabitants > 0).then(|| contacts as f64 * 1000.0 / f64::from(inhabitants))
}

#[cfg(test)]
mod tests;
