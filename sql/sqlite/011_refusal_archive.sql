-- The refusal archive: uploads Inlet refused, kept as evidence without letting anyone fill the disk.
-- Outside the device chains on purpose: only the first bytes of each body (a capped prefix), its full
-- length and its SHA-256 are kept, and the gateway deletes the oldest rows beyond a row cap and a
-- retention age (ingest.refusals in the config). Uploads refused from now on are no longer written to
-- the append-only, chained uploads table, which cannot be cleaned without breaking a chain.
CREATE TABLE refusals (
  id             INTEGER PRIMARY KEY,
  received_at    INTEGER NOT NULL,
  -- The device whose entry point was used, when known; no foreign key: this archive is pruned freely.
  device_id      INTEGER,
  family         TEXT    NOT NULL,
  remote_address TEXT    NOT NULL,
  content_type   TEXT    NOT NULL,
  status         INTEGER NOT NULL,
  -- A fixed word per refusal kind (never text from the request): what events are de-duplicated by.
  reason_code    TEXT    NOT NULL,
  reason         TEXT    NOT NULL,
  serial         TEXT,
  body_length    INTEGER NOT NULL CHECK (body_length >= 0),
  body_sha256    BLOB    NOT NULL CHECK (length(body_sha256) = 32),
  body_prefix    BLOB    NOT NULL
);
-- Retention deletes by age.
CREATE INDEX ix_refusals_received_at ON refusals (received_at);
