-- Retention: the logical schema and rules of sql/sqlite/008_retention.sql. Old data may be purged,
-- but only below an audited horizon that only moves forward. Each advance is a row of
-- inlet.retention_horizons (when, by whom, why; never changed or deleted) and a
-- 'retention.horizon.advanced' event. below_upload_id: every upload with a smaller id was received
-- before data_before; ids are handed out in commit order under the upload writer lock, so this is a
-- prefix of every device's chain. audit_before: events and closed alarms before it may be purged
-- too; NULL = the audit trail is kept. The append-only triggers allow deletes below the latest
-- horizon only, and bind db_owner too; the service login keeps its DENY DELETE and purges through
-- the two procedures at the end (ownership chaining, as inlet.set_alarm_limits).

CREATE TABLE inlet.retention_horizons (
    id              bigint         IDENTITY(1, 1) NOT NULL,
    set_at          datetime2(3)   NOT NULL,
    data_before     datetime2(3)   NOT NULL,
    below_upload_id bigint         NOT NULL,
    audit_before    datetime2(3)   NULL,
    set_by          nvarchar(128)  NOT NULL,
    reason          nvarchar(1000) NOT NULL,
    CONSTRAINT pk_retention_horizons PRIMARY KEY CLUSTERED (id),
    CONSTRAINT ck_retention_horizons_below_upload_id CHECK (below_upload_id >= 1),
    CONSTRAINT ck_retention_horizons_reason CHECK (LEN(reason) > 0)
);
GO

CREATE TRIGGER inlet.tr_retention_horizons_append_only ON inlet.retention_horizons INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50007, N'inlet.retention_horizons is append-only: a horizon cannot be changed or deleted', 1;
END;
GO

-- AFTER INSERT: the new rows are in the table, earlier horizons have smaller ids.
CREATE TRIGGER inlet.tr_retention_horizons_forward_only ON inlet.retention_horizons AFTER INSERT
AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (
        SELECT 1
        FROM inserted AS i
        INNER JOIN inlet.retention_horizons AS h ON h.id < i.id
        WHERE h.data_before > i.data_before
           OR h.below_upload_id > i.below_upload_id
           OR (h.audit_before IS NOT NULL AND (i.audit_before IS NULL OR h.audit_before > i.audit_before))
    )
        THROW 50008, N'the retention horizon only moves forward', 1;
END;
GO

-- Chain anchors: for each upload chain (device id, 0 for uploads of no device), the id and hash of its
-- last upload below a horizon, taken when the horizon advanced, before anything was deleted. The
-- writer and `inlet verify` continue each chain from its latest anchor. Append-only.
CREATE TABLE inlet.chain_anchors (
    id         bigint     IDENTITY(1, 1) NOT NULL,
    horizon_id bigint     NOT NULL,
    chain      int        NOT NULL,
    upload_id  bigint     NOT NULL,
    hash       binary(32) NOT NULL,
    CONSTRAINT pk_chain_anchors PRIMARY KEY CLUSTERED (id),
    CONSTRAINT fk_chain_anchors_retention_horizons FOREIGN KEY (horizon_id) REFERENCES inlet.retention_horizons (id)
);
-- The latest anchor of a chain: MAX(id) per chain, read by the writer when a chain has no upload left.
CREATE NONCLUSTERED INDEX ix_chain_anchors_chain ON inlet.chain_anchors (chain, id) INCLUDE (upload_id, hash);
GO

CREATE TRIGGER inlet.tr_chain_anchors_append_only ON inlet.chain_anchors INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50009, N'inlet.chain_anchors is append-only: anchors cannot be changed or deleted', 1;
END;
GO

-- Uploads and samples: updates stay refused outright; deletes go to a trigger of their own that lets
-- through rows below the horizon only. An INSTEAD OF trigger's own DELETE on its table does not fire it again.
ALTER TRIGGER inlet.tr_uploads_append_only ON inlet.uploads INSTEAD OF UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50001, N'inlet.uploads is append-only: uploads cannot be changed', 1;
END;
GO
CREATE TRIGGER inlet.tr_uploads_delete_below_horizon ON inlet.uploads INSTEAD OF DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @below_upload_id bigint = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
    IF EXISTS (SELECT 1 FROM deleted AS d WHERE @below_upload_id IS NULL OR d.id >= @below_upload_id)
        THROW 50001, N'inlet.uploads is append-only: only uploads below the retention horizon can be deleted', 1;
    DELETE u
    FROM inlet.uploads AS u
    INNER JOIN deleted AS d ON d.id = u.id;
