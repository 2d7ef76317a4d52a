-- Retention drops whole partitions instead of deleting rows (docs/sqlserver.md, "Partitions by upload
-- id"). inlet.uploads and inlet.samples (and so the raw bodies, which live in the uploads rows) are
-- partitioned by upload id ranges, on one partition function:
-- - The retention horizon is an upload id (below_upload_id, decided by the database: migration 013),
--   and every sample carries the id of the upload that stored it, so "below the horizon" is a set of
--   whole partitions plus part of one. inlet.switch_out_below_horizon switches each partition wholly
--   below the horizon out to an empty staging table and truncates it: metadata and page deallocation,
--   no row deletes, no per-row log, no lock escalation, no hour of the rollup rebuilt per chunk. The
--   partition the horizon cuts is finished by inlet.purge_below_horizon's row deletes, as before.
-- - inlet.add_upload_partitions keeps empty partitions ready above the highest upload id: a SPLIT on an
--   empty range is a metadata change; a SPLIT of a range holding rows would move them, so it refuses.
-- - The width of a partition (upload ids) is the DBA's, in inlet.partition_policy: 5,000,000 by default.
--   Sizes at 10^9 samples are in docs/sqlserver.md.
-- - Partitioning is in every edition from SQL Server 2016 SP1 on (the minimum bootstrap.sql enforces),
--   Express and Standard included.
-- What aligning the indexes on upload id costs, and why it is accepted:
-- - Every index of both tables must carry the upload id for SWITCH. The samples' clustered key becomes
--   (device_id, channel, sample_time, upload_id): the database no longer enforces one sample per
--   channel and time by itself. The group commit inserts only missing keys under the upload writer
--   lock (serialised), and a duplicate written outside Inlet is a sample its upload's hash does not
--   cover, which `inlet verify` reports. The same holds for ux_uploads_upload_key, which becomes
--   a non-unique index: upload keys are looked up under the writer lock before each insert.
-- - A range read of one channel seeks once per partition (the predicate does not name upload ids):
--   tens of partitions at 10^9 samples, a few logical reads each. The live view reads
--   inlet.latest_samples and long ranges read the hourly rollup, neither partitioned.
-- - inlet.quarantine's foreign key to inlet.uploads goes (SWITCH refuses a table other tables
--   reference); its rows are written in the group commit's transaction with their upload and deleted
--   with it below the horizon.
-- This migration rebuilds both tables once (offline on Standard): on a large database run it in a
-- maintenance window (docs/sqlserver.md).

CREATE TABLE inlet.partition_policy (
    id                       int           NOT NULL,
    upload_ids_per_partition bigint        NOT NULL,
    partitions_ahead         int           NOT NULL,
    changed_at               datetime2(3)  NOT NULL CONSTRAINT df_partition_policy_changed_at DEFAULT (SYSUTCDATETIME()),
    changed_by               nvarchar(128) NOT NULL CONSTRAINT df_partition_policy_changed_by DEFAULT (ORIGINAL_LOGIN()),
    CONSTRAINT pk_partition_policy PRIMARY KEY CLUSTERED (id),
    CONSTRAINT ck_partition_policy_one_row CHECK (id = 1),
    CONSTRAINT ck_partition_policy_width CHECK (upload_ids_per_partition BETWEEN 10000 AND 10000000000),
    CONSTRAINT ck_partition_policy_ahead CHECK (partitions_ahead BETWEEN 1 AND 100)
);
GO
INSERT INTO inlet.partition_policy (id, upload_ids_per_partition, partitions_ahead) VALUES (1, 5000000, 4);
GO

-- The first boundaries cover what is stored now, plus partitions_ahead empty ones above it.
DECLARE @width bigint = 5000000;
DECLARE @ahead int = 4;
DECLARE @max_id bigint = COALESCE((SELECT MAX(u.id) FROM inlet.uploads AS u), 0);
DECLARE @boundary bigint = @width + 1;
DECLARE @values nvarchar(max) = N'';
WHILE @boundary <= @max_id + @ahead * @width
BEGIN
    SET @values = CONCAT(@values, CASE WHEN @values = N'' THEN N'' ELSE N', ' END, @boundary);
    SET @boundary = @boundary + @width;
