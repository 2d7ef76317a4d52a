-- The DBA's changes of the retention floors (inlet.retention_policy, 013; inlet.body_retention_policy,
-- 031) write their event without a link, for the gateway to link at its next write (038). Written
-- outside the lock inlet.event_chain, such an event could commit after a gateway transaction that
-- had already linked past it (under READ_COMMITTED_SNAPSHOT the gateway does not see, nor wait for,
-- an uncommitted row): it would then stay unlinked below the chain's head for ever, which
-- `inlet verify` reports as an event inserted outside Inlet. So the triggers take the same lock,
-- first, before they touch any row (the gateway takes it before the procedures that read the
-- floors): their event then gets its id after every linked event and is linked at the next write.
-- Otherwise as in 013 and 031. Replaced with DROP + CREATE, as 038 does.
DROP TRIGGER inlet.tr_retention_policy_change;
GO
CREATE TRIGGER inlet.tr_retention_policy_change ON inlet.retention_policy INSTEAD OF INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @lock_result int;
    IF NOT EXISTS (SELECT 1 FROM inserted) OR NOT EXISTS (SELECT 1 FROM deleted)
        THROW 50013, N'inlet.retention_policy has exactly one row: change its days with UPDATE (docs/sqlserver.md)', 1;
    IF EXISTS (SELECT 1 FROM inserted AS i WHERE i.id <> 1)
        THROW 50013, N'inlet.retention_policy has exactly one row, id 1', 1;
    EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.event_chain', @LockMode = N'Exclusive',
        @LockOwner = N'Transaction', @LockTimeout = 10000;
    IF @lock_result < 0
        THROW 50051, N'timed out waiting for the event chain lock (the gateway is writing events): run the UPDATE again', 1;
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

DROP TRIGGER inlet.tr_body_retention_policy_change;
GO
CREATE TRIGGER inlet.tr_body_retention_policy_change ON inlet.body_retention_policy INSTEAD OF INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @lock_result int;
    IF NOT EXISTS (SELECT 1 FROM inserted) OR NOT EXISTS (SELECT 1 FROM deleted) OR EXISTS (SELECT 1 FROM inserted AS i WHERE i.id <> 1)
        THROW 50023, N'inlet.body_retention_policy has exactly one row, id 1: change its days with UPDATE (docs/sqlserver.md)', 1;
    EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.event_chain', @LockMode = N'Exclusive',
        @LockOwner = N'Transaction', @LockTimeout = 10000;
    IF @lock_result < 0
        THROW 50051, N'timed out waiting for the event chain lock (the gateway is writing events): run the UPDATE again', 1;
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
