//! Conversations: intake, the inbox, and every change an agent makes, each in one transaction
//! together with its line in the append-only activity history.

use crate::rollups::{
    RollupDeltas, apply_rollups, conv_key, in_time, seconds_between, sentiment_of_analysis,
};
use crate::{
    BeginWrite, ConversationRow, EventRow, IdentityRow, InboxFilter, InboxRow, Ingested,
    MessageRow, NewInbound, Result, Store, StoreError, now_ms, placeholders, search::search_tokens,
    with_pool,
};
use loket_core::ConversationState;
use serde::Serialize;

/// Who made a change: a user, or the system (intake, routing, automatic assignment).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Self {
        Self {
            user_id: None,
            name: "Loket".into(),
        }
    }
}

/// One change to a conversation.
#[derive(Debug, Clone)]
pub enum Change {
    State(ConversationState),
    /// Assign to a user (with their display name for the history) or unassign.
    Assign(Option<(i64, String)>),
    Priority(String),
    Team(Option<(i64, String)>),
    AddLabel(String),
    RemoveLabel(String),
    /// Move to another tenant, keeping the full history; assignment and team are cleared.
    Transfer {
        to: String,
        to_name: String,
    },
    Topic(String),
}

/// A reply or note to store; `outbox_payload` queues delivery in the same transaction.
#[derive(Debug, Clone)]
pub struct NewOutgoing {
    pub body: String,
    pub note: bool,
    /// The tenant in whose name a reply goes out (the municipality, never the pool).
    pub sent_as_tenant: String,
    pub outbox_payload: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct InboxCounts {
    pub nieuw: i64,
    pub open: i64,
    pub wachtend: i64,
    pub mine: i64,
    pub unassigned: i64,
    pub breached: i64,
}

/// Inserts an activity-history line inside the current transaction.
macro_rules! event {
    ($tx:expr, $conv:expr, $tenant:expr, $actor:expr, $kind:expr, $detail:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO events (conversation_id, tenant_code, actor_user_id, actor_name, kind, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($conv)
        .bind($tenant)
        .bind($actor.user_id)
        .bind(&$actor.name)
        .bind($kind)
        .bind($detail)
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}

/// Loads a conversation only when it belongs to one of `tenants`; otherwise `NotFound`.
macro_rules! scoped {
    ($tx:expr, $id:expr, $tenants:expr) => {{
        let sql = format!(
            "SELECT * FROM conversations WHERE id = $1 AND tenant_code IN ({})",
            placeholders(2, $tenants.len())
        );
        let mut q = sqlx::query_as::<_, ConversationRow>(&sql).bind($id);
        for t in $tenants {
            q = q.bind(t);
        }
        q.fetch_optional(&mut *$tx)
            .await?
            .ok_or(StoreError::NotFound)?
    }};
}

macro_rules! index_doc {
    ($tx:expr, $tenant:expr, $conv:expr, $contact:expr, $kind:expr, $ref_id:expr, $text:expr) => {{
        let text: &str = $text;
        let snippet: String = text.chars().take(240).collect();
        sqlx::query(
            "INSERT INTO search_docs (tenant_code, conversation_id, contact_id, kind, ref_id, snippet, tokens) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($tenant)
        .bind($conv)
        .bind($contact)
        .bind($kind)
        .bind($ref_id)
        .bind(snippet)
        .bind(search_tokens(text).join(" "))
        .execute(&mut *$tx)
        .await?
    }};
}

const INBOX_SELECT: &str = "SELECT c.*, k.name AS contact_name, u.name AS assignee_name, t.name AS team_name,
    COALESCE((SELECT m.body FROM messages m WHERE m.conversation_id = c.id AND m.direction <> 'note' ORDER BY m.id DESC LIMIT 1), '') AS last_message
    FROM conversations c JOIN contacts k ON k.id = c.contact_id
    LEFT JOIN users u ON u.id = c.assignee_id LEFT JOIN teams t ON t.id = c.team_id";

impl Store {
    /// Stores an inbound message durably (one transaction) and returns where it went. Idempotent
    /// on `(channel, external_id)`: a repeat writes nothing and returns the first result.
    pub async fn ingest(&self, m: &NewInbound) -> Result<Ingested> {
        match self.ingest_once(m).await {
            // Two deliveries of the same message raced: the loser reads the winner's result.
            Err(StoreError::Conflict(_)) => self.ingest_once(m).await,
            r => r,
        }
    }

    async fn ingest_once(&self, m: &NewInbound) -> Result<Ingested> {
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let seen: Option<(i64, i64)> = sqlx::query_as("SELECT id, conversation_id FROM messages WHERE channel = $1 AND external_id = $2")
                .bind(&m.channel).bind(&m.external_id).fetch_optional(&mut *tx).await?;
            if let Some((message_id, conversation_id)) = seen {
                return Ok(Ingested { conversation_id, message_id, created: false, new_conversation: false });
            }
            let identity: Option<(i64, i64)> = sqlx::query_as("SELECT id, contact_id FROM identities WHERE channel = $1 AND external_id = $2")
                .bind(&m.channel).bind(&m.author_id).fetch_optional(&mut *tx).await?;
            let (identity_id, contact_id) = match identity {
                Some(x) => x,
                None => {
                    let contact_id: i64 = sqlx::query_scalar("INSERT INTO contacts (name, created_at) VALUES ($1, $2) RETURNING id")
                        .bind(&m.author_name).bind(now).fetch_one(&mut *tx).await?;
                    let identity_id: i64 = sqlx::query_scalar(
                        "INSERT INTO identities (contact_id, channel, external_id, display_name, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                        .bind(contact_id).bind(&m.channel).bind(&m.author_id).bind(&m.author_name).bind(now).fetch_one(&mut *tx).await?;
                    (identity_id, contact_id)
                }
            };
            let thread = m.channel_info.as_ref().and_then(|c| c.thread_conversation);
            let existing: Option<ConversationRow> = match &m.widget_token {
                // An Open311 service request is a report of its own, never a follow-up.
                _ if m.open311.is_some() => None,
                // The channel's thread references (e-mail In-Reply-To) name the conversation.
                // Only the resident's own conversation: a forged subject token cannot join another's.
                _ if thread.is_some() => sqlx::query_as("SELECT * FROM conversations WHERE id = $1 AND origin_tenant_code = $2 AND identity_id = $3")
                    .bind(thread).bind(&m.tenant_code).bind(identity_id).fetch_optional(&mut *tx).await?,
                Some(token) => sqlx::query_as("SELECT * FROM conversations WHERE widget_token = $1").bind(token).fetch_optional(&mut *tx).await?,
                None => sqlx::query_as(
                    "SELECT * FROM conversations WHERE identity_id = $1 AND origin_tenant_code = $2 AND state <> 'gesloten' ORDER BY id DESC LIMIT 1")
                    .bind(identity_id).bind(&m.tenant_code).fetch_optional(&mut *tx).await?,
            };
            let actor = crate::conversations::Actor { user_id: None, name: m.author_name.clone() };
            let mut deltas = RollupDeltas::default();
            let sentiment = sentiment_of_analysis(m.analysis.as_deref());
            let message_at = m.sent_at.clamp(now - 366 * 86_400_000, now);
            let (conversation_id, tenant, new_conversation) = match existing {
                Some(c) => {
                    let old = ConversationState::parse(&c.state).unwrap_or(ConversationState::Open);
                    let new = old.on_inbound();
                    let reopened = matches!(old, ConversationState::Opgelost | ConversationState::Gesloten);
                    sqlx::query("UPDATE conversations SET state = $1, last_inbound_at = $2, updated_at = $2, version = version + 1,
                                 resolved_at = CASE WHEN $3 THEN NULL ELSE resolved_at END,
                                 resolution_due = CASE WHEN $3 THEN $4 ELSE resolution_due END WHERE id = $5")
                        .bind(new.as_str()).bind(now).bind(reopened).bind(m.resolution_due).bind(c.id).execute(&mut *tx).await?;
                    if reopened {
                        event!(tx, c.id, &c.tenant_code, actor, "heropend", "Nieuw bericht van de inwoner", now);
                        let k = conv_key!(tx, c.id);
                        deltas.at(k.key(now)).reopens += 1;
                    }
                    (c.id, c.tenant_code, false)
                }
                None => {
                    let subject: String = m.text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(80).collect();
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO conversations (tenant_code, origin_tenant_code, channel, contact_id, identity_id, api_key_id, subject, state, priority,
                           topic, language, widget_token, created_at, updated_at, last_inbound_at, first_response_due, resolution_due, analysis, channel_account_id, sentiment,
                           initial_resolution_due)
                         VALUES ($1, $1, $2, $3, $4, $5, $6, 'nieuw', $7, $8, $9, $10, $11, $11, $11, $12, $13, $14, $15, $16, $13) RETURNING id")
                        .bind(&m.tenant_code).bind(&m.channel).bind(contact_id).bind(identity_id).bind(m.api_key_id).bind(&subject)
                        .bind(&m.priority).bind(&m.topic).bind(&m.language).bind(&m.widget_token).bind(now)
                        .bind(m.first_response_due).bind(m.resolution_due).bind(&m.analysis)
                        .bind(m.channel_info.as_ref().map(|c| c.account_id)).bind(&sentiment)
                        .fetch_one(&mut *tx).await?;
                    let k = conv_key!(tx, id);
                    let d = deltas.at(k.key(now));
                    d.new_conversations += 1;
                    d.count_sentiment(sentiment.as_deref());
                    // Each deadline counts in its own hour (see `SlaCounts`).
                    if let Some(due) = m.first_response_due {
                        deltas.at(k.key(due)).sla_first_due += 1;
                    }
                    if let Some(due) = m.resolution_due {
                        deltas.at(k.key(due)).sla_resolution_due += 1;
                    }
                    event!(tx, id, &m.tenant_code, actor, "aangemaakt", format!("Nieuw gesprek via {}", m.channel), now);
                    index_doc!(tx, &m.tenant_code, Some(id), Some(contact_id), "contact", contact_id, &m.author_name);
                    (id, m.tenant_code.clone(), true)
                }
            };
            let message_id: i64 = sqlx::query_scalar(
                "INSERT INTO messages (conversation_id, direction, channel, external_id, author_name, body, created_at, reply_context)
                 VALUES ($1, 'in', $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(conversation_id).bind(&m.channel).bind(&m.external_id).bind(&m.author_name).bind(&m.text).bind(message_at)
                .bind(m.channel_info.as_ref().and_then(|c| c.reply_context.as_deref()))
                .fetch_one(&mut *tx).await?;
            for a in m.channel_info.iter().flat_map(|c| &c.attachments) {
                sqlx::query("INSERT INTO attachments (message_id, filename, content_type, size, data, reference, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                    .bind(message_id).bind(&a.filename).bind(&a.content_type).bind(a.data.as_ref().map_or(0, |d| d.len() as i64))
                    .bind(&a.data).bind(&a.reference).bind(now).execute(&mut *tx).await?;
            }
            for (kind, detail) in &m.events {
                event!(tx, conversation_id, &tenant, actor, kind.as_str(), detail.as_str(), now);
            }
            index_doc!(tx, &tenant, Some(conversation_id), Some(contact_id), "message", message_id, &m.text);
            let k = conv_key!(tx, conversation_id);
            deltas.at(k.key(message_at)).inbound += 1;
            apply_rollups!(tx, deltas);
            if let Some(o) = &m.open311 {
                sqlx::query(
                    "INSERT INTO open311_requests (conversation_id, token, jurisdiction_id, service_code, description, lat, lon, address, address_id, zipcode, media_url, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
                    .bind(conversation_id).bind(&o.token).bind(&o.jurisdiction_id).bind(&o.service_code).bind(&o.description)
                    .bind(o.lat).bind(o.lon).bind(&o.address).bind(&o.address_id).bind(&o.zipcode).bind(&o.media_url).bind(now)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(Ingested { conversation_id, message_id, created: true, new_conversation })
        })
    }

    /// The inbox, newest-urgent first: priority, then oldest waiting.
    pub async fn inbox(&self, f: &InboxFilter) -> Result<Vec<InboxRow>> {
        if f.tenants.is_empty() {
            return Ok(vec![]);
        }
        let mut sql = format!(
            "{INBOX_SELECT} WHERE c.tenant_code IN ({})",
            placeholders(1, f.tenants.len())
        );
        let mut n = f.tenants.len();
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if !f.states.is_empty() {
            let ph: Vec<String> = f.states.iter().map(|_| next()).collect();
            sql += &format!(" AND c.state IN ({})", ph.join(", "));
        }
        if f.assignee.is_some() {
            sql += &format!(" AND c.assignee_id = {}", next());
        }
        if f.unassigned {
            sql += " AND c.assignee_id IS NULL";
        }
        if !f.team_ids.is_empty() {
            let ph: Vec<String> = f.team_ids.iter().map(|_| next()).collect();
            sql += &format!(" AND c.team_id IN ({})", ph.join(", "));
        }
        if f.priority.is_some() {
            sql += &format!(" AND c.priority = {}", next());
        }
        if f.label.is_some() {
            sql += &format!(
                " AND EXISTS (SELECT 1 FROM conversation_labels l WHERE l.conversation_id = c.id AND l.label = {})",
                next()
            );
        }
        if f.due_before.is_some() {
            let a = next();
            sql += &format!(
                " AND ((c.first_response_at IS NULL AND c.first_response_due < {a}) OR (c.resolved_at IS NULL AND c.state IN ('nieuw','open') AND c.resolution_due < {a}))"
            );
        }
        sql += &format!(
            " ORDER BY CASE c.priority WHEN 'spoed' THEN 0 WHEN 'hoog' THEN 1 WHEN 'normaal' THEN 2 ELSE 3 END, c.last_inbound_at ASC LIMIT {}",
            f.limit.clamp(1, 500)
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_as::<_, InboxRow>(&sql);
            for t in &f.tenants { q = q.bind(t); }
            for s in &f.states { q = q.bind(s); }
            if let Some(a) = f.assignee { q = q.bind(a); }
            for t in &f.team_ids { q = q.bind(t); }
            if let Some(pr) = &f.priority { q = q.bind(pr); }
            if let Some(l) = &f.label { q = q.bind(l); }
            if let Some(d) = f.due_before { q = q.bind(d); }
            Ok(q.fetch_all(p).await?)
        })
    }

    /// Counts for the inbox's filter bar.
    pub async fn inbox_counts(
        &self,
        tenants: &[String],
        user_id: i64,
        now: i64,
    ) -> Result<InboxCounts> {
        if tenants.is_empty() {
            return Ok(InboxCounts::default());
        }
        let n = tenants.len();
        let sql = format!(
            "SELECT
               COALESCE(SUM(CASE WHEN state = 'nieuw' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN state = 'wachtend' THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN assignee_id = ${a} AND state IN ('nieuw','open','wachtend') THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN assignee_id IS NULL AND state IN ('nieuw','open') THEN 1 ELSE 0 END), 0),
               COALESCE(SUM(CASE WHEN (first_response_at IS NULL AND first_response_due < ${b}) OR (resolved_at IS NULL AND state IN ('nieuw','open') AND resolution_due < ${b}) THEN 1 ELSE 0 END), 0)
             FROM conversations WHERE tenant_code IN ({}) AND state IN ('nieuw','open','wachtend')",
            placeholders(1, n),
            a = n + 1,
            b = n + 2
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_as::<_, (i64, i64, i64, i64, i64, i64)>(&sql);
            for t in tenants { q = q.bind(t); }
            let r = q.bind(user_id).bind(now).fetch_one(p).await?;
            Ok(InboxCounts { nieuw: r.0, open: r.1, wachtend: r.2, mine: r.3, unassigned: r.4, breached: r.5 })
        })
    }

    /// A conversation, only when it belongs to one of `tenants`.
    pub async fn conversation(&self, id: i64, tenants: &[String]) -> Result<ConversationRow> {
        if tenants.is_empty() {
            return Err(StoreError::NotFound);
        }
        with_pool!(self, p => {
            let mut c = p.acquire().await?;
            Ok(scoped!(c, id, tenants))
        })
    }

    /// A conversation by id without tenant scope: only for system work (intake, outbox,
    /// assignment), never on behalf of a user.
    pub async fn conversation_system(&self, id: i64) -> Result<ConversationRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM conversations WHERE id = $1").bind(id).fetch_one(p).await?))
    }

    pub async fn conversation_by_widget_token(&self, token: &str) -> Result<ConversationRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM conversations WHERE widget_token = $1").bind(token).fetch_one(p).await?))
    }

    /// Messages of a conversation the caller has already been allowed to see.
    pub async fn messages(&self, conversation_id: i64) -> Result<Vec<MessageRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM messages WHERE conversation_id = $1 ORDER BY id").bind(conversation_id).fetch_all(p).await?))
    }

    pub async fn message(&self, id: i64) -> Result<MessageRow> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM messages WHERE id = $1").bind(id).fetch_one(p).await?))
    }

    pub async fn events(&self, conversation_id: i64) -> Result<Vec<EventRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM events WHERE conversation_id = $1 ORDER BY id").bind(conversation_id).fetch_all(p).await?))
    }

    pub async fn labels(&self, conversation_id: i64) -> Result<Vec<String>> {
        with_pool!(self, p => Ok(sqlx::query_scalar("SELECT label FROM conversation_labels WHERE conversation_id = $1 ORDER BY label").bind(conversation_id).fetch_all(p).await?))
    }

    /// Labels in use within `tenants`, for the filter bar.
    pub async fn labels_in_use(&self, tenants: &[String]) -> Result<Vec<String>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT DISTINCT l.label FROM conversation_labels l JOIN conversations c ON c.id = l.conversation_id WHERE c.tenant_code IN ({}) ORDER BY l.label",
            placeholders(1, tenants.len())
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_scalar(&sql);
            for t in tenants { q = q.bind(t); }
            Ok(q.fetch_all(p).await?)
        })
    }

    /// Stores a reply (queued in the outbox in the same transaction) or an internal note.
    pub async fn add_outgoing(
        &self,
        id: i64,
        tenants: &[String],
        actor: &Actor,
        out: &NewOutgoing,
    ) -> Result<MessageRow> {
        if tenants.is_empty() {
            return Err(StoreError::NotFound);
        }
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let c = scoped!(tx, id, tenants);
            let (direction, delivery) = if out.note { ("note", None) } else { ("out", Some(if out.outbox_payload.is_some() { "wachtrij" } else { "verzonden" })) };
            let message: MessageRow = sqlx::query_as(
                "INSERT INTO messages (conversation_id, direction, channel, author_user_id, author_name, body, sent_as_tenant, delivery_state, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *")
                .bind(id).bind(direction).bind(&c.channel).bind(actor.user_id).bind(&actor.name).bind(&out.body)
                .bind(if out.note { None } else { Some(&out.sent_as_tenant) }).bind(delivery).bind(now)
                .fetch_one(&mut *tx).await?;
            if out.note {
                event!(tx, id, &c.tenant_code, actor, "notitie", "Interne notitie toegevoegd", now);
            } else {
                let old = ConversationState::parse(&c.state).unwrap_or(ConversationState::Open);
                sqlx::query("UPDATE conversations SET state = $1, updated_at = $2, version = version + 1,
                             first_response_at = COALESCE(first_response_at, $2) WHERE id = $3")
                    .bind(old.on_agent_reply().as_str()).bind(now).bind(id).execute(&mut *tx).await?;
                let k = conv_key!(tx, id);
                let mut deltas = RollupDeltas::default();
                let d = deltas.at(k.key(now));
                d.outbound += 1;
                if c.first_response_at.is_none() {
                    sqlx::query("UPDATE conversations SET handled_by_pool = $1 WHERE id = $2").bind(k.by_pool).bind(id).execute(&mut *tx).await?;
                    d.first_responses += 1;
                    d.pool_handled += i64::from(k.by_pool);
                    d.first_response_hist.record(seconds_between(k.created_at, now));
                    if let Some(due) = in_time(c.first_response_due, now) {
                        deltas.at(k.key(now)).sla_first_met += 1;
                        deltas.at(k.key(due)).sla_first_in_time += 1;
                    }
                }
                apply_rollups!(tx, deltas);
                let name: String = sqlx::query_scalar("SELECT display_name FROM tenants WHERE code = $1")
                    .bind(&out.sent_as_tenant)
                    .fetch_optional(&mut *tx)
                    .await?
                    .unwrap_or_else(|| out.sent_as_tenant.clone());
                event!(tx, id, &c.tenant_code, actor, "antwoord", format!("Antwoord verstuurd namens {name}"), now);
                if let Some(payload) = &out.outbox_payload {
                    sqlx::query("INSERT INTO outbox (message_id, conversation_id, channel, payload, state, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, 'wachtrij', $5, $5)")
                        .bind(message.id).bind(id).bind(&c.channel).bind(payload).bind(now).execute(&mut *tx).await?;
                }
            }
            index_doc!(tx, &c.tenant_code, Some(id), Some(c.contact_id), if out.note { "note" } else { "message" }, message.id, &out.body);
            tx.commit().await?;
            Ok(message)
        })
    }

    /// Applies one change, checking the tenant scope, the state machine and (when given) the
    /// version the agent saw, so a stale form cannot overwrite a newer change.
    pub async fn change(
        &self,
        id: i64,
        tenants: &[String],
        expected_version: Option<i64>,
        actor: &Actor,
        change: &Change,
    ) -> Result<ConversationRow> {
        self.change_then(id, tenants, expected_version, actor, change, None)
            .await
    }

    /// [`Store::change`]; when it resolves the conversation (from another state), `ki` is queued
    /// in the same transaction, so a resolution is never left without its registration.
    pub async fn change_then(
        &self,
        id: i64,
        tenants: &[String],
        expected_version: Option<i64>,
        actor: &Actor,
        change: &Change,
        ki: Option<&crate::klantinteracties::KiQueue>,
    ) -> Result<ConversationRow> {
        if tenants.is_empty() {
            return Err(StoreError::NotFound);
        }
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let c = scoped!(tx, id, tenants);
            if let Some(v) = expected_version.filter(|v| *v != c.version) {
                return Err(StoreError::Conflict(format!("het gesprek is intussen gewijzigd (versie {} in plaats van {v})", c.version)));
            }
            let (kind, detail): (&str, String) = match change {
                Change::State(to) => {
                    let from = ConversationState::parse(&c.state).unwrap_or(ConversationState::Open);
                    from.transition(*to).map_err(|e| StoreError::Invalid(e.to_string()))?;
                    let resolved = matches!(to, ConversationState::Opgelost | ConversationState::Gesloten);
                    let first_resolved: Option<i64> = sqlx::query_scalar("SELECT first_resolved_at FROM conversations WHERE id = $1")
                        .bind(id).fetch_one(&mut *tx).await?;
                    sqlx::query("UPDATE conversations SET state = $1, resolved_at = CASE WHEN $2 THEN COALESCE(resolved_at, $3) ELSE NULL END,
                                 first_resolved_at = CASE WHEN $2 THEN COALESCE(first_resolved_at, $3) ELSE first_resolved_at END WHERE id = $4")
                        .bind(to.as_str()).bind(resolved).bind(now).bind(id).execute(&mut *tx).await?;
                    let was_resolved = matches!(from, ConversationState::Opgelost | ConversationState::Gesloten);
                    let k = conv_key!(tx, id);
                    let mut deltas = RollupDeltas::default();
                    let d = deltas.at(k.key(now));
                    if was_resolved && !resolved {
                        d.reopens += 1;
                    }
                    if resolved && first_resolved.is_none() {
                        d.resolutions += 1;
                        d.resolution_hist.record(seconds_between(k.created_at, now));
                        // Before the first resolution no reopen can have changed the deadline.
                        if let Some(due) = in_time(c.resolution_due, now) {
                            deltas.at(k.key(now)).sla_resolution_met += 1;
                            deltas.at(k.key(due)).sla_resolution_in_time += 1;
                        }
                    }
                    apply_rollups!(tx, deltas);
                    ("status", format!("Status: {} → {}", from.label_nl(), to.label_nl()))
                }
                Change::Assign(who) => {
                    sqlx::query("UPDATE conversations SET assignee_id = $1 WHERE id = $2").bind(who.as_ref().map(|w| w.0)).bind(id).execute(&mut *tx).await?;
                    if let Some((uid, _)) = who {
                        sqlx::query("UPDATE users SET last_assigned_at = $1 WHERE id = $2").bind(now).bind(uid).execute(&mut *tx).await?;
                    }
                    ("toewijzing", match who { Some((_, n)) => format!("Toegewezen aan {n}"), None => "Toewijzing opgeheven".into() })
                }
                Change::Priority(pr) => {
                    if loket_core::Priority::parse(pr).is_none() {
                        return Err(StoreError::Invalid(format!("onbekende prioriteit '{pr}'")));
                    }
                    sqlx::query("UPDATE conversations SET priority = $1 WHERE id = $2").bind(pr).bind(id).execute(&mut *tx).await?;
                    ("prioriteit", format!("Prioriteit: {} → {pr}", c.priority))
                }
                Change::Team(team) => {
                    if let Some((tid, _)) = team {
                        let ok: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1 AND tenant_code = $2").bind(tid).bind(&c.tenant_code).fetch_optional(&mut *tx).await?;
                        if ok.is_none() {
                            return Err(StoreError::Invalid("dit team hoort niet bij de gemeente van het gesprek".into()));
                        }
                    }
                    sqlx::query("UPDATE conversations SET team_id = $1 WHERE id = $2").bind(team.as_ref().map(|t| t.0)).bind(id).execute(&mut *tx).await?;
                    ("team", match team { Some((_, n)) => format!("Team: {n}"), None => "Team verwijderd".into() })
                }
                Change::AddLabel(l) => {
                    sqlx::query("INSERT INTO conversation_labels (conversation_id, label) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(l).execute(&mut *tx).await?;
                    ("label", format!("Label toegevoegd: {l}"))
                }
                Change::RemoveLabel(l) => {
                    sqlx::query("DELETE FROM conversation_labels WHERE conversation_id = $1 AND label = $2").bind(id).bind(l).execute(&mut *tx).await?;
                    ("label", format!("Label verwijderd: {l}"))
                }
                Change::Topic(t) => {
                    sqlx::query("UPDATE conversations SET topic = $1 WHERE id = $2").bind(t).bind(id).execute(&mut *tx).await?;
                    ("onderwerp", format!("Onderwerp: {t}"))
                }
                Change::Transfer { to, to_name } => {
                    let exists: Option<String> = sqlx::query_scalar("SELECT code FROM tenants WHERE code = $1").bind(to).fetch_optional(&mut *tx).await?;
                    if exists.is_none() {
                        return Err(StoreError::Invalid(format!("onbekende gemeente '{to}'")));
                    }
                    if *to == c.tenant_code {
                        return Err(StoreError::Invalid("het gesprek hoort al bij deze gemeente".into()));
                    }
                    sqlx::query("UPDATE conversations SET tenant_code = $1, assignee_id = NULL, team_id = NULL WHERE id = $2").bind(to).bind(id).execute(&mut *tx).await?;
                    sqlx::query("UPDATE search_docs SET tenant_code = $1 WHERE conversation_id = $2").bind(to).bind(id).execute(&mut *tx).await?;
                    ("overdracht", format!("Overgedragen van {} aan {to_name} ({to})", c.tenant_code))
                }
            };
            let n = sqlx::query("UPDATE conversations SET version = version + 1, updated_at = $1 WHERE id = $2 AND version = $3")
                .bind(now).bind(id).bind(c.version).execute(&mut *tx).await?.rows_affected();
            if n == 0 {
                return Err(StoreError::Conflict("het gesprek is intussen gewijzigd".into()));
            }
            // The history is written under the tenant the conversation had before the change.
            event!(tx, id, &c.tenant_code, actor, kind, detail, now);
            if let Some(q) = ki
                && matches!(change, Change::State(ConversationState::Opgelost))
                && c.state != ConversationState::Opgelost.as_str()
            {
                crate::klantinteracties::ki_insert!(tx, id, q, now);
            }
            let updated: ConversationRow = sqlx::query_as("SELECT * FROM conversations WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            Ok(updated)
        })
    }

    /// Records that a person corrected an automatic decision (municipality, topic).
    pub async fn record_correction(&self, c: &crate::CorrectionRow) -> Result<()> {
        with_pool!(self, p => sqlx::query(
            "INSERT INTO corrections (conversation_id, kind, old_value, new_value, text, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(c.conversation_id).bind(&c.kind).bind(&c.old_value).bind(&c.new_value).bind(&c.text).bind(c.user_id).bind(now_ms())
            .execute(p).await.map(|_| ())?);
        Ok(())
    }

    pub async fn corrections(&self, limit: i64) -> Result<Vec<crate::CorrectionRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT * FROM corrections ORDER BY id DESC LIMIT $1").bind(limit).fetch_all(p).await?))
    }

    /// Municipalities of the sender's earlier conversations (newest first), across identities
    /// linked to the same person: the text engine's prior for ambiguous place names.
    pub async fn sender_history(
        &self,
        channel: &str,
        author_id: &str,
        limit: i64,
    ) -> Result<Vec<String>> {
        with_pool!(self, p => Ok(sqlx::query_scalar(
            "SELECT c.tenant_code FROM conversations c
             WHERE c.contact_id = (SELECT contact_id FROM identities WHERE channel = $1 AND external_id = $2)
               AND c.tenant_code LIKE 'GM%' ORDER BY c.id DESC LIMIT $3")
            .bind(channel).bind(author_id).bind(limit).fetch_all(p).await?))
    }

    /// The resident's other conversations with the same tenant, across linked identities.
    pub async fn contact_conversations(
        &self,
        contact_id: i64,
        tenant: &str,
        except: i64,
    ) -> Result<Vec<ConversationRow>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT * FROM conversations WHERE contact_id = $1 AND tenant_code = $2 AND id <> $3 ORDER BY id DESC LIMIT 50")
            .bind(contact_id).bind(tenant).bind(except).fetch_all(p).await?))
    }

    pub async fn identities(&self, contact_id: i64) -> Result<Vec<IdentityRow>> {
        with_pool!(self, p => Ok(sqlx::query_as("SELECT id, contact_id, channel, external_id, display_name FROM identities WHERE contact_id = $1 ORDER BY id")
            .bind(contact_id).fetch_all(p).await?))
    }

    /// Links the contact of conversation `other` to the contact of conversation `id` (one person,
    /// several channels). Both conversations must be visible to the caller.
    pub async fn link_contacts(
        &self,
        id: i64,
        other: i64,
        tenants: &[String],
        actor: &Actor,
    ) -> Result<()> {
        if tenants.is_empty() {
            return Err(StoreError::NotFound);
        }
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let a = scoped!(tx, id, tenants);
            let b = scoped!(tx, other, tenants);
            if a.contact_id == b.contact_id {
                return Ok(());
            }
            sqlx::query("UPDATE identities SET contact_id = $1 WHERE contact_id = $2").bind(a.contact_id).bind(b.contact_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE conversations SET contact_id = $1 WHERE contact_id = $2").bind(a.contact_id).bind(b.contact_id).execute(&mut *tx).await?;
            sqlx::query("UPDATE search_docs SET contact_id = $1 WHERE contact_id = $2").bind(a.contact_id).bind(b.contact_id).execute(&mut *tx).await?;
            event!(tx, id, &a.tenant_code, actor, "koppeling", format!("Inwoner gekoppeld aan gesprek #{other}"), now);
            event!(tx, other, &b.tenant_code, actor, "koppeling", format!("Inwoner gekoppeld aan gesprek #{id}"), now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Unassigned active conversations of `tenants`, oldest first, for automatic assignment.
    pub async fn unassigned_backlog(
        &self,
        tenants: &[String],
        team_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<i64>> {
        if tenants.is_empty() {
            return Ok(vec![]);
        }
        let n = tenants.len();
        let team = if team_id.is_some() {
            format!(" AND team_id = ${}", n + 1)
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT id FROM conversations WHERE tenant_code IN ({}) AND assignee_id IS NULL AND state IN ('nieuw','open'){team}
             ORDER BY CASE priority WHEN 'spoed' THEN 0 WHEN 'hoog' THEN 1 WHEN 'normaal' THEN 2 ELSE 3 END, last_inbound_at LIMIT {}",
            placeholders(1, n),
            limit.clamp(1, 1000)
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_scalar(&sql);
            for t in tenants { q = q.bind(t); }
            if let Some(t) = team_id { q = q.bind(t); }
            Ok(q.fetch_all(p).await?)
        })
    }

    /// Open conversations per assignee, for capacity checks.
    pub async fn open_counts(&self, user_ids: &[i64]) -> Result<Vec<(i64, i64)>> {
        if user_ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT assignee_id, COUNT(*) FROM conversations WHERE assignee_id IN ({}) AND state IN ('nieuw','open') GROUP BY assignee_id",
            placeholders(1, user_ids.len())
        );
        with_pool!(self, p => {
            let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
            for u in user_ids { q = q.bind(u); }
            Ok(q.fetch_all(p).await?)
        })
    }

    /// Number of active conversations waiting in a tenant (for backlog-based pool handover).
    pub async fn waiting_count(&self, tenant: &str) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE tenant_code = $1 AND state IN ('nieuw','open')")
            .bind(tenant).fetch_one(p).await?))
    }

    pub async fn conversation_count(&self) -> Result<i64> {
        with_pool!(self, p => Ok(sqlx::query_scalar("SELECT COUNT(*) FROM conversations").fetch_one(p).await?))
    }
}

