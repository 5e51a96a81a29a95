-- Management insight: a tenant's settings for its figures, the roster behind the staffing grid,
-- and the maturity self-assessments (see crates/loket-store/src/insight.rs).

-- Cost settings (whole euro cents) and the opt-in to be named in the anonymous benchmark.
-- The number of inhabitants itself is tenants.inhabitants; inhabitants_edited_at is set when a
-- supervisor changed it (NULL: still the seeded public figure).
CREATE TABLE insight_settings (
    tenant_code TEXT PRIMARY KEY REFERENCES tenants(code),
    hourly_cost_cents BIGINT NOT NULL DEFAULT 0 CHECK (hourly_cost_cents >= 0),
    monthly_tool_cost_cents BIGINT NOT NULL DEFAULT 0 CHECK (monthly_tool_cost_cents >= 0),
    benchmark_named BOOLEAN NOT NULL DEFAULT FALSE,
    inhabitants_edited_at BIGINT,
    updated_by BIGINT REFERENCES users(id),
    updated_at BIGINT NOT NULL
);

-- One shift of the template week: who works when, for which tenant or pool (unit_code).
-- weekday 0 = Monday; minutes since local midnight; end <= start runs past midnight.
CREATE TABLE roster_shifts (
    id INTEGER PRIMARY KEY,
    unit_code TEXT NOT NULL REFERENCES tenants(code),
    user_id BIGINT NOT NULL REFERENCES users(id),
    weekday BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute BIGINT NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute BIGINT NOT NULL CHECK (end_minute BETWEEN 0 AND 1439),
    created_at BIGINT NOT NULL
);
CREATE INDEX roster_shifts_unit ON roster_shifts (unit_code, weekday);

-- A maturity self-assessment per tenant and date (a second one on the same date replaces it).
-- answers is a JSON object question id -> level 1..5 (loket_core::maturity::Answers).
CREATE TABLE maturity_assessments (
    id INTEGER PRIMARY KEY,
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    assessed_on TEXT NOT NULL,
    answers TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_code, assessed_on)
);
