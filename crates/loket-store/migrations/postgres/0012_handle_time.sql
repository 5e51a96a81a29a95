-- Handle time measured from agent activity: per agent and conversation the time of the last
-- activity (opening the conversation, typing, a reply or note, a change); each action adds the
-- time since then, at most ten minutes, to the conversation's handle_seconds.
ALTER TABLE conversations ADD COLUMN handle_seconds BIGINT NOT NULL DEFAULT 0;
CREATE TABLE agent_activity (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    last_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
