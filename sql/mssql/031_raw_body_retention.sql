-- Raw bodies have a retention of their own (docs/retention.md, "Raw bodies"; docs/sqlserver.md): the
-- bytes a device sent are needed for weeks (re-parsing, support cases), the readings for years, and
-- the bodies are most of the archive's size. A body purge empties inlet.uploads.raw and keeps what
-- the hash chain covers of it: the chain hashes the body's SHA-256 (src/domain/chain.ts), which
-- inlet.upload_body_purges records with the body's length, so every link still verifies.
-- - Decided by the database, as the data horizon is (migration 013): inlet.purge_upload_bodies takes
--   the keep-days Inlet asks for but never fewer than inlet.body_retention_policy.min_body_keep_days
--   (owned by the DBA, 30 until changed), counts them back from SYSUTCDATETIME(), and computes each
--   body's SHA-256 itself (HASHBYTES over the body as received, DECOMPRESS'ed where migration 014
--   stored it compressed). The caller supplies no date, no digest and no row.
-- - inlet.uploads may be updated only in that shape: raw emptied, raw_encoding cleared, every other
--   column unchanged, and only where a purge row with the body's own SHA-256 and length exists. The
--   INSTEAD OF UPDATE trigger checks this for every login, db_owner included.
-- - Each chunk appends a 'retention.bodies.purged' event with the login (ORIGINAL_LOGIN()), the
--   server's time, the upload range, the number of bodies and bytes, and the reason.

CREATE TABLE inlet.body_retention_policy (
    id                 int           NOT NULL,
    min_body_keep_days int           NOT NULL,
    changed_at         datetime2(3)  NOT NULL CONSTRAINT df_body_retention_policy_changed_at DEFAULT (SYSUTCDATETIME()),
    changed_by         nvarchar(128) NOT NULL CONSTRAINT df_body_retention_policy_changed_by DEFAULT (ORIGINAL_LOGIN()),
    CONSTRAINT pk_body_retention_policy PRIMARY KEY CLUSTERED (id),
    CONSTRAINT ck_body_retention_policy_one_row CHECK (id = 1),
    CONSTRAINT ck_body_retention_policy_min_body_keep_days CHECK (min_body_keep_days BETWEEN 1 AND 36500)
);
GO
INSERT INTO inlet.body_retention_policy (id, min_body_keep_days) VALUES (1, 30);
GO
CREATE TRIGGER inlet.tr_body_retention_policy_change ON inlet.body_retention_policy INSTEAD OF INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    IF NOT EXISTS (SELECT 1 FROM inserted) OR NOT EXISTS (SELECT 1 FROM deleted) OR EXISTS (SELECT 1 FROM inserted AS i WHERE i.id <> 1)
        THROW 50023, N'inlet.body_retention_policy has exactly one row, id 1: change its days with UPDATE (docs/sqlserver.md)', 1;
    UPDATE p
    SET p.min_body_keep_days = i.min_body_keep_days, p.changed_at = SYSUTCDATETIME(), p.changed_by = ORIGINAL_LOGIN()
    FROM inlet.body_retention_policy AS p
    INNER JOIN inserted AS i ON i.id = p.id;
    INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data, actor)
    SELECT SYSUTCDATETIME(), NULL, 'retention.policy.changed', 'warning',
           CONCAT(N'raw-body retention floor changed by ', ORIGINAL_LOGIN(), N': bodies kept at least ', d.min_body_keep_days, N' -> ',
                  i.min_body_keep_days, N' days'),
           CONCAT(N'{"by":"', STRING_ESCAPE(ORIGINAL_LOGIN(), 'json'), N'","minBodyKeepDays":{"old":', d.min_body_keep_days,
                  N',"new":', i.min_body_keep_days, N'}}'),
           ORIGINAL_LOGIN()
    FROM inserted AS i
    INNER JOIN deleted AS d ON d.id = i.id;
END;
GO

