-- How a GSM/LTE logger's clock is read. COMET documents its time as "seconds since 1.1.2000"
-- beside a separate Timezone, without saying whether the count is UTC or local time. 'auto':
-- Inlet decides per upload from the evidence (the logger's send time against the receive time);
-- 'utc' / 'local': an administrator has settled it for this device. Other families ignore it.
ALTER TABLE devices ADD COLUMN logger_clock TEXT NOT NULL DEFAULT 'auto'
  CHECK (logger_clock IN ('auto', 'utc', 'local'));
