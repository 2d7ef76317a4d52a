-- Alarms: the logical schema and rules of sql/sqlite/005_alarms.sql. Per-channel limits set by an
-- administrator, and the lifecycle of each alarm (raised, acknowledged by a user with a comment,
-- cleared). Every step is also written to inlet.events, which cannot be edited: events are the
-- audit trail, inlet.alarms is the current state.

CREATE TABLE inlet.alarm_limits (
    device_id  int           NOT NULL,
    channel    int           NOT NULL,
    level      varchar(10)   NOT NULL,
    high       float(53)     NULL,
    low        float(53)     NULL,
    delay_s    int           NOT NULL CONSTRAINT df_alarm_limits_delay_s DEFAULT (0),
    hysteresis float(53)     NOT NULL CONSTRAINT df_alarm_limits_hysteresis DEFAULT (0),
    updated_at datetime2(3)  NOT NULL,
    updated_by nvarchar(128) NOT NULL,
    CONSTRAINT pk_alarm_limits PRIMARY KEY CLUSTERED (device_id, channel, level),
    CONSTRAINT fk_alarm_limits_devices FOREIGN KEY (device_id) REFERENCES inlet.devices (id),
    CONSTRAINT ck_alarm_limits_level CHECK (level IN ('warning', 'alarm')),
    CONSTRAINT ck_alarm_limits_delay_s CHECK (delay_s >= 0),
    CONSTRAINT ck_alarm_limits_hysteresis CHECK (hysteresis >= 0),
    CONSTRAINT ck_alarm_limits_high_or_low CHECK (high IS NOT NULL OR low IS NOT NULL),
    CONSTRAINT ck_alarm_limits_low_below_high CHECK (high IS NULL OR low IS NULL OR low < high)
);
GO

-- source: 'limit' (a limit above was crossed), 'system' (integrity, offline; device_id may be NULL).
-- direction: 'high' or 'low' for limit alarms. A raised row changes only to be acknowledged once and
-- cleared once (tr_alarms_lifecycle_only), and is never deleted (tr_alarms_append_only).
-- Text that users or devices supply is nvarchar(max), as in inlet.events: the audit trail never
-- refuses a record for its length.
CREATE TABLE inlet.alarms (
    id              bigint        IDENTITY(1, 1) NOT NULL,
    device_id       int           NULL,
    channel         int           NULL,
    source          varchar(10)   NOT NULL,
    level           varchar(10)   NOT NULL,
    direction       varchar(4)    NULL,
    raised_at       datetime2(3)  NOT NULL,
    value           float(53)     NULL,
    message         nvarchar(max) NOT NULL,
    acknowledged_at datetime2(3)  NULL,
    acknowledged_by nvarchar(128) NULL,
    ack_comment     nvarchar(max) NULL,
    cleared_at      datetime2(3)  NULL,
    cleared_value   float(53)     NULL,
    CONSTRAINT pk_alarms PRIMARY KEY CLUSTERED (id),
    CONSTRAINT fk_alarms_devices FOREIGN KEY (device_id) REFERENCES inlet.devices (id),
    CONSTRAINT ck_alarms_source CHECK (source IN ('limit', 'system')),
    CONSTRAINT ck_alarms_level CHECK (level IN ('warning', 'alarm')),
    CONSTRAINT ck_alarms_direction CHECK (direction IN ('high', 'low')),
    -- Acknowledged means when, by whom and why, all three or none.
    CONSTRAINT ck_alarms_acknowledgement CHECK (
        (acknowledged_at IS NULL AND acknowledged_by IS NULL AND ack_comment IS NULL)
        OR (acknowledged_at IS NOT NULL AND acknowledged_by IS NOT NULL AND ack_comment IS NOT NULL))
);
-- The open list (not yet both acknowledged and cleared) reads few rows however long the history
-- grows: a filtered index cannot hold an OR, so one index per half of it. Filtered indexes need
-- QUOTED_IDENTIFIER ON for writes to the table (the driver's default; sqlcmd needs -I).
CREATE NONCLUSTERED INDEX ix_alarms_uncleared ON inlet.alarms (device_id) WHERE cleared_at IS NULL;
CREATE NONCLUSTERED INDEX ix_alarms_unacknowledged ON inlet.alarms (device_id) WHERE acknowledged_at IS NULL;
-- One device's alarms, newest first (the alarm list filtered by device orders by id).
CREATE NONCLUSTERED INDEX ix_alarms_device_id ON inlet.alarms (device_id, id);
GO

-- The limits of one channel as one table-valued parameter, for inlet.set_alarm_limits.
CREATE TYPE inlet.alarm_limit_rows AS TABLE (
    level      varchar(10) NOT NULL,
    high       float(53)   NULL,
    low        float(53)   NULL,
    delay_s    int         NOT NULL,
    hysteresis float(53)   NOT NULL
);
GO

-- Replaces every limit of one channel and writes the event, in one transaction. A procedure because
-- the service login is denied DELETE on the schema (docs/sqlserver.md): the procedure and the tables
-- have one owner, so the unbroken ownership chain lets EXECUTE on the schema remove limits this way,
-- and only this way. The event's text is composed by Inlet (shared with the embedded store).
CREATE PROCEDURE inlet.set_alarm_limits
    @device_id     int,
    @channel       int,
    @limits        inlet.alarm_limit_rows READONLY,
    @updated_at    datetime2(3),
    @updated_by    nvarchar(128),
    @event_message nvarchar(max),
    @event_data    nvarchar(max)
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
        INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data)
        VALUES (@updated_at, @device_id, 'alarm.limits.changed', 'info', @event_message, @event_data);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- Rows are never deleted: INSTEAD OF, so that db_owner and sysadmin are bound too (see 001).
