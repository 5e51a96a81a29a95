//! Maturity self-assessment per theme of the shared blueprint: a short questionnaire that
//! places a municipality on a level from 1 (ad hoc) to 5 (geoptimaliseerd) for each theme.
//!
//! # Scoring
//! Per theme, in two steps that a supervisor can redo on paper:
//! 1. the mean of the theme's answers, rounded down (3.9 is level 3: a level is reached,
//!    not approached);
//! 2. capped at the weakest *critical* answer of the theme plus one: a theme is no stronger
//!    than one step above its weakest essential point. A municipality without any crisis
//!    script (critical, answer 1) is at most level 2 in online woordvoering, however good
//!    the rest is.
//!
//! Questions with a `measured_hint` can be pre-filled from a figure Loket measures (the id
//! of the figure in `docs/metrics.md`); the municipality still confirms the answer.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The three themes of the blueprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    Monitoring,
    Webcare,
    Woordvoering,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Self::Monitoring, Self::Webcare, Self::Woordvoering];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Monitoring => "monitoring",
            Self::Webcare => "webcare",
            Self::Woordvoering => "woordvoering",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label_nl(self) -> &'static str {
        match self {
            Self::Monitoring => "Monitoring & analyse",
            Self::Webcare => "Webcare & online dienstverlening",
            Self::Woordvoering => "Online woordvoering & reputatie",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Monitoring => "Monitoring & analysis",
            Self::Webcare => "Webcare & online service",
            Self::Woordvoering => "Online press relations & reputation",
        }
    }
}

/// The lowest and highest level.
pub const MIN_LEVEL: u8 = 1;
pub const MAX_LEVEL: u8 = 5;

/// The general name of each level, 1 first.
pub const LEVEL_NAMES_NL: [&str; 5] = [
    "ad hoc",
    "herhaalbaar",
    "vastgelegd",
    "gestuurd",
    "geoptimaliseerd",
];

/// [`LEVEL_NAMES_NL`] in English.
pub const LEVEL_NAMES_EN: [&str; 5] = ["ad hoc", "repeatable", "defined", "managed", "optimised"];

