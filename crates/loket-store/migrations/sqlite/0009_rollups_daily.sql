-- Coarser tiers of the rollups (see crates/loket-store/src/rollups.rs), kept in the same
-- transaction as the hourly rows, so a long period reads a few rows per day or month instead
-- of one per hour. Same columns and meaning as `rollups`, keyed by the start (Unix ms) of the
-- LOCAL day or month in Europe/Amsterdam instead of the UTC hour. Amsterdam offsets are whole
-- hours, so every hourly row lies in exactly one day and one month. Histograms are in the
-- compact form of `loket_core::metrics::Histogram::encode` (the old JSON form is read too).
CREATE TABLE rollups_daily (
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

CREATE TABLE rollups_monthly (
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
