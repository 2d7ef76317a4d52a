-- Two Inlet processes that plan the same retention run at once (the nightly job and an
-- administrator's `inlet retention run`) recorded two horizons for one purge. The procedure now
-- decides under the upload writer lock, as sql/sqlite's adapter does in its transaction: when the
-- latest horizon is not behind the request and the request would let no more uploads and no more
-- audit rows be purged, nothing is recorded and the latest horizon is returned. A request that is
-- behind still reaches the forward-only trigger and is refused. Otherwise as in 008.
CREATE OR ALTER PROCEDURE inlet.advance_retention_horizon
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
