-- Alarms the devices raise themselves: the logical schema and rules of sql/sqlite/017_device_alarms.sql.
-- kind 'device': a channel's own alarm state as the device reports it (direction high or low);
-- kind 'sensor': a sensor error (failed or missing probe) that lasted the configured delay. Both
-- are 'system' alarms on one channel, acknowledged like any other.
ALTER TABLE inlet.alarms DROP CONSTRAINT ck_alarms_kind;
GO
ALTER TABLE inlet.alarms ADD CONSTRAINT ck_alarms_kind
    CHECK (kind IS NULL OR (source = 'system' AND kind IN ('offline', 'integrity', 'device', 'sensor')));
GO
ALTER TABLE inlet.alarms ADD CONSTRAINT ck_alarms_device_state_on_channel
    CHECK (kind IS NULL OR kind <> 'device' OR (device_id IS NOT NULL AND channel IS NOT NULL AND direction IS NOT NULL));
GO
ALTER TABLE inlet.alarms ADD CONSTRAINT ck_alarms_sensor_error_on_channel
    CHECK (kind IS NULL OR kind <> 'sensor' OR (device_id IS NOT NULL AND channel IS NOT NULL));
GO
