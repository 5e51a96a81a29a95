-- Loket schema, SQLite flavour. Timestamps are Unix milliseconds (BIGINT) on both backends so
-- that one set of queries serves SQLite and PostgreSQL.
CREATE TABLE tenants (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    display_name TEXT NOT NULL,
    province_code TEXT,
    pool_code TEXT REFERENCES tenants(code),
    settings TEXT NOT NULL,
    inhabitants BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT 'nl',
    max_open BIGINT NOT NULL DEFAULT 8,
    online BOOLEAN NOT NULL DEFAULT FALSE,
    last_assigned_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    user_id BIGINT NOT NULL REFERENCES users(id),
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, tenant_code, role)
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    name TEXT NOT NULL,
    UNIQUE (tenant_code, name)
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    channel TEXT NOT NULL,
    name TEXT NOT NULL,
    webhook_url TEXT,
    webhook_secret TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    channel TEXT NOT NULL,
    external_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (channel, external_id)
);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    origin_tenant_code TEXT NOT NULL REFERENCES tenants(code),
    channel TEXT NOT NULL,
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    identity_id BIGINT NOT NULL REFERENCES identities(id),
    api_key_id BIGINT REFERENCES api_keys(id),
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    priority TEXT NOT NULL,
    team_id BIGINT REFERENCES teams(id),
    assignee_id BIGINT REFERENCES users(id),
    topic TEXT,
    language TEXT,
    widget_token TEXT UNIQUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_inbound_at BIGINT NOT NULL,
    first_response_at BIGINT,
    first_response_due BIGINT,
    resolution_due BIGINT,
    resolved_at BIGINT
);
CREATE INDEX conversations_inbox ON conversations (tenant_code, state, priority, created_at);
CREATE INDEX conversations_identity ON conversations (identity_id, tenant_code);
CREATE INDEX conversations_contact ON conversations (contact_id, tenant_code);

CREATE TABLE conversation_labels (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    label TEXT NOT NULL,
    PRIMARY KEY (conversation_id, label)
);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    direction TEXT NOT NULL,
    channel TEXT NOT NULL,
    external_id TEXT,
    author_user_id BIGINT REFERENCES users(id),
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_as_tenant TEXT,
    delivery_state TEXT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX messages_external ON messages (channel, external_id);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- Append-only activity history: rows are only ever inserted.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    tenant_code TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_conversation ON events (conversation_id, id);

CREATE TABLE templates (
    id INTEGER PRIMARY KEY,
    tenant_code TEXT REFERENCES tenants(code),
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX templates_key ON templates (COALESCE(tenant_code, ''), key);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    channel TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

-- Full-text search documents: `tokens` holds Dutch-stemmed, diacritic-folded tokens made in
-- Rust, so both backends index the same words.
CREATE TABLE search_docs (
    id INTEGER PRIMARY KEY,
    tenant_code TEXT NOT NULL,
    conversation_id BIGINT,
    contact_id BIGINT,
    kind TEXT NOT NULL,
    ref_id BIGINT NOT NULL,
    snippet TEXT NOT NULL,
    tokens TEXT NOT NULL
);
CREATE VIRTUAL TABLE search_fts USING fts5(tokens, content='search_docs', content_rowid='id');
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts(rowid, tokens) VALUES (new.id, new.tokens);
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens);
END;
CREATE TRIGGER search_docs_au AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, tokens) VALUES ('delete', old.id, old.tokens);
    INSERT INTO search_fts(rowid, tokens) VALUES (new.id, new.tokens);
END;