/// Where a conversation's forward to Signalen stands.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SignalenStatus {
    /// The note that records the forward; its delivery state is the forward's state.
    pub message_id: i64,
    /// The id Signalen returned, once delivered.
    pub signal_id: Option<String>,
    /// `wachtrij`, `afgeleverd` or `mislukt`.
    pub state: Option<String>,
    pub last_error: Option<String>,
    pub attempts: Option<i64>,
}

impl Store {
    /// Records where the resident said the report is (first coordinates win).
    pub async fn set_location(&self, id: i64, lat: f64, lon: f64) -> Result<()> {
        with_pool!(self, p => {
            sqlx::query("UPDATE conversations SET lat = $1, lon = $2 WHERE id = $3 AND lat IS NULL")
                .bind(lat).bind(lon).bind(id).execute(p).await?;
        });
        Ok(())
    }

    /// Coordinates of a conversation: its own, or those of the Open311 request that started it,
    /// with the Open311 address text when there is one.
    pub async fn location(&self, id: i64) -> Result<(Option<f64>, Option<f64>, Option<String>)> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT COALESCE(c.lat, o.lat), COALESCE(c.lon, o.lon), o.address FROM conversations c
             LEFT JOIN open311_requests o ON o.conversation_id = c.id WHERE c.id = $1")
            .bind(id).fetch_one(p).await?))
    }

    /// Queues a forward to Signalen: a note in the conversation plus its outbox item, in one
    /// transaction. A conversation is forwarded once: a second call is a `Conflict`.
    pub async fn add_signalen_forward(
        &self,
        id: i64,
        tenants: &[String],
        actor: &Actor,
        note: &str,
        payload: &str,
    ) -> Result<MessageRow> {
        if tenants.is_empty() {
            return Err(StoreError::NotFound);
        }
        let now = now_ms();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let c = scoped!(tx, id, tenants);
            let message: MessageRow = sqlx::query_as(
                "INSERT INTO messages (conversation_id, direction, channel, author_user_id, author_name, body, delivery_state, created_at)
                 VALUES ($1, 'note', 'signalen', $2, $3, $4, 'wachtrij', $5) RETURNING *")
                .bind(id).bind(actor.user_id).bind(&actor.name).bind(note).bind(now)
                .fetch_one(&mut *tx).await?;
            let n = sqlx::query("UPDATE conversations SET signalen_message_id = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND signalen_message_id IS NULL")
                .bind(message.id).bind(now).bind(id).execute(&mut *tx).await?.rows_affected();
            if n != 1 {
                return Err(StoreError::Conflict("dit gesprek is al doorgestuurd naar Signalen".into()));
            }
            sqlx::query("INSERT INTO outbox (message_id, conversation_id, channel, payload, state, next_attempt_at, created_at) VALUES ($1, $2, 'signalen', $3, 'wachtrij', $4, $4)")
                .bind(message.id).bind(id).bind(payload).bind(now).execute(&mut *tx).await?;
            event!(tx, id, &c.tenant_code, actor, "signalen", "Doorsturen naar Signalen in de wachtrij gezet", now);
            tx.commit().await?;
            Ok(message)
        })
    }

    /// Stores the id Signalen returned for a conversation's forward.
    pub async fn set_signalen_id(&self, id: i64, signal_id: &str) -> Result<()> {
        let now = now_ms();
        let actor = Actor::system();
        with_pool!(self, p => {
            let mut tx = p.begin_write().await?;
            let tenant: String = sqlx::query_scalar("SELECT tenant_code FROM conversations WHERE id = $1")
                .bind(id).fetch_one(&mut *tx).await?;
            sqlx::query("UPDATE conversations SET signalen_id = $1, updated_at = $2, version = version + 1 WHERE id = $3")
                .bind(signal_id).bind(now).bind(id).execute(&mut *tx).await?;
            event!(tx, id, &tenant, actor, "signalen", format!("Doorgestuurd naar Signalen — melding {signal_id}"), now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The forward of a conversation the caller may see, if there is one.
    pub async fn signalen_status(&self, id: i64) -> Result<Option<SignalenStatus>> {
        with_pool!(self, p => Ok(sqlx::query_as(
            "SELECT m.id AS message_id, c.signalen_id AS signal_id, m.delivery_state AS state, o.last_error, o.attempts
             FROM conversations c JOIN messages m ON m.id = c.signalen_message_id
             LEFT JOIN outbox o ON o.message_id = m.id WHERE c.id = $1")
            .bind(id).fetch_optional(p).await?))
    }
}
