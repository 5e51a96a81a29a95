//! What an agent can do, once: the JSON API and the HTML pages both call these functions, so
//! scoping, role checks and live updates cannot differ between them.

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::hub::{HubEvent, WireMessage};
use crate::outbox::{Payload, Target};
use crate::state::AppState;
use loket_channels::{Outgoing, OutgoingTenant};
use loket_core::sla::{SlaStatus, status};
use loket_core::{ConversationState, Role};
use loket_store::conversations::{Actor, Change, NewOutgoing};
use loket_store::{ConversationRow, EventRow, InboxFilter, InboxRow, MessageRow, TemplateRow};
use serde::Serialize;
use std::collections::BTreeMap;

pub const MAX_REPLY_CHARS: usize = 4000;

pub fn actor(user: &CurrentUser) -> Actor {
    Actor {
        user_id: Some(user.id),
        name: user.name.clone(),
    }
}

/// The display name of a reply's author as the resident sees it: the agent's first name and
/// the municipality — never the pool.
pub fn public_author(state: &AppState, first_name: &str, tenant: &str) -> String {
    format!("{first_name} ({})", state.tenant_label(tenant))
}

pub fn wire(state: &AppState, m: &MessageRow) -> WireMessage {
    let author = match (&m.direction[..], &m.sent_as_tenant) {
        ("out", Some(t)) => public_author(
            state,
            m.author_name
                .split_whitespace()
                .next()
                .unwrap_or(&m.author_name),
            t,
        ),
        _ => m.author_name.clone(),
    };
    WireMessage {
        id: m.id,
        direction: m.direction.clone(),
        author,
        body: m.body.clone(),
        created_at: m.created_at,
        delivery: m.delivery_state.clone(),
    }
}

/// Query parameters of the inbox, shared by the page and the API.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(default)]
pub struct InboxQuery {
    /// `mine`, `unassigned`, `team`, `all` (default: all active).
    pub view: Option<String>,
    /// Comma-separated states; default `nieuw,open,wachtend`.
    pub state: Option<String>,
    /// Limit to one tenant the user may see.
    pub tenant: Option<String>,
    pub priority: Option<String>,
    pub label: Option<String>,
    /// `due` (deadline within 30 minutes or passed) or `breached`.
    pub sla: Option<String>,
    pub team: Option<i64>,
}

pub async fn inbox(
    state: &AppState,
    user: &CurrentUser,
    q: &InboxQuery,
) -> AppResult<Vec<InboxRow>> {
    let tenants = match q.tenant.as_deref().filter(|t| !t.is_empty()) {
        Some(t) if user.can_see(t) => vec![t.to_string()],
        Some(_) => return Err(AppError::NotFound),
        None => user.visible.clone(),
    };
    let states: Vec<String> = match q.state.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => {
            let v: Vec<String> = s.split(',').map(|x| x.trim().to_string()).collect();
            if let Some(bad) = v.iter().find(|x| ConversationState::parse(x).is_none()) {
                return Err(AppError::Invalid(format!("onbekende status '{bad}'")));
            }
            v
        }
        None => vec!["nieuw".into(), "open".into(), "wachtend".into()],
    };
    if let Some(p) = q.priority.as_deref().filter(|p| !p.is_empty())
        && loket_core::Priority::parse(p).is_none()
    {
        return Err(AppError::Invalid(format!("onbekende prioriteit '{p}'")));
    }
    let mut f = InboxFilter {
        tenants,
        states,
        priority: q.priority.clone().filter(|p| !p.is_empty()),
        label: q.label.clone().filter(|l| !l.is_empty()),
        limit: 200,
        ..Default::default()
    };
    match q.view.as_deref().unwrap_or("all") {
        "mine" => f.assignee = Some(user.id),
        "unassigned" => f.unassigned = true,
        "team" => {
            let teams = state.store.teams(&user.visible).await?;
            let mut mine = Vec::new();
            for t in teams {
                if state.store.team_members(t.id).await?.contains(&user.id) {
                    mine.push(t.id);
                }
            }
            f.team_ids = if mine.is_empty() { vec![-1] } else { mine };
        }
        "all" | "" => {}
        other => return Err(AppError::Invalid(format!("onbekende weergave '{other}'"))),
    }
    if let Some(team) = q.team {
        f.team_ids = vec![team];
    }
    let now = loket_store::now_ms();
    match q.sla.as_deref() {
        Some("due") => f.due_before = Some(now + loket_core::sla::DUE_SOON.num_milliseconds()),
        Some("breached") => f.due_before = Some(now),
        Some("") | None => {}
        Some(other) => return Err(AppError::Invalid(format!("onbekend SLA-filter '{other}'"))),
    }
    Ok(state.store.inbox(&f).await?)
}

