-- Service-level and satisfaction counters in the rollups (ADR 0008), so the national view
-- over a year reads them from the projections instead of scanning two million conversations:
-- - `sla_first_due`, `sla_resolution_due`: conversations with a first-response or resolution
--   deadline, counted in the hour the conversation started;
-- - `sla_first_met`, `sla_resolution_met`: of those, answered or first resolved no later than
--   the deadline, counted in the same hour (the start) when it happens;
-- - `csat_1` … `csat_5`: satisfaction answers per score, in the hour the survey was created,
--   for the survey's attribution, channel and topic.
-- Existing rows are emptied: the store rebuilds every rollup from the raw tables at the next
-- start (`fill_rollup_tiers`), which counts these columns too.
ALTER TABLE rollups ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;

DELETE FROM rollups;
DELETE FROM rollups_daily;
DELETE FROM rollups_monthly;
DELETE FROM rollups_national_daily;
DELETE FROM rollups_national_monthly;
DELETE FROM rollups_tenant_daily;
DELETE FROM rollups_tenant_monthly;

-- Conversations still waiting for their first response or first resolution, by deadline: the
-- few whose deadline has not passed yet are not counted in the service level yet.
CREATE INDEX conversations_first_pending ON conversations (first_response_due) WHERE first_response_at IS NULL;
CREATE INDEX conversations_resolution_pending ON conversations (resolution_due) WHERE first_resolved_at IS NULL;

-- A fixed 1-in-64 sample of the conversations for the timing sample of long periods (the
-- national view): a year of the whole country is some 30,000 entries instead of two million.
CREATE INDEX conversations_sample64 ON conversations (created_at, behalf_code, first_response_at, first_resolved_at, handle_seconds) WHERE id % 64 = 0;
