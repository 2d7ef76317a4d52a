-- Hourly rollup of samples, so that a chart over months or years reads one row per channel and
-- hour instead of every sample (a year at 1-minute resolution: 8,784 rows instead of 525,600).
-- Kept in step by a trigger in the same transaction as the sample insert. Samples are
-- append-only, so inserts are the only change to follow. hour_start is time rounded down to
-- a whole UTC hour (ms). value_sum / value_count give the average; value_count counts samples
-- with a value, sample_count all samples (error samples have no value).
CREATE TABLE sample_rollup_hour (
  device_id    INTEGER NOT NULL,
  channel      INTEGER NOT NULL,
  hour_start   INTEGER NOT NULL,
  value_min    REAL,
  value_max    REAL,
  value_sum    REAL    NOT NULL,
  value_count  INTEGER NOT NULL,
  sample_count INTEGER NOT NULL,
  error_count  INTEGER NOT NULL,
  PRIMARY KEY (device_id, channel, hour_start)
) WITHOUT ROWID;

INSERT INTO sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
SELECT device_id, channel, time - time % 3600000, MIN(value), MAX(value), COALESCE(SUM(value), 0), COUNT(value), COUNT(*), COUNT(error_code)
FROM samples GROUP BY device_id, channel, time - time % 3600000;

-- MIN()/MAX() with a NULL argument are NULL in SQLite, hence the COALESCE: an error sample
-- (value NULL) leaves the hour's extremes as they were.
CREATE TRIGGER tr_samples_rollup_hour AFTER INSERT ON samples
BEGIN
  INSERT INTO sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
  VALUES (NEW.device_id, NEW.channel, NEW.time - NEW.time % 3600000, NEW.value, NEW.value, COALESCE(NEW.value, 0),
          NEW.value IS NOT NULL, 1, NEW.error_code IS NOT NULL)
  ON CONFLICT (device_id, channel, hour_start) DO UPDATE SET
    value_min    = COALESCE(MIN(value_min, excluded.value_min), value_min, excluded.value_min),
    value_max    = COALESCE(MAX(value_max, excluded.value_max), value_max, excluded.value_max),
    value_sum    = value_sum + excluded.value_sum,
    value_count  = value_count + excluded.value_count,
    sample_count = sample_count + excluded.sample_count,
    error_count  = error_count + excluded.error_count;
END;
