-- Idempotency keys (API.md §8): scoped to partner + mode, kept 24 h. A row is written in the same
-- transaction as the request's business writes, so it exists exactly when they do.
CREATE TABLE idempotency_keys (
  partner_id text NOT NULL REFERENCES partners (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  key text NOT NULL,
  fingerprint text NOT NULL,
  response_status integer NOT NULL,
  response_headers jsonb NOT NULL,
  response_body text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (partner_id, mode, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);