END;
GO
ALTER TRIGGER inlet.tr_samples_append_only ON inlet.samples INSTEAD OF UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50002, N'inlet.samples is append-only: samples cannot be changed', 1;
END;
GO
CREATE TRIGGER inlet.tr_samples_delete_below_horizon ON inlet.samples INSTEAD OF DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @below_upload_id bigint = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
    IF EXISTS (SELECT 1 FROM deleted AS d WHERE @below_upload_id IS NULL OR d.upload_id >= @below_upload_id)
        THROW 50002, N'inlet.samples is append-only: only samples of uploads below the retention horizon can be deleted', 1;
    DELETE s
    FROM inlet.samples AS s
    INNER JOIN deleted AS d ON d.device_id = s.device_id AND d.channel = s.channel AND d.sample_time = s.sample_time;
END;
GO
-- Events were protected from deletion by DENY only (which does not bind db_owner); now by trigger too,
-- below the audit horizon excepted.
CREATE TRIGGER inlet.tr_events_delete_below_horizon ON inlet.events INSTEAD OF DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @audit_before datetime2(3) = (SELECT MAX(h.audit_before) FROM inlet.retention_horizons AS h);
    IF EXISTS (SELECT 1 FROM deleted AS d WHERE @audit_before IS NULL OR d.occurred_at >= @audit_before)
        THROW 50003, N'inlet.events is append-only: only events below the audit retention horizon can be deleted', 1;
    DELETE e
    FROM inlet.events AS e
    INNER JOIN deleted AS d ON d.id = e.id;
END;
GO
-- Alarms: only closed ones (acknowledged and cleared), wholly below the audit horizon.
ALTER TRIGGER inlet.tr_alarms_append_only ON inlet.alarms INSTEAD OF DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @audit_before datetime2(3) = (SELECT MAX(h.audit_before) FROM inlet.retention_horizons AS h);
    IF EXISTS (SELECT 1 FROM deleted AS d
               WHERE @audit_before IS NULL OR d.acknowledged_at IS NULL OR d.cleared_at IS NULL
                  OR d.raised_at >= @audit_before OR d.acknowledged_at >= @audit_before OR d.cleared_at >= @audit_before)
        THROW 50005, N'inlet.alarms are kept for the audit trail: only closed alarms below the audit retention horizon can be deleted', 1;
    DELETE a
    FROM inlet.alarms AS a
    INNER JOIN deleted AS d ON d.id = a.id;
END;
GO

-- Advances the horizon: records it, anchors every chain that has uploads between the previous horizon
-- and this one, and writes the event, in one transaction. Takes the upload writer lock, so no group
-- commit holds upload ids below the new horizon while it is computed. Inlet passes only values it has
-- checked move forward; the trigger above refuses any other. Returns the new horizon.
CREATE PROCEDURE inlet.advance_retention_horizon
    @set_at        datetime2(3),
    @data_before   datetime2(3),
    @audit_before  datetime2(3),
    @set_by        nvarchar(128),
    @reason        nvarchar(1000),
    @event_message nvarchar(max),
    @event_data    nvarchar(max)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @lock_result int;
    DECLARE @previous_below bigint;
    DECLARE @below bigint;
    DECLARE @horizon_id bigint;
    BEGIN TRY
        BEGIN TRANSACTION;
        EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.upload_writer', @LockMode = N'Exclusive',
            @LockOwner = N'Transaction', @LockTimeout = 30000;
        IF @lock_result < 0 THROW 50011, N'timed out waiting for the upload writer lock (another Inlet instance holds it)', 1;

        SET @previous_below = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
        -- The first upload received at or after data_before, reading forward from the previous horizon only.
        SELECT TOP (1) @below = u.id
        FROM inlet.uploads AS u
        WHERE u.id >= COALESCE(@previous_below, 0) AND u.received_at >= @data_before
        ORDER BY u.id;
        IF @below IS NULL SET @below = COALESCE((SELECT MAX(u.id) + 1 FROM inlet.uploads AS u), @previous_below, 1);
        IF @previous_below IS NOT NULL AND @below < @previous_below SET @below = @previous_below;

        INSERT INTO inlet.retention_horizons (set_at, data_before, below_upload_id, audit_before, set_by, reason)
        VALUES (@set_at, @data_before, @below, @audit_before, @set_by, @reason);
        SET @horizon_id = CAST(SCOPE_IDENTITY() AS bigint);

        INSERT INTO inlet.chain_anchors (horizon_id, chain, upload_id, hash)
        SELECT @horizon_id, l.chain, u.id, u.hash
        FROM (SELECT COALESCE(r.device_id, 0) AS chain, MAX(r.id) AS last_id
              FROM inlet.uploads AS r
              WHERE r.id >= COALESCE(@previous_below, 0) AND r.id < @below
              GROUP BY COALESCE(r.device_id, 0)) AS l
        INNER JOIN inlet.uploads AS u ON u.id = l.last_id;

        INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data)
        VALUES (@set_at, NULL, 'retention.horizon.advanced', 'warning', @event_message, @event_data);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    SELECT h.id, h.set_at AS at, h.data_before, h.below_upload_id, h.audit_before, h.set_by, h.reason
    FROM inlet.retention_horizons AS h
    WHERE h.id = @horizon_id;
END;
GO

