-- Retention and chain anchors decided by the database: the rules of sql/mssql/013 where they apply
-- to a file the gateway owns alone (docs/retention.md, docs/sqlserver.md).
-- - retention_policy holds a floor: no horizon may cut data younger than min_keep_days (the audit
--   trail: min_audit_keep_days) before the clock when the horizon is written. 0 by default (data
--   may be purged up to now, never beyond); the floor can be raised, never lowered.
-- - A horizon's below_upload_id must be what the uploads say, and an anchor must be the last upload
--   of its chain below the latest horizon with that upload's hash, whoever inserts them.
-- - sample_rollup_hour changes only in the shapes the samples triggers write: a new hour's row holds
--   its first sample, an update adds one sample or sets the hour's exact aggregate (after samples
--   were deleted below the horizon: the AFTER DELETE trigger below), and a row goes only once its
--   hour holds no sample.

CREATE TABLE retention_policy (
  id                  INTEGER PRIMARY KEY CHECK (id = 1),
  min_keep_days       INTEGER NOT NULL CHECK (min_keep_days BETWEEN 0 AND 36500),
  min_audit_keep_days INTEGER NOT NULL CHECK (min_audit_keep_days BETWEEN 0 AND 36500)
);
INSERT INTO retention_policy (id, min_keep_days, min_audit_keep_days) VALUES (1, 0, 0);

CREATE TRIGGER tr_retention_policy_floor_only_rises BEFORE UPDATE ON retention_policy
WHEN NEW.id <> OLD.id OR NEW.min_keep_days < OLD.min_keep_days OR NEW.min_audit_keep_days < OLD.min_audit_keep_days
BEGIN SELECT RAISE(ABORT, 'the retention floor can be raised, never lowered'); END;
CREATE TRIGGER tr_retention_policy_keep_row BEFORE DELETE ON retention_policy
BEGIN SELECT RAISE(ABORT, 'retention_policy keeps its one row'); END;
CREATE TRIGGER tr_retention_policy_one_row BEFORE INSERT ON retention_policy
BEGIN SELECT RAISE(ABORT, 'retention_policy keeps its one row: change it with UPDATE'); END;

-- The clock in ms since the epoch is (julianday('now') - 2440587.5) * 86400000.
CREATE TRIGGER tr_retention_horizons_floor BEFORE INSERT ON retention_horizons
WHEN NEW.data_before > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) - (SELECT min_keep_days FROM retention_policy) * 86400000
BEGIN SELECT RAISE(ABORT, 'the retention horizon would cut data younger than retention_policy.min_keep_days before now: keep data longer (retention.keepDays)'); END;
CREATE TRIGGER tr_retention_horizons_audit_floor BEFORE INSERT ON retention_horizons
WHEN NEW.audit_before IS NOT NULL
 AND NEW.audit_before > CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) - (SELECT min_audit_keep_days FROM retention_policy) * 86400000
BEGIN SELECT RAISE(ABORT, 'the audit horizon would cut events younger than retention_policy.min_audit_keep_days before now: keep the audit trail longer (retention.auditKeepDays)'); END;
CREATE TRIGGER tr_retention_horizons_below_upload_id BEFORE INSERT ON retention_horizons
WHEN EXISTS (SELECT 1 FROM uploads AS u
             WHERE u.id >= (SELECT COALESCE(MAX(h.below_upload_id), 0) FROM retention_horizons AS h)
               AND u.id < NEW.below_upload_id AND u.received_at >= NEW.data_before)
BEGIN SELECT RAISE(ABORT, 'a retention horizon''s below_upload_id must not pass an upload received at or after its data_before'); END;

CREATE TRIGGER tr_chain_anchors_decided_by_uploads BEFORE INSERT ON chain_anchors
WHEN NOT EXISTS (SELECT 1 FROM uploads AS u WHERE u.id = NEW.upload_id AND u.hash = NEW.hash AND COALESCE(u.device_id, 0) = NEW.chain)
  OR NEW.horizon_id IS NOT (SELECT MAX(h.id) FROM retention_horizons AS h)
  OR NEW.upload_id >= (SELECT h.below_upload_id FROM retention_horizons AS h WHERE h.id = NEW.horizon_id)
  OR EXISTS (SELECT 1 FROM uploads AS n
             WHERE n.id > NEW.upload_id AND n.id < (SELECT h.below_upload_id FROM retention_horizons AS h WHERE h.id = NEW.horizon_id)
               AND COALESCE(n.device_id, 0) = NEW.chain)
BEGIN SELECT RAISE(ABORT, 'a chain anchor must be the last upload of its chain below the latest retention horizon, with that upload''s hash'); END;

