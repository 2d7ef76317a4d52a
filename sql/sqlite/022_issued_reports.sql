-- Every PDF report Inlet hands out, by its verification code: the SHA-256 of the file (what
-- `inlet report verify` compares) and of its content, who made it and what was asked. A signed
-- report is a report of its own that names the code of the one it approves. Rows are never
-- changed or deleted; each is also an event ('report.issued' or 'report.signed').
CREATE TABLE issued_reports (
  code            TEXT    NOT NULL PRIMARY KEY,
  file_sha256     TEXT    NOT NULL,
  content_sha256  TEXT    NOT NULL,
  generated_at    INTEGER NOT NULL,
  generated_by    TEXT    NOT NULL,
  request         TEXT    NOT NULL,   -- JSON: devices, channels, period, time zone
  signed_by       TEXT,
  signed_at       INTEGER,
  meaning         TEXT,
  signs_code      TEXT REFERENCES issued_reports (code),
  CHECK ((signed_by IS NULL) = (signed_at IS NULL) AND (signed_by IS NULL) = (meaning IS NULL) AND (signed_by IS NULL) = (signs_code IS NULL))
) WITHOUT ROWID;
CREATE INDEX ix_issued_reports_file ON issued_reports (file_sha256);

CREATE TRIGGER tr_issued_reports_no_update BEFORE UPDATE ON issued_reports
BEGIN SELECT RAISE(ABORT, 'issued reports are kept as issued'); END;
CREATE TRIGGER tr_issued_reports_no_delete BEFORE DELETE ON issued_reports
BEGIN SELECT RAISE(ABORT, 'issued reports are kept as issued'); END;
