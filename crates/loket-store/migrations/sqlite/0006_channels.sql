-- Resident channel accounts (e-mail, Mastodon, WhatsApp, Messenger, Instagram), one row per
-- configured account of a tenant, with its health. Secrets are stored sealed
-- (ChaCha20-Poly1305, key outside the database) in `secrets`, a JSON object field → sealed value.
CREATE TABLE channel_accounts (
    id INTEGER PRIMARY KEY,
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    -- Random path segment of a push channel's webhook URL (/kanalen/{webhook_key}/webhook).
    webhook_key TEXT NOT NULL UNIQUE,
    settings TEXT NOT NULL,
    secrets TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    -- Pull channels: the adapter's position, stored only after what it covers is ingested.
    cursor TEXT,
    connected BOOLEAN NOT NULL DEFAULT FALSE,
    last_error TEXT,
    last_error_at BIGINT,
    last_in_at BIGINT,
    last_out_at BIGINT,
    errors BIGINT NOT NULL DEFAULT 0,
    bad_signatures BIGINT NOT NULL DEFAULT 0,
    -- Automatic replies (out-of-office) and other messages deliberately not answered.
    ignored BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX channel_accounts_tenant ON channel_accounts (tenant_code);

-- The account a conversation came in on: replies leave through it.
ALTER TABLE conversations ADD COLUMN channel_account_id BIGINT REFERENCES channel_accounts(id);
-- What the adapter needs to answer this message (subject and Message-ID, status id, ...).
ALTER TABLE messages ADD COLUMN reply_context TEXT;

CREATE TABLE attachments (
    id INTEGER PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BLOB,
    reference TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

-- Public mentions not addressed to the municipality: kept for monitoring, not in the inbox.
CREATE TABLE monitoring_mentions (
    id INTEGER PRIMARY KEY,
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (channel, external_id)
);
