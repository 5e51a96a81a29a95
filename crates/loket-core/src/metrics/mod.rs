//! Management information: one definition per figure, as plain functions over plain facts.
//!
//! Nothing here reads a database or a clock. The server turns its rows into
//! [`ConversationFacts`] and [`MessageFacts`], picks a [`Period`] and calls the figure
//! functions in [`figures`]; the definitions page `docs/metrics.md` describes the same
//! figures in Dutch for supervisors, and a test keeps [`FIGURES`] and that page in step.
//!
//! # Rules shared by every figure
//! - A [`Period`] is half-open, `[start, end)`, on UTC instants. Days, weeks, months and
//!   the hour of the week are Europe/Amsterdam wall-clock notions ([`local_day`],
//!   [`hour_of_week`]).
//! - Each figure says which moment places a conversation in a period (see [`FIGURES`]):
//!   its start (`created_at`) for contacts, the event itself for event figures (first
//!   response, first resolution, the moment an SLA outcome is decided). Event figures of a
//!   past period are therefore final.
//! - Percentiles are **nearest-rank** ([`stats::percentile`]): the value at rank
//!   `⌈p/100 · n⌉` (at least 1) of the sorted values; the median is P50, so for an even
//!   count it is the lower of the two middle values. Always an observed value, and the
//!   same rule the [`Histogram`] estimates.
//! - Counts of an empty set are 0. Every share, mean or percentile of an empty set is
//!   `None` — never 0 and never NaN.
//! - Durations are whole seconds; a negative span (clock skew) counts as 0.
//!
//! # Rollups
//! The server keeps counters per (tenant, UTC hour, channel, topic) at intake time rather
//! than scanning raw tables. Amsterdam offsets are whole hours, so a UTC hour row maps to
//! exactly one local day and one hour of the week: day and hour-of-week breakdowns come
//! from hour rows without loss.
//!
//! *Summable* (plain counters, exact after any merge): volume in/out, contacts, SLA met /
//! breached (in the hour of the decision), reopen rate (part and whole: a first reopen
//! increments the part in the row of the conversation's first resolution), pool share,
//! sentiment counts, CSAT (responses, satisfied, score sum → share and mean exact), handle
//! time (count and sum → mean exact), cost per contact (contacts, handle seconds; tool cost
//! comes from settings), contacts per 1,000 inhabitants. The summable results ([`Share`],
//! [`SlaAttainment`], [`Csat`], [`SentimentMix`], [`ContactCost`]) have a `merge`.
//!
//! *Distributions* (need a [`Histogram`]): first-response time and resolution time, each in
//! clock and business time (four histograms), and the median / P90 of handle time.
//! Histograms are mergeable and sparse; per (tenant, day, channel) rows keep them small.
//! Business time is measured once, at the event, with the opening hours then in force.
//!
//! *Neither*: the backlog is a snapshot of active conversations (a small indexed set), and
//! SLA `pending` counts conversations that are still undecided; both are read live.

pub mod figures;
pub mod histogram;
pub mod stats;

pub use figures::*;
pub use histogram::{Histogram, HistogramSum};
pub use stats::{DurationSummary, Share, percentile};

use crate::calendar::WeekSchedule;
use crate::sla::{SlaKind, SlaTargets, deadline};
use crate::{Channel, ConversationState, Direction, Priority, TenantCode};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Amsterdam;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Why a period could not be made. Shown on the dashboard's period picker, hence Dutch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("het einde van de periode ligt vóór het begin")]
    EndBeforeStart,
    #[error("ongeldige datum in de periode")]
    Date,
}

/// A half-open span of time `[start, end)` on UTC instants. A period that exists has
/// `start <= end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Period {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// Buckets of a trend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    /// A local (Amsterdam) calendar day.
    Day,
    /// An ISO week, Monday to Sunday, in local time.
    Week,
}

impl Period {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, PeriodError> {
        if end < start {
            return Err(PeriodError::EndBeforeStart);
        }
        Ok(Self { start, end })
    }

    /// Whole local days `first..=last`: from Amsterdam midnight at the start of `first` to
    /// Amsterdam midnight after `last`.
    pub fn local_days(first: NaiveDate, last: NaiveDate) -> Result<Self, PeriodError> {
        let after = last.succ_opt().ok_or(PeriodError::Date)?;
        Self::new(local_midnight(first)?, local_midnight(after)?)
    }

