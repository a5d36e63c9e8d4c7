-- Webhook endpoints, their deliveries (one per endpoint and event, made in the event's own
-- transaction) and every attempt at one (API.md §10–§11).
CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  team_ids text[] NOT NULL CHECK (cardinality(team_ids) >= 1),
  url text NOT NULL CHECK (length(url) <= 2048),
  description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
  event_types text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  disabled_reason text CHECK (disabled_reason IN ('manual', 'gone', 'failing')),
  api_version text NOT NULL DEFAULT 'v1',
  secret text NOT NULL,
  previous_secret text,
  previous_secret_valid_until timestamptz,
  -- the first failed attempt since the last success: 5 days of that disables the endpoint
  failing_since timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_partner_idx ON webhook_endpoints (partner_id, mode, created_at, id);

CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  endpoint_id text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  partner_id text NOT NULL,
  mode text NOT NULL,
  event_type text NOT NULL,
  resource_id text NOT NULL,
  sequence integer NOT NULL,
  status text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  -- a dispatcher's claim: until then no other dispatcher takes it; after, a crashed one's claim lapses
  lease_until timestamptz,
  last_status_code integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING';
-- the dispatcher's claim walks each endpoint's due deliveries in order
CREATE INDEX webhook_deliveries_endpoint_due_idx ON webhook_deliveries (endpoint_id, next_attempt_at, id) WHERE status = 'PENDING';
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at, id);
-- deleting an event (retention) finds its deliveries
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);
-- in order per resource: a delivery waits while an earlier one of its resource is pending
CREATE INDEX webhook_deliveries_order_idx ON webhook_deliveries (endpoint_id, resource_id, sequence) WHERE status = 'PENDING';

CREATE TABLE webhook_attempts (
  delivery_id text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  status_code integer,
  error_class text,
  latency_ms integer NOT NULL,
  response_body text,
  PRIMARY KEY (delivery_id, attempt)
);

-- booking.hold_expiring is recorded once per hold, a few minutes before it lapses
ALTER TABLE bookings ADD COLUMN hold_expiring_notified_at timestamptz;
CREATE INDEX bookings_hold_expiring_idx ON bookings (hold_expires_at) WHERE status = 'HELD' AND hold_expiring_notified_at IS NULL;
