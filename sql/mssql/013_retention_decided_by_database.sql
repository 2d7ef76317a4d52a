-- Retention and chain anchors decided by the database, not by whoever inserts (docs/sqlserver.md,
-- "Retention decided by the database"). Until now the service login could INSERT a horizon itself,
-- the trigger checked only that it moved forward, and the nightly purge then deleted everything
-- below it; the procedure took its dates and its "who" from the caller. From this migration on:
-- - inlet.retention_policy, owned by the DBA, sets a floor: no horizon may cut data younger than
--   min_keep_days (the audit trail: min_audit_keep_days) before the server's clock, SYSUTCDATETIME().
--   Changing it is an UPDATE by the DBA, stamped with the server's time and ORIGINAL_LOGIN() and
--   recorded as a 'retention.policy.changed' event with old and new values.
-- - Every horizon and anchor row is checked by AFTER INSERT triggers, which bind every login,
--   db_owner included: the floor; below_upload_id must be what the uploads say (every upload below
--   it, from the previous horizon on, received before data_before); an anchor must be the last upload
--   of its chain below the latest horizon, with that upload's hash; recorded_at and recorded_by are
--   the server's time and the login (their defaults), never values the caller chose.
-- - inlet.sample_rollup_hour changes only through the triggers on inlet.samples (inserts, and deletes
--   below the horizon, which rebuild the hours they touch); deleting samples requires the upload
--   writer lock, so the rebuild can no longer race a late backlog's group commit.
-- - Events record the server's time and the login that wrote them (recorded_at, recorded_by).
-- - The service role is denied INSERT and UPDATE on the horizons, anchors, policy and rollup; the
--   procedures reach them by ownership chaining as before.
-- Triggers and procedures are replaced with DROP + CREATE (not ALTER / CREATE OR ALTER), which every
-- supported version and other T-SQL engines accept.

CREATE TABLE inlet.retention_policy (
    id                  int           NOT NULL,
    min_keep_days       int           NOT NULL,
    min_audit_keep_days int           NOT NULL,
    changed_at          datetime2(3)  NOT NULL CONSTRAINT df_retention_policy_changed_at DEFAULT (SYSUTCDATETIME()),
    changed_by          nvarchar(128) NOT NULL CONSTRAINT df_retention_policy_changed_by DEFAULT (ORIGINAL_LOGIN()),
    CONSTRAINT pk_retention_policy PRIMARY KEY CLUSTERED (id),
    CONSTRAINT ck_retention_policy_one_row CHECK (id = 1),
    CONSTRAINT ck_retention_policy_min_keep_days CHECK (min_keep_days BETWEEN 1 AND 36500),
    CONSTRAINT ck_retention_policy_min_audit_keep_days CHECK (min_audit_keep_days BETWEEN 1 AND 36500)
);
GO
-- A year until the DBA decides otherwise: long enough that no setting of Inlet's, no wrong clock on
-- the Inlet machine and no compromised service login can purge recent data.
INSERT INTO inlet.retention_policy (id, min_keep_days, min_audit_keep_days) VALUES (1, 365, 365);
GO

-- The policy's one row is changed by UPDATE only; the change is stamped by the server and recorded.
CREATE TRIGGER inlet.tr_retention_policy_change ON inlet.retention_policy INSTEAD OF INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    IF NOT EXISTS (SELECT 1 FROM inserted) OR NOT EXISTS (SELECT 1 FROM deleted)
        THROW 50013, N'inlet.retention_policy has exactly one row: change its days with UPDATE (docs/sqlserver.md)', 1;
    IF EXISTS (SELECT 1 FROM inserted AS i WHERE i.id <> 1)
        THROW 50013, N'inlet.retention_policy has exactly one row, id 1', 1;
    UPDATE p
    SET p.min_keep_days = i.min_keep_days,
        p.min_audit_keep_days = i.min_audit_keep_days,
        p.changed_at = SYSUTCDATETIME(),
        p.changed_by = ORIGINAL_LOGIN()
    FROM inlet.retention_policy AS p
    INNER JOIN inserted AS i ON i.id = p.id;
    INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data)
    SELECT SYSUTCDATETIME(), NULL, 'retention.policy.changed', 'warning',
           CONCAT(N'retention floor changed by ', ORIGINAL_LOGIN(), N': data kept at least ', d.min_keep_days, N' -> ', i.min_keep_days,
                  N' days, audit trail at least ', d.min_audit_keep_days, N' -> ', i.min_audit_keep_days, N' days'),
           CONCAT(N'{"by":"', STRING_ESCAPE(ORIGINAL_LOGIN(), 'json'),
                  N'","minKeepDays":{"old":', d.min_keep_days, N',"new":', i.min_keep_days,
                  N'},"minAuditKeepDays":{"old":', d.min_audit_keep_days, N',"new":', i.min_audit_keep_days, N'}}')
    FROM inserted AS i
    INNER JOIN deleted AS d ON d.id = i.id;