CREATE TRIGGER inlet.tr_alarms_append_only ON inlet.alarms INSTEAD OF DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50005, N'inlet.alarms are kept for the audit trail: alarms cannot be deleted', 1;
END;
GO

-- An update may only fill in the acknowledgement once and the clearing once; everything else is
-- fixed when the alarm is raised. AFTER rather than INSTEAD OF: allowed updates then run as written
-- (no second copy of the UPDATE to keep in step with the table), and a refused one is rolled back
-- by THROW. EXCEPT compares NULLs as equal (IS DISTINCT FROM needs SQL Server 2022); text compares
-- under a binary collation so that a change of letter case is a change.
CREATE TRIGGER inlet.tr_alarms_lifecycle_only ON inlet.alarms AFTER UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (
        SELECT 1
        FROM inserted AS i
        INNER JOIN deleted AS d ON d.id = i.id
        WHERE EXISTS (SELECT i.device_id, i.channel, i.source COLLATE Latin1_General_100_BIN2, i.level COLLATE Latin1_General_100_BIN2,
                             i.direction COLLATE Latin1_General_100_BIN2, i.raised_at, i.value, i.message COLLATE Latin1_General_100_BIN2
                      EXCEPT
                      SELECT d.device_id, d.channel, d.source COLLATE Latin1_General_100_BIN2, d.level COLLATE Latin1_General_100_BIN2,
                             d.direction COLLATE Latin1_General_100_BIN2, d.raised_at, d.value, d.message COLLATE Latin1_General_100_BIN2)
           OR (d.acknowledged_at IS NOT NULL
               AND EXISTS (SELECT i.acknowledged_at, i.acknowledged_by COLLATE Latin1_General_100_BIN2, i.ack_comment COLLATE Latin1_General_100_BIN2
                           EXCEPT
                           SELECT d.acknowledged_at, d.acknowledged_by COLLATE Latin1_General_100_BIN2, d.ack_comment COLLATE Latin1_General_100_BIN2))
           OR (d.cleared_at IS NOT NULL
               AND EXISTS (SELECT i.cleared_at, i.cleared_value
                           EXCEPT
                           SELECT d.cleared_at, d.cleared_value))
    )
        THROW 50006, N'an alarm can only be acknowledged once and cleared once; nothing else of it changes', 1;
END;
GO
