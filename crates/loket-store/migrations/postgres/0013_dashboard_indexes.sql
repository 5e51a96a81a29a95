-- Indexes for the dashboard's reads that the rollups cannot answer: the open backlog of the
-- municipalities a pool or the national view covers (by the tenant of origin and state), and
-- satisfaction of all municipalities in a period (the benchmark).
CREATE INDEX IF NOT EXISTS conversations_origin_state ON conversations (origin_tenant_code, state);
CREATE INDEX IF NOT EXISTS csat_surveys_created ON csat_surveys (created_at);
CREATE INDEX IF NOT EXISTS conversations_created ON conversations (created_at);
