-- A partner's test clock (API.md §9): how far its test-mode time runs ahead of real time. A row
-- exists only once the partner has advanced it (no row = offset 0); it only ever grows. Live mode
-- never reads this table.
CREATE TABLE test_clocks (
  partner_id text PRIMARY KEY REFERENCES partners (id) ON DELETE CASCADE,
  offset_seconds integer NOT NULL CHECK (offset_seconds >= 0),
  updated_at timestamptz NOT NULL
);

-- The hold sweeps' pass over partners whose test clock is ahead walks each such partner's test
-- holds by expiry (the real-time pass keeps bookings_lapsed_holds_idx / bookings_hold_expiring_idx).
CREATE INDEX bookings_test_holds_idx ON bookings (partner_id, hold_expires_at) WHERE status = 'HELD' AND mode = 'test';
