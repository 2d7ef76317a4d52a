-- The hourly rollup is written by the writer once per (device, channel, hour) and write group, as the
-- aggregate of the samples that group stored, instead of by a trigger once per sample (issue 20: the
-- per-sample upsert was a tenth of the journal apply's CPU). Every sample insert goes through the
-- writer (src/store/sqlite/writer.ts), which upserts the rollup in the same transaction.
-- The guards of 013 are widened from "+1 sample" to "+n samples", still checked:
-- - a new hour's row must be the exact aggregate of the samples its hour holds (a range read of the
--   few samples of a new hour, once per hour);
-- - an update adds n >= 1 samples: the counts add up (every new sample is a value or an error), the
--   minimum only goes down and the maximum only up, and figures of values do not move when no value
--   was added; or it sets the hour's exact aggregate (the AFTER DELETE trigger of 013, unchanged).
-- The shape is wrapped in COALESCE(..., 0) so that a NULL written over a figure fails the shape
-- (in 013, a comparison with NULL made the guard's condition NULL, which let the change through).
-- What the shape cannot tell, as "+1" could not, is invented samples whose figures add up (013 refused
-- "+5 samples" by its count alone; 040 accepts a consistent "+5"). On SQLite whoever can write the file
-- can drop these triggers anyway; the chains and `inlet verify` (which recomputes the rollup) remain
-- the protection.

DROP TRIGGER tr_samples_rollup_hour;

DROP TRIGGER tr_sample_rollup_hour_insert;
-- An upsert's insert attempt fires this trigger even when the row exists (the update then follows
-- and meets the update guard): only a row for an hour not yet rolled up is compared with the samples.
CREATE TRIGGER tr_sample_rollup_hour_insert BEFORE INSERT ON sample_rollup_hour
WHEN NOT EXISTS (SELECT 1 FROM sample_rollup_hour AS h
                 WHERE h.device_id = NEW.device_id AND h.channel = NEW.channel AND h.hour_start = NEW.hour_start)
 AND NOT EXISTS (
       SELECT 1
       FROM (SELECT MIN(s.value) AS value_min, MAX(s.value) AS value_max, COALESCE(SUM(s.value), 0) AS value_sum,
                    COUNT(s.value) AS value_count, COUNT(*) AS sample_count, COUNT(s.error_code) AS error_count
             FROM samples AS s
             WHERE s.device_id = NEW.device_id AND s.channel = NEW.channel AND s.time >= NEW.hour_start AND s.time < NEW.hour_start + 3600000) AS a
       WHERE a.sample_count > 0 AND NEW.hour_start % 3600000 = 0
         AND NEW.value_min IS a.value_min AND NEW.value_max IS a.value_max AND NEW.value_count = a.value_count
         AND NEW.sample_count = a.sample_count AND NEW.error_count = a.error_count
         AND abs(NEW.value_sum - a.value_sum) <= 1e-9 * max(1.0, abs(a.value_sum)))
BEGIN SELECT RAISE(ABORT, 'sample_rollup_hour is kept by the sample writer: a new hour''s row must be the aggregate of its samples'); END;

DROP TRIGGER tr_sample_rollup_hour_update;
CREATE TRIGGER tr_sample_rollup_hour_update BEFORE UPDATE ON sample_rollup_hour
WHEN NEW.device_id <> OLD.device_id OR NEW.channel <> OLD.channel OR NEW.hour_start <> OLD.hour_start
  OR (NOT COALESCE(
           NEW.sample_count > OLD.sample_count
           AND NEW.value_count >= OLD.value_count AND NEW.error_count >= OLD.error_count
           AND NEW.value_count - OLD.value_count + NEW.error_count - OLD.error_count = NEW.sample_count - OLD.sample_count
           AND (OLD.value_min IS NULL OR NEW.value_min <= OLD.value_min)
           AND (OLD.value_max IS NULL OR NEW.value_max >= OLD.value_max)
           AND (NEW.value_count = 0) = (NEW.value_min IS NULL) AND (NEW.value_count = 0) = (NEW.value_max IS NULL)
           AND (NEW.value_count > OLD.value_count
                OR (NEW.value_min IS OLD.value_min AND NEW.value_max IS OLD.value_max AND NEW.value_sum = OLD.value_sum)), 0)
      AND NOT EXISTS (
       SELECT 1
       FROM (SELECT MIN(s.value) AS value_min, MAX(s.value) AS value_max, COALESCE(SUM(s.value), 0) AS value_sum,
                    COUNT(s.value) AS value_count, COUNT(*) AS sample_count, COUNT(s.error_code) AS error_count
             FROM samples AS s
             WHERE s.device_id = NEW.device_id AND s.channel = NEW.channel AND s.time >= NEW.hour_start AND s.time < NEW.hour_start + 3600000) AS a
       -- SUM() adds in time order, the writer per group: equal up to rounding.
       WHERE NEW.value_min IS a.value_min AND NEW.value_max IS a.value_max AND NEW.value_count = a.value_count
         AND NEW.sample_count = a.sample_count AND NEW.error_count = a.error_count
         AND abs(NEW.value_sum - a.value_sum) <= 1e-9 * max(1.0, abs(a.value_sum))))
BEGIN SELECT RAISE(ABORT, 'sample_rollup_hour is kept by the sample writer: it cannot be changed directly'); END;
