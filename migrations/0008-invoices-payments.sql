-- Money (API.md §3, §10): invoices and the payments recorded against them. Amounts are integers
-- of the currency's minor units (bigint); the amounts a reader sees (amount due, net paid) are
-- derived from these, never stored twice.

-- Invoice numbers are gap-free per partner, mode and year: the next number is taken by updating
-- this row in the invoice's own transaction (a rolled-back invoice gives its number back).
CREATE TABLE invoice_number_counters (
  partner_id text NOT NULL REFERENCES partners (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  year integer NOT NULL,
  last_number integer NOT NULL,
  PRIMARY KEY (partner_id, mode, year)
);

CREATE TABLE invoices (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  team_id text NOT NULL REFERENCES teams (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  number text NOT NULL,
  customer_id text NOT NULL REFERENCES customers (id),
  booking_id text REFERENCES bookings (id),
  -- made by the booking itself (its confirmation, a change of its stay), not by hand: these follow the stay
  from_booking boolean NOT NULL DEFAULT false,
  currency text NOT NULL,
  -- [{description, quantity, unit_amount_minor, amount_minor}]
  line_items jsonb NOT NULL,
  subtotal_minor bigint NOT NULL CHECK (subtotal_minor > 0),
  total_minor bigint NOT NULL CHECK (total_minor > 0),
  -- succeeded payments, gross; refunds are counted apart
  amount_paid_minor bigint NOT NULL DEFAULT 0,
  amount_refunded_minor bigint NOT NULL DEFAULT 0,
  status text NOT NULL CHECK (status IN ('OPEN', 'PAID', 'VOID')),
  due_date date NOT NULL,
  issued_at timestamptz NOT NULL,
  paid_at timestamptz,
  voided_at timestamptz,
  void_reason text,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (partner_id, mode, number),
  -- never overpaid, never refunded beyond what was paid: the database holds the line too
  CHECK (amount_refunded_minor BETWEEN 0 AND amount_paid_minor),
  CHECK (amount_paid_minor - amount_refunded_minor <= total_minor),
  CHECK ((status = 'PAID') = (amount_paid_minor - amount_refunded_minor = total_minor AND voided_at IS NULL))
);
CREATE INDEX invoices_scope_created_idx ON invoices (team_id, mode, created_at, id);
CREATE INDEX invoices_scope_due_idx ON invoices (team_id, mode, due_date, id);
CREATE INDEX invoices_partner_created_idx ON invoices (partner_id, mode, created_at, id);
CREATE INDEX invoices_partner_due_idx ON invoices (partner_id, mode, due_date, id);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, created_at, id);
CREATE INDEX invoices_booking_idx ON invoices (booking_id) WHERE booking_id IS NOT NULL;

CREATE TABLE payments (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  team_id text NOT NULL REFERENCES teams (id),
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  invoice_id text NOT NULL REFERENCES invoices (id),
  customer_id text NOT NULL REFERENCES customers (id),
  status text NOT NULL CHECK (status IN ('SUCCEEDED', 'FAILED', 'PARTIALLY_REFUNDED', 'REFUNDED')),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  amount_refunded_minor bigint NOT NULL DEFAULT 0,
  currency text NOT NULL,
  method text NOT NULL CHECK (method IN ('CARD', 'BANK_TRANSFER', 'CASH', 'E_WALLET')),
  reference text,
  received_at timestamptz NOT NULL,
  failure_code text,
  failure_message text,
  -- [{amount_minor, reason, created_at}], appended under the payment's row lock
  refunds jsonb NOT NULL DEFAULT '[]',
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CHECK (amount_refunded_minor BETWEEN 0 AND amount_minor),
  CHECK ((status = 'FAILED') = (failure_code IS NOT NULL)),
  CHECK (status <> 'FAILED' OR amount_refunded_minor = 0)
);
CREATE INDEX payments_scope_created_idx ON payments (team_id, mode, created_at, id);
CREATE INDEX payments_partner_created_idx ON payments (partner_id, mode, created_at, id);
CREATE INDEX payments_invoice_idx ON payments (invoice_id, created_at, id);