/// One question with five concrete answers, level 1 first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Question {
    /// Stable id, also the form field name: `MA1`, `WD3`, `WR2`.
    pub id: &'static str,
    pub theme: Theme,
    pub text: &'static str,
    /// `text` in English.
    pub text_en: &'static str,
    pub levels: [&'static str; 5],
    /// `levels` in English.
    pub levels_en: [&'static str; 5],
    /// Essential for the theme: caps the theme's level at this answer plus one.
    pub critical: bool,
    /// The id of a Loket figure that can suggest the answer.
    pub measured_hint: Option<&'static str>,
}

/// Figure ids used as hints; the same ids as the definitions page.
pub mod figures {
    pub const MENTIONS: &str = "mentions_unaddressed";
    pub const VOLUME_BY_TOPIC: &str = "volume_in";
    pub const VOLUME_BY_CHANNEL: &str = "volume_in";
    pub const VOLUME_BY_HOUR_OF_WEEK: &str = "volume_in";
    pub const SENTIMENT_MIX: &str = "sentiment_mix";
    pub const CSAT: &str = "csat";
    pub const SLA_ATTAINMENT: &str = "sla_first_response";
    pub const FIRST_RESPONSE_TIME: &str = "first_response_time";
    pub const OFF_HOURS_COVERAGE: &str = "off_hours_coverage";
    pub const TEMPLATE_USE: &str = "template_use";
    pub const RESOLUTION_TIME: &str = "resolution_time";
    pub const REOPEN_RATE: &str = "reopen_rate";
    pub const COST_PER_CONTACT: &str = "cost_per_contact";
    pub const APPROVAL_TIME: &str = "approval_time";
    pub const CRISIS_DRILLS: &str = "crisis_drills";
    pub const BENCHMARK: &str = "benchmark";
}

use Theme::{Monitoring, Webcare, Woordvoering};

/// The questionnaire: 7 questions on monitoring, 8 on webcare, 7 on woordvoering.
pub static QUESTIONS: &[Question] = &[
    // ── Monitoring & analyse ────────────────────────────────────────────────────────
    Question {
        id: "MA1",
        theme: Monitoring,
        text: "Hoe volgt u wat er online over uw gemeente wordt gezegd, ook als het niet aan u gericht is?",
        text_en: "How do you follow what is said online about your municipality, including when it is not addressed to you?",
        levels: [
            "Niet structureel: we zien berichten als iemand ze toevallig opmerkt.",
            "Een medewerker kijkt een paar keer per week met de hand op de belangrijkste kanalen.",
            "Vermeldingen komen in één werkomgeving binnen en worden elke werkdag bekeken.",
            "Vermeldingen worden ook 's avonds en in het weekend gevolgd, met een melding bij een piek.",
            "De zoektermen en kanalen worden elk kwartaal geëvalueerd en bijgesteld op wat gemist werd.",
        ],
        levels_en: [
            "Not structurally: we see posts when someone happens to notice them.",
            "An agent checks the main channels by hand a few times a week.",
            "Mentions arrive in one workspace and are reviewed every working day.",
            "Mentions are also followed in the evening and at weekends, with an alert on a peak.",
            "Search terms and channels are evaluated every quarter and adjusted for what was missed.",
        ],
        critical: true,
        measured_hint: Some(figures::MENTIONS),
    },
    Question {
        id: "MA2",
        theme: Monitoring,
        text: "Weet u hoeveel berichten u per kanaal, onderwerp en uur van de week ontvangt?",
        text_en: "Do you know how many messages you receive per channel, topic and hour of the week?",
        levels: [
            "Nee, daar zijn geen cijfers van.",
            "We tellen af en toe met de hand, bijvoorbeeld voor het jaarverslag.",
            "De aantallen per kanaal en onderwerp komen elke maand uit het systeem.",
            "De aantallen worden elke week besproken en gebruikt voor het rooster.",
            "Drukte wordt vooraf voorspeld en gedeeld met de vakafdelingen die erover gaan.",
        ],
        levels_en: [
            "No, there are no figures for that.",
            "We count by hand now and then, for example for the annual report.",
            "The numbers per channel and topic come out of the system every month.",
            "The numbers are discussed every week and used for the roster.",
            "Busy periods are forecast in advance and shared with the departments concerned.",
        ],
        critical: false,
        measured_hint: Some(figures::VOLUME_BY_TOPIC),
    },
    Question {
        id: "MA3",
        theme: Monitoring,
        text: "Hoe gebruikt u het sentiment van berichten over de gemeente?",
        text_en: "How do you use the sentiment of messages about the municipality?",
        levels: [
            "Niet.",
            "Als indruk bij opvallende berichten, zonder meting.",
            "De verdeling positief/neutraal/negatief wordt elke week gemeten en gerapporteerd.",
            "Een stijging van negatief sentiment geeft een melding en leidt tot een afgesproken actie.",
            "Sentiment per onderwerp wordt gekoppeld aan beleid en communicatie, en het effect wordt nagemeten.",
        ],
        levels_en: [
            "Not at all.",
            "As an impression for striking messages, without measuring.",
            "The positive/neutral/negative split is measured and reported every week.",
            "A rise in negative sentiment triggers an alert and leads to an agreed action.",
            "Sentiment per topic is linked to policy and communication, and the effect is measured afterwards.",
        ],
        critical: true,
        measured_hint: Some(figures::SENTIMENT_MIX),
    },
    Question {
        id: "MA4",
        theme: Monitoring,
        text: "Hoe snel merkt u een plotselinge toename van berichten over één onderwerp op?",
        text_en: "How quickly do you notice a sudden increase in messages about one topic?",
        levels: [
            "Pas als het al druk is of als de pers belt.",
            "Binnen een dag, als iemand van het team het toevallig ziet.",
            "Binnen kantoortijd binnen een uur, doordat het team de trends per onderwerp volgt.",
            "Automatische meldingen bij pieken, ook buiten kantoortijd, met een vaste eerste opvolger.",
            "Drempels voor meldingen worden na elke piek geëvalueerd en bijgesteld.",
        ],
        levels_en: [
            "Only when it is already busy or when the press calls.",
            "Within a day, if someone in the team happens to see it.",
            "Within an hour during office hours, because the team follows the trends per topic.",
            "Automatic alerts on peaks, also outside office hours, with a fixed first responder.",
            "Alert thresholds are evaluated and adjusted after every peak.",
        ],
        critical: false,
        measured_hint: None,
    },
    Question {
        id: "MA5",
        theme: Monitoring,
        text: "Wat gebeurt er met de inzichten uit monitoring en webcare?",
        text_en: "What happens with the insights from monitoring and webcare?",
        levels: [
            "Ze blijven bij het webcareteam.",
            "Ze worden af en toe doorgestuurd per e-mail.",
            "Er is een vaste maandrapportage voor communicatie en management.",
            "Vakafdelingen krijgen vaste terugkoppeling, met afspraken over wat ze ermee doen.",
            "Inzichten leiden aantoonbaar tot verbeteringen in dienstverlening en beleid; de opvolging wordt bijgehouden.",
        ],
        levels_en: [
            "They stay with the webcare team.",
            "They are forwarded by e-mail now and then.",
            "There is a fixed monthly report for communication and management.",
            "Departments get regular feedback, with agreements on what they do with it.",
            "Insights demonstrably lead to improvements in service and policy; the follow-up is tracked.",
        ],
        critical: false,
        measured_hint: None,
    },
    Question {
        id: "MA6",
        theme: Monitoring,
        text: "Meet u hoe tevreden inwoners zijn over het contact?",
        text_en: "Do you measure how satisfied residents are with the contact?",
        levels: [
            "Nee.",
            "Soms, met een losse enquête.",
            "Na elk afgehandeld gesprek krijgt de inwoner een korte tevredenheidsvraag.",
            "De tevredenheid per onderwerp en team wordt maandelijks besproken en verklaard.",
            "Verbeteracties worden gekozen op basis van de tevredenheid en het effect wordt gemeten.",
        ],
        levels_en: [
            "No.",
            "Sometimes, with a one-off survey.",
            "After every handled conversation the resident gets a short satisfaction question.",
            "Satisfaction per topic and team is discussed and explained every month.",
            "Improvements are chosen on the basis of satisfaction and their effect is measured.",
        ],
        critical: false,
        measured_hint: Some(figures::CSAT),
    },
    Question {
        id: "MA7",
        theme: Monitoring,
        text: "Vergelijkt u uw cijfers met die van andere gemeenten?",
        text_en: "Do you compare your figures with those of other municipalities?",
        levels: [
            "Nee.",
            "Informeel, in gesprekken met collega's.",
            "Jaarlijks, met de anonieme benchmark van vergelijkbare gemeenten.",
            "Elk kwartaal, met verbeterdoelen voor de cijfers waarop we achterblijven.",
            "We leren actief van gemeenten die beter scoren en delen onze eigen aanpak.",
        ],
        levels_en: [
            "No.",
            "Informally, in conversations with colleagues.",
            "Every year, with the anonymous benchmark of comparable municipalities.",
            "Every quarter, with improvement targets for the figures where we lag behind.",
            "We actively learn from municipalities that score better and share our own approach.",
        ],
        critical: false,
        measured_hint: Some(figures::BENCHMARK),
    },
    // ── Webcare & online dienstverlening ────────────────────────────────────────────
    Question {
        id: "WD1",
        theme: Webcare,
        text: "Hoe vaak haalt u de afgesproken reactietermijnen (SLA)?",
        text_en: "How often do you meet the agreed response times (SLA)?",
        levels: [
            "Er zijn geen afgesproken reactietermijnen.",
            "Er zijn termijnen, maar we meten niet of we ze halen.",
            "We meten het; minder dan 80 % van de berichten krijgt binnen de termijn een reactie.",
            "80 tot 95 % binnen de termijn, en dat wordt elke maand gerapporteerd.",
            "Meer dan 95 % binnen de termijn; elke overschrijding wordt geanalyseerd.",
        ],
        levels_en: [
            "There are no agreed response times.",
            "There are response times, but we do not measure whether we meet them.",
            "We measure it; fewer than 80 % of messages get a response within the agreed time.",
            "80 to 95 % within the agreed time, reported every month.",
            "More than 95 % within the agreed time; every breach is analysed.",
        ],
        critical: true,
        measured_hint: Some(figures::SLA_ATTAINMENT),
    },
    Question {
        id: "WD2",
        theme: Webcare,
        text: "Hoe snel krijgt een inwoner een eerste reactie?",
        text_en: "How quickly does a resident get a first response?",
        levels: [
            "Dat weten we niet; soms pas na dagen.",
            "Meestal binnen twee werkdagen, maar het wordt niet gemeten.",
            "De helft van de berichten (mediaan) krijgt binnen één werkdag een reactie, gemeten.",
            "Mediaan binnen een uur in kantoortijd en 90 % binnen één werkdag.",
            "Chat binnen een minuut en sociale media binnen een uur, ook 's avonds en in het weekend.",
        ],
        levels_en: [
            "We do not know; sometimes only after days.",
            "Usually within two working days, but it is not measured.",
            "Half of the messages (median) get a response within one working day, measured.",
            "Median within an hour during office hours and 90 % within one working day.",
            "Chat within a minute and social media within an hour, also in the evening and at weekends.",
        ],
        critical: false,
        measured_hint: Some(figures::FIRST_RESPONSE_TIME),
    },
    Question {
        id: "WD3",
        theme: Webcare,
        text: "Bent u 's avonds en in het weekend bereikbaar?",
        text_en: "Can residents reach you in the evening and at weekends?",
        levels: [
            "Nee, berichten blijven liggen tot de volgende werkdag.",
            "Soms kijkt iemand vrijwillig mee.",
            "Er is een vaste dienst op een deel van de avonden of op zaterdag.",
            "Avonden en weekend zijn gedekt, zelf of via de regionale pool, met dezelfde termijnen.",
            "De bezetting buiten kantoortijd volgt het gemeten aanbod en wordt elk kwartaal bijgesteld.",
        ],
        levels_en: [
            "No, messages wait until the next working day.",
            "Sometimes someone keeps an eye on things voluntarily.",
            "There is a fixed shift on some evenings or on Saturday.",
            "Evenings and weekends are covered, in-house or via the regional pool, with the same response times.",
            "Staffing outside office hours follows the measured demand and is adjusted every quarter.",
        ],
        critical: true,
        measured_hint: Some(figures::OFF_HOURS_COVERAGE),
    },
    Question {
        id: "WD4",
        theme: Webcare,
        text: "Hoe gebruikt u standaardantwoorden (sjablonen)?",
        text_en: "How do you use answer templates?",
        levels: [
            "Niet: iedereen schrijft elk antwoord zelf.",
            "Ieder heeft een eigen lijstje in een document.",
            "Er zijn gedeelde sjablonen in Loket voor de meest gestelde vragen.",
            "Sjablonen worden in een groot deel van de antwoorden gebruikt en samen met de vakafdelingen onderhouden.",
            "Gebruik en effect van sjablonen (heropeningen, tevredenheid) worden gemeten en sjablonen worden daarop verbeterd.",
        ],
        levels_en: [
            "Not at all: everyone writes every answer themselves.",
            "Everyone has their own list in a document.",
            "There are shared templates in Loket for the most frequent questions.",
            "Templates are used in a large share of the answers and maintained together with the departments.",
            "Use and effect of templates (reopenings, satisfaction) are measured and templates are improved accordingly.",
        ],
        critical: false,
        measured_hint: Some(figures::TEMPLATE_USE),
    },
    Question {
        id: "WD5",
        theme: Webcare,
        text: "Hoe worden vragen die webcare niet zelf kan beantwoorden verder geholpen?",
        text_en: "How are questions that webcare cannot answer itself taken further?",
        levels: [
            "De inwoner wordt verwezen naar het algemene telefoonnummer.",
            "Webcare mailt de vakafdeling en wacht op antwoord.",
            "Er is per onderwerp een vaste route (zoals een melding openbare ruimte) met terugkoppeling aan de inwoner.",
            "Met de vakafdelingen zijn doorlooptijden afgesproken en de afhandeltijd wordt gemeten.",
            "Het percentage heropende gesprekken wordt gevolgd en aantoonbaar omlaag gebracht.",
        ],
        levels_en: [
            "The resident is referred to the general phone number.",
            "Webcare e-mails the department and waits for an answer.",
            "There is a fixed route per topic (such as a public space report) with feedback to the resident.",
            "Lead times are agreed with the departments and the resolution time is measured.",
            "The share of reopened conversations is tracked and demonstrably brought down.",
        ],
        critical: false,
        measured_hint: Some(figures::RESOLUTION_TIME),
    },
    Question {
        id: "WD6",
        theme: Webcare,
        text: "Hoe is de bezetting van webcare gepland?",
        text_en: "How is webcare staffing planned?",
        levels: [
            "Wie er is, doet het erbij.",
            "Een vast rooster, los van hoe druk het is.",
            "Een rooster op basis van ervaring met de drukke dagdelen.",
            "Een rooster op basis van het gemeten aanbod per uur van de week en een bezettingsadvies.",
            "Het rooster wordt elke week bijgestuurd op de prognose, met een pool voor pieken en krapte.",
        ],
        levels_en: [
            "Whoever is around does it on the side.",
            "A fixed roster, regardless of how busy it is.",
            "A roster based on experience with the busy parts of the day.",
            "A roster based on the measured demand per hour of the week and a staffing advice.",
            "The roster is adjusted every week to the forecast, with a pool for peaks and shortages.",
        ],
        critical: false,
        measured_hint: Some(figures::VOLUME_BY_HOUR_OF_WEEK),
    },
    Question {
        id: "WD7",
        theme: Webcare,
        text: "Op welke kanalen helpt u inwoners, en antwoordt u op het kanaal dat zij kozen?",
        text_en: "On which channels do you help residents, and do you answer on the channel they chose?",
        levels: [
            "Berichten op sociale media worden doorverwezen naar telefoon of e-mail.",
            "Op één socialmediakanaal, onregelmatig.",
            "Op de belangrijkste kanalen (chat, sociale media, e-mail), met antwoord op hetzelfde kanaal.",
            "Alle kanalen in één werkbak, met dezelfde termijnen en kwaliteit.",
            "Kanalen worden gekozen en afgebouwd op basis van gemeten gebruik en tevredenheid.",
        ],
        levels_en: [
            "Messages on social media are referred to phone or e-mail.",
            "On one social media channel, irregularly.",
            "On the main channels (chat, social media, e-mail), answering on the same channel.",
            "All channels in one workspace, with the same response times and quality.",
            "Channels are chosen and phased out on the basis of measured use and satisfaction.",
        ],
        critical: false,
        measured_hint: Some(figures::VOLUME_BY_CHANNEL),
    },
    Question {
        id: "WD8",
        theme: Webcare,
        text: "Kent u de kosten van een online contact?",
        text_en: "Do you know the cost of an online contact?",
        levels: [
            "Nee.",
            "Een ruwe schatting, eenmalig gemaakt.",
            "De kosten per contact worden jaarlijks berekend uit behandeltijd en uurtarief.",
            "De kosten per contact worden per kwartaal gevolgd en vergeleken met andere kanalen.",
            "Keuzes over kanalen, pools en sjablonen worden onderbouwd met de kosten per contact.",
        ],
        levels_en: [
            "No.",
            "A rough estimate, made once.",
            "The cost per contact is calculated every year from handle time and hourly rate.",
            "The cost per contact is tracked every quarter and compared with other channels.",
            "Choices about channels, pools and templates are backed by the cost per contact.",
        ],
        critical: false,
        measured_hint: Some(figures::COST_PER_CONTACT),
    },
    // ── Online woordvoering & reputatie ─────────────────────────────────────────────
    Question {
        id: "WR1",
        theme: Woordvoering,
        text: "Hoe worden antwoorden op gevoelige onderwerpen afgestemd met woordvoering?",
        text_en: "How are answers on sensitive topics coordinated with the press office?",
        levels: [
            "Niet: webcare beslist zelf of laat het bericht liggen.",
            "Per geval, door een woordvoerder te bellen of te appen.",
            "Er is een lijst van gevoelige onderwerpen; die antwoorden gaan langs een woordvoerder voor akkoord.",
            "Akkoord via een vaste route in Loket met een afgesproken termijn, ook buiten kantoortijd.",
            "De doorlooptijd van akkoorden wordt gemeten; webcare heeft mandaat binnen afgesproken kaders.",
        ],
        levels_en: [
            "Not at all: webcare decides itself or leaves the message.",
            "Case by case, by calling or messaging a spokesperson.",
            "There is a list of sensitive topics; those answers go to a spokesperson for approval.",
            "Approval via a fixed route in Loket with an agreed time limit, also outside office hours.",
            "The lead time of approvals is measured; webcare has a mandate within agreed limits.",
        ],
        critical: true,
        measured_hint: Some(figures::APPROVAL_TIME),
    },
    Question {
        id: "WR2",
        theme: Woordvoering,
        text: "Is er een draaiboek voor online communicatie bij een crisis?",
        text_en: "Is there a playbook for online communication in a crisis?",
        levels: [
            "Nee.",
            "Er is een algemeen crisisplan zonder online paragraaf.",
            "Er is een online draaiboek met rollen, bereikbaarheid en vooraf goedgekeurde eerste berichten.",
            "Het draaiboek wordt minstens één keer per jaar geoefend, bijvoorbeeld met de crisismodus van Loket.",
            "Na elke oefening of crisis volgt een evaluatie, het draaiboek wordt bijgewerkt en er zijn afspraken over een regionale crisispool.",
        ],
        levels_en: [
            "No.",
            "There is a general crisis plan without an online section.",
            "There is an online playbook with roles, availability and pre-approved first messages.",
            "The playbook is rehearsed at least once a year, for example with Loket's crisis mode.",
            "Every drill or crisis is followed by an evaluation, the playbook is updated and there are agreements on a regional crisis pool.",
        ],
        critical: true,
        measured_hint: Some(figures::CRISIS_DRILLS),
    },
    Question {
        id: "WR3",
        theme: Woordvoering,
        text: "Hoe volgt u de online reputatie van de gemeente?",
        text_en: "How do you follow the municipality's online reputation?",
        levels: [
            "Niet.",
            "Als indruk bij opvallende gebeurtenissen.",
            "Een periodiek overzicht van volume, sentiment en het aandeel negatieve berichten.",
            "Reputatie per onderwerp wordt gevolgd, met drempels die een actie in gang zetten.",
            "Reputatiedoelen maken deel uit van het communicatiebeleid en worden bestuurlijk besproken.",
        ],
        levels_en: [
            "Not at all.",
            "As an impression around striking events.",
            "A periodic overview of volume, sentiment and the share of negative messages.",
            "Reputation per topic is followed, with thresholds that trigger an action.",
            "Reputation goals are part of the communication policy and are discussed by the executive.",
        ],
        critical: false,
        measured_hint: Some(figures::SENTIMENT_MIX),
    },
    Question {
        id: "WR4",
        theme: Woordvoering,
        text: "Hoe reageert u als negatieve berichten over de gemeente zich snel verspreiden?",
        text_en: "How do you respond when negative messages about the municipality spread quickly?",
        levels: [
            "We wachten af tot het overwaait.",
            "Er wordt gereageerd, maar zonder afspraak over wie en wanneer.",
            "Webcare en woordvoering stemmen binnen kantoortijd binnen een uur af over een reactie.",
            "Er is een vaste werkwijze, ook buiten kantoortijd, met een eerste bericht binnen een uur.",
            "Elke gebeurtenis wordt nabesproken en de werkwijze wordt daarop aangepast.",
        ],
        levels_en: [
            "We wait for it to blow over.",
            "Someone responds, but without agreement on who and when.",
            "Webcare and the press office agree on a response within an hour during office hours.",
            "There is a fixed procedure, also outside office hours, with a first message within an hour.",
            "Every event is reviewed afterwards and the procedure is adjusted accordingly.",
        ],
        critical: false,
        measured_hint: None,
    },
    Question {
        id: "WR5",
        theme: Woordvoering,
        text: "Zijn er richtlijnen voor de toon en de grenzen van online reageren (Rules of Engagement)?",
        text_en: "Are there guidelines for the tone and limits of responding online (rules of engagement)?",
        levels: [
            "Nee.",
            "Er zijn ongeschreven afspraken.",
            "De richtlijnen zijn vastgelegd en bij iedereen in het team bekend.",
            "Nieuwe medewerkers worden erin getraind en de richtlijnen worden jaarlijks herzien.",
            "De richtlijnen zijn afgestemd op de landelijke blauwdruk en we dragen verbeteringen bij.",
        ],
        levels_en: [
            "No.",
            "There are unwritten agreements.",
            "The guidelines are written down and known to everyone in the team.",
            "New staff are trained in them and the guidelines are reviewed every year.",
            "The guidelines are aligned with the national blueprint and we contribute improvements.",
        ],
        critical: false,
        measured_hint: None,
    },
    Question {
        id: "WR6",
        theme: Woordvoering,
        text: "Hoe werken webcare en bestuurders samen in het online gesprek?",
        text_en: "How do webcare and elected officials work together in the online conversation?",
        levels: [
            "Er zijn geen afspraken; bestuurders en webcare reageren los van elkaar.",
            "Webcare wordt soms op de hoogte gebracht van wat bestuurders online zeggen.",
            "Er zijn afspraken over wie waarop reageert en hoe vragen aan bestuurders worden doorgezet.",
            "Webcare signaleert actief voor bestuurders en woordvoering, met een vaste lijn.",
            "De samenwerking wordt jaarlijks geëvalueerd en ingezet in de bestuurlijke communicatiestrategie.",
        ],
        levels_en: [
            "There are no agreements; officials and webcare respond independently of each other.",
            "Webcare is sometimes told what officials say online.",
            "There are agreements on who responds to what and how questions for officials are passed on.",
            "Webcare actively flags issues for officials and the press office, through a fixed line.",
            "The cooperation is evaluated every year and used in the executive's communication strategy.",
        ],
        critical: false,
        measured_hint: None,
    },
    Question {
        id: "WR7",
        theme: Woordvoering,
        text: "Hoe wordt de kwaliteit van gepubliceerde antwoorden bewaakt?",
        text_en: "How is the quality of published answers monitored?",
        levels: [
            "Niet.",
            "Af en toe leest iemand mee.",
            "Er wordt regelmatig een steekproef van antwoorden nagelezen op toon en juistheid.",
            "Steekproeven met vaste criteria, besproken in het team en gekoppeld aan tevredenheid.",
            "Uitkomsten van de steekproeven leiden aantoonbaar tot betere sjablonen en richtlijnen.",
        ],
        levels_en: [
            "Not at all.",
            "Now and then someone reads along.",
            "A sample of answers is regularly checked for tone and correctness.",
            "Samples with fixed criteria, discussed in the team and linked to satisfaction.",
            "The outcomes of the samples demonstrably lead to better templates and guidelines.",
        ],
        critical: false,
        measured_hint: None,
    },
];

/// The questions of one theme, in order.
pub fn questions(theme: Theme) -> impl Iterator<Item = &'static Question> {
    QUESTIONS.iter().filter(move |q| q.theme == theme)
}