END;
GO

-- Who and when, as the server saw it. NULL for rows written before this migration (their time and
-- login were never recorded); the defaults fill them for every new row, and the triggers below
-- refuse any other value.
ALTER TABLE inlet.retention_horizons ADD recorded_at datetime2(3) NULL CONSTRAINT df_retention_horizons_recorded_at DEFAULT (SYSUTCDATETIME());
GO
ALTER TABLE inlet.retention_horizons ADD recorded_by nvarchar(128) NULL CONSTRAINT df_retention_horizons_recorded_by DEFAULT (ORIGINAL_LOGIN());
GO
ALTER TABLE inlet.events ADD recorded_at datetime2(3) NULL CONSTRAINT df_events_recorded_at DEFAULT (SYSUTCDATETIME());
GO
ALTER TABLE inlet.events ADD recorded_by nvarchar(128) NULL CONSTRAINT df_events_recorded_by DEFAULT (ORIGINAL_LOGIN());
GO

-- Five minutes of slack: a default is evaluated when the statement starts, the check when it ends.
CREATE TRIGGER inlet.tr_events_recorded_by_server ON inlet.events AFTER INSERT
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @now datetime2(3) = SYSUTCDATETIME();
    IF EXISTS (SELECT 1 FROM inserted AS i
               WHERE i.recorded_by IS NULL OR i.recorded_by <> ORIGINAL_LOGIN()
                  OR i.recorded_at IS NULL OR i.recorded_at > @now OR i.recorded_at < DATEADD(minute, -5, @now))
        THROW 50016, N'events record the server''s time and login: leave recorded_at and recorded_by to their defaults', 1;
END;
GO

DROP TRIGGER inlet.tr_retention_horizons_forward_only;
GO
-- AFTER INSERT: the new rows are in the table, earlier horizons have smaller ids.
CREATE TRIGGER inlet.tr_retention_horizons_decided_by_database ON inlet.retention_horizons AFTER INSERT
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @now datetime2(3) = SYSUTCDATETIME();
    DECLARE @min_keep_days int;
    DECLARE @min_audit_keep_days int;
    SELECT @min_keep_days = p.min_keep_days, @min_audit_keep_days = p.min_audit_keep_days
    FROM inlet.retention_policy AS p
    WHERE p.id = 1;
    IF @min_keep_days IS NULL
        THROW 50014, N'inlet.retention_policy has no row: the DBA restores it before any retention horizon is set', 1;
    IF EXISTS (
        SELECT 1
        FROM inserted AS i
        INNER JOIN inlet.retention_horizons AS h ON h.id < i.id
        WHERE h.data_before > i.data_before
           OR h.below_upload_id > i.below_upload_id
           OR (h.audit_before IS NOT NULL AND (i.audit_before IS NULL OR h.audit_before > i.audit_before))
    )
        THROW 50008, N'the retention horizon only moves forward', 1;
    IF EXISTS (SELECT 1 FROM inserted AS i WHERE i.data_before > DATEADD(day, -@min_keep_days, @now))
        THROW 50015, N'the retention horizon would cut data younger than inlet.retention_policy.min_keep_days before the server''s clock: keep data longer (retention.keepDays), or ask the DBA to lower the floor', 1;
    IF EXISTS (SELECT 1 FROM inserted AS i WHERE i.audit_before IS NOT NULL AND i.audit_before > DATEADD(day, -@min_audit_keep_days, @now))
        THROW 50015, N'the audit horizon would cut events younger than inlet.retention_policy.min_audit_keep_days before the server''s clock: keep the audit trail longer (retention.auditKeepDays), or ask the DBA to lower the floor', 1;
    IF EXISTS (SELECT 1 FROM inserted AS i
               WHERE i.recorded_by IS NULL OR i.recorded_by <> ORIGINAL_LOGIN()
                  OR i.recorded_at IS NULL OR i.recorded_at > @now OR i.recorded_at < DATEADD(minute, -5, @now))
        THROW 50016, N'retention horizons record the server''s time and login: leave recorded_at and recorded_by to their defaults', 1;
    -- Decided by the uploads: everything from the previous horizon up to below_upload_id was received before data_before.
    IF EXISTS (
        SELECT 1
        FROM inserted AS i
        CROSS APPLY (SELECT COALESCE(MAX(p.below_upload_id), 0) AS below_upload_id
                     FROM inlet.retention_horizons AS p
                     WHERE p.id < i.id) AS previous
        INNER JOIN inlet.uploads AS u ON u.id >= previous.below_upload_id AND u.id < i.below_upload_id
        WHERE u.received_at >= i.data_before
    )
        THROW 50017, N'a retention horizon''s below_upload_id must not pass an upload received at or after its data_before: use inlet.advance_retention_horizon', 1;