    /// One local calendar month.
    pub fn month(year: i32, month: u32) -> Result<Self, PeriodError> {
        let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or(PeriodError::Date)?;
        let next = first
            .checked_add_months(chrono::Months::new(1))
            .ok_or(PeriodError::Date)?;
        Self::new(local_midnight(first)?, local_midnight(next)?)
    }

    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// `start <= t < end`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// The part of this period that also lies in `other`.
    pub fn intersect(&self, other: &Period) -> Option<Period> {
        let (s, e) = (self.start.max(other.start), self.end.min(other.end));
        (s < e).then_some(Period { start: s, end: e })
    }

    /// The local days or weeks that overlap this period, each clipped to it, labelled by
    /// the first local date of the day or week. An empty period has no buckets.
    pub fn split(&self, by: Granularity) -> Vec<(NaiveDate, Period)> {
        let mut out = Vec::new();
        if self.is_empty() {
            return out;
        }
        let mut date = local_day(self.start);
        if by == Granularity::Week {
            date -= Duration::days(i64::from(date.weekday().num_days_from_monday()));
        }
        let step = match by {
            Granularity::Day => 1,
            Granularity::Week => 7,
        };
        while let Ok(from) = local_midnight(date) {
            if from >= self.end {
                break;
            }
            let Some(next) = date.checked_add_signed(Duration::days(step)) else {
                break;
            };
            let Ok(to) = local_midnight(next) else { break };
            let clipped = Period {
                start: from.max(self.start),
                end: to.min(self.end),
            };
            if clipped.start < clipped.end {
                out.push((date, clipped));
            }
            date = next;
        }
        out
    }
}

/// Amsterdam midnight of `date` as a UTC instant. Midnight always exists in Amsterdam
/// (clocks change at 02:00 and 03:00).
fn local_midnight(date: NaiveDate) -> Result<DateTime<Utc>, PeriodError> {
    Amsterdam
        .from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or(PeriodError::Date)
}

/// The Amsterdam calendar date of an instant.
pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&Amsterdam).date_naive()
}

/// Hour of the week in Amsterdam wall-clock time: 0 is Monday 00:00–01:00, 167 is Sunday
/// 23:00–24:00. On the spring DST day local hour 02 does not occur (its bucket gets
/// nothing that day); on the autumn day it occurs twice and both hours land in it.
pub fn hour_of_week(t: DateTime<Utc>) -> u8 {
    let local = t.with_timezone(&Amsterdam);
    // At most 6 * 24 + 23 = 167.
    (local.weekday().num_days_from_monday() * 24 + local.hour()) as u8
}

/// How many clock hours (starting on a whole UTC hour inside the period) fall in each
/// hour of the week: divide a per-hour-of-week count by this to get a rate per hour. The
/// autumn DST night gives its local hour 02 two hours, the spring night none.
pub fn hour_of_week_occurrences(period: &Period) -> [u32; 168] {
    let mut out = [0u32; 168];
    let s = period.start.timestamp() + i64::from(period.start.timestamp_subsec_nanos() > 0);
    let mut h = s.div_euclid(3600) * 3600 + if s.rem_euclid(3600) > 0 { 3600 } else { 0 };
    let end = period.end;
    while let Some(t) = DateTime::from_timestamp(h, 0) {
        if t >= end {
            break;
        }
        out[usize::from(hour_of_week(t))] += 1;
        h += 3600;
    }
    out
}

/// A short Dutch label for an hour of the week: `"ma 09:00"`.
pub fn hour_of_week_label(h: u8) -> String {
    const DAYS: [&str; 7] = ["ma", "di", "wo", "do", "vr", "za", "zo"];
    let h = h.min(167);
    format!("{} {:02}:00", DAYS[usize::from(h / 24)], h % 24)
}

/// Polarity of a conversation's first message, as the text engine labels it (the same JSON
/// labels as `loket_text::Sentiment`, which this crate does not depend on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Negatief,
    Neutraal,
    Positief,
}

