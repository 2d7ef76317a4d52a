-- Alarms the devices raise themselves: kind 'device' is a channel's own alarm state as the device
-- reports it (SOAP alarm string, JSON alarm flags; direction high or low), kind 'sensor' a sensor
-- error (a failed or missing probe) that lasted the configured delay. Both are 'system' alarms on
-- one channel, acknowledged like any other.
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same columns,
-- rows, indexes and triggers (those of 005, 007 and 008), only the kind check widened.
DROP TRIGGER tr_alarms_lifecycle_only;
DROP TRIGGER tr_alarms_append_only_delete;

CREATE TABLE alarms_017 (
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
  kind             TEXT    CHECK (kind IS NULL OR (source = 'system' AND kind IN ('offline', 'integrity', 'device', 'sensor'))),
  CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL) AND (acknowledged_at IS NULL) = (ack_comment IS NULL)),
  CHECK (kind IS NOT 'device' OR (device_id IS NOT NULL AND channel IS NOT NULL AND direction IS NOT NULL)),
  CHECK (kind IS NOT 'sensor' OR (device_id IS NOT NULL AND channel IS NOT NULL))
);

-- Columns by name: a column this file does not know makes the copy fail instead of being lost.
INSERT INTO alarms_017 (id, device_id, channel, source, level, direction, raised_at, value, message,
                        acknowledged_at, acknowledged_by, ack_comment, cleared_at, cleared_value, kind)
SELECT id, device_id, channel, source, level, direction, raised_at, value, message,
       acknowledged_at, acknowledged_by, ack_comment, cleared_at, cleared_value, kind
FROM alarms;

DROP TABLE alarms;
ALTER TABLE alarms_017 RENAME TO alarms;

CREATE INDEX ix_alarms_open ON alarms (cleared_at, acknowledged_at);
CREATE INDEX ix_alarms_device ON alarms (device_id, channel, raised_at);
CREATE UNIQUE INDEX ux_alarms_open_offline ON alarms (device_id) WHERE kind = 'offline' AND cleared_at IS NULL;

CREATE TRIGGER tr_alarms_lifecycle_only BEFORE UPDATE ON alarms
WHEN NEW.id IS NOT OLD.id OR NEW.device_id IS NOT OLD.device_id OR NEW.channel IS NOT OLD.channel
  OR NEW.source IS NOT OLD.source OR NEW.level IS NOT OLD.level OR NEW.direction IS NOT OLD.direction
  OR NEW.raised_at IS NOT OLD.raised_at OR NEW.value IS NOT OLD.value OR NEW.message IS NOT OLD.message OR NEW.kind IS NOT OLD.kind
  OR (OLD.acknowledged_at IS NOT NULL AND (NEW.acknowledged_at IS NOT OLD.acknowledged_at OR NEW.acknowledged_by IS NOT OLD.acknowledged_by OR NEW.ack_comment IS NOT OLD.ack_comment))
  OR (OLD.cleared_at IS NOT NULL AND (NEW.cleared_at IS NOT OLD.cleared_at OR NEW.cleared_value IS NOT OLD.cleared_value))
BEGIN SELECT RAISE(ABORT, 'an alarm can only be acknowledged once and cleared once'); END;

CREATE TRIGGER tr_alarms_append_only_delete BEFORE DELETE ON alarms
WHEN OLD.acknowledged_at IS NULL OR OLD.cleared_at IS NULL
  OR NOT COALESCE(MAX(OLD.raised_at, OLD.acknowledged_at, OLD.cleared_at) < (SELECT MAX(audit_before) FROM retention_horizons), 0)
BEGIN SELECT RAISE(ABORT, 'alarms are kept for the audit trail: only closed alarms below the audit retention horizon can be deleted'); END;
