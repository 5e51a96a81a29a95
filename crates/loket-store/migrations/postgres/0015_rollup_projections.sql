-- Projections of the daily and monthly rollups (ADR 0008, crates/loket-store/src/rollups.rs),
-- kept in the same transaction as the rows they sum, so the national view and the views per
-- municipality read a few thousand rows for a year instead of millions:
-- - `rollups_national_*`: all tenants summed per channel and topic (`tenant_code` is '');
-- - `rollups_tenant_*`: all channels and topics summed per tenant (`channel`, `topic` '').
-- Same columns and meaning as `rollups_daily` / `rollups_monthly`; filled from them by the
-- store after this migration.

CREATE TABLE rollups_national_daily (
    tenant_code TEXT NOT NULL,
    day_start BIGINT NOT NULL,
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
    PRIMARY KEY (tenant_code, day_start, channel, topic)
);

CREATE TABLE rollups_national_monthly (
    tenant_code TEXT NOT NULL,
    month_start BIGINT NOT NULL,
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
    PRIMARY KEY (tenant_code, month_start, channel, topic)
);

CREATE TABLE rollups_tenant_daily (
    tenant_code TEXT NOT NULL,
    day_start BIGINT NOT NULL,
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
    PRIMARY KEY (tenant_code, day_start, channel, topic)
);

-- Every tenant at once (the national view and the benchmark).
CREATE INDEX rollups_tenant_daily_start ON rollups_tenant_daily (day_start);

CREATE TABLE rollups_tenant_monthly (
    tenant_code TEXT NOT NULL,
    month_start BIGINT NOT NULL,
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
    PRIMARY KEY (tenant_code, month_start, channel, topic)
);

-- Every tenant at once (the national view and the benchmark).
CREATE INDEX rollups_tenant_monthly_start ON rollups_tenant_monthly (month_start);