impl Sentiment {
    pub const ALL: [Sentiment; 3] = [Self::Negatief, Self::Neutraal, Self::Positief];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Negatief => "negatief",
            Self::Neutraal => "neutraal",
            Self::Positief => "positief",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What the figures need to know about one conversation, as it stands now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationFacts {
    pub id: i64,
    /// The municipality (or other tenant) on whose behalf the conversation is held, also
    /// when a pool answers it.
    pub tenant: TenantCode,
    pub channel: Channel,
    /// Topic code; `None` when no topic was set ("onbekend").
    pub topic: Option<String>,
    pub priority: Priority,
    pub state: ConversationState,
    /// The resident's first message.
    pub created_at: DateTime<Utc>,
    /// The first reply an agent sent (not an automatic message).
    pub first_response_at: Option<DateTime<Utc>>,
    /// The first-response deadline set when the conversation started; `None` when no
    /// target applies.
    pub first_response_due: Option<DateTime<Utc>>,
    /// The first moment the conversation became `opgelost` or `gesloten`. A reopen does
    /// not clear it; reopens are counted in `reopened`.
    pub resolved_at: Option<DateTime<Utc>>,
    /// The resolution deadline set when the conversation started (not the one reset by a
    /// reopen); `None` when no target applies.
    pub resolution_due: Option<DateTime<Utc>>,
    /// How often the conversation was reopened after a resolution.
    pub reopened: u32,
    /// Whether a regional pool answered it on behalf of the municipality.
    pub handled_by_pool: bool,
    pub sentiment: Option<Sentiment>,
    /// Survey score as given; only 1–5 is valid, anything else is ignored.
    pub csat: Option<u8>,
    /// Seconds agents spent actively on the conversation (from agent activity).
    pub handle_seconds: u64,
}

impl ConversationFacts {
    /// A new conversation without response, resolution or deadlines.
    pub fn new(id: i64, tenant: TenantCode, channel: Channel, created_at: DateTime<Utc>) -> Self {
        Self {
            id,
            tenant,
            channel,
            topic: None,
            priority: Priority::Normaal,
            state: ConversationState::Nieuw,
            created_at,
            first_response_at: None,
            first_response_due: None,
            resolved_at: None,
            resolution_due: None,
            reopened: 0,
            handled_by_pool: false,
            sentiment: None,
            csat: None,
            handle_seconds: 0,
        }
    }

    /// Sets both deadlines the way intake does: [`crate::sla::deadline`] from `created_at`.
    pub fn with_deadlines(mut self, schedule: &WeekSchedule, targets: &SlaTargets) -> Self {
        let due = |kind| deadline(schedule, targets, self.priority, kind, self.created_at);
        self.first_response_due = Some(due(SlaKind::FirstResponse));
        self.resolution_due = Some(due(SlaKind::Resolution));
        self
    }

    /// The value of a breakdown dimension; time dimensions use `created_at`.
    pub fn key(&self, by: Dimension) -> GroupKey {
        GroupKey::of(by, self.channel, &self.topic, &self.tenant, self.created_at)
    }
}

/// One message, for the volume figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageFacts {
    pub tenant: TenantCode,
    pub channel: Channel,
    /// The conversation's topic.
    pub topic: Option<String>,
    pub direction: Direction,
    pub at: DateTime<Utc>,
    /// Sent by Loket itself (auto-reply, survey invitation), not by an agent.
    pub automatic: bool,
    /// An outgoing message whose delivery failed.
    pub failed: bool,
}

impl MessageFacts {
    pub fn key(&self, by: Dimension) -> GroupKey {
        GroupKey::of(by, self.channel, &self.topic, &self.tenant, self.at)
    }
}

/// A breakdown of a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Channel,
    Topic,
    /// The municipality (tenant).
    Tenant,
    /// [`hour_of_week`], Amsterdam time.
    HourOfWeek,
    /// [`local_day`], Amsterdam time.
    Day,
}

/// The value of a [`Dimension`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKey {
    Channel(Channel),
    Topic(Option<String>),
    Tenant(TenantCode),
    HourOfWeek(u8),
    Day(NaiveDate),
}

