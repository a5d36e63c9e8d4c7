-- Lists for a token that covers every team of its partner walk one partner-wide index in order
-- (see pageSql in src/platform/keyset.ts): one index per list and sort key, beside the per-team ones.
CREATE INDEX listings_partner_created_idx ON listings (partner_id, mode, created_at, id);
CREATE INDEX listings_partner_updated_idx ON listings (partner_id, mode, updated_at, id);
CREATE INDEX customers_partner_created_idx ON customers (partner_id, mode, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX customers_partner_updated_idx ON customers (partner_id, mode, updated_at, id) WHERE deleted_at IS NULL;
-- sort=updated_at on customers had no index of its own: every page sorted the team's customers
CREATE INDEX customers_scope_updated_idx ON customers (team_id, mode, updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX bookings_partner_created_idx ON bookings (partner_id, mode, created_at, id);
CREATE INDEX bookings_partner_check_in_idx ON bookings (partner_id, mode, check_in, id);
CREATE INDEX bookings_partner_updated_idx ON bookings (partner_id, mode, updated_at, id);
CREATE INDEX events_partner_created_idx ON events (partner_id, mode, created_at, id);