END;
-- RANGE RIGHT: partition n holds ids [boundary n-1, boundary n); ids 1 .. @width are partition 1.
-- The statement is built from integers only.
EXEC (N'CREATE PARTITION FUNCTION pf_upload_id (bigint) AS RANGE RIGHT FOR VALUES (' + @values + N');');
GO
CREATE PARTITION SCHEME ps_upload_id AS PARTITION pf_upload_id ALL TO ([PRIMARY]);
GO

ALTER TABLE inlet.quarantine DROP CONSTRAINT fk_quarantine_uploads;
GO

-- inlet.uploads: the clustered primary key and every index on the scheme.
DROP INDEX ux_uploads_upload_key ON inlet.uploads;
DROP INDEX ix_uploads_device_id ON inlet.uploads;
ALTER TABLE inlet.uploads DROP CONSTRAINT pk_uploads;
GO
ALTER TABLE inlet.uploads ADD CONSTRAINT pk_uploads PRIMARY KEY CLUSTERED (id) ON ps_upload_id (id);
CREATE NONCLUSTERED INDEX ix_uploads_device_id ON inlet.uploads (device_id, id) INCLUDE (hash) ON ps_upload_id (id);
CREATE NONCLUSTERED INDEX ix_uploads_upload_key ON inlet.uploads (upload_key) WHERE upload_key IS NOT NULL ON ps_upload_id (id);
GO

-- inlet.samples: the clustered key gains upload_id (above), with the compression it had.
DECLARE @compression nvarchar(60) = COALESCE((SELECT TOP (1) p.data_compression_desc FROM sys.partitions AS p
                                              WHERE p.object_id = OBJECT_ID(N'inlet.samples') AND p.index_id IN (0, 1)), N'NONE');