-- Deleting samples (below the horizon only, tr_samples_append_only_delete) brings their hour's rollup
-- to the aggregate of the samples left, or removes it when none is left.
CREATE TRIGGER tr_samples_rollup_hour_after_delete AFTER DELETE ON samples
BEGIN
  UPDATE sample_rollup_hour
  SET (value_min, value_max, value_sum, value_count, sample_count, error_count) =
      (SELECT MIN(s.value), MAX(s.value), COALESCE(SUM(s.value), 0), COUNT(s.value), COUNT(*), COUNT(s.error_code)
       FROM samples AS s
       WHERE s.device_id = OLD.device_id AND s.channel = OLD.channel
         AND s.time >= OLD.time - OLD.time % 3600000 AND s.time < OLD.time - OLD.time % 3600000 + 3600000)
  WHERE device_id = OLD.device_id AND channel = OLD.channel AND hour_start = OLD.time - OLD.time % 3600000
    AND EXISTS (SELECT 1 FROM samples AS s
                WHERE s.device_id = OLD.device_id AND s.channel = OLD.channel
                  AND s.time >= OLD.time - OLD.time % 3600000 AND s.time < OLD.time - OLD.time % 3600000 + 3600000);
  DELETE FROM sample_rollup_hour
  WHERE device_id = OLD.device_id AND channel = OLD.channel AND hour_start = OLD.time - OLD.time % 3600000
    AND NOT EXISTS (SELECT 1 FROM samples AS s
                    WHERE s.device_id = OLD.device_id AND s.channel = OLD.channel
                      AND s.time >= OLD.time - OLD.time % 3600000 AND s.time < OLD.time - OLD.time % 3600000 + 3600000);
END;

-- An hour's row is first written by the insert trigger (one sample, which is already stored).
CREATE TRIGGER tr_sample_rollup_hour_insert BEFORE INSERT ON sample_rollup_hour
WHEN NEW.sample_count <> 1
  OR NOT EXISTS (SELECT 1 FROM samples AS s
                 WHERE s.device_id = NEW.device_id AND s.channel = NEW.channel AND s.time >= NEW.hour_start AND s.time < NEW.hour_start + 3600000)
BEGIN SELECT RAISE(ABORT, 'sample_rollup_hour is kept by the triggers on samples: it cannot be written directly'); END;
-- Then it changes in one of two shapes: one more sample (a value or an error; the minimum only
-- down, the maximum only up), as the insert trigger writes it, or the hour's exact aggregate of
-- samples, as the delete trigger writes it. The shape is tested first and costs nothing; the
-- aggregate (a range read of the hour) is read only when the shape does not fit, so ingest stays
-- as fast as before. A change that fits the shape can still lie about the values: on SQLite, whoever
-- can write the file can also drop the triggers; the chains and `inlet verify` are the protection.
CREATE TRIGGER tr_sample_rollup_hour_update BEFORE UPDATE ON sample_rollup_hour
WHEN NEW.device_id <> OLD.device_id OR NEW.channel <> OLD.channel OR NEW.hour_start <> OLD.hour_start
  OR (NOT (NEW.sample_count = OLD.sample_count + 1
           AND NEW.value_count >= OLD.value_count AND NEW.error_count >= OLD.error_count
           AND NEW.value_count - OLD.value_count + NEW.error_count - OLD.error_count = 1
           AND (OLD.value_min IS NULL OR NEW.value_min <= OLD.value_min)
           AND (OLD.value_max IS NULL OR NEW.value_max >= OLD.value_max))
      AND NOT EXISTS (
       SELECT 1
       FROM (SELECT MIN(s.value) AS value_min, MAX(s.value) AS value_max, COALESCE(SUM(s.value), 0) AS value_sum,
                    COUNT(s.value) AS value_count, COUNT(*) AS sample_count, COUNT(s.error_code) AS error_count
             FROM samples AS s
             WHERE s.device_id = NEW.device_id AND s.channel = NEW.channel AND s.time >= NEW.hour_start AND s.time < NEW.hour_start + 3600000) AS a
       -- SUM() adds in time order, a running sum in arrival order: equal up to rounding.
       WHERE NEW.value_min IS a.value_min AND NEW.value_max IS a.value_max AND NEW.value_count = a.value_count
         AND NEW.sample_count = a.sample_count AND NEW.error_count = a.error_count
         AND abs(NEW.value_sum - a.value_sum) <= 1e-9 * max(1.0, abs(a.value_sum))))
BEGIN SELECT RAISE(ABORT, 'sample_rollup_hour is kept by the triggers on samples: it cannot be changed directly'); END;
CREATE TRIGGER tr_sample_rollup_hour_delete BEFORE DELETE ON sample_rollup_hour
WHEN EXISTS (SELECT 1 FROM samples AS s
             WHERE s.device_id = OLD.device_id AND s.channel = OLD.channel AND s.time >= OLD.hour_start AND s.time < OLD.hour_start + 3600000)
BEGIN SELECT RAISE(ABORT, 'sample_rollup_hour is kept by the triggers on samples: an hour that holds samples keeps its row'); END;