impl GroupKey {
    fn of(
        by: Dimension,
        channel: Channel,
        topic: &Option<String>,
        tenant: &TenantCode,
        at: DateTime<Utc>,
    ) -> Self {
        match by {
            Dimension::Channel => Self::Channel(channel),
            Dimension::Topic => Self::Topic(topic.clone()),
            Dimension::Tenant => Self::Tenant(tenant.clone()),
            Dimension::HourOfWeek => Self::HourOfWeek(hour_of_week(at)),
            Dimension::Day => Self::Day(local_day(at)),
        }
    }
}

/// Opening hours per tenant, for business time. Tenants without their own hours use
/// `default`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedules {
    pub default: WeekSchedule,
    pub by_tenant: HashMap<TenantCode, WeekSchedule>,
}

impl Schedules {
    /// The same hours for every tenant.
    pub fn uniform(schedule: WeekSchedule) -> Self {
        Self {
            default: schedule,
            by_tenant: HashMap::new(),
        }
    }

    pub fn for_tenant(&self, tenant: &TenantCode) -> &WeekSchedule {
        self.by_tenant.get(tenant).unwrap_or(&self.default)
    }
}

/// Which time a duration figure counts.
#[derive(Clone, Copy, Debug)]
pub enum Clock<'a> {
    /// Wall-clock time: every second counts.
    Wall,
    /// Business time: only seconds inside the opening hours of the conversation's tenant
    /// (holidays closed), by [`crate::calendar::business_time_between`].
    Business(&'a Schedules),
}

impl Clock<'_> {
    /// Seconds from `a` to `b` on this clock; 0 when `b <= a`.
    pub fn seconds(&self, tenant: &TenantCode, a: DateTime<Utc>, b: DateTime<Utc>) -> u64 {
        let d = match self {
            Clock::Wall => b - a,
            Clock::Business(s) => {
                crate::calendar::business_time_between(s.for_tenant(tenant), a, b)
            }
        };
        u64::try_from(d.num_seconds()).unwrap_or(0)
    }
}

/// A figure as listed on the definitions page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct FigureDef {
    /// Stable identifier, used in URLs, CSV headers and the definitions page.
    pub id: &'static str,
    /// Dutch name, the heading on the definitions page.
    pub name_nl: &'static str,
    /// `name_nl` in English (the definitions page in English).
    pub name_en: &'static str,
    /// Unit, in Dutch.
    pub unit_nl: &'static str,
    /// `unit_nl` in English.
    pub unit_en: &'static str,
    /// One-line definition, in Dutch; the definitions page repeats it word for word.
    pub definition_nl: &'static str,
    /// `definition_nl` in English (`docs/metrics.md` stays Dutch).
    pub definition_en: &'static str,
    /// How the code computes it.
    pub code: &'static str,
}

