//! Dutch first, English available. One dictionary: key → (nl, en).

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Nl,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Lang {
        if s == "en" { Lang::En } else { Lang::Nl }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }
}

/// Language from the `lang` cookie (set by the switch); Dutch otherwise.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::parse(crate::auth::cookie(headers, "lang").unwrap_or("nl"))
}

/// The translator handed to templates: `{{ t.s("inbox") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn s(&self, key: &str) -> &'static str {
        let (nl, en) = lookup(key);
        match self.0 {
            Lang::Nl => nl,
            Lang::En => en,
        }
    }
    pub fn code(&self) -> &'static str {
        self.0.code()
    }
    pub fn is_en(&self) -> bool {
        self.0 == Lang::En
    }
    /// One of two texts by language, for words kept next to the code that uses them:
    /// `t.pick("Contacten", "Contacts")`. Texts with values in them use [`tformat!`].
    pub fn pick<'a>(&self, nl: &'a str, en: &'a str) -> &'a str {
        match self.0 {
            Lang::Nl => nl,
            Lang::En => en,
        }
    }
    /// A month's short name, January = 0: "mrt" or "Mar".
    pub fn month(&self, month0: u32) -> &'static str {
        const NL: [&str; 12] = [
            "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
        ];
        const EN: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let i = (month0 as usize).min(11);
        self.pick(NL[i], EN[i])
    }
    /// A weekday's name, Monday = 0: "maandag" or "Monday".
    pub fn weekday(&self, day0: usize) -> &'static str {
        const NL: [&str; 7] = loket_core::staffing::WEEKDAYS_NL;
        const EN: [&str; 7] = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ];
        let i = day0.min(6);
        self.pick(NL[i], EN[i])
    }
    /// A conversation state's label: `{{ t.state(c.state.as_str()) }}`.
    pub fn state(&self, state: &str) -> &'static str {
        match state {
            "nieuw" => self.s("state_nieuw"),
            "open" => self.s("state_open"),
            "wachtend" => self.s("state_wachtend"),
            "opgelost" => self.s("state_opgelost"),
            "gesloten" => self.s("state_gesloten"),
            _ => "",
        }
    }
    /// A priority's label: `{{ t.prio(c.priority.as_str()) }}`.
    pub fn prio(&self, priority: &str) -> &'static str {
        match priority {
            "spoed" => self.s("prio_spoed"),
            "hoog" => self.s("prio_hoog"),
            "normaal" => self.s("prio_normaal"),
            "laag" => self.s("prio_laag"),
            _ => "",
        }
    }
}

/// `format!` in the reader's language, Dutch first:
/// `tformat!(t, "{n} gesprekken", "{n} conversations")`, or with arguments after both texts.
/// Only the chosen language's arguments are evaluated.
macro_rules! tformat {
    ($t:expr, $nl:literal, $en:literal $(, $arg:expr)* $(,)?) => {
        if $t.is_en() {
            format!($en $(, $arg)*)
        } else {
            format!($nl $(, $arg)*)
        }
    };
}
pub(crate) use tformat;

