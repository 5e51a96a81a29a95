//! Tenants for every municipality, the regional pools and the national entry, national answer
//! templates, and — for `loket demo` only — demo users, teams and conversations.

use crate::auth::hash_password;
use crate::intake::{self, InboundRequest};
use crate::state::AppState;
use loket_core::tenant::{PoolHandover, TenantSettings};
use loket_store::{Store, TenantRow};

/// Province code → province name, from the municipality table.
fn provinces() -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<(&str, &str)> = loket_text::gemeenten::all()
        .iter()
        .map(|g| (g.provincie_code, g.provincie_naam))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Everyday display name where the official CBS name is not what residents say.
fn display_name(naam: &str) -> String {
    let n = match naam {
        "'s-Gravenhage" => "Den Haag",
        other => other
            .trim_end_matches(" (NH.)")
            .trim_end_matches(" (L.)")
            .trim_end_matches(" (O.)"),
    };
    format!("Gemeente {n}")
}

/// House colours: a few known ones, otherwise one of a palette of dark, AA-contrast colours.
fn colour(code: &str) -> &'static str {
    const PALETTE: [&str; 8] = [
        "#154273", "#01689b", "#275937", "#8f2d56", "#5b3f8c", "#a33b20", "#39870c", "#42145f",
    ];
    match code {
        "GM0344" => "#c8102e",
        "GM0363" => "#d00000",
        "GM0599" => "#00693e",
        "GM0518" => "#1a5d7f",
        _ => PALETTE[code.bytes().map(|b| b as usize).sum::<usize>() % PALETTE.len()],
    }
}

/// A tenant row with its identity and settings; province, pool and inhabitants are set by the caller.
fn row(
    code: &str,
    kind: &str,
    name: &str,
    display: String,
    settings: &TenantSettings,
) -> TenantRow {
    TenantRow {
        code: code.into(),
        kind: kind.into(),
        name: name.into(),
        display_name: display,
        province_code: None,
        pool_code: None,
        settings: settings.to_json(),
        inhabitants: None,
        created_at: loket_store::now_ms(),
    }
}

/// Creates or refreshes the national entry, the 12 provincial pools and all 342 municipalities.
pub async fn tenants(store: &Store) -> anyhow::Result<()> {
    let mut rows = Vec::with_capacity(360);
    let national = TenantSettings {
        signature: "Met vriendelijke groet,\nMijnGemeente — de landelijke ingang van uw gemeente".into(),
        greeting_nl: "Welkom bij MijnGemeente. Vertel ons uw vraag of melding en om welke plaats het gaat; wij zorgen dat uw gemeente het oppakt.".into(),
        greeting_en: "Welcome to MijnGemeente. Tell us your question or report and where it is; we make sure your municipality picks it up.".into(),
        hours: loket_core::calendar::WeekSchedule::always(),
        ..TenantSettings::default()
    };
    rows.push(row(
        "NL",
        "nationaal",
        "MijnGemeente",
        "MijnGemeente".into(),
        &national,
    ));
    for (code, name) in provinces() {
        let s = TenantSettings {
            hours: loket_core::calendar::WeekSchedule::always(),
            auto_assign: true,
            ..TenantSettings::default()
        };
        rows.push(TenantRow {
            province_code: Some(code.into()),
            ..row(
                code,
                "regio",
                &format!("Regiopool {name}"),
                format!("Regiopool {name}"),
                &s,
            )
        });
    }
    for g in loket_text::gemeenten::all() {
        let display = display_name(g.naam);
        let s = TenantSettings {
            primary_color: colour(g.code).into(),
            signature: format!("Met vriendelijke groet,\nTeam Webcare {display}"),
            greeting_nl: format!(
                "Welkom bij de chat van de {}. Stel uw vraag of doe een melding; we helpen u graag.",
                display.replacen("Gemeente", "gemeente", 1)
            ),
            greeting_en: format!(
                "Welcome to the chat of {display}. Ask your question or report a problem; we are happy to help."
            ),
            ..TenantSettings::default()
        };
        rows.push(TenantRow {
            province_code: Some(g.provincie_code.into()),
            pool_code: Some(g.provincie_code.into()),
            // GeoNames' municipality figure (see crates/loket-core/data/README.md); a
            // municipality can correct it in Loket.
            inhabitants: loket_core::inhabitants(g.code)
                .or(g.inwoners)
                .map(i64::from),
            ..row(g.code, "gemeente", g.naam, display, &s)
        });
    }
    store.upsert_tenants(&rows).await?;
    Ok(())
}