/// The SLA deadline that matters now for a conversation: first response until answered, then
/// resolution while it is active.
pub fn sla_of(c: &ConversationRow) -> Option<(&'static str, SlaStatus)> {
    let now = chrono::Utc::now();
    let to_dt = |ms: i64| chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms);
    if c.first_response_at.is_none() && matches!(c.state.as_str(), "nieuw" | "open") {
        return c
            .first_response_due
            .and_then(to_dt)
            .map(|d| ("eerste reactie", status(d, now)));
    }
    if matches!(c.state.as_str(), "nieuw" | "open") {
        return c
            .resolution_due
            .and_then(to_dt)
            .map(|d| ("oplossing", status(d, now)));
    }
    None
}

/// Everything the conversation screen shows.
#[derive(Debug, Serialize)]
pub struct ConversationView {
    pub conversation: ConversationRow,
    pub tenant_name: String,
    pub contact_name: String,
    pub messages: Vec<MessageRow>,
    pub events: Vec<EventRow>,
    pub labels: Vec<String>,
    pub earlier: Vec<ConversationRow>,
    pub identities: Vec<loket_store::IdentityRow>,
    /// Files that came with the resident's messages (e-mail attachments, WhatsApp images).
    pub attachments: Vec<loket_store::AttachmentRow>,
}

