-- Entry tokens are kept only as their SHA-256 (issue 15): a stolen database or backup then holds
-- no working entry point. Each device keeps working: it still posts its token, and the gateway
-- looks it up by hash (src/domain/entry-token.ts says why a plain SHA-256 is enough). The logical
-- schema of sql/sqlite/024_entry_token_hashes.sql.
--
-- The hash is stored as 64 lower-case hex characters, as the gateway computes it. Tokens are
-- base64url (ASCII), so HASHBYTES over the varchar column hashes the same bytes as the gateway's
-- UTF-8.
ALTER TABLE inlet.devices DROP CONSTRAINT uq_devices_entry_token;
GO
ALTER TABLE inlet.devices ADD entry_token_sha256 char(64) COLLATE Latin1_General_100_BIN2 NULL;
GO
UPDATE inlet.devices
SET entry_token_sha256 = LOWER(CONVERT(char(64), HASHBYTES('SHA2_256', entry_token), 2));
GO
ALTER TABLE inlet.devices ALTER COLUMN entry_token_sha256 char(64) COLLATE Latin1_General_100_BIN2 NOT NULL;
GO
ALTER TABLE inlet.devices ADD
    CONSTRAINT uq_devices_entry_token_sha256 UNIQUE NONCLUSTERED (entry_token_sha256),
    CONSTRAINT ck_devices_entry_token_sha256 CHECK (entry_token_sha256 NOT LIKE '%[^0-9a-f]%');
GO
ALTER TABLE inlet.devices DROP COLUMN entry_token;
GO
-- Dropping a column only changes metadata: the clear tokens would stay in the data pages until
-- they are rewritten. Rebuilding the table rewrites them now. (Earlier transaction-log and
-- database backups still hold them: renew the entry points, inlet device new-token, if those
-- backups may have left the building.)
ALTER TABLE inlet.devices REBUILD;
GO
