-- Forwarding reports to the municipality's Signalen installation. The forward is a note in the
-- conversation (`signalen_message_id`) whose delivery runs through the outbox like any reply, so
-- retries, failures and "opnieuw proberen" work the same; `signalen_id` is the id Signalen
-- returned. `lat`/`lon`: where the resident said the report is, when a channel sent coordinates.
ALTER TABLE conversations ADD COLUMN lat DOUBLE PRECISION;
ALTER TABLE conversations ADD COLUMN lon DOUBLE PRECISION;
ALTER TABLE conversations ADD COLUMN signalen_message_id BIGINT REFERENCES messages(id);
ALTER TABLE conversations ADD COLUMN signalen_id TEXT;