/// National answer templates; municipalities override them by key.
pub async fn templates(store: &Store) -> anyhow::Result<()> {
    let t = [
        (
            "groet",
            "Begroeting",
            "Beste {{inwoner.naam}},\n\nDank voor uw bericht aan de {{gemeente.weergavenaam}}. ",
        ),
        (
            "melding-ontvangen",
            "Melding ontvangen",
            "Beste {{inwoner.naam}},\n\nBedankt voor uw melding. We hebben deze doorgezet naar de buitendienst van de {{gemeente.weergavenaam}}; u hoort binnen vijf werkdagen van ons.\n\n{{agent.voornaam}}",
        ),
        (
            "meer-info",
            "Meer informatie nodig",
            "Beste {{inwoner.naam}},\n\nOm u goed te helpen hebben we iets meer informatie nodig: om welk adres of welke plek gaat het precies?\n\n{{agent.voornaam}}",
        ),
        (
            "afsluiting",
            "Afsluiting",
            "Fijn dat we u konden helpen. Heeft u nog een vraag, dan kunt u hier altijd weer een bericht sturen.\n\n{{agent.voornaam}}",
        ),
        (
            "privacy",
            "Geen persoonsgegevens openbaar",
            "Beste {{inwoner.naam}},\n\nDeel uw BSN of andere persoonlijke gegevens liever niet openbaar. Stuurt u ons een privébericht? Dan kijken we met u mee.\n\n{{agent.voornaam}}",
        ),
    ];
    for (key, title, body) in t {
        store.upsert_template(None, key, title, body).await?;
    }
    Ok(())
}

/// A demo account as printed to the console.
#[derive(Debug, Clone)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
    pub name: String,
    pub roles: Vec<(String, String)>,
}

/// Demo users for every role, teams, a pool handover and some conversations. Passwords are new
/// random ones for each data dir.
pub async fn demo(state: &AppState) -> anyhow::Result<Vec<DemoUser>> {
    let store = &state.store;
    // Two small Utrecht municipalities hand their inbox to the Utrecht regional pool.
    for (code, handover) in [
        ("GM0339", PoolHandover::Always),
        ("GM0340", PoolHandover::Always),
        ("GM0344", PoolHandover::OutsideHours),
    ] {
        let t = store.tenant(code).await?;
        let mut s = TenantSettings::from_json(&t.settings);
        s.handover = handover;
        store
            .update_tenant_settings(code, &t.display_name, &s.to_json())
            .await?;
    }
    state.reload_tenants().await?;
    type Person = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );
    let people: [Person; 8] = [
        ("anna@utrecht.demo", "Anna de Vries", &[("GM0344", "agent")]),
        ("bram@utrecht.demo", "Bram Jansen", &[("GM0344", "agent")]),
        (
            "sanne@utrecht.demo",
            "Sanne Bakker",
            &[("GM0344", "supervisor"), ("GM0344", "agent")],
        ),
        (
            "wouter@utrecht.demo",
            "Wouter Visser",
            &[("GM0344", "woordvoerder")],
        ),
        (
            "eva@utrecht.demo",
            "Eva Smit",
            &[("GM0344", "beheerder"), ("GM0344", "agent")],
        ),
        (
            "pim@regio-utrecht.demo",
            "Pim Mulder",
            &[("PV26", "agent"), ("PV26", "coordinator")],
        ),
        (
            "noor@mijngemeente.demo",
            "Noor El Amrani",
            &[("NL", "coordinator"), ("NL", "agent")],
        ),
        (
            "daan@amsterdam.demo",
            "Daan de Boer",
            &[("GM0363", "agent"), ("GM0363", "beheerder")],
        ),
    ];
    let mut out = Vec::new();
    for (email, name, roles) in people {
        let password = format!("demo-{}", &crate::auth::random_token()[..12]);
        let id = store
            .create_user(email, name, &hash_password(&password)?)
            .await?;
        for (t, r) in roles.iter() {
            store.grant(id, t, r).await?;
        }
        out.push(DemoUser {
            email: email.into(),
            password,
            name: name.into(),
            roles: roles
                .iter()
                .map(|(t, r)| (t.to_string(), r.to_string()))
                .collect(),
        });
    }
    let webcare = store.create_team("GM0344", "Webcare").await?;
    let buiten = store.create_team("GM0344", "Buitenruimte").await?;
    for (email, team) in [
        ("anna@utrecht.demo", webcare),
        ("bram@utrecht.demo", buiten),
        ("sanne@utrecht.demo", webcare),
    ] {
        let u = store.user_by_email(email).await?;
        store.set_team_member("GM0344", team, u.id, true).await?;
    }
    store
        .upsert_template(
            Some("GM0344"),
            "groet",
            "Begroeting (Utrecht)",
            "Hoi {{inwoner.naam}},\n\nDank je voor je bericht aan de gemeente Utrecht! ",
        )
        .await?;
    store
        .create_api_key(
            &crate::auth::sha256_hex("demo-api-key-utrecht"),
            "GM0344",
            "api",
            "Demo-koppeling",
            None,
            None,
        )
        .await?;
    crate::insight::seed_demo(state).await?;
    for (i, (tenant, who, text)) in DEMO_MESSAGES.iter().enumerate() {
        simulate(state, tenant, who, text, &format!("seed-{i}")).await?;
    }
    Ok(out)
}

