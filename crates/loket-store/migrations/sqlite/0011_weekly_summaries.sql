-- The weekly summary mail to supervisors: one row per tenant, week (the Monday, ISO date) and
-- recipient, claimed before sending so that two nodes never both send it; a failed send is
-- retried a few times.
CREATE TABLE weekly_summaries (
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    week_start TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (tenant_code, week_start, user_id)
);
