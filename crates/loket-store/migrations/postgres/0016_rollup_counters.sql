-- Service-level and satisfaction counters in the rollups (ADR 0008), by the definitions of
-- docs/metrics.md (an outcome counts in the period it was decided), so no dashboard scans
-- conversations for them and the national view over a year reads the projections:
-- - `sla_first_due`: first-response deadlines, in the hour of the deadline (counted when the
--   conversation starts, so rows of future hours exist);
-- - `sla_first_in_time`: of those, the ones answered no later than the deadline, also in the
--   hour of the deadline (counted at the answer); due − in time − deadlines still running =
--   breached in a period;
-- - `sla_first_met`: answered no later than the deadline, in the hour of the answer;
-- - the same three for the first resolution against the deadline set at the start;
-- - `csat_1` … `csat_5`: satisfaction answers per score, in the hour the survey was created,
--   for the survey's attribution, channel and topic.
-- Existing rows are emptied: the store rebuilds every rollup from the raw tables at the next
-- start (`fill_rollup_tiers`), which counts these columns too.
ALTER TABLE rollups ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN sla_first_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN sla_resolution_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_first_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_resolution_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_daily ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_first_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_resolution_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_monthly ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_first_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_resolution_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_daily ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_first_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_resolution_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_national_monthly ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_first_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_resolution_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN sla_resolution_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_1 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_2 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_3 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_4 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_daily ADD COLUMN csat_5 BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_first_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_first_in_time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_first_met BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_resolution_due BIGINT NOT NULL DEFAULT 0;
ALTER TABLE rollups_tenant_monthly ADD COLUMN sla_resolution_in_time BIGINT NOT NULL DEFAULT 0;
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

-- The resolution deadline set when the conversation started: a new message after a resolution
-- sets a new `resolution_due` for the inbox, but the service level judges the first
-- resolution against the first deadline. Older rows: the best fact left.
ALTER TABLE conversations ADD COLUMN initial_resolution_due BIGINT;
UPDATE conversations SET initial_resolution_due = resolution_due;

-- Conversations still waiting for their first response or first resolution, by deadline: the
-- deadlines not passed yet are not decided (service level) yet.
CREATE INDEX conversations_first_pending ON conversations (first_response_due) WHERE first_response_at IS NULL;
CREATE INDEX conversations_resolution_pending ON conversations (resolution_due) WHERE first_resolved_at IS NULL;

-- A fixed 1-in-64 sample of the conversations for the timing sample of long periods (the
-- national view): a year of the whole country is some 30,000 entries instead of two million.
CREATE INDEX conversations_sample64 ON conversations (created_at, behalf_code, first_response_at, first_resolved_at, handle_seconds) WHERE id % 64 = 0;
