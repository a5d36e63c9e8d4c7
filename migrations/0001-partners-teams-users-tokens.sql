-- The extension the schema needs: btree_gist for the bookings exclusion constraint. (pgcrypto was
-- created here until nothing used it; loading it cost the embedded database ~0.1 s of every start.)
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE partners (
  id text PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE teams (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX teams_partner_idx ON teams (partner_id, id);

CREATE TABLE users (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'TRAVEL_AGENT', 'ACCOUNTANT', 'VIEWER')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_partner_email_idx ON users (partner_id, lower(email));

CREATE TABLE user_teams (
  user_id text NOT NULL REFERENCES users (id),
  team_id text NOT NULL REFERENCES teams (id),
  PRIMARY KEY (user_id, team_id)
);

CREATE TABLE tokens (
  id text PRIMARY KEY,
  partner_id text NOT NULL REFERENCES partners (id),
  user_id text NOT NULL REFERENCES users (id),
  name text NOT NULL,
  mode text NOT NULL CHECK (mode IN ('live', 'test')),
  team_ids text[] NOT NULL,
  -- NULL: the user's full permissions; otherwise effective = role permissions ∩ scopes
  scopes text[],
  -- the non-secret lookup prefix of the current secret, shown to humans (tvb_test_AbCd1234)
  display_prefix text NOT NULL,
  expires_at timestamptz NOT NULL,
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tokens_user_idx ON tokens (user_id, mode, created_at, id);

-- A token has one current secret and, after a rotation, the previous one until its grace ends.
-- Only the Argon2id hash (PHC string) and the non-secret lookup prefix are kept.
CREATE TABLE token_secrets (
  lookup text PRIMARY KEY,
  token_id text NOT NULL REFERENCES tokens (id),
  hash text NOT NULL,
  valid_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX token_secrets_token_idx ON token_secrets (token_id);
