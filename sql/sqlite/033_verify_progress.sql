-- Incremental verification (docs/integrity.md, "Incremental verification"): how far `inlet verify`
-- has got, appended after each intact run. The nightly run verifies what arrived above
-- verified_through, plus the next share of a rolling full pass ([rolling_cursor, rolling_end]), so
-- everything is re-verified within rolling_nights nights.
-- A row that moved verified_through forward would hide tampering below it, so rows are chained: mac
-- is HMAC-SHA256 under the gateway's chain key (kept outside the database) over prev_mac and the
-- row's values, and prev_mac must be the mac of the row before. Verification recomputes the chain of
-- rows and falls back to a full pass when it is broken. The table is append-only.
CREATE TABLE verify_progress (
  id               INTEGER PRIMARY KEY,
  at               INTEGER NOT NULL,
  mode             TEXT    NOT NULL CHECK (mode IN ('incremental', 'full')),
  verified_through INTEGER NOT NULL CHECK (verified_through >= 0),
  rolling_cursor   INTEGER NOT NULL CHECK (rolling_cursor >= 0),
  rolling_end      INTEGER NOT NULL CHECK (rolling_end >= 0),
  rolling_nights   INTEGER NOT NULL CHECK (rolling_nights BETWEEN 1 AND 366),
  prev_mac         BLOB    NOT NULL CHECK (length(prev_mac) = 32),
  mac              BLOB    NOT NULL CHECK (length(mac) = 32)
);
CREATE TRIGGER tr_verify_progress_append_only_update BEFORE UPDATE ON verify_progress
BEGIN SELECT RAISE(ABORT, 'verify_progress is append-only'); END;
CREATE TRIGGER tr_verify_progress_append_only_delete BEFORE DELETE ON verify_progress
BEGIN SELECT RAISE(ABORT, 'verify_progress is append-only'); END;
-- Each row continues the one before it (its mac is checked by verification, which holds the key).
CREATE TRIGGER tr_verify_progress_linked BEFORE INSERT ON verify_progress
WHEN NEW.prev_mac IS NOT COALESCE((SELECT p.mac FROM verify_progress AS p ORDER BY p.id DESC LIMIT 1), zeroblob(32))
BEGIN SELECT RAISE(ABORT, 'a verify_progress row must link to the latest one (prev_mac = its mac)'); END;
