-- Alarms: per-channel limits set by an administrator, and the lifecycle of each alarm (raised,
-- acknowledged by a user with a comment, cleared). Every step is also written to events, which
-- are append-only: events are the audit trail, this table is the current state.
CREATE TABLE alarm_limits (
  device_id    INTEGER NOT NULL REFERENCES devices (id),
  channel      INTEGER NOT NULL,
  level        TEXT    NOT NULL CHECK (level IN ('warning', 'alarm')),
  high         REAL,
  low          REAL,
  delay_s      INTEGER NOT NULL DEFAULT 0 CHECK (delay_s >= 0),
  hysteresis   REAL    NOT NULL DEFAULT 0 CHECK (hysteresis >= 0),
  updated_at   INTEGER NOT NULL,
  updated_by   TEXT    NOT NULL,
  PRIMARY KEY (device_id, channel, level),
  CHECK (high IS NOT NULL OR low IS NOT NULL),
  CHECK (high IS NULL OR low IS NULL OR low < high)
) WITHOUT ROWID;

-- source: 'limit' (a limit above was crossed), 'system' (integrity, offline; device_id may be NULL).
-- direction: 'high' or 'low' for limit alarms. A raised row changes only to be acknowledged once
-- and cleared once (trigger below).
CREATE TABLE alarms (
  id               INTEGER PRIMARY KEY,
  device_id        INTEGER REFERENCES devices (id),
  channel          INTEGER,
  source           TEXT    NOT NULL CHECK (source IN ('limit', 'system')),
  level            TEXT    NOT NULL CHECK (level IN ('warning', 'alarm')),
  direction        TEXT    CHECK (direction IN ('high', 'low')),
  raised_at        INTEGER NOT NULL,
  value            REAL,
  message          TEXT    NOT NULL,
  acknowledged_at  INTEGER,
  acknowledged_by  TEXT,
  ack_comment      TEXT,
  cleared_at       INTEGER,
  cleared_value    REAL,
  CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL) AND (acknowledged_at IS NULL) = (ack_comment IS NULL))
);
CREATE INDEX ix_alarms_open ON alarms (cleared_at, acknowledged_at);
CREATE INDEX ix_alarms_device ON alarms (device_id, channel, raised_at);

CREATE TRIGGER tr_alarms_lifecycle_only BEFORE UPDATE ON alarms
WHEN NEW.id IS NOT OLD.id OR NEW.device_id IS NOT OLD.device_id OR NEW.channel IS NOT OLD.channel
  OR NEW.source IS NOT OLD.source OR NEW.level IS NOT OLD.level OR NEW.direction IS NOT OLD.direction
  OR NEW.raised_at IS NOT OLD.raised_at OR NEW.value IS NOT OLD.value OR NEW.message IS NOT OLD.message
  OR (OLD.acknowledged_at IS NOT NULL AND (NEW.acknowledged_at IS NOT OLD.acknowledged_at OR NEW.acknowledged_by IS NOT OLD.acknowledged_by OR NEW.ack_comment IS NOT OLD.ack_comment))
  OR (OLD.cleared_at IS NOT NULL AND (NEW.cleared_at IS NOT OLD.cleared_at OR NEW.cleared_value IS NOT OLD.cleared_value))
BEGIN SELECT RAISE(ABORT, 'an alarm can only be acknowledged once and cleared once'); END;
CREATE TRIGGER tr_alarms_append_only_delete BEFORE DELETE ON alarms
BEGIN SELECT RAISE(ABORT, 'alarms are kept for the audit trail'); END;