/// A conversation as an agent sees it. Opening it (the page, the API detail) also starts the
/// handle-time clock: call [`opened`]; a live refresh of the thread must not.
pub async fn conversation(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> AppResult<ConversationView> {
    let c = state.store.conversation(id, &user.visible).await?;
    let identities = state.store.identities(c.contact_id).await?;
    let contact_name = identities
        .first()
        .map(|i| i.display_name.clone())
        .unwrap_or_else(|| "Inwoner".into());
    Ok(ConversationView {
        tenant_name: state.tenant_label(&c.tenant_code),
        messages: state.store.messages(id).await?,
        events: state.store.events(id).await?,
        labels: state.store.labels(id).await?,
        earlier: state
            .store
            .contact_conversations(c.contact_id, &c.tenant_code, id)
            .await?,
        identities,
        contact_name,
        attachments: state.store.attachments(id).await?,
        conversation: c,
    })
}

/// A message as it leaves Loket to the conversation's resident, in the municipality's name.
/// The message id is filled in by the outbox worker from the stored row.
pub async fn outgoing(
    state: &AppState,
    c: &ConversationRow,
    tenant: &crate::state::Tenant,
    text: &str,
    agent: String,
) -> AppResult<Outgoing> {
    let identity = state
        .store
        .identities(c.contact_id)
        .await?
        .into_iter()
        .find(|i| i.id == c.identity_id);
    Ok(Outgoing {
        conversation_id: c.id,
        message_id: 0,
        recipient: identity.map(|i| i.external_id).unwrap_or_default(),
        text: text.to_string(),
        tenant: OutgoingTenant {
            code: tenant.code.clone(),
            name: tenant.name.clone(),
            display_name: tenant.display_name.clone(),
            primary_color: tenant.settings.primary_color.clone(),
            logo_url: tenant.settings.logo_url.clone(),
        },
        agent,
        sent_at_ms: loket_store::now_ms(),
    })
}

/// Sends a reply (through the outbox) or stores an internal note.
pub async fn reply(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    body: &str,
    note: bool,
) -> AppResult<MessageRow> {
    let body = body.trim();
    if body.is_empty() {
        return Err(AppError::Invalid("het bericht is leeg".into()));
    }
    if body.chars().count() > MAX_REPLY_CHARS {
        return Err(AppError::Invalid(format!(
            "het bericht is langer dan {MAX_REPLY_CHARS} tekens"
        )));
    }
    let c = state.store.conversation(id, &user.visible).await?;
    let tenant = state.tenant(&c.tenant_code).ok_or(AppError::NotFound)?;
    let text = if note || tenant.settings.signature.trim().is_empty() {
        body.to_string()
    } else {
        format!("{body}\n\n{}", tenant.settings.signature.trim())
    };
    let mut stored = text.clone();
    let outbox_payload = if note {
        None
    } else {
        let target = match (c.channel_account_id, c.api_key_id) {
            (Some(account_id), _) => Target::Channel {
                account_id,
                reply: crate::channels::reply_for(
                    state,
                    &c,
                    account_id,
                    &text,
                    &tenant.display_name,
                )
                .await?,
            },
            (None, Some(k)) => Target::Webhook { api_key_id: k },
            (None, None) => Target::Webchat,
        };
        let msg = outgoing(
            state,
            &c,
            &tenant,
            &text,
            public_author(state, &user.first_name, &tenant.code),
        )
        .await?;
        if let Target::Channel {
            reply:
                loket_channels::adapter::Reply {
                    template: Some(t), ..
                },
            ..
        } = &target
        {
            // The agent's words cannot go out; the thread must show what the resident got.
            stored = format!(
                "[Sjabloonbericht ‘{}’ verstuurd: het 24-uursvenster van WhatsApp was verlopen. Niet verstuurde tekst:]\n{text}",
                t.name
            );
        }
        Some(
            serde_json::to_string(&Payload {
                target,
                message: msg,
            })
            .map_err(anyhow::Error::from)?,
        )
    };
    let out = NewOutgoing {
        body: stored,
        note,
        sent_as_tenant: tenant.code.clone(),
        outbox_payload,
    };
    let m = state
        .store
        .add_outgoing(id, &user.visible, &actor(user), &out)
        .await?;
    if !note {
        state.outbox_wake.notify_one();
    }
    state.hub.publish(HubEvent::Message {
        tenant: c.tenant_code.clone(),
        conversation_id: id,
        message: wire(state, &m),
    });
    state.hub.publish(HubEvent::Typing {
        tenant: c.tenant_code.clone(),
        conversation_id: id,
        user_id: user.id,
        name: user.name.clone(),
        active: false,
    });
    state.hub.publish(HubEvent::Conversation {
        tenant: c.tenant_code,
        conversation_id: id,
        change: "message".into(),
        previous_tenant: None,
    });
    count_activity(state, user, id).await;
    Ok(m)
}

/// The agent opened conversation `id`: the handle-time clock starts (see loket_store::activity).
pub async fn opened(state: &AppState, user: &CurrentUser, id: i64) -> AppResult<()> {
    state.store.activity_view(id, user.id).await?;
    Ok(())
}

/// Adds the agent's time on the conversation to its handle time; a failure only loses that
/// measurement, never the action itself.
async fn count_activity(state: &AppState, user: &CurrentUser, id: i64) {
    if let Err(e) = state.store.activity_act(id, user.id).await {
        tracing::warn!(conversation = id, error = %e, "handle time not recorded");
    }
}

/// Applies a change after checking the role it needs.
pub async fn change(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    expected_version: Option<i64>,
    change: Change,
) -> AppResult<ConversationRow> {
    change_with(state, user, id, expected_version, change, None).await
}

/// [`change`], with a note for the back office when the change resolves the conversation: the
/// Klantinteracties registration then gets an internetaak.
pub async fn change_with(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    expected_version: Option<i64>,
    change: Change,
    follow_up: Option<&str>,
) -> AppResult<ConversationRow> {
    let c = state.store.conversation(id, &user.visible).await?;
    let resolving = matches!(change, Change::State(ConversationState::Opgelost))
        && c.state != ConversationState::Opgelost.as_str();
    let prev = c.tenant_code.clone();
    let change = match change {
        Change::Transfer { to, .. } => {
            if !user.may_transfer_from(&c.tenant_code, state) {
                return Err(AppError::Forbidden(
                    "alleen een coördinator of supervisor kan gesprekken overdragen".into(),
                ));
            }
            let t = state
                .tenant(&to)
                .ok_or_else(|| AppError::UnknownTenant(format!("onbekende gemeente '{to}'")))?;
            Change::Transfer {
                to: t.code,
                to_name: t.display_name,
            }
        }
        Change::Assign(Some((uid, _))) => {
            // Only someone who works for this conversation's tenant (or its serving pool) can get it.
            let mut codes = vec![c.tenant_code.clone()];
            if let Some(pool) = state.tenant(&c.tenant_code).and_then(|t| t.pool_code) {
                codes.push(pool);
            }
            let users = state.store.tenant_users(&codes).await?;
            let Some((u, _)) = users.into_iter().find(|(u, _)| u.id == uid) else {
                return Err(AppError::Invalid(
                    "deze medewerker werkt niet voor deze gemeente".into(),
                ));
            };
            Change::Assign(Some((u.id, u.name)))
        }
        Change::Team(Some((tid, _))) => {
            let teams = state
                .store
                .teams(std::slice::from_ref(&c.tenant_code))
                .await?;
            let t = teams
                .into_iter()
                .find(|t| t.id == tid)
                .ok_or_else(|| AppError::Invalid("onbekend team".into()))?;
            Change::Team(Some((t.id, t.name)))
        }
        Change::AddLabel(l) => {
            let l = l.trim().to_lowercase();
            if l.is_empty() || l.chars().count() > 40 {
                return Err(AppError::Invalid("een label heeft 1 tot 40 tekens".into()));
            }
            Change::AddLabel(l)
        }
        Change::Topic(code) => {
            let known = loket_text::topics::get(&code).is_some_and(|t| t.kind != "group");
            if !known {
                return Err(AppError::Invalid(format!("onbekend onderwerp '{code}'")));
            }
            Change::Topic(code)
        }
        other => other,
    };
    let correction = correction_of(state, &c, &change).await;
    let ki = if resolving {
        crate::klantinteracties::queue_for(state, &c.tenant_code, follow_up).await?
    } else {
        None
    };
    let updated = state
        .store
        .change_then(
            id,
            &user.visible,
            expected_version,
            &actor(user),
            &change,
            ki.as_ref(),
        )
        .await?;
    if let Some(mut corr) = correction {
        corr.user_id = Some(user.id);
        if let Err(e) = state.store.record_correction(&corr).await {
            tracing::warn!(error = %e, "recording a correction failed");
        }
    }
    let moved = updated.tenant_code != prev;
    state.hub.publish(HubEvent::Conversation {
        tenant: updated.tenant_code.clone(),
        conversation_id: id,
        change: if moved {
            "transferred".into()
        } else {
            "updated".into()
        },
        previous_tenant: moved.then_some(prev.clone()),
    });
    if moved {
        // Screens of the old tenant drop it from their list.
        state.hub.publish(HubEvent::Conversation {
            tenant: prev,
            conversation_id: id,
            change: "transferred".into(),
            previous_tenant: None,
        });
        let _ = crate::assign::auto_assign(state, id).await;
    }
    if let Change::State(s) = &change
        && matches!(s, ConversationState::Opgelost | ConversationState::Gesloten)
    {
        state.hub.publish(HubEvent::Conversation {
            tenant: updated.tenant_code.clone(),
            conversation_id: id,
            change: format!("state:{}", s.as_str()),
            previous_tenant: None,
        });
    }
    if ki.is_some() {
        state.outbox_wake.notify_one();
    }
    if resolving && updated.state == ConversationState::Opgelost.as_str() {
        crate::csat::on_resolved(state, &updated).await;
    }
    count_activity(state, user, id).await;
    Ok(updated)
}

/// When a change overrules what the text engine decided (the municipality of a conversation that
/// came in on the national entry, or its topic), the correction to keep as training data.
async fn correction_of(
    state: &AppState,
    c: &ConversationRow,
    change: &Change,
) -> Option<loket_store::CorrectionRow> {
    let analysis: serde_json::Value = c
        .analysis
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let (kind, old, new) = match change {
        Change::Transfer { to, .. } if c.origin_tenant_code == loket_core::TenantCode::NATIONAL => {
            (
                "gemeente",
                analysis["gemeente"]["code"].as_str().map(str::to_string),
                to.clone(),
            )
        }
        Change::Topic(t) => ("topic", c.topic.clone(), t.clone()),
        _ => return None,
    };
    if old.as_deref() == Some(new.as_str()) {
        return None;
    }
    let first = state
        .store
        .messages(c.id)
        .await
        .ok()?
        .into_iter()
        .find(|m| m.direction == "in")?;
    Some(loket_store::CorrectionRow {
        id: 0,
        conversation_id: c.id,
        kind: kind.into(),
        old_value: old,
        new_value: new,
        text: loket_text::redact(&first.body),
        user_id: None,
        created_at: 0,
    })
}

/// Templates for a conversation's tenant: national ones, overridden by the tenant's own.
pub async fn templates_for(state: &AppState, tenant: &str) -> AppResult<Vec<TemplateRow>> {
    let all = state.store.templates(Some(tenant)).await?;
    let (national, own): (Vec<TemplateRow>, Vec<TemplateRow>) =
        all.into_iter().partition(|t| t.tenant_code.is_none());
    Ok(
        loket_core::template::resolve_override(&national, &own, |t| t.key.as_str())
            .into_iter()
            .cloned()
            .collect(),
    )
}

/// Fills a template's variables for one conversation.
pub async fn render_template(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    template_id: i64,
) -> AppResult<String> {
    let c = state.store.conversation(id, &user.visible).await?;
    let t = templates_for(state, &c.tenant_code)
        .await?
        .into_iter()
        .find(|t| t.id == template_id)
        .ok_or(AppError::NotFound)?;
    let tenant = state.tenant(&c.tenant_code).ok_or(AppError::NotFound)?;
    let contact = state
        .store
        .identities(c.contact_id)
        .await?
        .into_iter()
        .next()
        .map(|i| i.display_name)
        .unwrap_or_else(|| "inwoner".into());
    let mut vars = BTreeMap::new();
    vars.insert("gemeente.naam".to_string(), tenant.name.clone());
    vars.insert(
        "gemeente.weergavenaam".to_string(),
        tenant.display_name.clone(),
    );
    vars.insert("inwoner.naam".to_string(), contact);
    vars.insert(
        "gemeente.ondertekening".to_string(),
        tenant.settings.signature.clone(),
    );
    vars.insert("agent.voornaam".to_string(), user.first_name.clone());
    vars.insert("agent.naam".to_string(), user.name.clone());
    vars.insert("gesprek.nummer".to_string(), c.id.to_string());
    loket_core::template::render(&t.body, &vars).map_err(|e| AppError::Invalid(e.to_string()))
}

/// Announces that the user is (or stopped) typing in a conversation.
pub async fn typing(state: &AppState, user: &CurrentUser, id: i64, active: bool) -> AppResult<()> {
    let c = state.store.conversation(id, &user.visible).await?;
    if active {
        count_activity(state, user, id).await;
    }
    state.hub.publish(HubEvent::Typing {
        tenant: c.tenant_code,
        conversation_id: id,
        user_id: user.id,
        name: user.name.clone(),
        active,
    });
    Ok(())
}

pub async fn set_online(state: &AppState, user: &CurrentUser, online: bool) -> AppResult<usize> {
    state.store.set_online(user.id, online).await?;
    if online {
        return Ok(crate::assign::distribute_backlog(state, &user.visible).await?);
    }
    Ok(0)
}

/// Requires `role` (or beheerder) in `tenant`.
pub fn require_admin(user: &CurrentUser, tenant: &str) -> AppResult<()> {
    if user.has_role(tenant, Role::Beheerder) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "alleen een beheerder van deze gemeente mag dit".into(),
        ))
    }
}