/// A question by id.
pub fn question(id: &str) -> Option<&'static Question> {
    QUESTIONS.iter().find(|q| q.id == id)
}

/// Why a filled-in questionnaire was refused. Shown on the form, hence Dutch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaturityError {
    #[error("onbekende vraag {0:?}")]
    UnknownQuestion(String),
    #[error("het antwoord op vraag {question} moet 1 tot en met 5 zijn, niet {value}")]
    OutOfRange { question: &'static str, value: i64 },
    #[error("vraag {0} is twee keer beantwoord")]
    Duplicate(&'static str),
    #[error("nog niet beantwoord: {}", .0.join(", "))]
    Missing(Vec<&'static str>),
}

/// A complete, valid set of answers: every question answered once with a level 1–5.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Answers(BTreeMap<&'static str, u8>);

impl Answers {
    /// Checks answers as posted by the form (question id → level). Errors come in this
    /// order: an unknown question, a value outside 1–5, a question answered twice, then all
    /// unanswered questions at once so the form can mark them together.
    pub fn parse<S: AsRef<str>>(
        raw: impl IntoIterator<Item = (S, i64)>,
    ) -> Result<Self, MaturityError> {
        let mut out = BTreeMap::new();
        for (id, value) in raw {
            let id = id.as_ref().trim();
            let q = question(id)
                .or_else(|| question(&id.to_ascii_uppercase()))
                .ok_or_else(|| MaturityError::UnknownQuestion(id.chars().take(40).collect()))?;
            let level = u8::try_from(value)
                .ok()
                .filter(|l| (MIN_LEVEL..=MAX_LEVEL).contains(l))
                .ok_or(MaturityError::OutOfRange {
                    question: q.id,
                    value,
                })?;
            if out.insert(q.id, level).is_some() {
                return Err(MaturityError::Duplicate(q.id));
            }
        }
        let missing: Vec<&'static str> = QUESTIONS
            .iter()
            .map(|q| q.id)
            .filter(|id| !out.contains_key(id))
            .collect();
        if !missing.is_empty() {
            return Err(MaturityError::Missing(missing));
        }
        Ok(Self(out))
    }

    /// The answer to a question (every question has one).
    pub fn get(&self, id: &str) -> Option<u8> {
        self.0.get(id).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u8)> + '_ {
        self.0.iter().map(|(k, v)| (*k, *v))
    }
}

/// One filled-in questionnaire, stored per date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assessment {
    pub date: NaiveDate,
    pub answers: Answers,
}

