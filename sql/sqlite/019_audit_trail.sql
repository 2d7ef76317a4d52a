-- Audit trail (issue 18). Every event now names who did it (actor: a user name, 'the command line',
-- 'device', 'system') and from where (source: the client's address, 'cli', the device's address),
-- carries recorded_at (when the store wrote it; SQLite has no clock of its own, so the writing
-- process's clock) and is linked into one chain over all events: hash = HMAC-SHA256 under the chain
-- key (or SHA-256 without one) of prev_hash and the row (domain/audit-chain.ts). Events written before
-- this migration have no hash and stay as they are; `inlet verify` checks every event from the first
-- chained one on, and the current rows of users, alarms, alarm limits and channels against the states
-- the chained events recorded for them.
ALTER TABLE events ADD COLUMN actor TEXT;
ALTER TABLE events ADD COLUMN source TEXT;
ALTER TABLE events ADD COLUMN recorded_at INTEGER;
ALTER TABLE events ADD COLUMN prev_hash BLOB;
ALTER TABLE events ADD COLUMN hash BLOB;
-- The audit review filters by user.
CREATE INDEX ix_events_actor ON events (actor, id);

-- An acknowledgement is an electronic signature: the meaning the user chose (reviewed, approved, ...)
-- beside who and when. NULL for acknowledgements made before signatures.
ALTER TABLE alarms ADD COLUMN ack_meaning TEXT;

-- Units never change history: each channel's quantity and unit, versioned. A row is valid from
-- valid_from (ms) until the next row of the same channel; channels holds the current version. A new
-- version is made only by an administrator confirming a unit change (with a reason).
CREATE TABLE channel_units (
  device_id  INTEGER NOT NULL REFERENCES devices (id),
  channel    INTEGER NOT NULL,
  valid_from INTEGER NOT NULL,
  quantity   TEXT    NOT NULL,
  unit       TEXT    NOT NULL,
  set_by     TEXT    NOT NULL,
  reason     TEXT    NOT NULL CHECK (length(trim(reason)) > 0),
  PRIMARY KEY (device_id, channel, valid_from)
) WITHOUT ROWID;
CREATE TRIGGER tr_channel_units_append_only_update BEFORE UPDATE ON channel_units
BEGIN SELECT RAISE(ABORT, 'channel_units are append-only'); END;
CREATE TRIGGER tr_channel_units_append_only_delete BEFORE DELETE ON channel_units
BEGIN SELECT RAISE(ABORT, 'channel_units are append-only'); END;

-- Unit texts as devices send them, mapped to the one canonical form of each unit (domain/units.ts):
-- C, °C, degC are all °C. Other texts stay as they were; ingest refuses them from now on.
UPDATE channels SET unit = '°C' WHERE unit IN ('C', 'c', '°C', 'degC', 'DEGC', '℃', 'Celsius', 'celsius');
UPDATE channels SET unit = '°F' WHERE unit IN ('F', 'f', '°F', 'degF', 'DEGF', '℉', 'Fahrenheit', 'fahrenheit');
UPDATE channels SET unit = '%RH' WHERE quantity = 'relative_humidity' AND unit IN ('%', '%rh', '% RH', 'RH', '%RH');
UPDATE channels SET unit = 'mbar' WHERE unit IN ('mBar', 'MBAR', 'mbar');
UPDATE channels SET unit = 'psi' WHERE unit IN ('PSI', 'psi');
UPDATE channels SET unit = 'oz/in²' WHERE unit IN ('oz/in^2', 'oz/in2');
UPDATE channels SET unit = 'ppm' WHERE unit IN ('PPM', 'ppm');

INSERT INTO channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
SELECT device_id, channel, 0, quantity, unit, 'migration 019', 'unit as stored before unit versioning' FROM channels;