CREATE TABLE inlet.upload_body_purges (
    upload_id  bigint        NOT NULL,
    raw_sha256 binary(32)    NOT NULL,
    raw_length bigint        NOT NULL,
    purged_at  datetime2(3)  NOT NULL CONSTRAINT df_upload_body_purges_purged_at DEFAULT (SYSUTCDATETIME()),
    purged_by  nvarchar(128) NOT NULL CONSTRAINT df_upload_body_purges_purged_by DEFAULT (ORIGINAL_LOGIN()),
    CONSTRAINT pk_upload_body_purges PRIMARY KEY CLUSTERED (upload_id),
    CONSTRAINT ck_upload_body_purges_raw_length CHECK (raw_length >= 0)
);
GO
-- Append-only; a row goes with its upload, below the data horizon (inlet.purge_below_horizon's
-- DELETE of uploads is followed by the purge rows of the same ids).
CREATE TRIGGER inlet.tr_upload_body_purges_append_only ON inlet.upload_body_purges INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (SELECT 1 FROM inserted)
        THROW 50024, N'inlet.upload_body_purges is append-only', 1;
    DECLARE @below_upload_id bigint = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
    IF EXISTS (SELECT 1 FROM deleted AS d WHERE @below_upload_id IS NULL OR d.upload_id >= @below_upload_id)
        THROW 50024, N'inlet.upload_body_purges is append-only: a row goes only with its upload, below the retention horizon', 1;
    DELETE p FROM inlet.upload_body_purges AS p INNER JOIN deleted AS d ON d.upload_id = p.upload_id;
END;
GO

-- Uploads stay unchangeable, except that a body recorded in inlet.upload_body_purges may be emptied.
DROP TRIGGER inlet.tr_uploads_append_only;
GO
CREATE TRIGGER inlet.tr_uploads_append_only ON inlet.uploads INSTEAD OF UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (SELECT 1
               FROM inserted AS i
               INNER JOIN deleted AS d ON d.id = i.id
               LEFT JOIN inlet.upload_body_purges AS p ON p.upload_id = d.id
               WHERE DATALENGTH(i.raw) <> 0 OR i.raw_encoding IS NOT NULL
                  OR p.upload_id IS NULL
                  OR p.raw_length <> DATALENGTH(CASE WHEN d.raw_encoding = 'gzip' THEN DECOMPRESS(d.raw) ELSE d.raw END)
                  OR p.raw_sha256 <> HASHBYTES('SHA2_256', CASE WHEN d.raw_encoding = 'gzip' THEN DECOMPRESS(d.raw) ELSE d.raw END)
                  OR (i.device_id <> d.device_id OR (i.device_id IS NULL AND d.device_id IS NOT NULL) OR (i.device_id IS NOT NULL AND d.device_id IS NULL))
                  OR i.family <> d.family OR i.received_at <> d.received_at OR i.remote_address <> d.remote_address
                  OR i.content_type <> d.content_type OR i.verdict <> d.verdict OR i.reason <> d.reason
                  OR (i.serial <> d.serial OR (i.serial IS NULL AND d.serial IS NOT NULL) OR (i.serial IS NOT NULL AND d.serial IS NULL))
                  OR (i.counter <> d.counter OR (i.counter IS NULL AND d.counter IS NOT NULL) OR (i.counter IS NOT NULL AND d.counter IS NULL))
                  OR i.prev_hash <> d.prev_hash OR i.hash <> d.hash
                  OR (i.upload_key <> d.upload_key OR (i.upload_key IS NULL AND d.upload_key IS NOT NULL) OR (i.upload_key IS NOT NULL AND d.upload_key IS NULL)))
       OR (SELECT COUNT(*) FROM inserted) <> (SELECT COUNT(*) FROM deleted)
        THROW 50001, N'inlet.uploads is append-only: only a body recorded in inlet.upload_body_purges can be emptied', 1;
    UPDATE u
    SET u.raw = 0x, u.raw_encoding = NULL
    FROM inlet.uploads AS u
    INNER JOIN inserted AS i ON i.id = u.id;
END;
GO

