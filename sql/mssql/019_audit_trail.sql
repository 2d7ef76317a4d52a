-- Audit trail: the logical schema of sql/sqlite/019_audit_trail.sql. Every event names who did it
-- (actor) and from where (source), carries recorded_at, the database's own clock at the insert
-- (SYSUTCDATETIME(), read in the inserting transaction so that it is part of the event's hash), and
-- is linked into one chain over all events (prev_hash, hash: HMAC-SHA256 under the gateway's chain
-- key, computed by Inlet, never by the database). Events before this migration have no hash.
-- recorded_at is migration 013's (the server's clock by default, checked by its trigger); adding it
-- again here would make SQL Server refuse this migration (error 2705).
ALTER TABLE inlet.events ADD
    actor       nvarchar(128)  NULL,
    source      nvarchar(128)  NULL,
    prev_hash   varbinary(32)  NULL,
    hash        varbinary(32)  NULL;
GO
-- The audit review filters by user; the clustered key (id) is carried in the index.
CREATE NONCLUSTERED INDEX ix_events_actor ON inlet.events (actor);
GO
-- The meaning an acknowledging user chose for their electronic signature; NULL before signatures.
ALTER TABLE inlet.alarms ADD ack_meaning nvarchar(100) NULL;
GO
-- Each channel's quantity and unit, versioned: valid from valid_from until the next row of the channel.
CREATE TABLE inlet.channel_units (
    device_id  int           NOT NULL,
    channel    int           NOT NULL,
    valid_from datetime2(3)  NOT NULL,
    quantity   nvarchar(200) NOT NULL,
    unit       nvarchar(50)  NOT NULL,
    set_by     nvarchar(128) NOT NULL,
    reason     nvarchar(max) NOT NULL,
    CONSTRAINT pk_channel_units PRIMARY KEY CLUSTERED (device_id, channel, valid_from),
    CONSTRAINT fk_channel_units_devices FOREIGN KEY (device_id) REFERENCES inlet.devices (id),
    CONSTRAINT ck_channel_units_reason CHECK (LEN(reason) > 0)
);
GO
CREATE TRIGGER inlet.tr_channel_units_append_only ON inlet.channel_units INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50040, N'inlet.channel_units is append-only: a unit change is a new version', 1;
END;
GO
-- Unit texts mapped to their canonical form (domain/units.ts): C, °C and degC are one unit, °C.
-- Compared under a binary collation, so that 'c' and 'C' are told apart as in the mapping.
UPDATE inlet.channels SET unit = N'°C' WHERE unit COLLATE Latin1_General_100_BIN2 IN (N'C', N'c', N'°C', N'degC', N'DEGC', N'℃', N'Celsius', N'celsius');
UPDATE inlet.channels SET unit = N'°F' WHERE unit COLLATE Latin1_General_100_BIN2 IN (N'F', N'f', N'°F', N'degF', N'DEGF', N'℉', N'Fahrenheit', N'fahrenheit');
UPDATE inlet.channels SET unit = N'%RH' WHERE quantity = N'relative_humidity' AND unit COLLATE Latin1_General_100_BIN2 IN (N'%', N'%rh', N'% RH', N'RH', N'%RH');
UPDATE inlet.channels SET unit = N'mbar' WHERE unit COLLATE Latin1_General_100_BIN2 IN (N'mBar', N'MBAR', N'mbar');
UPDATE inlet.channels SET unit = N'psi' WHERE unit COLLATE Latin1_General_100_BIN2 IN (N'PSI', N'psi');
UPDATE inlet.channels SET unit = N'oz/in²' WHERE unit COLLATE Latin1_General_100_BIN2 IN (N'oz/in^2', N'oz/in2');
UPDATE inlet.channels SET unit = N'ppm' WHERE unit COLLATE Latin1_General_100_BIN2 IN (N'PPM', N'ppm');
GO
INSERT INTO inlet.channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
SELECT device_id, channel, '1970-01-01', quantity, unit, N'migration 019', N'unit as stored before unit versioning' FROM inlet.channels;
GO
