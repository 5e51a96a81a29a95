-- Open311 GeoReport v2 service requests: each one started its own conversation through
-- /open311/v2. The public service_request_id is the conversation id; the token is a second,
-- unguessable handle (GET tokens/{token}). The resident's contact details live only in the
-- conversation, never here: everything in this table may be shown on the public API.
CREATE TABLE open311_requests (
    id INTEGER PRIMARY KEY,
    conversation_id BIGINT NOT NULL UNIQUE REFERENCES conversations(id),
    token TEXT NOT NULL UNIQUE,
    -- The jurisdiction the client posted to (a municipality, or NL for the national entry).
    jurisdiction_id TEXT NOT NULL REFERENCES tenants(code),
    service_code TEXT NOT NULL,
    -- The description with personal data redacted, as the public API shows it.
    description TEXT NOT NULL,
    lat DOUBLE PRECISION,
    lon DOUBLE PRECISION,
    address TEXT,
    address_id TEXT,
    zipcode TEXT,
    media_url TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX open311_requests_jurisdiction ON open311_requests (jurisdiction_id, created_at);