/// The score of one theme.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ThemeScore {
    pub theme: Theme,
    /// The maturity level, 1–5.
    pub level: u8,
    /// The plain mean of the answers, for display ("3,4").
    pub mean: f64,
    /// The critical question that held the level down, if any.
    pub capped_by: Option<&'static str>,
}

impl ThemeScore {
    /// "ad hoc" … "geoptimaliseerd".
    pub fn level_name_nl(&self) -> &'static str {
        LEVEL_NAMES_NL[usize::from(self.level - MIN_LEVEL)]
    }

    /// "ad hoc" … "optimised".
    pub fn level_name_en(&self) -> &'static str {
        LEVEL_NAMES_EN[usize::from(self.level - MIN_LEVEL)]
    }
}

/// Scores of all three themes, in [`Theme::ALL`] order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThemeScores(pub Vec<ThemeScore>);

impl ThemeScores {
    pub fn get(&self, theme: Theme) -> &ThemeScore {
        // Always built from Theme::ALL, so every theme is present.
        self.0
            .iter()
            .find(|s| s.theme == theme)
            .expect("every theme is scored")
    }
}

/// The level of one theme from its answers (see the module documentation).
fn score_theme(theme: Theme, answers: &Answers) -> ThemeScore {
    let mut sum = 0u32;
    let mut count = 0u32;
    let mut weakest: Option<(&'static str, u8)> = None;
    for q in questions(theme) {
        let a = answers.get(q.id).unwrap_or(MIN_LEVEL);
        sum += u32::from(a);
        count += 1;
        if q.critical && weakest.is_none_or(|(_, w)| a < w) {
            weakest = Some((q.id, a));
        }
    }
    let mean = f64::from(sum) / f64::from(count.max(1));
    // Integer division is the rounded-down mean, without floating-point surprises.
    let base = u8::try_from(sum / count.max(1)).unwrap_or(MAX_LEVEL);
    let (level, capped_by) = match weakest {
        Some((id, w)) if w + 1 < base => (w + 1, Some(id)),
        _ => (base, None),
    };
    ThemeScore {
        theme,
        level: level.clamp(MIN_LEVEL, MAX_LEVEL),
        mean,
        capped_by,
    }
}

impl Assessment {
    pub fn new(date: NaiveDate, answers: Answers) -> Self {
        Self { date, answers }
    }

    pub fn scores(&self) -> ThemeScores {
        ThemeScores(
            Theme::ALL
                .into_iter()
                .map(|t| score_theme(t, &self.answers))
                .collect(),
        )
    }
}

/// Direction of a theme between two assessments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
    Same,
}

