-- Idempotent replays: a batch carries a key chosen before its first attempt to store (the spool
-- sets one), so replaying it after a crash or an unclear failure stores it once.
ALTER TABLE uploads ADD COLUMN upload_key TEXT;
CREATE UNIQUE INDEX ux_uploads_upload_key ON uploads (upload_key) WHERE upload_key IS NOT NULL;
