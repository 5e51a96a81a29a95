-- Satisfaction survey (CSAT): at most one per conversation, created when it is first resolved.
-- Team, agent and topic are copied at that moment, so later changes do not move old answers.
-- The token is the resident's capability for the survey page and the widget answer.
CREATE TABLE csat_surveys (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL UNIQUE REFERENCES conversations(id),
    tenant_code TEXT NOT NULL REFERENCES tenants(code),
    team_id BIGINT,
    agent_id BIGINT,
    topic TEXT,
    channel TEXT NOT NULL,
    token TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    answered_at BIGINT,
    score BIGINT CHECK (score BETWEEN 1 AND 5),
    comment TEXT
);
CREATE INDEX csat_surveys_tenant_created ON csat_surveys (tenant_code, created_at);