/// How one theme moved between two assessments.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ThemeTrend {
    pub theme: Theme,
    pub from: u8,
    pub to: u8,
    /// `to − from`, in levels.
    pub delta: i8,
    /// Change of the mean answer, for movement within a level.
    pub mean_delta: f64,
    pub direction: Direction,
}

impl ThemeTrend {
    /// "gestegen van 2 naar 3", "gedaald van 4 naar 3", "gelijk gebleven op 3".
    pub fn label_nl(&self) -> String {
        match self.direction {
            Direction::Up => format!("gestegen van {} naar {}", self.from, self.to),
            Direction::Down => format!("gedaald van {} naar {}", self.from, self.to),
            Direction::Same => format!("gelijk gebleven op {}", self.to),
        }
    }

    /// "up from 2 to 3", "down from 4 to 3", "unchanged at 3".
    pub fn label_en(&self) -> String {
        match self.direction {
            Direction::Up => format!("up from {} to {}", self.from, self.to),
            Direction::Down => format!("down from {} to {}", self.from, self.to),
            Direction::Same => format!("unchanged at {}", self.to),
        }
    }
}

/// The trend per theme from the earlier to the later of two assessments (by date, whatever
/// the order of the arguments).
pub fn trend(a: &Assessment, b: &Assessment) -> Vec<ThemeTrend> {
    let (earlier, later) = if a.date <= b.date { (a, b) } else { (b, a) };
    let (from, to) = (earlier.scores(), later.scores());
    Theme::ALL
        .into_iter()
        .map(|theme| {
            let (f, t) = (from.get(theme), to.get(theme));
            let delta = t.level as i8 - f.level as i8;
            ThemeTrend {
                theme,
                from: f.level,
                to: t.level,
                delta,
                mean_delta: t.mean - f.mean,
                direction: match delta {
                    d if d > 0 => Direction::Up,
                    d if d < 0 => Direction::Down,
                    _ => Direction::Same,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn all(level: i64) -> Vec<(String, i64)> {
        QUESTIONS
            .iter()
            .map(|q| (q.id.to_string(), level))
            .collect()
    }

    fn with(level: i64, overrides: &[(&str, i64)]) -> Answers {
        let mut raw: BTreeMap<String, i64> = all(level).into_iter().collect();
        for (id, v) in overrides {
            raw.insert(id.to_string(), *v);
        }
        Answers::parse(raw).unwrap()
    }

    fn date(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 6, d).unwrap()
    }

    #[test]
    fn questionnaire_is_well_formed() {
        let ids: HashSet<_> = QUESTIONS.iter().map(|q| q.id).collect();
        assert_eq!(ids.len(), QUESTIONS.len(), "ids are unique");
        for theme in Theme::ALL {
            let qs: Vec<_> = questions(theme).collect();
            assert!((6..=8).contains(&qs.len()), "{theme:?}: {}", qs.len());
            assert!(
                qs.iter().any(|q| q.critical),
                "{theme:?} has a critical question"
            );
            assert!(qs.iter().any(|q| q.measured_hint.is_some()));
            for q in qs {
                assert!(q.text.ends_with('?'), "{}", q.id);
                assert!(q.text_en.ends_with('?'), "{}", q.id);
                for levels in [q.levels, q.levels_en] {
                    let distinct: HashSet<_> = levels.iter().collect();
                    assert_eq!(distinct.len(), 5, "{}: five different answers", q.id);
                    assert!(levels.iter().all(|l| !l.is_empty()));
                }
                assert_ne!(q.text, q.text_en, "{}: translated", q.id);
            }
            assert_eq!(Theme::parse(theme.as_str()), Some(theme));
        }
        assert_eq!(
            Theme::Webcare.label_nl(),
            "Webcare & online dienstverlening"
        );
    }

    #[test]
    fn validation_reports_in_dutch() {
        // Everything missing, listed in questionnaire order.
        let err = Answers::parse(Vec::<(String, i64)>::new()).unwrap_err();
        let MaturityError::Missing(ref m) = err else {
            panic!("{err:?}")
        };
        assert_eq!(m.len(), QUESTIONS.len());
        assert!(
            err.to_string()
                .starts_with("nog niet beantwoord: MA1, MA2, ")
        );

        let mut raw = all(3);
        raw.retain(|(id, _)| id != "WD3" && id != "WR2");
        assert_eq!(
            Answers::parse(raw).unwrap_err().to_string(),
            "nog niet beantwoord: WD3, WR2"
        );

        for bad in [0, 6, -1, 300] {
            let mut raw = all(3);
            raw[1].1 = bad;
            let e = Answers::parse(raw).unwrap_err();
            assert_eq!(
                e,
                MaturityError::OutOfRange {
                    question: "MA2",
                    value: bad
                }
            );
            assert_eq!(
                e.to_string(),
                format!("het antwoord op vraag MA2 moet 1 tot en met 5 zijn, niet {bad}")
            );
        }

        let mut raw = all(3);
        raw.push(("XX9".into(), 3));
        assert_eq!(
            Answers::parse(raw).unwrap_err().to_string(),
            "onbekende vraag \"XX9\""
        );

        let mut raw = all(3);
        raw.push(("ma1".into(), 4)); // lower case is the same question
        assert_eq!(
            Answers::parse(raw).unwrap_err(),
            MaturityError::Duplicate("MA1")
        );
        assert!(Answers::parse(all(1)).is_ok());
        assert!(Answers::parse(all(5)).is_ok());
    }

    #[test]
    fn level_is_the_rounded_down_mean() {
        let s = Assessment::new(date(1), with(3, &[])).scores();
        for t in Theme::ALL {
            assert_eq!((s.get(t).level, s.get(t).capped_by), (3, None));
        }
        // Monitoring: 7 questions, answers 4,4,4,4,4,4,3 → mean 3.86 → level 3.
        let s = Assessment::new(date(1), with(4, &[("MA7", 3)])).scores();
        let m = s.get(Theme::Monitoring);
        assert_eq!(m.level, 3);
        assert!((m.mean - 27.0 / 7.0).abs() < 1e-12);
        assert_eq!(m.level_name_nl(), "vastgelegd");
        assert_eq!(m.level_name_en(), "defined");
        // Webcare: 8 questions, four 5s and four 4s → mean 4.5 → level 4.
        let s = Assessment::new(
            date(1),
            with(4, &[("WD1", 5), ("WD2", 5), ("WD3", 5), ("WD4", 5)]),
        )
        .scores();
        assert_eq!(s.get(Theme::Webcare).level, 4);
        assert_eq!(s.get(Theme::Webcare).mean, 4.5);
        assert_eq!(
            Assessment::new(date(1), with(5, &[]))
                .scores()
                .get(Theme::Webcare)
                .level_name_nl(),
            "geoptimaliseerd"
        );
    }

    #[test]
    fn weakest_critical_question_caps_the_theme() {
        // Woordvoering all 5 but no crisis script at all (WR2 = 1, critical):
        // mean (6·5 + 1) / 7 = 4.43 → 4, capped at 1 + 1 = 2.
        let s = Assessment::new(date(1), with(5, &[("WR2", 1)])).scores();
        let w = s.get(Theme::Woordvoering);
        assert_eq!((w.level, w.capped_by), (2, Some("WR2")));
        // Other themes are untouched.
        assert_eq!(s.get(Theme::Webcare).level, 5);
        // A critical answer one below the mean does not cap: 4 + 1 = 5 ≥ 4.
        let s = Assessment::new(date(1), with(5, &[("WR2", 4)])).scores();
        assert_eq!(s.get(Theme::Woordvoering).capped_by, None);
        // The weakest of two critical questions counts: WD1 = 2, WD3 = 1 → cap 2.
        let s = Assessment::new(date(1), with(5, &[("WD1", 2), ("WD3", 1)])).scores();
        assert_eq!(
            (s.get(Theme::Webcare).level, s.get(Theme::Webcare).capped_by),
            (2, Some("WD3"))
        );
        // A weak non-critical answer only lowers the mean.
        let s = Assessment::new(date(1), with(5, &[("WD8", 1)])).scores();
        assert_eq!(s.get(Theme::Webcare).level, 4); // 36 / 8 = 4.5
        // All 1: level 1, nothing to cap.
        let s = Assessment::new(date(1), with(1, &[])).scores();
        assert_eq!(
            (
                s.get(Theme::Monitoring).level,
                s.get(Theme::Monitoring).capped_by
            ),
            (1, None)
        );
    }

    #[test]
    fn trend_between_two_assessments() {
        let before = Assessment::new(date(1), with(2, &[("WR2", 1)]));
        let after = Assessment::new(date(20), with(3, &[("MA1", 1), ("MA3", 1)]));
        let t = trend(&after, &before); // argument order does not matter
        assert_eq!(t.len(), 3);
        let m = t.iter().find(|x| x.theme == Theme::Monitoring).unwrap();
        // Monitoring: 2 → mean (5·3 + 2) / 7 = 2.43 → 2, cap 1 + 1 = 2 → 2.
        assert_eq!(
            (m.from, m.to, m.delta, m.direction),
            (2, 2, 0, Direction::Same)
        );
        assert_eq!(m.label_nl(), "gelijk gebleven op 2");
        assert_eq!(m.label_en(), "unchanged at 2");
        assert!(m.mean_delta > 0.0);
        let w = t.iter().find(|x| x.theme == Theme::Webcare).unwrap();
        assert_eq!((w.from, w.to, w.direction), (2, 3, Direction::Up));
        assert_eq!(w.label_nl(), "gestegen van 2 naar 3");
        assert_eq!(w.label_en(), "up from 2 to 3");
        // Woordvoering before: (6·2 + 1) / 7 = 1.86 → 1; after all 3 → 3.
        let r = t.iter().find(|x| x.theme == Theme::Woordvoering).unwrap();
        assert_eq!((r.from, r.to, r.delta), (1, 3, 2));
        let down = trend(&before, &Assessment::new(date(30), with(1, &[])));
        assert_eq!(down[1].label_nl(), "gedaald van 2 naar 1");
        assert_eq!(down[1].direction, Direction::Down);
    }

    proptest! {
        #[test]
        fn levels_stay_in_range_and_respect_the_rules(
            values in proptest::collection::vec(1i64..=5, QUESTIONS.len()),
        ) {
            let raw: Vec<(&str, i64)> =
                QUESTIONS.iter().map(|q| q.id).zip(values.iter().copied()).collect();
            let a = Assessment::new(date(1), Answers::parse(raw).unwrap());
            for s in a.scores().0 {
                prop_assert!((1..=5).contains(&s.level));
                prop_assert!(f64::from(s.level) <= s.mean + 1e-12);
                let weakest = questions(s.theme)
                    .filter(|q| q.critical)
                    .map(|q| a.answers.get(q.id).unwrap())
                    .min()
                    .unwrap();
                prop_assert!(s.level <= weakest + 1);
                if s.capped_by.is_none() {
                    prop_assert_eq!(s.level, s.mean.floor() as u8);
                }
            }
        }
    }
}