fn lookup(key: &str) -> (&'static str, &'static str) {
    match key {
        "app" => ("Loket", "Loket"),
        "skip" => ("Naar de inhoud", "Skip to content"),
        "login" => ("Inloggen", "Log in"),
        "logout" => ("Uitloggen", "Log out"),
        "email" => ("E-mailadres", "E-mail address"),
        "password" => ("Wachtwoord", "Password"),
        "login_intro" => (
            "Log in met uw werkaccount om gesprekken van inwoners te behandelen.",
            "Log in with your work account to handle residents' conversations.",
        ),
        "login_failed" => (
            "E-mailadres of wachtwoord klopt niet.",
            "E-mail address or password is incorrect.",
        ),
        "inbox" => ("Inbox", "Inbox"),
        "search" => ("Zoeken", "Search"),
        "search_ph" => (
            "Zoek in berichten, notities en inwoners",
            "Search messages, notes and residents",
        ),
        "admin" => ("Beheer", "Settings"),
        "dashboard" => ("Cijfers", "Figures"),
        "online" => ("Beschikbaar", "Available"),
        "offline" => ("Afwezig", "Away"),
        "go_online" => ("Zet mij op beschikbaar", "Set me available"),
        "go_offline" => ("Zet mij op afwezig", "Set me away"),
        "mine" => ("Mijn gesprekken", "My conversations"),
        "unassigned" => ("Niet toegewezen", "Unassigned"),
        "team" => ("Mijn team", "My team"),
        "all" => ("Alle actieve", "All active"),
        "state" => ("Status", "State"),
        "priority" => ("Prioriteit", "Priority"),
        "tenant" => ("Gemeente", "Municipality"),
        "label" => ("Label", "Label"),
        "labels" => ("Labels", "Labels"),
        "sla" => ("Servicenorm", "Service level"),
        "sla_due" => ("Bijna verlopen", "Due soon"),
        "sla_breached" => ("Verlopen", "Breached"),
        "filter" => ("Filteren", "Filter"),
        "any" => ("Alle", "Any"),
        "no_conversations" => (
            "Geen gesprekken met deze filters. Goed bezig!",
            "No conversations match these filters. Well done!",
        ),
        "resident" => ("Inwoner", "Resident"),
        "subject" => ("Onderwerp", "Subject"),
        "assignee" => ("Behandelaar", "Assignee"),
        "waiting_since" => ("Laatste bericht", "Last message"),
        "reply" => ("Antwoord", "Reply"),
        "send" => ("Versturen", "Send"),
        "note" => ("Interne notitie", "Internal note"),
        "add_note" => ("Notitie opslaan", "Save note"),
        "templates" => ("Standaardantwoorden", "Answer templates"),
        "insert_template" => ("Invoegen", "Insert"),
        "resolve" => ("Oplossen", "Resolve"),
        "follow_up" => (
            "Doorzetten naar backoffice (optioneel, bij oplossen)",
            "Hand to the back office (optional, on resolve)",
        ),
        "reopen" => ("Heropenen", "Reopen"),
        "close" => ("Sluiten", "Close"),
        "wait" => ("Wacht op inwoner", "Waiting for resident"),
        "open_state" => ("In behandeling", "Open"),
        "assign" => ("Toewijzen", "Assign"),
        "assign_me" => ("Aan mij toewijzen", "Assign to me"),
        "nobody" => ("Niemand", "Nobody"),
        "transfer" => ("Overdragen aan gemeente", "Transfer to municipality"),
        "history" => ("Activiteit", "Activity"),
        "earlier" => (
            "Eerdere gesprekken van deze inwoner",
            "Earlier conversations of this resident",
        ),
        "none_earlier" => ("Geen eerdere gesprekken.", "No earlier conversations."),
        "link_contact" => ("Koppel aan gesprek #", "Link to conversation #"),
        "link" => ("Koppelen", "Link"),
        "typing_warning" => (
            "typt al een antwoord in dit gesprek.",
            "is already typing a reply in this conversation.",
        ),
        "shortcuts" => ("Sneltoetsen", "Keyboard shortcuts"),
        "delivery_wachtrij" => ("in wachtrij", "queued"),
        "delivery_verzonden" => ("verzonden", "sent"),
        "delivery_afgeleverd" => ("afgeleverd", "delivered"),
        "delivery_mislukt" => ("mislukt", "failed"),
        "delivery_gelezen" => ("gelezen", "read"),
        "retry" => ("Opnieuw proberen", "Retry"),
        "save" => ("Opslaan", "Save"),
        "team_label" => ("Team", "Team"),
        "channel" => ("Kanaal", "Channel"),
        "language" => ("Taal", "Language"),
        "new_messages" => (
            "Nieuwe gesprekken of berichten",
            "New conversations or messages",
        ),
        "via_pool" => ("via regiopool", "via regional pool"),
        "api_docs" => ("API-documentatie", "API reference"),
        "main_menu" => ("Hoofdmenu", "Main menu"),
        "tagline" => ("webcare voor gemeenten", "webcare for municipalities"),
        "csat_title" => ("Hoe tevreden bent u?", "How satisfied are you?"),
        "csat_intro" => (
            "U had contact met de gemeente. Wilt u laten weten hoe tevreden u bent over hoe we u hebben geholpen?",
            "You were in contact with the municipality. Would you tell us how satisfied you are with how we helped you?",
        ),
        "csat_score" => ("Uw oordeel", "Your rating"),
        "csat_score_help" => (
            "1 is zeer ontevreden, 5 is zeer tevreden.",
            "1 is very dissatisfied, 5 is very satisfied.",
        ),
        "csat_of5" => ("van 5", "out of 5"),
        "csat_comment" => ("Toelichting (niet verplicht)", "Comment (optional)"),
        "csat_comment_help" => (
            "Hoogstens 1000 tekens. Zet hier geen persoonsgegevens in.",
            "At most 1000 characters. Please do not include personal details.",
        ),
        "csat_submit" => ("Versturen", "Send"),
        "csat_thanks" => ("Bedankt voor uw antwoord!", "Thank you for your answer!"),
        "csat_answered" => (
            "Deze vraag is al beantwoord. Bedankt!",
            "This survey has already been answered. Thank you!",
        ),
        "csat_unknown" => (
            "Deze vragenlijst bestaat niet (meer). Controleer de link.",
            "This survey does not exist (any more). Please check the link.",
        ),
        "csat_error_score" => (
            "Kies een oordeel van 1 tot en met 5.",
            "Choose a rating from 1 to 5.",
        ),
        "csat_error_comment" => (
            "De toelichting is langer dan 1000 tekens.",
            "The comment is longer than 1000 characters.",
        ),
        "csat_error_form" => (
            "Het formulier is verlopen of ongeldig. Open de link opnieuw.",
            "The form has expired or is invalid. Please open the link again.",
        ),
        "csat_error_title" => (
            "Er is iets niet goed ingevuld",
            "Something was not filled in correctly",
        ),
        "back_inbox" => ("Terug naar de inbox", "Back to the inbox"),
        "details" => ("Gespreksgegevens", "Conversation details"),
        "messages" => ("Berichten", "Messages"),
        "remove_label" => ("Verwijder label", "Remove label"),
        "new_label" => ("Nieuw label", "New label"),
        "add_label" => ("Label toevoegen", "Add label"),
        "add_label_short" => ("Toevoegen", "Add"),
        "choose_tenant" => ("Kies een gemeente…", "Choose a municipality…"),
        "label_ph" => ("bijv. pers", "e.g. press"),
        "note_hint" => (
            "Een notitie is alleen zichtbaar voor collega's.",
            "A note is only visible to colleagues.",
        ),
        "sent_as" => ("namens", "sent as"),
        "nothing_found" => ("Niets gevonden.", "Nothing found."),
        "results" => ("resultaten", "results"),
        "search_intro" => (
            "Zoek in berichten, interne notities en inwoners van de gemeenten waarvoor u werkt.",
            "Search messages, internal notes and residents of the municipalities you work for.",
        ),
        "help_button" => ("Sneltoetsen", "Shortcuts"),
        "shortcut_hint" => (
            "Druk op ? voor sneltoetsen.",
            "Press ? for keyboard shortcuts.",
        ),
        "clear_filters" => ("Filters wissen", "Clear filters"),
        "identities" => ("Bekend als", "Known as"),
        "actions" => ("Acties", "Actions"),
        "assignment" => ("Toewijzing", "Assignment"),
        "signed_in_as" => ("Ingelogd als", "Signed in as"),
        "open_conversation" => ("Open gesprek", "Open conversation"),
        "conversation" => ("Gesprek", "Conversation"),
        "last_activity" => ("Laatste bericht", "Last message"),
        "error_help" => (
            "Controleer het adres of ga terug naar de inbox. Blijft het misgaan, neem dan contact op met uw beheerder.",
            "Check the address or go back to the inbox. If the problem persists, contact your administrator.",
        ),
        "state_nieuw" => ("Nieuw", "New"),
        "state_open" => ("Open", "Open"),
        "state_wachtend" => ("Wacht op inwoner", "Waiting for resident"),
        "state_opgelost" => ("Opgelost", "Resolved"),
        "state_gesloten" => ("Gesloten", "Closed"),
        "prio_spoed" => ("Spoed", "Urgent"),
        "prio_hoog" => ("Hoog", "High"),
        "prio_normaal" => ("Normaal", "Normal"),
        "prio_laag" => ("Laag", "Low"),
        // Management information: the dashboards (dashboard*.html).
        "dash_how_computed" => (
            "Hoe worden de cijfers berekend?",
            "How are the figures computed?",
        ),
        "dash_more_nav" => ("Meer over deze organisatie", "More about this organisation"),
        "dash_other_nav" => ("Andere dashboards", "Other dashboards"),
        "dash_also" => ("Ook beschikbaar:", "Also available:"),
        "dash_period_filters" => ("Periode en filters", "Period and filters"),
        "dash_period" => ("Periode", "Period"),
        "dash_from" => ("Van", "From"),
        "dash_to" => ("tot en met", "up to and including"),
        "dash_topic" => ("Onderwerp", "Topic"),
        "dash_all_channels" => ("Alle kanalen", "All channels"),
        "dash_all_topics" => ("Alle onderwerpen", "All topics"),
        "dash_all_teams" => ("Alle teams", "All teams"),
        "dash_show" => ("Toon cijfers", "Show figures"),
        "dash_definition" => ("definitie", "definition"),
        "dash_of" => ("van", "of"),
        "dash_csv" => ("CSV downloaden", "Download CSV"),
        "dash_table" => ("Tabel met de getallen", "Table with the numbers"),
        "dash_weekly" => ("Weekoverzicht", "Weekly summary"),
        "dash_weekly_mail" => ("Weekoverzicht per e-mail", "Weekly summary by e-mail"),
        "dash_key_csv" => ("Kengetallen als CSV", "Key figures as CSV"),
        "dash_all_conversations" => (
            "Alle gesprekken van deze periode",
            "All conversations of this period",
        ),
        "dash_conversations" => ("Gesprekken", "Conversations"),
        "dash_conversations_of" => ("Gesprekken van", "Conversations of"),
        "dash_conversations_lc" => ("gesprekken", "conversations"),
        "dash_back" => ("← Terug naar de cijfers", "← Back to the figures"),
        "dash_page" => ("Pagina", "Page"),
        "dash_page_of" => ("van", "of"),
        "dash_pages" => ("Pagina's", "Pages"),
        "dash_prev" => ("Vorige pagina", "Previous page"),
        "dash_next" => ("Volgende pagina", "Next page"),
        "dash_no_conversations" => (
            "Geen gesprekken in deze selectie.",
            "No conversations in this selection.",
        ),
        "dash_weekly_of" => ("Weekoverzicht van", "Weekly summary of"),
        "dash_weekly_lead" => (
            "Elke maandagochtend krijgen de supervisors dit overzicht van de week ervoor per e-mail.",
            "Every Monday morning the supervisors get this summary of the week before by e-mail.",
        ),
        "dash_weekly_lead_pool" => (
            "Elke maandagochtend krijgen de supervisors en coördinatoren dit overzicht van de week ervoor per e-mail.",
            "Every Monday morning the supervisors and coordinators get this summary of the week before by e-mail.",
        ),
        "dash_weekly_dutch" => (
            "Het overzicht hieronder staat er zoals het verstuurd wordt.",
            "The summary below is shown as it is sent: in Dutch.",
        ),
        "dash_no_mail_1" => (
            "Er is geen mailserver ingesteld voor Loket",
            "No mail server is set up for Loket",
        ),
        "dash_no_mail_2" => (
            "in de configuratie); het overzicht is nu alleen hier te lezen.",
            "in the configuration); the summary can only be read here for now.",
        ),
        "dash_sent" => ("Verzonden", "Sent"),
        "dash_nothing_sent" => ("Nog niets verzonden.", "Nothing sent yet."),
        "dash_sent_caption" => ("Verzonden weekoverzichten", "Weekly summaries sent"),
        "dash_week_from" => ("Week vanaf", "Week from"),
        "dash_to_whom" => ("Aan", "To"),
        "dash_time" => ("Tijd", "Time"),
        "dash_reason" => ("Reden", "Reason"),
        // The definitions page (cijfers.html).
        "defs_title" => ("Definities van de cijfers", "Definitions of the figures"),
        "defs_lead_1" => (
            "Elke gemeente, elke regionale pool en het landelijk overzicht gebruiken dezelfde definities, zodat cijfers te vergelijken zijn. Deze lijst komt rechtstreeks uit de code die de cijfers berekent; de uitgebreide toelichting met voorbeelden staat in",
            "Every municipality, every regional pool and the national overview use the same definitions, so figures can be compared. This list comes straight from the code that computes the figures; the full explanation with examples is in",
        ),
        "defs_lead_2" => ("in de broncode.", "in the source code (in Dutch)."),
        "defs_rules" => (
            "Tijden worden gerekend in kloktijd en in kantoortijd (de openingstijden van de gemeente, zonder feestdagen). Een mediaan of 90e percentiel is altijd een tijd die echt voorkwam (de waarde op plaats ⌈p/100 × n⌉). Zonder gegevens blijft een percentage of gemiddelde leeg, nooit 0.",
            "Times are counted in clock time and in business time (the municipality's opening hours, without public holidays). A median or 90th percentile is always a time that actually occurred (the value at position ⌈p/100 × n⌉). Without data a percentage or average stays empty, never 0.",
        ),
        "defs_how_read" => ("Hoe Loket berichten leest", "How Loket reads messages"),
        _ => ("?", "?"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_languages() {
        let nl = super::Tr(super::Lang::Nl);
        let en = super::Tr(super::Lang::En);
        assert_eq!(nl.s("login"), "Inloggen");
        assert_eq!(en.s("login"), "Log in");
    }

    /// Every `t.s("…")` in a template has an entry: an unknown key would show "?".
    #[test]
    fn every_template_key_is_known() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for part in text.split("t.s(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                assert_ne!(
                    super::lookup(key),
                    ("?", "?"),
                    "{}: unknown key {key:?}",
                    path.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 100, "{checked} keys checked");
    }

    #[test]
    fn months_weekdays_and_formats() {
        let nl = super::Tr(super::Lang::Nl);
        let en = super::Tr(super::Lang::En);
        assert_eq!((nl.month(2), en.month(2)), ("mrt", "Mar"));
        assert_eq!((nl.weekday(6), en.weekday(6)), ("zondag", "Sunday"));
        assert_eq!(nl.pick("Contacten", "Contacts"), "Contacten");
        let n = 3;
        assert_eq!(super::tformat!(en, "{n} dagen", "{n} days"), "3 days");
        assert_eq!(super::tformat!(nl, "{} dagen", "{} days", n), "3 dagen");
    }
}
