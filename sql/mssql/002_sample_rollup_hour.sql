-- Hourly rollup of samples, so that a chart over months or years reads one row per channel and
-- hour instead of every sample (a year at 1-minute resolution: 8,784 rows instead of 525,600).
-- Same table and rules as sql/sqlite/002. Kept in step by an AFTER INSERT trigger, in the same
-- transaction as the sample insert; samples are append-only, so inserts are the only change to
-- follow. Group commits are serialised by the writer's application lock (see mssql-store.ts), so
-- the trigger's update-then-insert cannot race another writer. (An indexed view cannot hold MIN/MAX.)
-- hour_start is sample_time truncated to the whole UTC hour. value_sum / value_count give the
-- average; value_count counts samples with a value, sample_count all samples.
CREATE TABLE inlet.sample_rollup_hour (
    device_id    int          NOT NULL,
    channel      int          NOT NULL,
    hour_start   datetime2(3) NOT NULL,
    value_min    float(53)    NULL,
    value_max    float(53)    NULL,
    value_sum    float(53)    NOT NULL,
    value_count  int          NOT NULL,
    sample_count int          NOT NULL,
    error_count  int          NOT NULL,
    CONSTRAINT pk_sample_rollup_hour PRIMARY KEY CLUSTERED (device_id, channel, hour_start)
);
GO
INSERT INTO inlet.sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
SELECT s.device_id, s.channel,
       DATEADD(hour, DATEDIFF(hour, CONVERT(datetime2(3), '2000-01-01'), s.sample_time), CONVERT(datetime2(3), '2000-01-01')),
       MIN(s.value), MAX(s.value), COALESCE(SUM(s.value), 0), COUNT(s.value), COUNT(*), COUNT(s.error_code)
FROM inlet.samples AS s
GROUP BY s.device_id, s.channel, DATEADD(hour, DATEDIFF(hour, CONVERT(datetime2(3), '2000-01-01'), s.sample_time), CONVERT(datetime2(3), '2000-01-01'));
GO
CREATE TRIGGER inlet.tr_samples_rollup_hour ON inlet.samples AFTER INSERT
AS
BEGIN
    SET NOCOUNT ON;
    DECLARE @hours TABLE (
        device_id int NOT NULL, channel int NOT NULL, hour_start datetime2(3) NOT NULL,
        value_min float(53) NULL, value_max float(53) NULL, value_sum float(53) NOT NULL,
        value_count int NOT NULL, sample_count int NOT NULL, error_count int NOT NULL,
        PRIMARY KEY (device_id, channel, hour_start)
    );
    INSERT INTO @hours (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
    SELECT i.device_id, i.channel,
           DATEADD(hour, DATEDIFF(hour, CONVERT(datetime2(3), '2000-01-01'), i.sample_time), CONVERT(datetime2(3), '2000-01-01')),
           MIN(i.value), MAX(i.value), COALESCE(SUM(i.value), 0), COUNT(i.value), COUNT(*), COUNT(i.error_code)
    FROM inserted AS i
    GROUP BY i.device_id, i.channel, DATEADD(hour, DATEDIFF(hour, CONVERT(datetime2(3), '2000-01-01'), i.sample_time), CONVERT(datetime2(3), '2000-01-01'));

    UPDATE r
    SET value_min    = CASE WHEN r.value_min IS NULL OR h.value_min < r.value_min THEN COALESCE(h.value_min, r.value_min) ELSE r.value_min END,
        value_max    = CASE WHEN r.value_max IS NULL OR h.value_max > r.value_max THEN COALESCE(h.value_max, r.value_max) ELSE r.value_max END,
        value_sum    = r.value_sum + h.value_sum,
        value_count  = r.value_count + h.value_count,
        sample_count = r.sample_count + h.sample_count,
        error_count  = r.error_count + h.error_count
    FROM inlet.sample_rollup_hour AS r
    INNER JOIN @hours AS h ON h.device_id = r.device_id AND h.channel = r.channel AND h.hour_start = r.hour_start;

    INSERT INTO inlet.sample_rollup_hour (device_id, channel, hour_start, value_min, value_max, value_sum, value_count, sample_count, error_count)
    SELECT h.device_id, h.channel, h.hour_start, h.value_min, h.value_max, h.value_sum, h.value_count, h.sample_count, h.error_count
    FROM @hours AS h
    WHERE NOT EXISTS (SELECT 1 FROM inlet.sample_rollup_hour AS r
                      WHERE r.device_id = h.device_id AND r.channel = h.channel AND r.hour_start = h.hour_start);
END;
GO
