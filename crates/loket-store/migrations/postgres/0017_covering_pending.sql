-- The deadlines still running (`Store::deadlines_running`) also count the conversations that
-- started in the period: with the attribution and the start in the partial indexes, the
-- national view reads them from the index alone instead of looking up ~15,000 rows.
DROP INDEX conversations_first_pending;
DROP INDEX conversations_resolution_pending;
CREATE INDEX conversations_first_pending ON conversations (first_response_due, behalf_code, created_at) WHERE first_response_at IS NULL;
CREATE INDEX conversations_resolution_pending ON conversations (resolution_due, behalf_code, created_at) WHERE first_resolved_at IS NULL;
-- SQLite keeps the row id in every index; PostgreSQL needs it named, or the sample's
-- `id % n = 0` fetches every row of the range from the table (a year of the country: 32,000
-- heap pages). With it, the timing sample is an index-only scan as on SQLite.
DROP INDEX conversations_sample64;
CREATE INDEX conversations_sample64 ON conversations
    (created_at, behalf_code, first_response_at, first_resolved_at, handle_seconds) INCLUDE (id) WHERE id % 64 = 0;
DROP INDEX conversations_behalf_timing;
CREATE INDEX conversations_behalf_timing ON conversations
    (behalf_code, created_at, first_response_at, first_response_due, first_resolved_at, resolution_due, handle_seconds) INCLUDE (id);
DROP INDEX conversations_created_timing;
CREATE INDEX conversations_created_timing ON conversations
    (created_at, first_response_at, first_response_due, first_resolved_at, resolution_due, handle_seconds) INCLUDE (behalf_code, id);
