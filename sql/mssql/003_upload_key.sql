-- Idempotent replays: a batch carries a key chosen before its first attempt to store (the spool
-- sets one), so replaying it after a crash or an unclear failure stores it once.
ALTER TABLE inlet.uploads ADD upload_key varchar(64) COLLATE Latin1_General_100_BIN2 NULL;
GO
-- Filtered: uploads written without a key (none from a current Inlet, all from before) do not collide.
CREATE UNIQUE NONCLUSTERED INDEX ux_uploads_upload_key ON inlet.uploads (upload_key) WHERE upload_key IS NOT NULL;
GO
-- A table type cannot be altered: recreate it with the key. Nothing references it but Inlet's statements.
DROP TYPE inlet.upload_rows;
GO
CREATE TYPE inlet.upload_rows AS TABLE (
    id             bigint         NOT NULL,
    device_id      int            NULL,
    family         varchar(20)    NOT NULL,
    received_at    datetime2(3)   NOT NULL,
    remote_address nvarchar(128)  NOT NULL,
    content_type   nvarchar(max)  NOT NULL,
    raw            varbinary(max) NOT NULL,
    verdict        varchar(12)    NOT NULL,
    reason         nvarchar(max)  NOT NULL,
    serial         nvarchar(max)  NULL,
    counter        bigint         NULL,
    prev_hash      binary(32)     NOT NULL,
    hash           binary(32)     NOT NULL,
    upload_key     varchar(64)    COLLATE Latin1_General_100_BIN2 NULL
);
GO
-- The keys of a group, looked up before it is written.
CREATE TYPE inlet.upload_key_list AS TABLE (
    upload_key varchar(64) COLLATE Latin1_General_100_BIN2 NOT NULL
);
GO
