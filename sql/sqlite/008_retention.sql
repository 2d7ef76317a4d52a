-- Retention: old data may be purged, but only below an audited horizon that only moves forward.
-- Each advance is a row here (when, by whom, why; never changed or deleted) and a
-- 'retention.horizon.advanced' event. below_upload_id: every upload with a smaller id was received
-- before data_before (ids follow commit order, so this is a prefix of every device's chain).
-- audit_before: events and closed alarms before it may be purged too; NULL = the audit trail is kept.
-- The append-only triggers below allow deletes under the latest horizon only, so a DELETE of recent
-- rows fails as before, and one made around the triggers is still found by `inlet verify`.
CREATE TABLE retention_horizons (
  id              INTEGER PRIMARY KEY,
  at              INTEGER NOT NULL,
  data_before     INTEGER NOT NULL,
  below_upload_id INTEGER NOT NULL CHECK (below_upload_id >= 1),
  audit_before    INTEGER,
  set_by          TEXT    NOT NULL,
  reason          TEXT    NOT NULL CHECK (length(trim(reason)) > 0)
);

CREATE TRIGGER tr_retention_horizons_forward_only BEFORE INSERT ON retention_horizons
WHEN EXISTS (SELECT 1 FROM retention_horizons AS h
             WHERE h.data_before > NEW.data_before OR h.below_upload_id > NEW.below_upload_id
                OR (h.audit_before IS NOT NULL AND (NEW.audit_before IS NULL OR h.audit_before > NEW.audit_before)))
BEGIN SELECT RAISE(ABORT, 'the retention horizon only moves forward'); END;
CREATE TRIGGER tr_retention_horizons_append_only_update BEFORE UPDATE ON retention_horizons
BEGIN SELECT RAISE(ABORT, 'retention_horizons are append-only'); END;
CREATE TRIGGER tr_retention_horizons_append_only_delete BEFORE DELETE ON retention_horizons
BEGIN SELECT RAISE(ABORT, 'retention_horizons are append-only'); END;

-- Chain anchors: for each upload chain (device id, 0 for uploads of no device), the id and hash of
-- its last upload below a horizon, taken when the horizon advanced and before anything was deleted.
-- Verification and the writer continue each chain from its latest anchor: the first upload kept
-- must link to the anchor's hash. Append-only.
CREATE TABLE chain_anchors (
  id         INTEGER PRIMARY KEY,
  horizon_id INTEGER NOT NULL REFERENCES retention_horizons (id),
  chain      INTEGER NOT NULL,
  upload_id  INTEGER NOT NULL,
  hash       BLOB    NOT NULL
);
CREATE INDEX ix_chain_anchors_chain ON chain_anchors (chain, id);

CREATE TRIGGER tr_chain_anchors_append_only_update BEFORE UPDATE ON chain_anchors
BEGIN SELECT RAISE(ABORT, 'chain_anchors are append-only'); END;
CREATE TRIGGER tr_chain_anchors_append_only_delete BEFORE DELETE ON chain_anchors
BEGIN SELECT RAISE(ABORT, 'chain_anchors are append-only'); END;

-- Deletes are refused unless the row lies below the latest horizon. "NOT COALESCE(x < horizon, 0)":
-- with no horizon at all the comparison is NULL, and the delete is refused.
DROP TRIGGER tr_uploads_append_only_delete;
CREATE TRIGGER tr_uploads_append_only_delete BEFORE DELETE ON uploads
WHEN NOT COALESCE(OLD.id < (SELECT MAX(below_upload_id) FROM retention_horizons), 0)
BEGIN SELECT RAISE(ABORT, 'uploads are append-only: only uploads below the retention horizon can be deleted'); END;

DROP TRIGGER tr_samples_append_only_delete;
CREATE TRIGGER tr_samples_append_only_delete BEFORE DELETE ON samples
WHEN NOT COALESCE(OLD.upload_id < (SELECT MAX(below_upload_id) FROM retention_horizons), 0)
BEGIN SELECT RAISE(ABORT, 'samples are append-only: only samples of uploads below the retention horizon can be deleted'); END;

-- Events could be deleted until now (only updates were refused); from here on only under the audit horizon.
CREATE TRIGGER tr_events_append_only_delete BEFORE DELETE ON events
WHEN NOT COALESCE(OLD.at < (SELECT MAX(audit_before) FROM retention_horizons), 0)
BEGIN SELECT RAISE(ABORT, 'events are append-only: only events below the audit retention horizon can be deleted'); END;

-- Only closed alarms (acknowledged and cleared), wholly below the audit horizon.
DROP TRIGGER tr_alarms_append_only_delete;
CREATE TRIGGER tr_alarms_append_only_delete BEFORE DELETE ON alarms
WHEN OLD.acknowledged_at IS NULL OR OLD.cleared_at IS NULL
  OR NOT COALESCE(MAX(OLD.raised_at, OLD.acknowledged_at, OLD.cleared_at) < (SELECT MAX(audit_before) FROM retention_horizons), 0)
BEGIN SELECT RAISE(ABORT, 'alarms are kept for the audit trail: only closed alarms below the audit retention horizon can be deleted'); END;
