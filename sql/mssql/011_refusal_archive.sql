-- The refusal archive: uploads Inlet refused, kept as evidence without letting anyone fill the disk.
-- Outside the device chains on purpose: only the first bytes of each body (a capped prefix), its full
-- length and its SHA-256 are kept, and the gateway deletes the oldest rows beyond a row cap and a
-- retention age (ingest.refusals in the config). Uploads refused from now on are no longer written to
-- the append-only, chained inlet.uploads, which cannot be cleaned without breaking a chain.
CREATE TABLE inlet.refusals (
    id             bigint         IDENTITY(1, 1) NOT NULL,
    received_at    datetime2(3)   NOT NULL,
    -- The device whose entry point was used, when known; no foreign key: this archive is pruned freely.
    device_id      int            NULL,
    family         varchar(20)    NOT NULL,
    remote_address varchar(64)    NOT NULL,
    content_type   nvarchar(200)  NOT NULL,
    status         smallint       NOT NULL,
    -- A fixed word per refusal kind (never text from the request): what events are de-duplicated by.
    reason_code    varchar(40)    NOT NULL,
    reason         nvarchar(1000) NOT NULL,
    serial         nvarchar(64)   NULL,
    body_length    bigint         NOT NULL,
    body_sha256    binary(32)     NOT NULL,
    -- At most ingest.refusals.prefixBytes (default 4 KiB): kept in the row.
    body_prefix    varbinary(8000) NOT NULL,
    CONSTRAINT pk_refusals PRIMARY KEY CLUSTERED (id),
    CONSTRAINT ck_refusals_body_length CHECK (body_length >= 0)
);
-- Retention deletes by age.
CREATE NONCLUSTERED INDEX ix_refusals_received_at ON inlet.refusals (received_at);
GO

-- Prunes the archive to its row cap and age. A procedure because the service login keeps its DENY
-- DELETE on the schema (docs/sqlserver.md); ownership chaining lets these DELETEs, and only these, through.
CREATE PROCEDURE inlet.prune_refusals
    @max_rows   bigint,
    @keep_since datetime2(3)
AS
BEGIN
    SET NOCOUNT ON;
    -- Ids only grow: "beyond the newest @max_rows" is one range on the clustered key.
    DELETE FROM inlet.refusals WHERE id <= (SELECT MAX(id) FROM inlet.refusals) - @max_rows;
    DELETE FROM inlet.refusals WHERE received_at < @keep_since;
END;
GO
