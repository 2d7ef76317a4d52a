-- Every event in the audit chain on SQL Server too (docs/sqlserver.md, "Events written by
-- procedures"). The chain's links are HMACs under the gateway's chain key, which never reaches the
-- database, so an event inserted by a procedure (limits, zones, retention), by a trigger (the DBA's
-- change of inlet.retention_policy) or by the journal's apply is written without a link and linked
-- by the gateway afterwards: in the same transaction where the gateway called the procedure, or at
-- the next apply of the journal for what a DBA wrote. Linking is the one change an event may see:
-- - every writer of linked events holds the application lock inlet.event_chain until its
--   transaction ends, so event ids are handed out in the order their links are computed, and the
--   chain stays in id order (which is how inlet verify walks it);
-- - an event without a link may be given one once (prev_hash and hash from NULL), under that lock;
--   nothing else of an event can change, and a link cannot be changed.
-- Replaced with DROP + CREATE (not ALTER / CREATE OR ALTER), which every supported version and
-- other T-SQL engines accept.
DROP TRIGGER inlet.tr_events_append_only;
GO
CREATE TRIGGER inlet.tr_events_append_only ON inlet.events INSTEAD OF UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF UPDATE(occurred_at) OR UPDATE(device_id) OR UPDATE(type) OR UPDATE(level) OR UPDATE(message) OR UPDATE(data)
       OR UPDATE(actor) OR UPDATE(source) OR UPDATE(recorded_at) OR UPDATE(recorded_by)
       OR EXISTS (SELECT 1 FROM deleted AS d WHERE d.prev_hash IS NOT NULL OR d.hash IS NOT NULL)
       OR EXISTS (SELECT 1 FROM inserted AS i WHERE i.prev_hash IS NULL OR i.hash IS NULL)
        THROW 50003, N'inlet.events is append-only: events cannot be changed (an event written without a link may be given one, once)', 1;
    IF COALESCE(APPLOCK_MODE(N'public', N'inlet.event_chain', N'Transaction'), N'NoLock') <> N'Exclusive'
        THROW 50053, N'events are linked into the audit chain under the application lock inlet.event_chain only (the gateway takes it)', 1;
    -- An INSTEAD OF trigger's own statement on its table does not fire it again.
    UPDATE e
    SET e.prev_hash = i.prev_hash, e.hash = i.hash
    FROM inlet.events AS e
    INNER JOIN inserted AS i ON i.id = e.id;
END;
GO

-- The gateway's way to link events outside the journal's apply (after it called a procedure that
-- writes events, or before it appends one): the caller's transaction holds inlet.event_chain.
CREATE PROCEDURE inlet.link_events
    @links inlet.event_link_rows READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    UPDATE e
    SET e.prev_hash = l.prev_hash, e.hash = l.hash
    FROM inlet.events AS e
    INNER JOIN @links AS l ON l.id = e.id;
END;
GO

-- The procedures that write an event record who made the change and from where (the actor and source
-- columns of migration 019), as every event the gateway writes does. Otherwise as in 005 and 023.
DROP PROCEDURE inlet.set_alarm_limits;
GO
CREATE PROCEDURE inlet.set_alarm_limits
    @device_id     int,
    @channel       int,
    @limits        inlet.alarm_limit_rows READONLY,
    @updated_at    datetime2(3),
    @updated_by    nvarchar(128),
    @event_message nvarchar(max),
    @event_data    nvarchar(max),
    @event_actor   nvarchar(128),
    @event_source  nvarchar(128)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    BEGIN TRY
        BEGIN TRANSACTION;
        DELETE FROM inlet.alarm_limits WHERE device_id = @device_id AND channel = @channel;
        INSERT INTO inlet.alarm_limits (device_id, channel, level, high, low, delay_s, hysteresis, updated_at, updated_by)
        SELECT @device_id, @channel, l.level, l.high, l.low, l.delay_s, l.hysteresis, @updated_at, @updated_by
        FROM @limits AS l;
        INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data, actor, source)
        VALUES (@updated_at, @device_id, 'alarm.limits.changed', 'info', @event_message, @event_data, @event_actor, @event_source);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

DROP PROCEDURE inlet.set_user_zone_roles;
GO
CREATE PROCEDURE inlet.set_user_zone_roles
    @user_id       int,
    @grants        nvarchar(max),  -- JSON array of {"zoneId": n, "role": "..."}
    @granted_at    datetime2(3),
    @granted_by    nvarchar(128),
    @event_message nvarchar(max),
    @event_data    nvarchar(max),
    @event_actor   nvarchar(128),
    @event_source  nvarchar(128)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    BEGIN TRY
        BEGIN TRANSACTION;
        DELETE FROM inlet.user_zone_roles WHERE user_id = @user_id;
        INSERT INTO inlet.user_zone_roles (user_id, zone_id, role, granted_at, granted_by)
        SELECT @user_id, g.zone_id, g.role, @granted_at, @granted_by
        FROM OPENJSON(@grants) WITH (zone_id int '$.zoneId', role varchar(20) '$.role') AS g;
        INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data, actor, source)
        VALUES (@granted_at, NULL, 'user.zones.changed', 'info', @event_message, @event_data, @event_actor, @event_source);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

DROP PROCEDURE inlet.remove_zone;
GO
CREATE PROCEDURE inlet.remove_zone
    @zone_id       int,
    @removed_at    datetime2(3),
    @event_message nvarchar(max),
    @event_data    nvarchar(max),
    @event_actor   nvarchar(128),
    @event_source  nvarchar(128)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    BEGIN TRY
        BEGIN TRANSACTION;
        IF EXISTS (SELECT 1 FROM inlet.zones WITH (UPDLOCK, HOLDLOCK) WHERE parent_id = @zone_id)
            OR EXISTS (SELECT 1 FROM inlet.devices WITH (UPDLOCK, HOLDLOCK) WHERE zone_id = @zone_id)
            OR EXISTS (SELECT 1 FROM inlet.user_zone_roles WITH (UPDLOCK, HOLDLOCK) WHERE zone_id = @zone_id)
            THROW 50030, N'the zone is not empty: move its sub-zones and devices and remove the roles on it first', 1;
        DELETE FROM inlet.zones WHERE id = @zone_id;
        IF @@ROWCOUNT = 0 THROW 50031, N'no such zone', 1;
        INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data, actor, source)
        VALUES (@removed_at, NULL, 'zone.removed', 'info', @event_message, @event_data, @event_actor, @event_source);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO
