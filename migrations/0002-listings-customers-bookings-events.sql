-- Secrets every server instance shares (the cursor signing key), made once by the database.
CREATE TABLE server_secrets (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- 244 random bits (two v4 UUIDs, from the server's strong random source) hashed to 32 bytes;
-- core PostgreSQL 13+, no extension
INSERT INTO server_secrets (name, value) VALUES ('cursor_signing_key', encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'));

CREATE TABLE listings (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  team_id text NOT NULL REFERENCES teams (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  state text NOT NULL CHECK (state IN ('ACTIVE', 'INACTIVE', 'ARCHIVED')),
  country_code text NOT NULL,
  province_code text,
  city text NOT NULL,
  line1 text NOT NULL,
  max_guests integer NOT NULL CHECK (max_guests > 0),
  bedrooms integer NOT NULL CHECK (bedrooms >= 0),
  -- money in integer minor units of currency (VND: dong; USD: cents)
  nightly_rate_minor bigint NOT NULL CHECK (nightly_rate_minor > 0),
  currency text NOT NULL,
  timezone text NOT NULL,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX listings_scope_created_idx ON listings (team_id, mode, created_at, id);
CREATE INDEX listings_scope_updated_idx ON listings (team_id, mode, updated_at, id);

CREATE TABLE customers (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  team_id text NOT NULL REFERENCES teams (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  name text NOT NULL,
  email text,
  phone text,
  language text,
  country_code text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  -- customers are deleted softly: their past bookings keep pointing at them
  deleted_at timestamptz
);
CREATE INDEX customers_scope_created_idx ON customers (team_id, mode, created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE bookings (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  team_id text NOT NULL REFERENCES teams (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  listing_id text NOT NULL REFERENCES listings (id),
  customer_id text NOT NULL REFERENCES customers (id),
  status text NOT NULL CHECK (status IN ('HELD', 'CONFIRMED', 'ISSUED', 'CANCELLED', 'EXPIRED')),
  check_in date NOT NULL,
  check_out date NOT NULL,
  stay daterange GENERATED ALWAYS AS (daterange(check_in, check_out, '[)')) STORED,
  guests integer NOT NULL CHECK (guests > 0),
  nights integer NOT NULL CHECK (nights BETWEEN 1 AND 90),
  nightly_rate_minor bigint NOT NULL,
  total_minor bigint NOT NULL,
  currency text NOT NULL,
  hold_expires_at timestamptz NOT NULL,
  confirmed_at timestamptz,
  issued_at timestamptz,
  voucher_number text UNIQUE,
  cancelled_at timestamptz,
  cancellation_reason text,
  expired_at timestamptz,
  external_system text,
  external_booking_id text,
  guest_details jsonb,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK (check_out > check_in),
  CHECK ((external_system IS NULL) = (external_booking_id IS NULL)),
  -- No double booking, by construction: two live bookings of one listing never overlap.
  -- (A lapsed HELD row is expired in the same transaction before a new booking is inserted.)
  CONSTRAINT bookings_no_overlap EXCLUDE USING gist (listing_id WITH =, stay WITH &&)
    WHERE (status IN ('HELD', 'CONFIRMED', 'ISSUED'))
);
CREATE UNIQUE INDEX bookings_external_idx ON bookings (partner_id, mode, external_system, external_booking_id) WHERE external_system IS NOT NULL;
CREATE INDEX bookings_scope_created_idx ON bookings (team_id, mode, created_at, id);
CREATE INDEX bookings_scope_check_in_idx ON bookings (team_id, mode, check_in, id);
CREATE INDEX bookings_scope_updated_idx ON bookings (team_id, mode, updated_at, id);
CREATE INDEX bookings_customer_idx ON bookings (customer_id, created_at, id);
CREATE INDEX bookings_listing_idx ON bookings (listing_id, check_in);
CREATE INDEX bookings_lapsed_holds_idx ON bookings (hold_expires_at) WHERE status = 'HELD';

-- The events outbox: written in the same transaction as the change it records.
CREATE TABLE events (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  team_id text NOT NULL REFERENCES teams (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  event_type text NOT NULL,
  resource_type text NOT NULL,
  resource_id text NOT NULL,
  -- counts the events of one resource: a receiver orders them and drops stale ones
  sequence integer NOT NULL,
  data jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  UNIQUE (resource_id, sequence)
);
CREATE INDEX events_scope_created_idx ON events (team_id, mode, created_at, id);

-- The voucher number of an issued booking: human, sequential per partner and year is fine (not an id).
CREATE SEQUENCE voucher_seq;
