-- Management-information rollups, kept at intake time in the same transaction as the event
-- (see crates/loket-store/src/rollups.rs). One row per tenant (on whose behalf: a pool's
-- conversation counts for the municipality it came from), UTC hour (Unix ms of the hour's
-- start), channel and topic ('' = no topic, "onbekend"). Histograms are the serialised
-- `loket_core::metrics::Histogram` in clock seconds; NULL means empty.
CREATE TABLE rollups (
    tenant_code TEXT NOT NULL,
    hour_start BIGINT NOT NULL,
    channel TEXT NOT NULL,
    topic TEXT NOT NULL,
    inbound BIGINT NOT NULL DEFAULT 0,
    outbound BIGINT NOT NULL DEFAULT 0,
    new_conversations BIGINT NOT NULL DEFAULT 0,
    first_responses BIGINT NOT NULL DEFAULT 0,
    first_response_hist TEXT,
    resolutions BIGINT NOT NULL DEFAULT 0,
    resolution_hist TEXT,
    reopens BIGINT NOT NULL DEFAULT 0,
    pool_handled BIGINT NOT NULL DEFAULT 0,
    sentiment_positive BIGINT NOT NULL DEFAULT 0,
    sentiment_neutral BIGINT NOT NULL DEFAULT 0,
    sentiment_negative BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_code, hour_start, channel, topic)
);

-- Facts the rollups count that the conversation row did not keep: the first resolution (a
-- reopen clears resolved_at), the sentiment of the first message, and whether a pool sent
-- the first response.
ALTER TABLE conversations ADD COLUMN first_resolved_at BIGINT;
ALTER TABLE conversations ADD COLUMN sentiment TEXT;
ALTER TABLE conversations ADD COLUMN handled_by_pool BOOLEAN NOT NULL DEFAULT FALSE;
-- For the raw-scan baseline (and the consistency check) by the tenant of origin.
CREATE INDEX conversations_origin ON conversations (origin_tenant_code, created_at);
CREATE INDEX conversations_tenant_created ON conversations (tenant_code, created_at);
