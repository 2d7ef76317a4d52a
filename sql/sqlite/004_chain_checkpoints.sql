-- Chain checkpoints: the head (last upload id and its hash) of each upload chain as a
-- verification found it intact. A later verification checks that each checkpointed upload
-- still exists with the same hash, so cutting uploads off the end of a chain (which the links
-- alone cannot reveal) is found too. chain is device_id, or 0 for uploads of no device.
-- Append-only like the data it vouches for.
CREATE TABLE chain_checkpoints (
  id        INTEGER PRIMARY KEY,
  at        INTEGER NOT NULL,
  chain     INTEGER NOT NULL,
  upload_id INTEGER NOT NULL,
  hash      BLOB    NOT NULL
);
CREATE INDEX ix_chain_checkpoints_chain ON chain_checkpoints (chain, id);

CREATE TRIGGER tr_chain_checkpoints_append_only_update BEFORE UPDATE ON chain_checkpoints
BEGIN SELECT RAISE(ABORT, 'chain_checkpoints are append-only'); END;
CREATE TRIGGER tr_chain_checkpoints_append_only_delete BEFORE DELETE ON chain_checkpoints
BEGIN SELECT RAISE(ABORT, 'chain_checkpoints are append-only'); END;