END;
GO

-- An anchor is what the uploads say it is: the last upload of its chain below the latest horizon.
CREATE TRIGGER inlet.tr_chain_anchors_decided_by_database ON inlet.chain_anchors AFTER INSERT
AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (
        SELECT 1
        FROM inserted AS i
        INNER JOIN inlet.retention_horizons AS h ON h.id = i.horizon_id
        LEFT OUTER JOIN inlet.uploads AS u ON u.id = i.upload_id
        WHERE u.id IS NULL
           OR u.hash <> i.hash
           OR COALESCE(u.device_id, 0) <> i.chain
           OR i.upload_id >= h.below_upload_id
           OR h.id <> (SELECT MAX(l.id) FROM inlet.retention_horizons AS l)
           OR EXISTS (SELECT 1
                      FROM inlet.uploads AS n
                      WHERE n.id > i.upload_id AND n.id < h.below_upload_id
                        AND (n.device_id = i.chain OR (i.chain = 0 AND n.device_id IS NULL)))
    )
        THROW 50018, N'a chain anchor must be the last upload of its chain below the latest retention horizon, with that upload''s hash: use inlet.advance_retention_horizon', 1;
END;
GO

-- Samples are deleted below the horizon only, under the upload writer lock, and the hourly rollup of
-- every hour they were in is rebuilt from the samples left, in the same statement.
DROP TRIGGER inlet.tr_samples_delete_below_horizon;
GO
CREATE TRIGGER inlet.tr_samples_delete_below_horizon ON inlet.samples INSTEAD OF DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @below_upload_id bigint = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
    DECLARE @hours TABLE (device_id int NOT NULL, channel int NOT NULL, hour_start datetime2(3) NOT NULL,
                          PRIMARY KEY (device_id, channel, hour_start));
    IF EXISTS (SELECT 1 FROM deleted AS d WHERE @below_upload_id IS NULL OR d.upload_id >= @below_upload_id)
        THROW 50002, N'inlet.samples is append-only: only samples of uploads below the retention horizon can be deleted', 1;
    IF COALESCE(APPLOCK_MODE(N'public', N'inlet.upload_writer', N'Transaction'), N'NoLock') <> N'Exclusive'
        THROW 50020, N'samples are deleted under the upload writer lock only (inlet.purge_below_horizon takes it), so the hourly rollup is rebuilt without racing a group commit', 1;
    INSERT INTO @hours (device_id, channel, hour_start)
    SELECT DISTINCT d.device_id, d.channel,
           DATEADD(hour, DATEDIFF(hour, CONVERT(datetime2(3), '2000-01-01'), d.sample_time), CONVERT(datetime2(3), '2000-01-01'))
    FROM deleted AS d;
    DELETE s
    FROM inlet.samples AS s
    INNER JOIN deleted AS d ON d.device_id = s.device_id AND d.channel = s.channel AND d.sample_time = s.sample_time;
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
GO

-- The rollup changes only as a consequence of samples: inserted (tr_samples_rollup_hour) or deleted
-- below the horizon (tr_samples_delete_below_horizon). Binds every login; nested triggers (on by
-- default) let those two triggers' own changes through.
CREATE TRIGGER inlet.tr_sample_rollup_hour_from_samples_only ON inlet.sample_rollup_hour AFTER INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(OBJECT_ID(N'inlet.tr_samples_rollup_hour'), 'AFTER', 'DML') = 0
       AND TRIGGER_NESTLEVEL(OBJECT_ID(N'inlet.tr_samples_delete_below_horizon'), 'IOT', 'DML') = 0
        THROW 50019, N'inlet.sample_rollup_hour is kept by the triggers on inlet.samples: it cannot be changed directly', 1;
END;
GO

