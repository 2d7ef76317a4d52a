-- Inlet embedded store, schema version 1.
-- Times are INTEGER milliseconds since 1970-01-01 UTC. Uploads, samples and events are
-- append-only (triggers below); the hash chain over uploads makes later edits detectable.

CREATE TABLE devices (
  id                  INTEGER PRIMARY KEY,
  family              TEXT    NOT NULL CHECK (family IN ('soap', 'wifi', 'websensor-json', 'logger')),
  serial              TEXT    NOT NULL,
  model_code          INTEGER,
  model               TEXT    NOT NULL,
  name                TEXT    NOT NULL,
  location            TEXT    NOT NULL DEFAULT '',
  entry_token         TEXT    NOT NULL,
  allowed_interval_s  INTEGER CHECK (allowed_interval_s IS NULL OR allowed_interval_s > 0),
  declared_interval_s INTEGER,
  customer_uid        TEXT,
  state               TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended')),
  suspended_reason    TEXT,
  suspended_at        INTEGER,
  last_seen_at        INTEGER,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  CONSTRAINT uq_devices_family_serial UNIQUE (family, serial),
  CONSTRAINT uq_devices_entry_token UNIQUE (entry_token)
);
CREATE INDEX ix_devices_updated_at ON devices (updated_at);

CREATE TABLE channels (
  device_id INTEGER NOT NULL REFERENCES devices (id),
  channel   INTEGER NOT NULL,
  quantity  TEXT    NOT NULL,
  unit      TEXT    NOT NULL,
  PRIMARY KEY (device_id, channel)
) WITHOUT ROWID;

CREATE TABLE uploads (
  id             INTEGER PRIMARY KEY,
  device_id      INTEGER REFERENCES devices (id),
  family         TEXT    NOT NULL,
  received_at    INTEGER NOT NULL,
  remote_address TEXT    NOT NULL,
  content_type   TEXT    NOT NULL,
  raw            BLOB    NOT NULL,
  verdict        TEXT    NOT NULL CHECK (verdict IN ('accepted', 'duplicate', 'refused', 'quarantined')),
  reason         TEXT    NOT NULL,
  serial         TEXT,
  counter        INTEGER,
  prev_hash      BLOB    NOT NULL,
  hash           BLOB    NOT NULL
);
CREATE INDEX ix_uploads_device_id ON uploads (device_id, id);

-- One row per channel and sample time: a resent sample is a no-op (INSERT OR IGNORE).
CREATE TABLE samples (
  device_id  INTEGER NOT NULL,
  channel    INTEGER NOT NULL,
  time       INTEGER NOT NULL,
  value      REAL,
  error_code INTEGER,
  alarm      TEXT    NOT NULL CHECK (alarm IN ('no', 'hi', 'lo')),
  upload_id  INTEGER NOT NULL,
  PRIMARY KEY (device_id, channel, time),
  CHECK ((value IS NULL) <> (error_code IS NULL))
) WITHOUT ROWID;
CREATE INDEX ix_samples_upload_id ON samples (upload_id);

CREATE TABLE events (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  device_id INTEGER REFERENCES devices (id),
  type      TEXT    NOT NULL,
  level     TEXT    NOT NULL CHECK (level IN ('info', 'warning', 'alarm')),
  message   TEXT    NOT NULL,
  data      TEXT
);
CREATE INDEX ix_events_at ON events (at);
CREATE INDEX ix_events_device_id ON events (device_id, at);

-- Readings of a suspended device, kept aside until an administrator releases them.
CREATE TABLE quarantine (
  upload_id   INTEGER PRIMARY KEY REFERENCES uploads (id),
  device_id   INTEGER NOT NULL REFERENCES devices (id),
  received_at INTEGER NOT NULL,
  readings    TEXT    NOT NULL,
  released_at INTEGER,
  imported    INTEGER
);
CREATE INDEX ix_quarantine_device_id ON quarantine (device_id, released_at);

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  username      TEXT    NOT NULL,
  role          TEXT    NOT NULL CHECK (role IN ('administrator', 'operator', 'viewer')),
  password_hash TEXT    NOT NULL,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until  INTEGER,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,
  CONSTRAINT uq_users_username UNIQUE (username)
);

CREATE TRIGGER tr_uploads_append_only_update BEFORE UPDATE ON uploads
BEGIN SELECT RAISE(ABORT, 'uploads are append-only'); END;
CREATE TRIGGER tr_uploads_append_only_delete BEFORE DELETE ON uploads
BEGIN SELECT RAISE(ABORT, 'uploads are append-only'); END;
CREATE TRIGGER tr_samples_append_only_update BEFORE UPDATE ON samples
BEGIN SELECT RAISE(ABORT, 'samples are append-only'); END;
CREATE TRIGGER tr_samples_append_only_delete BEFORE DELETE ON samples
BEGIN SELECT RAISE(ABORT, 'samples are append-only'); END;
CREATE TRIGGER tr_events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