/// Every figure Loket reports. `docs/metrics.md` has one section per entry (a test checks).
pub const FIGURES: &[FigureDef] = &[
    FigureDef {
        id: "volume_in",
        name_nl: "Inkomend volume",
        name_en: "Incoming volume",
        unit_nl: "berichten",
        unit_en: "messages",
        definition_nl: "Aantal berichten van inwoners dat in de periode binnenkwam, per kanaal, onderwerp, gemeente, uur van de week of dag.",
        definition_en: "Number of messages from residents that arrived in the period, per channel, topic, municipality, hour of the week or day.",
        code: "volume(…, Flow::In) / volume_by(…, Flow::In, Dimension)",
    },
    FigureDef {
        id: "volume_out",
        name_nl: "Uitgaand volume",
        name_en: "Outgoing volume",
        unit_nl: "berichten",
        unit_en: "messages",
        definition_nl: "Aantal antwoorden dat medewerkers in de periode verstuurden, per kanaal, onderwerp, gemeente, uur van de week of dag.",
        definition_en: "Number of replies that agents sent in the period, per channel, topic, municipality, hour of the week or day.",
        code: "volume(…, Flow::Out) / volume_by(…, Flow::Out, Dimension)",
    },
    FigureDef {
        id: "contacts",
        name_nl: "Contacten",
        name_en: "Contacts",
        unit_nl: "gesprekken",
        unit_en: "conversations",
        definition_nl: "Aantal gesprekken dat in de periode begon.",
        definition_en: "Number of conversations that started in the period.",
        code: "contacts / contacts_by(…, Dimension)",
    },
    FigureDef {
        id: "first_response_time",
        name_nl: "Eerste reactietijd",
        name_en: "First-response time",
        unit_nl: "seconden (mediaan en 90e percentiel)",
        unit_en: "seconds (median and 90th percentile)",
        definition_nl: "Tijd van het eerste bericht van de inwoner tot het eerste antwoord van een medewerker, voor gesprekken waarvan het eerste antwoord in de periode viel; in kloktijd en in kantoortijd.",
        definition_en: "Time from the resident's first message to an agent's first reply, for conversations whose first reply fell in the period; in clock time and in business time.",
        code: "first_response_time(…, Clock::Wall | Clock::Business(…))",
    },
    FigureDef {
        id: "resolution_time",
        name_nl: "Oplostijd",
        name_en: "Resolution time",
        unit_nl: "seconden (mediaan en 90e percentiel)",
        unit_en: "seconds (median and 90th percentile)",
        definition_nl: "Tijd van het eerste bericht van de inwoner tot het moment dat het gesprek voor het eerst opgelost of gesloten werd, voor gesprekken die in de periode voor het eerst werden opgelost; in kloktijd en in kantoortijd.",
        definition_en: "Time from the resident's first message to the moment the conversation was first resolved or closed, for conversations first resolved in the period; in clock time and in business time.",
        code: "resolution_time(…, Clock::Wall | Clock::Business(…))",
    },
    FigureDef {
        id: "sla_first_response",
        name_nl: "SLA-naleving eerste reactie",
        name_en: "Service level first response",
        unit_nl: "procent",
        unit_en: "percent",
        definition_nl: "Aandeel gesprekken met een eerste antwoord op of vóór de termijn, onder de gesprekken waarover dat in de periode beslist werd.",
        definition_en: "Share of conversations with a first reply on or before the deadline, among the conversations for which that was decided in the period.",
        code: "sla_attainment(…, SlaKind::FirstResponse)",
    },
    FigureDef {
        id: "sla_resolution",
        name_nl: "SLA-naleving oplossing",
        name_en: "Service level resolution",
        unit_nl: "procent",
        unit_en: "percent",
        definition_nl: "Aandeel gesprekken dat op of vóór de termijn voor het eerst werd opgelost, onder de gesprekken waarover dat in de periode beslist werd.",
        definition_en: "Share of conversations first resolved on or before the deadline, among the conversations for which that was decided in the period.",
        code: "sla_attainment(…, SlaKind::Resolution)",
    },
    FigureDef {
        id: "backlog",
        name_nl: "Werkvoorraad naar leeftijd",
        name_en: "Backlog by age",
        unit_nl: "gesprekken per leeftijdsklasse",
        unit_en: "conversations per age class",
        definition_nl: "Aantal gesprekken dat nu op een medewerker wacht (status nieuw of open), verdeeld naar de tijd sinds het eerste bericht.",
        definition_en: "Number of conversations now waiting for an agent (state new or open), split by the time since the first message.",
        code: "backlog(…, as_of)",
    },
    FigureDef {
        id: "reopen_rate",
        name_nl: "Heropeningspercentage",
        name_en: "Reopen rate",
        unit_nl: "procent",
        unit_en: "percent",
        definition_nl: "Aandeel van de gesprekken die in de periode voor het eerst werden opgelost, dat daarna minstens één keer werd heropend.",
        definition_en: "Share of the conversations first resolved in the period that were reopened at least once afterwards.",
        code: "reopen_rate",
    },
    FigureDef {
        id: "pool_share",
        name_nl: "Aandeel regionale pool",
        name_en: "Regional pool share",
        unit_nl: "procent",
        unit_en: "percent",
        definition_nl: "Aandeel van de gesprekken van gemeenten, begonnen in de periode, dat een regionale pool namens de gemeente behandelde.",
        definition_en: "Share of the municipalities' conversations, started in the period, that a regional pool handled on the municipality's behalf.",
        code: "pool_share",
    },
    FigureDef {
        id: "sentiment_mix",
        name_nl: "Sentimentverdeling",
        name_en: "Sentiment mix",
        unit_nl: "procent per klasse",
        unit_en: "percent per class",
        definition_nl: "Verdeling van de gesprekken die in de periode begonnen over negatief, neutraal en positief, volgens de tekstanalyse van het eerste bericht.",
        definition_en: "Split of the conversations that started in the period into negative, neutral and positive, according to the text analysis of the first message.",
        code: "sentiment_mix",
    },
    FigureDef {
        id: "sentiment_trend",
        name_nl: "Sentimenttrend",
        name_en: "Sentiment trend",
        unit_nl: "netto sentiment van −1 tot +1, per dag of week",
        unit_en: "net sentiment from −1 to +1, per day or week",
        definition_nl: "Per dag of week: (aantal positief − aantal negatief) gedeeld door het aantal gesprekken met een sentiment, over de gesprekken die toen begonnen.",
        definition_en: "Per day or week: (number positive − number negative) divided by the number of conversations with a sentiment, over the conversations that started then.",
        code: "sentiment_trend(…, Granularity::Day | Granularity::Week)",
    },
    FigureDef {
        id: "csat",
        name_nl: "Tevredenheid (CSAT)",
        name_en: "Satisfaction (CSAT)",
        unit_nl: "procent, gemiddelde score 1–5 en aantal antwoorden",
        unit_en: "percent, average score 1–5 and number of answers",
        definition_nl: "Aandeel scores 4 en 5 onder alle geldige scores 1 tot en met 5, met de gemiddelde score en het aantal antwoorden, voor gesprekken die in de periode voor het eerst werden opgelost.",
        definition_en: "Share of scores 4 and 5 among all valid scores 1 to 5, with the average score and the number of answers, for conversations first resolved in the period.",
        code: "csat",
    },
    FigureDef {
        id: "handle_time",
        name_nl: "Behandeltijd per gesprek",
        name_en: "Handle time per conversation",
        unit_nl: "seconden (gemiddelde, mediaan en 90e percentiel)",
        unit_en: "seconds (average, median and 90th percentile)",
        definition_nl: "Tijd die medewerkers actief aan een gesprek werkten, voor gesprekken die in de periode voor het eerst werden opgelost.",
        definition_en: "Time agents actively worked on a conversation, for conversations first resolved in the period.",
        code: "handle_time",
    },
    FigureDef {
        id: "cost_per_contact",
        name_nl: "Kosten per contact",
        name_en: "Cost per contact",
        unit_nl: "euro",
        unit_en: "euro",
        definition_nl: "Behandeltijd van de contacten in de periode maal het uurtarief, plus het naar tijd verdeelde deel van de vaste maandkosten voor tools, gedeeld door het aantal contacten.",
        definition_en: "Handle time of the contacts in the period times the hourly rate, plus the time-apportioned part of the fixed monthly tool cost, divided by the number of contacts.",
        code: "contact_cost(…, &CostSettings).per_contact()",
    },
    FigureDef {
        id: "contacts_per_1000",
        name_nl: "Contacten per 1.000 inwoners",
        name_en: "Contacts per 1,000 inhabitants",
        unit_nl: "contacten per 1.000 inwoners",
        unit_en: "contacts per 1,000 inhabitants",
        definition_nl: "Aantal contacten in de periode gedeeld door het aantal inwoners, maal 1.000.",
        definition_en: "Number of contacts in the period divided by the number of inhabitants, times 1,000.",
        code: "contacts_per_1000(…, inhabitants)",
    },
];

