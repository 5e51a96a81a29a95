//! Rows as the store hands them out. Enum-valued columns are stored as their Dutch/English
//! slugs and parsed by `loket-core` at the edge that needs the type.

use serde::Serialize;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct TenantRow {
    pub code: String,
    pub kind: String,
    pub name: String,
    pub display_name: String,
    pub province_code: Option<String>,
    pub pool_code: Option<String>,
    /// JSON of `loket_core::tenant::TenantSettings`.
    pub settings: String,
    pub inhabitants: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub language: String,
    pub max_open: i64,
    pub online: bool,
    pub last_assigned_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct MembershipRow {
    pub user_id: i64,
    pub tenant_code: String,
    pub role: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct TeamRow {
    pub id: i64,
    pub tenant_code: String,
    pub name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub csrf: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub tenant_code: String,
    pub channel: String,
    pub name: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ConversationRow {
    pub id: i64,
    pub tenant_code: String,
    pub origin_tenant_code: String,
    pub channel: String,
    pub contact_id: i64,
    pub identity_id: i64,
    pub api_key_id: Option<i64>,
    pub subject: String,
    pub state: String,
    pub priority: String,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub topic: Option<String>,
    pub language: Option<String>,
    #[serde(skip)]
    pub widget_token: Option<String>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_inbound_at: i64,
    pub first_response_at: Option<i64>,
    pub first_response_due: Option<i64>,
    pub resolution_due: Option<i64>,
    pub resolved_at: Option<i64>,
    /// JSON of what the text engine found when the conversation started.
    pub analysis: Option<String>,
    /// The channel account replies leave through (e-mail, Mastodon, Meta).
    pub channel_account_id: Option<i64>,
}

/// A line in the inbox: the conversation plus what the list shows of it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct InboxRow {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub conversation: ConversationRow,
    pub contact_name: String,
    pub assignee_name: Option<String>,
    pub team_name: Option<String>,
    pub last_message: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub conversation_id: i64,
    pub direction: String,
    pub channel: String,
    pub external_id: Option<String>,
    pub author_user_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub sent_as_tenant: Option<String>,
    pub delivery_state: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct EventRow {
    pub id: i64,
    pub conversation_id: i64,
    pub tenant_code: String,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub kind: String,
    pub detail: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct TemplateRow {
    pub id: i64,
    pub tenant_code: Option<String>,
    pub key: String,
    pub title: String,
    pub body: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ContactRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct IdentityRow {
    pub id: i64,
    pub contact_id: i64,
    pub channel: String,
    pub external_id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub message_id: i64,
    pub conversation_id: i64,
    pub channel: String,
    pub payload: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SearchHit {
    pub kind: String,
    pub tenant_code: String,
    pub tenant_name: String,
    pub conversation_id: Option<i64>,
    pub contact_id: Option<i64>,
    pub ref_id: i64,
    pub snippet: String,
}

/// An inbound message as intake hands it to the store, already validated and routed.
#[derive(Debug, Clone)]
pub struct NewInbound {
    pub tenant_code: String,
    pub channel: String,
    pub external_id: String,
    pub author_id: String,
    pub author_name: String,
    pub text: String,
    pub sent_at: i64,
    pub api_key_id: Option<i64>,
    /// For the web chat: the resident's resumable conversation token.
    pub widget_token: Option<String>,
    pub priority: String,
    pub topic: Option<String>,
    pub language: Option<String>,
    pub first_response_due: Option<i64>,
    pub resolution_due: Option<i64>,
    /// Evidence and other notes for the activity history (kind, detail).
    pub events: Vec<(String, String)>,
    /// JSON of the text analysis, kept with a new conversation.
    pub analysis: Option<String>,
    /// An Open311 service request: always starts its own conversation, recorded with it in the
    /// same transaction.
    pub open311: Option<NewOpen311>,
    /// Came in on a configured channel account (e-mail, Mastodon, Meta).
    pub channel_info: Option<crate::NewChannelInfo>,
}

/// What an Open311 client posted, as stored next to the conversation it started.
#[derive(Debug, Clone, Default)]
pub struct NewOpen311 {
    pub token: String,
    pub jurisdiction_id: String,
    pub service_code: String,
    /// Already redacted of personal data.
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub media_url: Option<String>,
}

/// An Open311 service request with the state of its conversation.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Open311Row {
    pub conversation_id: i64,
    pub token: String,
    pub jurisdiction_id: String,
    pub service_code: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub media_url: Option<String>,
    pub created_at: i64,
    /// Where the conversation is now (the municipality it was routed or transferred to).
    pub tenant_code: String,
    pub state: String,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}

/// Filters of `GET requests`; `jurisdiction` matches the entry or the current municipality.
#[derive(Debug, Clone, Default)]
pub struct Open311Filter {
    pub jurisdiction: String,
    /// When given, only these conversation ids (other filters still scope by jurisdiction).
    pub ids: Vec<i64>,
    pub service_codes: Vec<String>,
    /// Inclusive bounds on `created_at`, Unix milliseconds.
    pub from: i64,
    pub until: i64,
    /// `Some(true)`: only closed (resolved or closed); `Some(false)`: only open.
    pub closed: Option<bool>,
    pub limit: i64,
}

/// A human correction of an automatic decision.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct CorrectionRow {
    pub id: i64,
    pub conversation_id: i64,
    pub kind: String,
    pub old_value: Option<String>,
    pub new_value: String,
    pub text: String,
    pub user_id: Option<i64>,
    pub created_at: i64,
}

/// What intake did with an inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Ingested {
    pub conversation_id: i64,
    pub message_id: i64,
    /// False when the (channel, external id) was seen before: nothing was written.
    pub created: bool,
    pub new_conversation: bool,
}

/// Inbox filters; tenants are always given: the set the user may see.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub tenants: Vec<String>,
    pub states: Vec<String>,
    pub assignee: Option<i64>,
    pub unassigned: bool,
    pub team_ids: Vec<i64>,
    pub priority: Option<String>,
    pub label: Option<String>,
    /// Only conversations whose first-response or resolution deadline is before this instant.
    pub due_before: Option<i64>,
    pub limit: i64,
}