-- One chunk of the purge below the latest horizon, in its own transaction, and which rows it removed.
-- In order, one kind per call: samples of uploads below the horizon (@batch_size of them, the hourly
-- rollup of each hour they touched rebuilt from the samples left), then uploads (@upload_batch_size,
-- their raw bodies being large) with their quarantine rows, then events and closed alarms below the
-- audit horizon. Inlet calls it until every count is 0, logging progress between calls. The keys are
-- chosen first and deleted by join: the tables have INSTEAD OF DELETE triggers, which re-check them.
CREATE PROCEDURE inlet.purge_below_horizon
    @batch_size        int,
    @upload_batch_size int
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @lock_result int;
    DECLARE @below bigint;
    DECLARE @audit_before datetime2(3);
    DECLARE @samples int = 0;
    DECLARE @rollup_hours int = 0;
    DECLARE @uploads int = 0;
    DECLARE @quarantined int = 0;
    DECLARE @events int = 0;
    DECLARE @alarms int = 0;
    DECLARE @sample_keys TABLE (device_id int NOT NULL, channel int NOT NULL, sample_time datetime2(3) NOT NULL,
                                PRIMARY KEY (device_id, channel, sample_time));
    DECLARE @hours TABLE (device_id int NOT NULL, channel int NOT NULL, hour_start datetime2(3) NOT NULL,
                          PRIMARY KEY (device_id, channel, hour_start));
    DECLARE @ids TABLE (id bigint NOT NULL PRIMARY KEY);
    BEGIN TRY
        BEGIN TRANSACTION;
        -- One purge at a time per database (the job, `inlet retention run` from a console, another instance).
        EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.retention', @LockMode = N'Exclusive',
            @LockOwner = N'Transaction', @LockTimeout = 0;
        IF @lock_result < 0 THROW 50012, N'another purge is running on this database; try again when it is done', 1;
        SELECT @below = MAX(h.below_upload_id), @audit_before = MAX(h.audit_before) FROM inlet.retention_horizons AS h;

        IF @below IS NOT NULL
        BEGIN
            INSERT INTO @sample_keys (device_id, channel, sample_time)
            SELECT TOP (@batch_size) s.device_id, s.channel, s.sample_time
            FROM inlet.samples AS s
            WHERE s.upload_id < @below
            ORDER BY s.upload_id;
            SET @samples = @@ROWCOUNT;
        END;

        IF @samples > 0
        BEGIN
            INSERT INTO @hours (device_id, channel, hour_start)
            SELECT DISTINCT k.device_id, k.channel,
                   DATEADD(hour, DATEDIFF(hour, CONVERT(datetime2(3), '2000-01-01'), k.sample_time), CONVERT(datetime2(3), '2000-01-01'))
            FROM @sample_keys AS k;
            SET @rollup_hours = @@ROWCOUNT;

            DELETE s
            FROM inlet.samples AS s
            INNER JOIN @sample_keys AS k ON k.device_id = s.device_id AND k.channel = s.channel AND k.sample_time = s.sample_time;

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
        END;

        IF @samples = 0 AND @below IS NOT NULL
        BEGIN
            INSERT INTO @ids (id)
            SELECT TOP (@upload_batch_size) u.id
            FROM inlet.uploads AS u
            WHERE u.id < @below
            ORDER BY u.id;
            SET @uploads = @@ROWCOUNT;

            DELETE q
            FROM inlet.quarantine AS q
            INNER JOIN @ids AS c ON c.id = q.upload_id;
            SET @quarantined = @@ROWCOUNT;

            DELETE u
            FROM inlet.uploads AS u
            INNER JOIN @ids AS c ON c.id = u.id;
            DELETE FROM @ids;
        END;

        IF @samples = 0 AND @uploads = 0 AND @audit_before IS NOT NULL
        BEGIN
            INSERT INTO @ids (id)
            SELECT TOP (@batch_size) e.id
            FROM inlet.events AS e
            WHERE e.occurred_at < @audit_before
            ORDER BY e.occurred_at;
            SET @events = @@ROWCOUNT;

            DELETE e
            FROM inlet.events AS e
            INNER JOIN @ids AS c ON c.id = e.id;
            DELETE FROM @ids;
        END;

        IF @samples = 0 AND @uploads = 0 AND @events = 0 AND @audit_before IS NOT NULL
        BEGIN
            INSERT INTO @ids (id)
            SELECT TOP (@batch_size) a.id
            FROM inlet.alarms AS a
            WHERE a.raised_at < @audit_before AND a.acknowledged_at < @audit_before AND a.cleared_at < @audit_before
            ORDER BY a.id;
            SET @alarms = @@ROWCOUNT;

            DELETE a
            FROM inlet.alarms AS a
            INNER JOIN @ids AS c ON c.id = a.id;
        END;
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
    SELECT @samples AS samples, @rollup_hours AS rollup_hours, @uploads AS uploads, @quarantined AS quarantined,
           @events AS events, @alarms AS alarms;
END;
GO
