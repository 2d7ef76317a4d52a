-- Raw bodies have a retention of their own (docs/retention.md, "Raw bodies"): the bytes a device sent
-- are needed for a while (re-parsing, support), the readings for years. A body purge empties
-- uploads.raw and keeps what the hash chain covers of it: the chain hashes the body's SHA-256
-- (src/domain/chain.ts), which upload_body_purges records with the body's length, so every link
-- still verifies after the bytes are gone.
-- - upload_body_purges is append-only; a row says "this upload's body, of this length and SHA-256,
--   was purged then". Its SHA-256 is checked by `inlet verify` (a wrong one breaks the link).
-- - uploads.raw may change only to an empty body, only where a purge row exists for that upload, and
--   nothing else of the row may change: every other column stays as the chain covers it.
-- - retention_policy.min_body_keep_days is a floor like min_keep_days: no body younger than that
--   before the clock may be purged. 0 by default (the file belongs to the gateway alone); raised, never lowered.

ALTER TABLE retention_policy ADD COLUMN min_body_keep_days INTEGER NOT NULL DEFAULT 0 CHECK (min_body_keep_days BETWEEN 0 AND 36500);

DROP TRIGGER tr_retention_policy_floor_only_rises;
CREATE TRIGGER tr_retention_policy_floor_only_rises BEFORE UPDATE ON retention_policy
WHEN NEW.id <> OLD.id OR NEW.min_keep_days < OLD.min_keep_days OR NEW.min_audit_keep_days < OLD.min_audit_keep_days
  OR NEW.min_body_keep_days < OLD.min_body_keep_days
BEGIN SELECT RAISE(ABORT, 'the retention floor can be raised, never lowered'); END;

CREATE TABLE upload_body_purges (
  upload_id  INTEGER PRIMARY KEY REFERENCES uploads (id),
  raw_sha256 BLOB    NOT NULL CHECK (length(raw_sha256) = 32),
  raw_length INTEGER NOT NULL CHECK (raw_length >= 0),
  purged_at  INTEGER NOT NULL
);

CREATE TRIGGER tr_upload_body_purges_append_only_update BEFORE UPDATE ON upload_body_purges
BEGIN SELECT RAISE(ABORT, 'upload_body_purges are append-only'); END;
-- Gone with its upload only, below the retention horizon (tr_uploads_delete_body_purge below).
CREATE TRIGGER tr_upload_body_purges_with_upload_only BEFORE DELETE ON upload_body_purges
WHEN NOT COALESCE(OLD.upload_id < (SELECT MAX(below_upload_id) FROM retention_horizons), 0)
BEGIN SELECT RAISE(ABORT, 'upload_body_purges are append-only: a row goes only with its upload, below the retention horizon'); END;
-- The clock in ms since the epoch is (julianday('now') - 2440587.5) * 86400000 (as in migration 013).
CREATE TRIGGER tr_upload_body_purges_floor BEFORE INSERT ON upload_body_purges
WHEN NOT EXISTS (SELECT 1 FROM uploads AS u WHERE u.id = NEW.upload_id AND length(u.raw) = NEW.raw_length
                   AND u.received_at <= CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
                                        - (SELECT min_body_keep_days FROM retention_policy) * 86400000)
BEGIN SELECT RAISE(ABORT, 'a body purge must name a stored upload with its body''s length, received longer ago than retention_policy.min_body_keep_days'); END;

-- An upload's purge row goes with the upload (below the data horizon): drop it first, in the same statement.
CREATE TRIGGER tr_uploads_delete_body_purge BEFORE DELETE ON uploads
BEGIN DELETE FROM upload_body_purges WHERE upload_id = OLD.id; END;

DROP TRIGGER tr_uploads_append_only_update;
CREATE TRIGGER tr_uploads_append_only_update BEFORE UPDATE ON uploads
WHEN NOT (length(NEW.raw) = 0 AND length(OLD.raw) > 0
          AND EXISTS (SELECT 1 FROM upload_body_purges AS p WHERE p.upload_id = OLD.id AND p.raw_length = length(OLD.raw))
          AND NEW.id = OLD.id AND NEW.device_id IS OLD.device_id AND NEW.family = OLD.family AND NEW.received_at = OLD.received_at
          AND NEW.remote_address = OLD.remote_address AND NEW.content_type = OLD.content_type AND NEW.verdict = OLD.verdict
          AND NEW.reason = OLD.reason AND NEW.serial IS OLD.serial AND NEW.counter IS OLD.counter
          AND NEW.prev_hash = OLD.prev_hash AND NEW.hash = OLD.hash
          AND NEW.upload_key IS OLD.upload_key)
BEGIN SELECT RAISE(ABORT, 'uploads are append-only: only a body recorded in upload_body_purges can be emptied'); END;
