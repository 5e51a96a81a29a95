-- The deadlines still running (`Store::deadlines_running`) also count the conversations that
-- started in the period: with the attribution and the start in the partial indexes, the
-- national view reads them from the index alone instead of looking up ~15,000 rows.
DROP INDEX conversations_first_pending;
DROP INDEX conversations_resolution_pending;
CREATE INDEX conversations_first_pending ON conversations (first_response_due, behalf_code, created_at) WHERE first_response_at IS NULL;
CREATE INDEX conversations_resolution_pending ON conversations (resolution_due, behalf_code, created_at) WHERE first_resolved_at IS NULL;