CREATE PROCEDURE inlet.purge_upload_bodies
    @keep_days  int,
    @batch_size int,
    @reason     nvarchar(1000)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @lock_result int;
    DECLARE @floor int = (SELECT p.min_body_keep_days FROM inlet.body_retention_policy AS p WHERE p.id = 1);
    DECLARE @days int = CASE WHEN @keep_days > @floor THEN @keep_days ELSE @floor END;
    DECLARE @before datetime2(3) = DATEADD(day, -@days, SYSUTCDATETIME());
    DECLARE @after bigint;
    DECLARE @first_kept bigint;
    DECLARE @chunk TABLE (upload_id bigint NOT NULL PRIMARY KEY, raw_sha256 binary(32) NOT NULL, raw_length bigint NOT NULL);
    IF @floor IS NULL THROW 50023, N'inlet.body_retention_policy has no row: run the migrations', 1;
    IF @batch_size IS NULL OR @batch_size < 1 OR @batch_size > 4000
        THROW 50023, N'@batch_size must be 1 to 4000 bodies (below the lock-escalation threshold)', 1;
    BEGIN TRY
        BEGIN TRANSACTION;
        EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.retention.bodies', @LockMode = N'Exclusive',
            @LockOwner = N'Transaction', @LockTimeout = 0;
        IF @lock_result < 0 THROW 50012, N'another body purge is running on this database; try again when it is done', 1;
        -- From the last body purged up to the first upload received at or after @before: a run never
        -- rescans what earlier runs emptied.
        SET @after = COALESCE((SELECT MAX(p.upload_id) FROM inlet.upload_body_purges AS p), 0);
        SET @first_kept = (SELECT TOP (1) u.id FROM inlet.uploads AS u WHERE u.id > @after AND u.received_at >= @before ORDER BY u.id);
        INSERT INTO @chunk (upload_id, raw_sha256, raw_length)
        SELECT TOP (@batch_size) u.id, HASHBYTES('SHA2_256', b.body), DATALENGTH(b.body)
        FROM inlet.uploads AS u
        CROSS APPLY (SELECT CASE WHEN u.raw_encoding = 'gzip' THEN DECOMPRESS(u.raw) ELSE u.raw END AS body) AS b
        WHERE u.id > @after AND (@first_kept IS NULL OR u.id < @first_kept) AND DATALENGTH(u.raw) > 0
        ORDER BY u.id;
        IF @@ROWCOUNT > 0
        BEGIN
            INSERT INTO inlet.upload_body_purges (upload_id, raw_sha256, raw_length)
            SELECT c.upload_id, c.raw_sha256, c.raw_length FROM @chunk AS c;
            UPDATE u SET u.raw = 0x, u.raw_encoding = NULL
            FROM inlet.uploads AS u
            INNER JOIN @chunk AS c ON c.upload_id = u.id;
            INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data, actor)
            SELECT SYSUTCDATETIME(), NULL, 'retention.bodies.purged', 'info',
                   CONCAT(N'raw bodies purged by ', ORIGINAL_LOGIN(), N': ', COUNT(*), N' bodies (', SUM(c.raw_length), N' bytes) of uploads #',
                          MIN(c.upload_id), N'-#', MAX(c.upload_id), N', received before ', CONVERT(nvarchar(30), @before, 127),
                          N'Z; their SHA-256 is kept, so the chains still verify. Reason: ', @reason),
                   CONCAT(N'{"before":"', CONVERT(nvarchar(30), @before, 127), N'Z","keepDays":', @days, N',"bodies":', COUNT(*),
                          N',"bytes":', SUM(c.raw_length), N',"firstUploadId":', MIN(c.upload_id), N',"lastUploadId":', MAX(c.upload_id),
                          N',"by":"', STRING_ESCAPE(ORIGINAL_LOGIN(), 'json'), N'","reason":"', STRING_ESCAPE(@reason, 'json'), N'"}'),
                   ORIGINAL_LOGIN()
            FROM @chunk AS c;
        END;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    SELECT COUNT(*) AS bodies, COALESCE(SUM(c.raw_length), 0) AS bytes, MIN(c.upload_id) AS first_upload_id, MAX(c.upload_id) AS last_upload_id
    FROM @chunk AS c;
END;
GO

-- The purge below the data horizon deletes uploads; their purge rows go with them. An AFTER DELETE
-- trigger on uploads would not fire for the INSTEAD OF trigger's own DELETE in every engine, so the
-- delete trigger of 008 is replaced to remove the purge rows first.
DROP TRIGGER inlet.tr_uploads_delete_below_horizon;
GO
CREATE TRIGGER inlet.tr_uploads_delete_below_horizon ON inlet.uploads INSTEAD OF DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @below_upload_id bigint = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
    IF EXISTS (SELECT 1 FROM deleted AS d WHERE @below_upload_id IS NULL OR d.id >= @below_upload_id)
        THROW 50001, N'inlet.uploads is append-only: only uploads below the retention horizon can be deleted', 1;
    DELETE p
    FROM inlet.upload_body_purges AS p
    INNER JOIN deleted AS d ON d.id = p.upload_id;
    DELETE u
    FROM inlet.uploads AS u
    INNER JOIN deleted AS d ON d.id = u.id;
END;
GO

-- The service role reads and executes through its schema-wide grants (bootstrap.sql); it reaches the
-- purge rows and the emptied bodies only through inlet.purge_upload_bodies (ownership chaining).
IF DATABASE_PRINCIPAL_ID(N'inlet_service') IS NOT NULL
    EXEC (N'DENY INSERT, UPDATE, DELETE ON OBJECT::inlet.upload_body_purges TO inlet_service;
DENY INSERT, UPDATE, DELETE ON OBJECT::inlet.body_retention_policy TO inlet_service;');
GO
