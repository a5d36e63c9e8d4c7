-- The External API's page/limit lists answer with "total" (API.md §13). Counting a big team's
-- bookings row by row on every page would cost more than the page itself, so the rows per
-- (team, mode, status) are counted here, kept by statement-level triggers in the same transaction
-- as the change (exact, never stale), and summed on read.
--
-- Hot rows: every booking insert of a team would update the same count row and queue on its lock
-- until commit. Each key has up to 8 shard rows instead, chosen by the backend's pid: concurrent
-- transactions (different connections) mostly touch different rows; a reader sums the shards.
--
-- Stored status is counted, not the status a reader sees: a HELD row whose hold lapsed reads as
-- EXPIRED before the sweeper rewrites it. HELD rows are few (the sweeper expires them), so a
-- reader counts them live (bookings_held_scope_idx) and moves the lapsed ones to EXPIRED.
CREATE TABLE list_counts (
  resource text NOT NULL CHECK (resource IN ('bookings', 'listings')),
  team_id text NOT NULL,
  mode text NOT NULL,
  -- a booking's stored status, a listing's state
  status text NOT NULL,
  shard smallint NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (resource, team_id, mode, status, shard)
);

CREATE INDEX bookings_held_scope_idx ON bookings (team_id, mode, hold_expires_at) WHERE status = 'HELD';

-- One function per table (the column differs); per statement, not per row, so a bulk load adds
-- one grouped upsert, and the deltas are applied in key order (two statements never take the same
-- count rows in opposite orders).
CREATE FUNCTION list_counts_bookings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  s smallint := pg_backend_pid() % 8;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO list_counts AS c (resource, team_id, mode, status, shard, n)
    SELECT 'bookings', team_id, mode, status, s, count(*) FROM new_rows GROUP BY team_id, mode, status ORDER BY team_id, mode, status
    ON CONFLICT (resource, team_id, mode, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO list_counts AS c (resource, team_id, mode, status, shard, n)
    SELECT 'bookings', team_id, mode, status, s, -count(*) FROM old_rows GROUP BY team_id, mode, status ORDER BY team_id, mode, status
    ON CONFLICT (resource, team_id, mode, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSE
    INSERT INTO list_counts AS c (resource, team_id, mode, status, shard, n)
    SELECT 'bookings', d.team_id, d.mode, d.status, s, sum(d.delta) FROM (
      SELECT o.team_id, o.mode, o.status, -1 AS delta FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE (o.team_id, o.mode, o.status) IS DISTINCT FROM (w.team_id, w.mode, w.status)
      UNION ALL
      SELECT w.team_id, w.mode, w.status, 1 FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE (o.team_id, o.mode, o.status) IS DISTINCT FROM (w.team_id, w.mode, w.status)
    ) d GROUP BY d.team_id, d.mode, d.status HAVING sum(d.delta) <> 0 ORDER BY d.team_id, d.mode, d.status
    ON CONFLICT (resource, team_id, mode, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION list_counts_listings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  s smallint := pg_backend_pid() % 8;
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO list_counts AS c (resource, team_id, mode, status, shard, n)
    SELECT 'listings', team_id, mode, state, s, count(*) FROM new_rows GROUP BY team_id, mode, state ORDER BY team_id, mode, state
    ON CONFLICT (resource, team_id, mode, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO list_counts AS c (resource, team_id, mode, status, shard, n)
    SELECT 'listings', team_id, mode, state, s, -count(*) FROM old_rows GROUP BY team_id, mode, state ORDER BY team_id, mode, state
    ON CONFLICT (resource, team_id, mode, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  ELSE
    INSERT INTO list_counts AS c (resource, team_id, mode, status, shard, n)
    SELECT 'listings', d.team_id, d.mode, d.state, s, sum(d.delta) FROM (
      SELECT o.team_id, o.mode, o.state, -1 AS delta FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE (o.team_id, o.mode, o.state) IS DISTINCT FROM (w.team_id, w.mode, w.state)
      UNION ALL
      SELECT w.team_id, w.mode, w.state, 1 FROM old_rows o JOIN new_rows w ON w.id = o.id
        WHERE (o.team_id, o.mode, o.state) IS DISTINCT FROM (w.team_id, w.mode, w.state)
    ) d GROUP BY d.team_id, d.mode, d.state HAVING sum(d.delta) <> 0 ORDER BY d.team_id, d.mode, d.state
    ON CONFLICT (resource, team_id, mode, status, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
  END IF;
  RETURN NULL;
END
$$;

-- The rows already there are counted under a SHARE lock (no write can slip between the count and
-- the triggers), in the migration's own transaction.
LOCK TABLE bookings, listings IN SHARE MODE;
INSERT INTO list_counts (resource, team_id, mode, status, shard, n)
SELECT 'bookings', team_id, mode, status, 0, count(*) FROM bookings GROUP BY team_id, mode, status;
INSERT INTO list_counts (resource, team_id, mode, status, shard, n)
SELECT 'listings', team_id, mode, state, 0, count(*) FROM listings GROUP BY team_id, mode, state;

-- Transition tables need one trigger per event.
CREATE TRIGGER bookings_count_insert AFTER INSERT ON bookings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_bookings();
CREATE TRIGGER bookings_count_update AFTER UPDATE ON bookings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_bookings();
CREATE TRIGGER bookings_count_delete AFTER DELETE ON bookings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_bookings();
CREATE TRIGGER listings_count_insert AFTER INSERT ON listings REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_listings();
CREATE TRIGGER listings_count_update AFTER UPDATE ON listings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_listings();
CREATE TRIGGER listings_count_delete AFTER DELETE ON listings REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION list_counts_listings();
