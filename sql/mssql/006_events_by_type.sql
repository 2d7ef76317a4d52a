-- The newest event of a type for a device (offline detection reads the latest device.offline and
-- device.online of every device at start-up) is an index seek instead of a scan of its events.
-- The clustered key (id) is carried in this non-unique index's key, so ORDER BY id DESC reads it backwards.
CREATE NONCLUSTERED INDEX ix_events_type_device_id ON inlet.events (type, device_id);
GO
