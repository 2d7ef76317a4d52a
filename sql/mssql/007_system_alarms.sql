-- System alarms: the logical schema and rules of sql/sqlite/007_system_alarms.sql. kind says which
-- condition a 'system' alarm stands for ('offline', 'integrity'); NULL for limit alarms. The offline
-- detector and the verification find their own uncleared alarms by it after a restart.
ALTER TABLE inlet.alarms ADD kind varchar(10) NULL;
GO
-- A table constraint: a column constraint may not name another column (source).
ALTER TABLE inlet.alarms ADD CONSTRAINT ck_alarms_kind CHECK (kind IS NULL OR (source = 'system' AND kind IN ('offline', 'integrity')));
GO
-- At most one uncleared offline alarm per device, even with several Inlet instances on one database.
CREATE UNIQUE NONCLUSTERED INDEX ux_alarms_open_offline ON inlet.alarms (device_id) WHERE kind = 'offline' AND cleared_at IS NULL;
GO
-- The lifecycle trigger of 005, with kind fixed at raise like the other columns.
ALTER TRIGGER inlet.tr_alarms_lifecycle_only ON inlet.alarms AFTER UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    IF EXISTS (
        SELECT 1
        FROM inserted AS i
        INNER JOIN deleted AS d ON d.id = i.id
        WHERE EXISTS (SELECT i.device_id, i.channel, i.source COLLATE Latin1_General_100_BIN2, i.level COLLATE Latin1_General_100_BIN2,
                             i.direction COLLATE Latin1_General_100_BIN2, i.raised_at, i.value, i.message COLLATE Latin1_General_100_BIN2,
                             i.kind COLLATE Latin1_General_100_BIN2
                      EXCEPT
                      SELECT d.device_id, d.channel, d.source COLLATE Latin1_General_100_BIN2, d.level COLLATE Latin1_General_100_BIN2,
                             d.direction COLLATE Latin1_General_100_BIN2, d.raised_at, d.value, d.message COLLATE Latin1_General_100_BIN2,
                             d.kind COLLATE Latin1_General_100_BIN2)
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
