-- What the text engine found when a conversation started (JSON: municipality, candidates,
-- topic, sentiment, urgency, language), and every human correction of an automatic decision:
-- the training data of later versions of the engine.
ALTER TABLE conversations ADD COLUMN analysis TEXT;

CREATE TABLE corrections (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    kind TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT NOT NULL,
    -- The resident's first message with personal data redacted.
    text TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX corrections_kind ON corrections (kind, created_at);
