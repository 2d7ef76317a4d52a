-- The newest event of a type for a device (offline detection reads the latest device.offline and
-- device.online of every device at start-up) is an index seek instead of a scan of its events.
CREATE INDEX ix_events_type_device_id ON events (type, device_id, id);
