-- How a GSM/LTE logger's clock is read. COMET documents its time as "seconds since 1.1.2000"
-- beside a separate Timezone, without saying whether the count is UTC or local time. 'auto':
-- Inlet decides per upload from the evidence (the logger's send time against the receive time);
-- 'utc' / 'local': an administrator has settled it for this device. Other families ignore it.
-- Adding a NOT NULL column with a constant default is a metadata-only change: no table rewrite.
ALTER TABLE inlet.devices ADD
    logger_clock varchar(5) NOT NULL CONSTRAINT df_devices_logger_clock DEFAULT ('auto'),
    CONSTRAINT ck_devices_logger_clock CHECK (logger_clock IN ('auto', 'utc', 'local'));
