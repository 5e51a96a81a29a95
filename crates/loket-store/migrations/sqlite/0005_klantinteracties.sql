-- Klantinteracties (Open Klant): per-tenant connection settings and one record per resolved
-- conversation that is (being) registered there. Independent of migration 0004.

-- The API token is stored encrypted (ChaCha20-Poly1305, key outside the database): only
-- token_enc is ever written, and it is never read back out to pages or API responses.
CREATE TABLE ki_settings (
    tenant_code TEXT PRIMARY KEY REFERENCES tenants(code),
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    base_url TEXT NOT NULL DEFAULT '',
    token_enc TEXT,
    redact_pii BOOLEAN NOT NULL DEFAULT TRUE,
    -- Optional actor that back-office follow-ups (internetaken) are assigned to.
    actor_uuid TEXT,
    updated_at BIGINT NOT NULL
);

-- One registration per resolution. The outbox item delivering it points at the note message
-- (message_id) that shows its state in the conversation. The uuids and the step reached are
-- stored after each call so a retry after a partial failure continues where it stopped and
-- never creates a second klantcontact.
CREATE TABLE ki_records (
    id INTEGER PRIMARY KEY,
    message_id BIGINT NOT NULL UNIQUE REFERENCES messages(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    tenant_code TEXT NOT NULL,
    follow_up TEXT,
    step TEXT NOT NULL DEFAULT 'klantcontact',
    klantcontact_uuid TEXT,
    betrokkene_uuid TEXT,
    onderwerpobject_uuid TEXT,
    internetaak_uuid TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX ki_records_conversation ON ki_records (conversation_id);
