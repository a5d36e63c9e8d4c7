-- Per-partner rate-limit overrides (API.md §8: "configurable per partner"), set with `tvb limits set`.
CREATE TABLE partner_rate_limits (
  partner_id text NOT NULL REFERENCES partners (id),
  bucket text NOT NULL CHECK (bucket IN ('search', 'booking_create', 'ticket_issue', 'read', 'write')),
  limit_per_minute integer NOT NULL CHECK (limit_per_minute BETWEEN 1 AND 1000000),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (partner_id, bucket)
);