DROP INDEX ix_samples_upload_id ON inlet.samples;
ALTER TABLE inlet.samples DROP CONSTRAINT pk_samples;
-- The statement is built from a value read from sys.partitions, one of NONE, ROW, PAGE.
IF @compression NOT IN (N'NONE', N'ROW', N'PAGE') SET @compression = N'NONE';
EXEC (N'ALTER TABLE inlet.samples ADD CONSTRAINT pk_samples PRIMARY KEY CLUSTERED (device_id, channel, sample_time, upload_id)
    WITH (DATA_COMPRESSION = ' + @compression + N') ON ps_upload_id (upload_id);
CREATE NONCLUSTERED INDEX ix_samples_upload_id ON inlet.samples (upload_id) WITH (DATA_COMPRESSION = ' + @compression + N') ON ps_upload_id (upload_id);');
GO

-- Staging tables a partition is switched into and truncated: the same columns, clustered key,
-- indexes and compression as their source, on the same filegroup, referenced by nothing.
-- Columns in the order the migrations gave their sources (001, then 003's upload_key, 014's raw_encoding).
CREATE TABLE inlet.uploads_switch_out (
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
    upload_key     varchar(64)    COLLATE Latin1_General_100_BIN2 NULL,
    raw_encoding   varchar(8)     NULL
);
CREATE TABLE inlet.samples_switch_out (
    device_id   int          NOT NULL,
    channel     int          NOT NULL,
    sample_time datetime2(3) NOT NULL,
    value       float(53)    NULL,
    error_code  int          NULL,
    alarm       char(2)      NOT NULL,
    upload_id   bigint       NOT NULL
);
GO
ALTER TABLE inlet.uploads_switch_out ADD CONSTRAINT pk_uploads_switch_out PRIMARY KEY CLUSTERED (id);
CREATE NONCLUSTERED INDEX ix_uploads_switch_out_device_id ON inlet.uploads_switch_out (device_id, id) INCLUDE (hash);
CREATE NONCLUSTERED INDEX ix_uploads_switch_out_upload_key ON inlet.uploads_switch_out (upload_key) WHERE upload_key IS NOT NULL;
EXEC sys.sp_tableoption @TableNamePattern = N'inlet.uploads_switch_out', @OptionName = 'large value types out of row', @OptionValue = 'ON';
GO
DECLARE @compression nvarchar(60) = COALESCE((SELECT TOP (1) p.data_compression_desc FROM sys.partitions AS p
                                              WHERE p.object_id = OBJECT_ID(N'inlet.samples') AND p.index_id = 1), N'NONE');
IF @compression NOT IN (N'NONE', N'ROW', N'PAGE') SET @compression = N'NONE';
EXEC (N'ALTER TABLE inlet.samples_switch_out ADD CONSTRAINT pk_samples_switch_out PRIMARY KEY CLUSTERED (device_id, channel, sample_time, upload_id)
    WITH (DATA_COMPRESSION = ' + @compression + N');
CREATE NONCLUSTERED INDEX ix_samples_switch_out_upload_id ON inlet.samples_switch_out (upload_id) WITH (DATA_COMPRESSION = ' + @compression + N');');
GO
-- The service role never touches the staging tables (the procedures run as their owner).
IF DATABASE_PRINCIPAL_ID(N'inlet_service') IS NOT NULL
    EXEC (N'DENY SELECT, INSERT, UPDATE, DELETE ON OBJECT::inlet.uploads_switch_out TO inlet_service;
DENY SELECT, INSERT, UPDATE, DELETE ON OBJECT::inlet.samples_switch_out TO inlet_service;
DENY INSERT, UPDATE, DELETE ON OBJECT::inlet.partition_policy TO inlet_service;');
GO

-- The rollup and the latest-value table are kept by the triggers on inlet.samples; a SWITCH fires no
-- trigger, so inlet.switch_out_below_horizon rebuilds the hours and channels it touched itself. Their
-- guards let that procedure through by the session flag it sets (and clears) around the rebuild. The
-- service role cannot write either table at all (DENY, migrations 013 and 014), so the flag opens
-- nothing to it; a db_owner who could set the flag could also drop the trigger.
DROP TRIGGER inlet.tr_sample_rollup_hour_from_samples_only;
GO
CREATE TRIGGER inlet.tr_sample_rollup_hour_from_samples_only ON inlet.sample_rollup_hour AFTER INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(OBJECT_ID(N'inlet.tr_samples_rollup_hour'), 'AFTER', 'DML') = 0
       AND TRIGGER_NESTLEVEL(OBJECT_ID(N'inlet.tr_samples_delete_below_horizon'), 'IOT', 'DML') = 0
       AND COALESCE(CAST(SESSION_CONTEXT(N'inlet.partition_switch') AS int), 0) <> 1
        THROW 50019, N'inlet.sample_rollup_hour is kept by the triggers on inlet.samples: it cannot be changed directly', 1;
END;
GO
DROP TRIGGER inlet.tr_latest_samples_from_samples_only;
GO
CREATE TRIGGER inlet.tr_latest_samples_from_samples_only ON inlet.latest_samples AFTER INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(OBJECT_ID(N'inlet.tr_samples_latest'), 'AFTER', 'DML') = 0
       AND TRIGGER_NESTLEVEL(OBJECT_ID(N'inlet.tr_samples_latest_after_delete'), 'AFTER', 'DML') = 0
       AND COALESCE(CAST(SESSION_CONTEXT(N'inlet.partition_switch') AS int), 0) <> 1
        THROW 50022, N'inlet.latest_samples is kept by the triggers on inlet.samples: it cannot be changed directly', 1;
END;
GO

-- Empty partitions above the highest upload id, partitions_ahead of them. EXECUTE AS OWNER: a SPLIT is
-- DDL, which ownership chaining does not cover; the procedure decides every boundary itself.
CREATE PROCEDURE inlet.add_upload_partitions
WITH EXECUTE AS OWNER
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    -- A SPLIT needs a schema-modification lock on both tables (see switch_out_below_horizon): 5 s at most.
    SET LOCK_TIMEOUT 5000;
    DECLARE @width bigint;
    DECLARE @ahead int;
    DECLARE @highest_used bigint;
    DECLARE @last_boundary bigint;
    DECLARE @added int = 0;
    SELECT @width = p.upload_ids_per_partition, @ahead = p.partitions_ahead FROM inlet.partition_policy AS p WHERE p.id = 1;
    -- The highest id stored or handed out by the sequence (its cache included): nothing lies above it.
    SET @highest_used = (SELECT MAX(v) FROM (VALUES ((SELECT MAX(u.id) FROM inlet.uploads AS u)),
                                                    ((SELECT CAST(s.current_value AS bigint) + s.cache_size FROM sys.sequences AS s
                                                      WHERE s.object_id = OBJECT_ID(N'inlet.upload_id')))) AS ids (v));
    SET @highest_used = COALESCE(@highest_used, 0);
    SET @last_boundary = (SELECT MAX(CAST(r.value AS bigint)) FROM sys.partition_range_values AS r
                          INNER JOIN sys.partition_functions AS f ON f.function_id = r.function_id
                          WHERE f.name = N'pf_upload_id');
    WHILE @last_boundary < @highest_used + @ahead * @width
    BEGIN
        -- The new range [@last_boundary + @width, ...) is empty: no upload id has reached @last_boundary + @width yet.
        IF EXISTS (SELECT 1 FROM inlet.uploads AS u WHERE u.id >= @last_boundary + @width)
            THROW 50026, N'a new upload partition would split a range that holds rows: raise partition_policy.partitions_ahead and run inlet.add_upload_partitions more often', 1;
        ALTER PARTITION SCHEME ps_upload_id NEXT USED [PRIMARY];
        SET @last_boundary = @last_boundary + @width;
        ALTER PARTITION FUNCTION pf_upload_id () SPLIT RANGE (@last_boundary);
        SET @added = @added + 1;
    END;
    SELECT @added AS added, @last_boundary AS last_boundary;
END;
GO

-- Switches out every non-empty partition wholly below the latest retention horizon, oldest first, at
-- most @max_partitions per call; each in its own short transaction under the upload writer lock (the
-- rollup rebuild must not race a group commit) and the retention lock (one purge at a time).
-- Chain anchors were recorded when the horizon advanced, before anything below it went (migration
-- 013), so chains stay verifiable. Empty partitions below the horizon are then merged away.
CREATE PROCEDURE inlet.switch_out_below_horizon
    @max_partitions int = 1
WITH EXECUTE AS OWNER
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    -- A SWITCH or MERGE needs a schema-modification lock on inlet.samples and inlet.uploads. It waits
    -- for every query running on them (a viewer's long export), and every new query, the viewer's and
    -- the next group commit's, queues behind the waiting request. Waiting at most 5 s (less than a
    -- group commit's 10 s wait for the writer lock this procedure holds) bounds that stall: error 1222
    -- then rolls the partition's transaction back, and the next retention run switches it.
    SET LOCK_TIMEOUT 5000;
    DECLARE @lock_result int;
    DECLARE @below bigint = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
    DECLARE @partition int;
    DECLARE @low bigint;
    DECLARE @high bigint;
    DECLARE @switched int = 0;
    DECLARE @uploads bigint = 0;
    DECLARE @samples bigint = 0;
    DECLARE @rows_uploads bigint;
    DECLARE @rows_samples bigint;
    DECLARE @hours TABLE (device_id int NOT NULL, channel int NOT NULL, hour_start datetime2(3) NOT NULL,
                          PRIMARY KEY (device_id, channel, hour_start));
    DECLARE @channels TABLE (device_id int NOT NULL, channel int NOT NULL, PRIMARY KEY (device_id, channel));
    DECLARE @boundary bigint;
    IF @below IS NULL
    BEGIN
        SELECT 0 AS partitions, CAST(0 AS bigint) AS uploads, CAST(0 AS bigint) AS samples;
        RETURN;
    END;
    WHILE @switched < @max_partitions
    BEGIN
        -- The oldest non-empty partition whose every id lies below the horizon: [low, high) with high <= @below.
        SELECT TOP (1) @partition = b.partition_number, @low = b.low, @high = b.high
        FROM (SELECT p.partition_number,
                     CAST(lo.value AS bigint) AS low,
                     CAST(hi.value AS bigint) AS high
              FROM sys.partitions AS p
              INNER JOIN sys.indexes AS i ON i.object_id = p.object_id AND i.index_id = p.index_id
              INNER JOIN sys.partition_schemes AS s ON s.data_space_id = i.data_space_id
              LEFT JOIN sys.partition_range_values AS lo ON lo.function_id = s.function_id AND lo.boundary_id = p.partition_number - 1
              LEFT JOIN sys.partition_range_values AS hi ON hi.function_id = s.function_id AND hi.boundary_id = p.partition_number
              WHERE p.object_id = OBJECT_ID(N'inlet.uploads') AND p.index_id = 1
                AND (p.rows > 0
                     OR EXISTS (SELECT 1 FROM sys.partitions AS q
                                WHERE q.object_id = OBJECT_ID(N'inlet.samples') AND q.index_id = 1
                                  AND q.partition_number = p.partition_number AND q.rows > 0))) AS b
        WHERE b.high IS NOT NULL AND b.high <= @below
        ORDER BY b.partition_number;
        IF @@ROWCOUNT = 0 BREAK;

        BEGIN TRY
            BEGIN TRANSACTION;
            EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.retention', @LockMode = N'Exclusive',
                @LockOwner = N'Transaction', @LockTimeout = 0;
            IF @lock_result < 0 THROW 50012, N'another purge is running on this database; try again when it is done', 1;
            EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.upload_writer', @LockMode = N'Exclusive',
                @LockOwner = N'Transaction', @LockTimeout = 10000;
            IF @lock_result < 0 THROW 50011, N'the upload writer lock was not granted within 10 s; the partition is switched on the next run', 1;

            DELETE FROM @hours;
            DELETE FROM @channels;
            -- What the rollup and the latest values must forget: read from the partition (an index scan of
            -- it, no writes), before it goes.
            INSERT INTO @hours (device_id, channel, hour_start)
            SELECT DISTINCT s.device_id, s.channel,
                   DATEADD(hour, DATEDIFF(hour, CONVERT(datetime2(3), '2000-01-01'), s.sample_time), CONVERT(datetime2(3), '2000-01-01'))
            FROM inlet.samples AS s
            WHERE $PARTITION.pf_upload_id(s.upload_id) = @partition;
            INSERT INTO @channels (device_id, channel)
            SELECT DISTINCT h.device_id, h.channel FROM @hours AS h;
            SET @rows_samples = (SELECT SUM(p.rows) FROM sys.partitions AS p
                                 WHERE p.object_id = OBJECT_ID(N'inlet.samples') AND p.index_id = 1 AND p.partition_number = @partition);
            SET @rows_uploads = (SELECT SUM(p.rows) FROM sys.partitions AS p
                                 WHERE p.object_id = OBJECT_ID(N'inlet.uploads') AND p.index_id = 1 AND p.partition_number = @partition);

            -- Rows that point into the partition from tables that are not partitioned (their triggers allow
            -- deletes below the horizon).
            DELETE FROM inlet.quarantine WHERE upload_id >= COALESCE(@low, 0) AND upload_id < @high;
            DELETE FROM inlet.upload_body_purges WHERE upload_id >= COALESCE(@low, 0) AND upload_id < @high;

            ALTER TABLE inlet.samples SWITCH PARTITION @partition TO inlet.samples_switch_out;
            ALTER TABLE inlet.uploads SWITCH PARTITION @partition TO inlet.uploads_switch_out;
            TRUNCATE TABLE inlet.samples_switch_out;
            TRUNCATE TABLE inlet.uploads_switch_out;

            EXEC sys.sp_set_session_context @key = N'inlet.partition_switch', @value = 1;
            DELETE r
            FROM inlet.sample_rollup_hour AS r
            INNER JOIN @hours AS h ON h.device_id = r.device_id AND h.channel = r.channel AND h.hour_start = r.hour_start;
            INSERT INTO inlet.sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
            SELECT h.device_id, h.channel, h.hour_start,
                   MIN(s.value), MAX(s.value), COALESCE(SUM(s.value), 0), COUNT(s.value), COUNT(*), COUNT(s.error_code)
            FROM @hours AS h
            INNER JOIN inlet.samples AS s
                ON s.device_id = h.device_id AND s.channel = h.channel
               AND s.sample_time >= h.hour_start AND s.sample_time < DATEADD(hour, 1, h.hour_start)
            GROUP BY h.device_id, h.channel, h.hour_start;
            -- A channel whose newest sample went: its newest sample left, or no row.
            UPDATE l
            SET l.sample_time = n.sample_time, l.value = n.value, l.error_code = n.error_code, l.alarm = n.alarm
            FROM inlet.latest_samples AS l
            INNER JOIN @channels AS c ON c.device_id = l.device_id AND c.channel = l.channel
            CROSS APPLY (SELECT TOP (1) m.sample_time, m.value, m.error_code, m.alarm
                         FROM inlet.samples AS m
                         WHERE m.device_id = c.device_id AND m.channel = c.channel
                         ORDER BY m.sample_time DESC) AS n
            WHERE NOT EXISTS (SELECT 1 FROM inlet.samples AS k
                              WHERE k.device_id = l.device_id AND k.channel = l.channel AND k.sample_time = l.sample_time);
            DELETE l
            FROM inlet.latest_samples AS l
            INNER JOIN @channels AS c ON c.device_id = l.device_id AND c.channel = l.channel
            WHERE NOT EXISTS (SELECT 1 FROM inlet.samples AS m WHERE m.device_id = l.device_id AND m.channel = l.channel);
            EXEC sys.sp_set_session_context @key = N'inlet.partition_switch', @value = NULL;

            INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data, actor)
            VALUES (SYSUTCDATETIME(), NULL, 'retention.partition.switched', 'info',
                    CONCAT(N'retention: upload partition ', @partition, N' (upload ids ', COALESCE(@low, 1), N' to ', @high - 1, N', wholly below the horizon at #',
                           @below, N') switched out and truncated by ', ORIGINAL_LOGIN(), N': ', COALESCE(@rows_uploads, 0), N' uploads, ',
                           COALESCE(@rows_samples, 0), N' samples; ', (SELECT COUNT(*) FROM @hours), N' hourly rollups rebuilt'),
                    CONCAT(N'{"partition":', @partition, N',"fromUploadId":', COALESCE(@low, 1), N',"toUploadId":', @high - 1, N',"belowUploadId":', @below,
                           N',"uploads":', COALESCE(@rows_uploads, 0), N',"samples":', COALESCE(@rows_samples, 0),
                           N',"rollupHours":', (SELECT COUNT(*) FROM @hours), N',"by":"', STRING_ESCAPE(ORIGINAL_LOGIN(), 'json'), N'"}'),
                    ORIGINAL_LOGIN());
            COMMIT TRANSACTION;
        END TRY
        BEGIN CATCH
            IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
            EXEC sys.sp_set_session_context @key = N'inlet.partition_switch', @value = NULL;
            THROW;
        END CATCH;
        SET @switched = @switched + 1;
        SET @uploads = @uploads + COALESCE(@rows_uploads, 0);
        SET @samples = @samples + COALESCE(@rows_samples, 0);
    END;

    -- Two empty neighbouring partitions below the horizon become one (metadata only), so that the
    -- partition count stays what the retained data needs.
    WHILE 1 = 1
    BEGIN
        SET @boundary = NULL;
        SELECT TOP (1) @boundary = CAST(r.value AS bigint)
        FROM sys.partition_range_values AS r
        INNER JOIN sys.partition_functions AS f ON f.function_id = r.function_id
        WHERE f.name = N'pf_upload_id' AND CAST(r.value AS bigint) < @below
          AND NOT EXISTS (SELECT 1 FROM sys.partitions AS p
                          WHERE p.object_id IN (OBJECT_ID(N'inlet.uploads'), OBJECT_ID(N'inlet.samples')) AND p.index_id = 1
                            AND p.partition_number IN (r.boundary_id, r.boundary_id + 1) AND p.rows > 0)
          AND EXISTS (SELECT 1 FROM sys.partition_range_values AS n WHERE n.function_id = r.function_id AND n.boundary_id = r.boundary_id + 1
                        AND CAST(n.value AS bigint) <= @below)
        ORDER BY r.boundary_id;
        IF @boundary IS NULL BREAK;
        ALTER PARTITION FUNCTION pf_upload_id () MERGE RANGE (@boundary);
    END;

    SELECT @switched AS partitions, @uploads AS uploads, @samples AS samples;
END;
GO