/// One simulated resident message through the real intake.
pub async fn simulate(
    state: &AppState,
    tenant: &str,
    who: &str,
    text: &str,
    id: &str,
) -> anyhow::Result<()> {
    let token = format!("demo-{id}");
    intake::accept(
        state,
        InboundRequest {
            tenant: tenant.into(),
            channel: "webchat".into(),
            external_id: format!("widget:{id}"),
            author_id: format!("widget:{}", &crate::auth::sha256_hex(&token)[..24]),
            author_name: who.into(),
            text: text.into(),
            sent_at: loket_store::now_ms(),
            lat: None,
            lon: None,
            api_key_id: None,
            widget_token: Some(token),
            open311: None,
            channel_info: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// Demo conversations: (entry tenant, resident, text).
pub const DEMO_MESSAGES: &[(&str, &str, &str)] = &[
    (
        "GM0344",
        "Fatima Yilmaz",
        "Goedemiddag, er ligt al twee weken een losse stoeptegel voor Oudegracht 112. Mijn moeder is er bijna over gestruikeld. Kan iemand dit repareren?",
    ),
    (
        "GM0344",
        "Joost van Dam",
        "Wanneer wordt het grofvuil opgehaald in Leidsche Rijn? Ik kan online geen afspraak maken.",
    ),
    (
        "GM0344",
        "Lotte",
        "Hoi! Mijn paspoort verloopt volgende maand. Moet ik een afspraak maken of kan ik gewoon langskomen bij het Stadskantoor?",
    ),
    (
        "GM0344",
        "M. Bouali",
        "De lantaarnpaal bij de speeltuin in de Kanaalstraat doet het al dagen niet. 's Avonds is het daar echt donker en onveilig.",
    ),
    (
        "GM0344",
        "Peter K.",
        "Top geregeld met de nieuwe fietsenstalling bij het station, complimenten!",
    ),
    (
        "GM0344",
        "Ingrid",
        "Ik ruik een sterke gaslucht in het trappenhuis van ons portiek aan de Amsterdamsestraatweg. Wat moet ik doen?",
    ),
    (
        "GM0339",
        "Henk Renswoude",
        "Er staat al een week een container vol vuilniszakken naast de glasbak bij de Dorpsstraat.",
    ),
    (
        "GM0340",
        "Annemiek",
        "Kan ik bij de gemeente Rhenen een parkeervergunning voor bezoekers aanvragen via internet?",
    ),
    (
        "GM0363",
        "Sophie",
        "Wat zijn de openingstijden van het Stadsloket Centrum deze week?",
    ),
    (
        "GM0363",
        "Karim",
        "Bij de Albert Cuypmarkt ligt na de markt altijd heel veel afval op straat. Kan daar vaker geveegd worden?",
    ),
    (
        "NL",
        "Willem",
        "Goedendag, ik heb een vraag over mijn aanslag gemeentelijke belastingen, wie kan mij helpen?",
    ),
    (
        "NL",
        "R. de Groot",
        "In Hoograven staat een boom op omvallen na de storm van vannacht, vlakbij de school.",
    ),
];

/// Resident messages for the gentle stream of the demo.
pub const STREAM: &[(&str, &str, &str)] = &[
    (
        "GM0344",
        "Yara",
        "Hallo, hoe kan ik een melding doen van een kapotte lantaarnpaal?",
    ),
    (
        "GM0344",
        "Tom",
        "De prullenbak bij het Wilhelminapark puilt uit, er waait van alles rond.",
    ),
    (
        "GM0344",
        "Ahmed",
        "Mijn container is vanochtend niet geleegd, terwijl hij op tijd buiten stond.",
    ),
    (
        "GM0339",
        "Gerda",
        "Wanneer is het gemeentehuis open op zaterdag?",
    ),
    (
        "GM0340",
        "Bas",
        "Er zit een groot gat in het fietspad langs de Grebbeweg.",
    ),
    (
        "GM0363",
        "Linda",
        "Hoe vraag ik een parkeervergunning aan voor mijn nieuwe auto?",
    ),
    (
        "NL",
        "Marco",
        "Hoe vraag ik bijzondere bijstand aan? Ik woon in Zeist.",
    ),
    (
        "NL",
        "Jan",
        "Wat moet ik doen als mijn buren steeds harde muziek draaien?",
    ),
    (
        "GM0344",
        "Emma",
        "Dank jullie wel voor de snelle hulp gisteren met mijn verhuizing!",
    ),
    (
        "GM0344",
        "Mo",
        "Bij de Vaartsche Rijn ligt een fiets half in het water, lijkt wel gedumpt.",
    ),
];