-- The purge of 008, now under the upload writer lock while it deletes samples (the trigger above
-- requires it and rebuilds the rollup); the rollup is no longer touched here.
DROP PROCEDURE inlet.purge_below_horizon;
GO
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
            SET @rollup_hours = (SELECT COUNT(*)
                                 FROM (SELECT DISTINCT k.device_id, k.channel,
                                              DATEDIFF(hour, CONVERT(datetime2(3), '2000-01-01'), k.sample_time) AS hour_number
                                       FROM @sample_keys AS k) AS touched);
            -- Held to the end of this chunk's transaction: group commits wait for it a moment.
            EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.upload_writer', @LockMode = N'Exclusive',
                @LockOwner = N'Transaction', @LockTimeout = 10000;
            IF @lock_result < 0 THROW 50011, N'timed out waiting for the upload writer lock (another Inlet instance holds it)', 1;
            DELETE s
            FROM inlet.samples AS s
            INNER JOIN @sample_keys AS k ON k.device_id = s.device_id AND k.channel = s.channel AND k.sample_time = s.sample_time;
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

-- The service role may not write what the procedures and triggers decide. Ownership chaining lets
-- the procedures (and the rollup trigger on samples) through; a DENY does not bind db_owner, the
-- triggers above do. The role is the one docs/sqlserver.md has the DBA create; a site that named it
-- otherwise applies the same DENY to its own role.
IF DATABASE_PRINCIPAL_ID(N'inlet_service') IS NOT NULL
    EXEC (N'DENY INSERT, UPDATE ON OBJECT::inlet.retention_horizons TO inlet_service;
DENY INSERT, UPDATE ON OBJECT::inlet.chain_anchors TO inlet_service;
DENY INSERT, UPDATE ON OBJECT::inlet.retention_policy TO inlet_service;
DENY INSERT, UPDATE ON OBJECT::inlet.sample_rollup_hour TO inlet_service;');
GO

-- The procedure of 009 with the writer lock wait shorter than any request timeout the gateway uses,
-- and the horizon's recorded_at / recorded_by left to their defaults (the server's clock and login).
DROP PROCEDURE inlet.advance_retention_horizon;
GO
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
    DECLARE @latest_id bigint;
    DECLARE @latest_data_before datetime2(3);
    DECLARE @latest_audit_before datetime2(3);
    DECLARE @audit_rows_added bigint = 0;
    BEGIN TRY
        BEGIN TRANSACTION;
        EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.upload_writer', @LockMode = N'Exclusive',
            @LockOwner = N'Transaction', @LockTimeout = 10000;
        IF @lock_result < 0 THROW 50011, N'timed out waiting for the upload writer lock (another Inlet instance holds it)', 1;

        SET @previous_below = (SELECT MAX(h.below_upload_id) FROM inlet.retention_horizons AS h);
        -- The first upload received at or after data_before, reading forward from the previous horizon only.
        SELECT TOP (1) @below = u.id
        FROM inlet.uploads AS u
        WHERE u.id >= COALESCE(@previous_below, 0) AND u.received_at >= @data_before
        ORDER BY u.id;
        IF @below IS NULL SET @below = COALESCE((SELECT MAX(u.id) + 1 FROM inlet.uploads AS u), @previous_below, 1);
        IF @previous_below IS NOT NULL AND @below < @previous_below SET @below = @previous_below;

        SELECT TOP (1) @latest_id = h.id, @latest_data_before = h.data_before, @latest_audit_before = h.audit_before
        FROM inlet.retention_horizons AS h
        ORDER BY h.id DESC;
        IF @audit_before IS NOT NULL
            SET @audit_rows_added =
                (SELECT COUNT_BIG(*) FROM inlet.events AS e
                 WHERE e.occurred_at < @audit_before AND (@latest_audit_before IS NULL OR e.occurred_at >= @latest_audit_before))
              + (SELECT COUNT_BIG(*) FROM inlet.alarms AS a
                 WHERE a.raised_at < @audit_before AND a.acknowledged_at < @audit_before AND a.cleared_at < @audit_before
                   AND (@latest_audit_before IS NULL OR a.raised_at >= @latest_audit_before
                        OR a.acknowledged_at >= @latest_audit_before OR a.cleared_at >= @latest_audit_before));

        IF @latest_id IS NOT NULL
           AND @data_before >= @latest_data_before
           AND (@latest_audit_before IS NULL OR @audit_before >= @latest_audit_before)
           AND @below <= @previous_below
           AND @audit_rows_added = 0
        BEGIN
            SET @horizon_id = @latest_id;
        END
        ELSE
        BEGIN
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
        END;
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
