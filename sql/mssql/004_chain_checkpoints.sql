-- Chain checkpoints: the logical schema and rules of sql/sqlite/004_chain_checkpoints.sql. Each row
-- is the head (last upload id and its hash) of one upload chain as `inlet verify` found it intact.
-- A later verification checks that each checkpointed upload still exists with the same hash, so
-- cutting uploads off the end of a chain (which the links alone cannot reveal) is found too.
-- chain is the device id, or 0 for the uploads of no device (hence no foreign key to devices).
-- Append-only like the data it vouches for (INSTEAD OF trigger below).
CREATE TABLE inlet.chain_checkpoints (
    id          bigint       IDENTITY(1, 1) NOT NULL,
    verified_at datetime2(3) NOT NULL,
    chain       int          NOT NULL,
    upload_id   bigint       NOT NULL,
    hash        binary(32)   NOT NULL,
    CONSTRAINT pk_chain_checkpoints PRIMARY KEY CLUSTERED (id)
);
-- The latest checkpoint of each chain: MAX(id) per chain is a seek at the end of each chain's range.
CREATE NONCLUSTERED INDEX ix_chain_checkpoints_chain ON inlet.chain_checkpoints (chain, id) INCLUDE (verified_at, upload_id, hash);
GO

-- A whole verification's checkpoints travel as one table-valued parameter.
CREATE TYPE inlet.chain_checkpoint_rows AS TABLE (
    verified_at datetime2(3) NOT NULL,
    chain       int          NOT NULL,
    upload_id   bigint       NOT NULL,
    hash        binary(32)   NOT NULL
);
GO

CREATE TRIGGER inlet.tr_chain_checkpoints_append_only ON inlet.chain_checkpoints INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50004, N'inlet.chain_checkpoints is append-only: checkpoints cannot be changed or deleted', 1;
END;
GO
