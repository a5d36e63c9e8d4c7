-- Calls of deprecated operations, per token, operation and UTC day (API.md §12: GET /v1/me tells a
-- token what it called in the last 30 days). Each server counts in memory and adds its counts here
-- about once a minute, so a request never writes; rows older than 31 days are dropped on the way.
CREATE TABLE deprecated_calls (
  token_id     text   NOT NULL,
  operation_id text   NOT NULL,
  day          date   NOT NULL,
  calls        bigint NOT NULL CHECK (calls > 0),
  last_at      timestamptz NOT NULL,
  PRIMARY KEY (token_id, operation_id, day)
);
