-- Entry tokens are kept only as their SHA-256 (issue 15): a stolen database file or backup then
-- holds no working entry point. Each device keeps working: it still posts its token, and the
-- gateway looks it up by hash (src/domain/entry-token.ts says why a plain SHA-256 is enough).
-- inlet_entry_token_sha256() is registered on the connection by SqliteStore (lower-case hex).
-- secure_delete overwrites the clear tokens' old bytes in the table and index pages instead of
-- leaving them in their free space (test/e2e/entry-token-hashes.test.ts fails without it).
PRAGMA secure_delete = ON;
ALTER TABLE devices RENAME COLUMN entry_token TO entry_token_sha256;
UPDATE devices SET entry_token_sha256 = inlet_entry_token_sha256(entry_token_sha256);
PRAGMA secure_delete = OFF;
