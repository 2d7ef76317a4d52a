-- Physical design for a large archive (docs/sqlserver.md, "Physical design at 10^9 samples"):
-- - Raw bodies leave the uploads clustered index: varbinary(max) values are stored out of row from
--   now on (a 16-byte pointer stays in the row), and new bodies are stored GZIP-compressed with
--   COMPRESS() (raw_encoding = 'gzip'; NULL for bodies stored as received, all rows before this
--   migration). Scans of uploads (chain heads, retention, verification) then read narrow rows; a
--   Web Sensor's 1-2 KB SOAP message compresses about four times. Inlet reads bodies back with
--   DECOMPRESS(), so the hash chain, which covers the body as received, is unchanged.
-- - inlet.latest_samples holds each channel's newest sample, kept by triggers on inlet.samples in
--   the group commit's transaction, so the live view reads one row per channel instead of one
--   backward seek into the samples per channel every two seconds. It changes only through those
--   triggers, like the hourly rollup (migration 013).

EXEC sys.sp_tableoption @TableNamePattern = N'inlet.uploads', @OptionName = 'large value types out of row', @OptionValue = 'ON';
GO
ALTER TABLE inlet.uploads ADD raw_encoding varchar(8) NULL CONSTRAINT ck_uploads_raw_encoding CHECK (raw_encoding IS NULL OR raw_encoding = 'gzip');
GO

CREATE TABLE inlet.latest_samples (
    device_id   int          NOT NULL,
    channel     int          NOT NULL,
    sample_time datetime2(3) NOT NULL,
    value       float(53)    NULL,
    error_code  int          NULL,
    alarm       char(2)      NOT NULL,
    CONSTRAINT pk_latest_samples PRIMARY KEY CLUSTERED (device_id, channel)
);
GO
-- One backward seek per channel that has samples.
INSERT INTO inlet.latest_samples (device_id, channel, sample_time, value, error_code, alarm)
SELECT c.device_id, c.channel, s.sample_time, s.value, s.error_code, s.alarm
FROM inlet.channels AS c
CROSS APPLY (SELECT TOP (1) m.sample_time, m.value, m.error_code, m.alarm
             FROM inlet.samples AS m
             WHERE m.device_id = c.device_id AND m.channel = c.channel
             ORDER BY m.sample_time DESC) AS s;
GO

-- Group commits are serialised by the upload writer lock, so the update-then-insert cannot race.
CREATE TRIGGER inlet.tr_samples_latest ON inlet.samples AFTER INSERT
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @newest TABLE (device_id int NOT NULL, channel int NOT NULL, sample_time datetime2(3) NOT NULL,
                           value float(53) NULL, error_code int NULL, alarm char(2) NOT NULL,
                           PRIMARY KEY (device_id, channel));
    INSERT INTO @newest (device_id, channel, sample_time, value, error_code, alarm)
    SELECT n.device_id, n.channel, n.sample_time, n.value, n.error_code, n.alarm
    FROM (SELECT i.device_id, i.channel, i.sample_time, i.value, i.error_code, i.alarm,
                 ROW_NUMBER() OVER (PARTITION BY i.device_id, i.channel ORDER BY i.sample_time DESC) AS nth
          FROM inserted AS i) AS n
    WHERE n.nth = 1;
    UPDATE l
    SET l.sample_time = n.sample_time, l.value = n.value, l.error_code = n.error_code, l.alarm = n.alarm
    FROM inlet.latest_samples AS l
    INNER JOIN @newest AS n ON n.device_id = l.device_id AND n.channel = l.channel
    WHERE n.sample_time > l.sample_time;
    INSERT INTO inlet.latest_samples (device_id, channel, sample_time, value, error_code, alarm)
    SELECT n.device_id, n.channel, n.sample_time, n.value, n.error_code, n.alarm
    FROM @newest AS n
    WHERE NOT EXISTS (SELECT 1 FROM inlet.latest_samples AS l WHERE l.device_id = n.device_id AND l.channel = n.channel);
END;
GO

-- Samples are deleted only below the retention horizon (migration 013). When a channel's newest
-- sample goes, its row follows the newest sample left, or goes too. The INSTEAD OF DELETE trigger's
-- own DELETE fires this AFTER trigger.
CREATE TRIGGER inlet.tr_samples_latest_after_delete ON inlet.samples AFTER DELETE
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @gone TABLE (device_id int NOT NULL, channel int NOT NULL, PRIMARY KEY (device_id, channel));
    INSERT INTO @gone (device_id, channel)
    SELECT DISTINCT d.device_id, d.channel
    FROM deleted AS d
    INNER JOIN inlet.latest_samples AS l ON l.device_id = d.device_id AND l.channel = d.channel AND l.sample_time = d.sample_time;
    UPDATE l
    SET l.sample_time = s.sample_time, l.value = s.value, l.error_code = s.error_code, l.alarm = s.alarm
    FROM inlet.latest_samples AS l
    INNER JOIN @gone AS g ON g.device_id = l.device_id AND g.channel = l.channel
    CROSS APPLY (SELECT TOP (1) m.sample_time, m.value, m.error_code, m.alarm
                 FROM inlet.samples AS m
                 WHERE m.device_id = g.device_id AND m.channel = g.channel
                 ORDER BY m.sample_time DESC) AS s;
    DELETE l
    FROM inlet.latest_samples AS l
    INNER JOIN @gone AS g ON g.device_id = l.device_id AND g.channel = l.channel
    WHERE NOT EXISTS (SELECT 1 FROM inlet.samples AS m WHERE m.device_id = g.device_id AND m.channel = g.channel);
END;
GO

CREATE TRIGGER inlet.tr_latest_samples_from_samples_only ON inlet.latest_samples AFTER INSERT, UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    IF TRIGGER_NESTLEVEL(OBJECT_ID(N'inlet.tr_samples_latest'), 'AFTER', 'DML') = 0
       AND TRIGGER_NESTLEVEL(OBJECT_ID(N'inlet.tr_samples_latest_after_delete'), 'AFTER', 'DML') = 0
        THROW 50022, N'inlet.latest_samples is kept by the triggers on inlet.samples: it cannot be changed directly', 1;
END;
GO

IF DATABASE_PRINCIPAL_ID(N'inlet_service') IS NOT NULL
    EXEC (N'DENY INSERT, UPDATE ON OBJECT::inlet.latest_samples TO inlet_service;');
GO