/// The definition of a figure by id.
pub fn figure(id: &str) -> Option<&'static FigureDef> {
    FIGURES.iter().find(|f| f.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn ams(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Amsterdam
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const DOCS: &str = include_str!("../../../../docs/metrics.md");

    /// The section of the definitions page under `## {name}`, up to the next heading.
    fn section<'a>(docs: &'a str, name: &str) -> Option<&'a str> {
        let heading = format!("\n## {name}\n");
        let start = docs.find(&heading)? + heading.len();
        let rest = &docs[start..];
        let end = rest.find("\n## ").unwrap_or(rest.len());
        Some(&rest[..end])
    }

    #[test]
    fn every_figure_is_documented_word_for_word() {
        for f in FIGURES {
            let s = section(DOCS, f.name_nl)
                .unwrap_or_else(|| panic!("docs/metrics.md has no section '## {}'", f.name_nl));
            for line in [
                format!("- **Id:** `{}`", f.id),
                format!("- **Definitie:** {}", f.definition_nl),
                format!("- **Eenheid:** {}", f.unit_nl),
                format!("- **In de code:** `{}`", f.code),
            ] {
                assert!(
                    s.lines().any(|l| l == line),
                    "section '{}' lacks the line\n{line}",
                    f.name_nl
                );
            }
            for part in ["- **Formule:** ", "- **Wat telt niet mee:** "] {
                assert!(
                    s.lines().any(|l| l.starts_with(part)),
                    "section '{}' lacks {part}",
                    f.name_nl
                );
            }
        }
    }

    #[test]
    fn docs_list_no_figure_the_code_lacks() {
        let ids: Vec<&str> = DOCS
            .lines()
            .filter_map(|l| l.strip_prefix("- **Id:** `")?.strip_suffix('`'))
            .collect();
        assert_eq!(ids.len(), FIGURES.len(), "{ids:?}");
        for id in ids {
            assert!(
                figure(id).is_some(),
                "docs/metrics.md lists unknown id {id}"
            );
        }
    }

    #[test]
    fn every_figure_has_english_words() {
        for f in FIGURES {
            assert!(!f.name_en.is_empty() && !f.unit_en.is_empty(), "{}", f.id);
            assert!(f.definition_en.ends_with('.'), "{}", f.id);
            assert_ne!(f.definition_en, f.definition_nl, "{}", f.id);
        }
    }

    #[test]
    fn figure_ids_are_unique_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for f in FIGURES {
            assert!(seen.insert(f.id), "duplicate id {}", f.id);
            assert!(
                f.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                f.id
            );
        }
    }

    #[test]
    fn period_rules() {
        let a = utc(2025, 7, 1, 0, 0);
        let b = utc(2025, 7, 2, 0, 0);
        assert_eq!(Period::new(b, a), Err(PeriodError::EndBeforeStart));
        let p = Period::new(a, b).unwrap();
        assert!(p.contains(a));
        assert!(!p.contains(b));
        assert!(Period::new(a, a).unwrap().is_empty());
        // July 2025 in Amsterdam: 30 June 22:00 UTC to 31 July 22:00 UTC.
        let july = Period::month(2025, 7).unwrap();
        assert_eq!(july.start(), utc(2025, 6, 30, 22, 0));
        assert_eq!(july.end(), utc(2025, 7, 31, 22, 0));
        // March 2025 loses an hour to DST.
        let march = Period::month(2025, 3).unwrap();
        assert_eq!(march.duration(), Duration::hours(31 * 24 - 1));
        assert_eq!(Period::month(2025, 13), Err(PeriodError::Date));
        let days = Period::local_days(date(2025, 10, 26), date(2025, 10, 26)).unwrap();
        assert_eq!(days.duration(), Duration::hours(25));
        assert_eq!(
            p.intersect(&july).unwrap(),
            Period::new(a, b).unwrap(),
            "inside July"
        );
        assert_eq!(p.intersect(&march), None);
    }

    #[test]
    fn split_into_days_and_weeks() {
        // Wednesday 29 Oct 12:00 to Tuesday 4 Nov 2025 06:00, local.
        let p = Period::new(ams(2025, 10, 29, 12, 0), ams(2025, 11, 4, 6, 0)).unwrap();
        let days = p.split(Granularity::Day);
        assert_eq!(days.len(), 7);
        assert_eq!(days[0].0, date(2025, 10, 29));
        assert_eq!(days[0].1.start(), p.start());
        assert_eq!(days[0].1.end(), ams(2025, 10, 30, 0, 0));
        assert_eq!(days[6].0, date(2025, 11, 4));
        assert_eq!(days[6].1.end(), p.end());
        let weeks = p.split(Granularity::Week);
        assert_eq!(weeks.len(), 2);
        assert_eq!(weeks[0].0, date(2025, 10, 27), "Monday of the first week");
        assert_eq!(weeks[0].1.start(), p.start());
        assert_eq!(weeks[1].1.start(), ams(2025, 11, 3, 0, 0));
        let empty = Period::new(p.start(), p.start()).unwrap();
        assert!(empty.split(Granularity::Day).is_empty());
    }

    #[test]
    fn hour_of_week_in_amsterdam() {
        // Monday 7 July 2025 09:30 CEST = 07:30 UTC.
        assert_eq!(hour_of_week(utc(2025, 7, 7, 7, 30)), 9);
        // Sunday 23:59 local.
        assert_eq!(hour_of_week(ams(2025, 7, 6, 23, 59)), 167);
        // Monday 00:00 local is Sunday 22:00 UTC in summer.
        assert_eq!(hour_of_week(utc(2025, 7, 6, 22, 0)), 0);
        // Winter: Monday 6 Jan 2025 09:30 CET = 08:30 UTC.
        assert_eq!(hour_of_week(utc(2025, 1, 6, 8, 30)), 9);
        assert_eq!(hour_of_week_label(9), "ma 09:00");
        assert_eq!(hour_of_week_label(167), "zo 23:00");
    }

    #[test]
    fn hour_of_week_on_dst_days() {
        // Spring, Sunday 30 March 2025: 00:30 UTC = 01:30 CET, 01:30 UTC = 03:30 CEST.
        assert_eq!(hour_of_week(utc(2025, 3, 30, 0, 30)), 6 * 24 + 1);
        assert_eq!(hour_of_week(utc(2025, 3, 30, 1, 30)), 6 * 24 + 3);
        // Autumn, Sunday 26 October 2025: 00:30 UTC = 02:30 CEST, 01:30 UTC = 02:30 CET.
        assert_eq!(hour_of_week(utc(2025, 10, 26, 0, 30)), 6 * 24 + 2);
        assert_eq!(hour_of_week(utc(2025, 10, 26, 1, 30)), 6 * 24 + 2);
        assert_eq!(local_day(utc(2025, 10, 26, 22, 59)), date(2025, 10, 26));
        assert_eq!(local_day(utc(2025, 10, 26, 23, 0)), date(2025, 10, 27));

        let spring = Period::local_days(date(2025, 3, 24), date(2025, 3, 30)).unwrap();
        let occ = hour_of_week_occurrences(&spring);
        assert_eq!(occ[6 * 24 + 2], 0, "02:00 does not exist");
        assert_eq!(occ[6 * 24 + 3], 1);
        assert_eq!(occ.iter().sum::<u32>(), 167);
        let autumn = Period::local_days(date(2025, 10, 20), date(2025, 10, 26)).unwrap();
        let occ = hour_of_week_occurrences(&autumn);
        assert_eq!(occ[6 * 24 + 2], 2, "02:00 happens twice");
        assert_eq!(occ.iter().sum::<u32>(), 169);
        let plain = Period::local_days(date(2025, 7, 7), date(2025, 7, 13)).unwrap();
        assert!(hour_of_week_occurrences(&plain).iter().all(|&n| n == 1));
        // A period that does not start on a whole hour counts the hours starting inside it.
        let odd = Period::new(utc(2025, 7, 7, 7, 30), utc(2025, 7, 7, 10, 0)).unwrap();
        assert_eq!(hour_of_week_occurrences(&odd).iter().sum::<u32>(), 2);
    }

    #[test]
    fn sentiment_labels_match_the_text_engine() {
        for s in Sentiment::ALL {
            assert_eq!(Sentiment::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
    }

    #[test]
    fn business_clock_uses_the_tenant_hours() {
        let gm = TenantCode::parse("GM0344").unwrap();
        let other = TenantCode::parse("GM0363").unwrap();
        let mut s = Schedules::uniform(WeekSchedule::default_office());
        s.by_tenant.insert(gm.clone(), WeekSchedule::always());
        let (a, b) = (ams(2025, 7, 5, 10, 0), ams(2025, 7, 5, 11, 0)); // Saturday
        assert_eq!(Clock::Business(&s).seconds(&gm, a, b), 3600);
        assert_eq!(Clock::Business(&s).seconds(&other, a, b), 0);
        assert_eq!(Clock::Wall.seconds(&other, a, b), 3600);
        assert_eq!(
            Clock::Wall.seconds(&other, b, a),
            0,
            "negative spans count 0"
        );
    }
}
