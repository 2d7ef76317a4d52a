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
