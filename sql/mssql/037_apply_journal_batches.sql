-- The journal's apply in large sorted batches (docs/sqlserver.md, "How the journal is applied").
-- A batch of up to GROUP_LIMITS rows and bytes (mssql-store.ts) is written in one transaction of the
-- gateway's, with two procedure calls:
-- 1. inlet.apply_upload_batch takes the upload writer lock and the event chain lock, finds the
--    batches already stored (a replay after a crash: only those the gateway marks maybe_stored),
--    takes the upload ids, inserts the batch's samples (sorted by the samples' key, one statement, so
--    that the hourly rollup trigger merges the whole batch's hours once) and returns what the gateway
--    needs to seal the uploads and link the events: the samples that were already stored, the chain
--    heads, the channels' current quantity and unit, the server's clock, the event chain's head and
--    the events not linked yet.
-- 2. inlet.write_upload_batch writes what the gateway computed from that: uploads with their hash
--    links, events linked into the audit chain, links for the events that were waiting, channels
--    and their versions, quarantined readings, suspensions and device sightings.
-- The hash links are computed by the gateway (the chain key never reaches the database); both calls
-- run in the gateway's transaction, so a failure of either leaves nothing behind.

CREATE TYPE inlet.apply_batch_rows AS TABLE (
    batch_index  int         NOT NULL,
    upload_key   varchar(64) COLLATE Latin1_General_100_BIN2 NULL,
    maybe_stored bit         NOT NULL,
    INDEX ix_apply_batch_rows CLUSTERED (batch_index)
);
GO
-- One row per sample key: the gateway keeps the first of a key repeated inside the batch (the
-- earlier upload stores it, as when the uploads are written one by one). Clustered on the samples'
-- key, so the insert into inlet.samples reads it in the order of the clustered index it fills.
-- (Table types carry no named constraints, so the keys are plain clustered indexes.)
CREATE TYPE inlet.apply_sample_rows AS TABLE (
    batch_index int          NOT NULL,
    device_id   int          NOT NULL,
    channel     int          NOT NULL,
    sample_time datetime2(3) NOT NULL,
    value       float(53)    NULL,
    error_code  int          NULL,
    alarm       char(2)      NOT NULL,
    INDEX ix_apply_sample_rows CLUSTERED (device_id, channel, sample_time)
);
GO
CREATE TYPE inlet.channel_key_rows AS TABLE (
    device_id int NOT NULL,
    channel   int NOT NULL,
    INDEX ix_channel_key_rows CLUSTERED (device_id, channel)
);
GO
-- Events written with their link: recorded_at is the server's clock that apply_upload_batch returned.
CREATE TYPE inlet.linked_event_rows AS TABLE (
    seq         int           NOT NULL,
    occurred_at datetime2(3)  NOT NULL,
    device_id   int           NULL,
    type        varchar(100)  NOT NULL,
    level       varchar(10)   NOT NULL,
    message     nvarchar(max) NOT NULL,
    data        nvarchar(max) NULL,
    actor       nvarchar(128) NULL,
    source      nvarchar(128) NULL,
    recorded_at datetime2(3)  NOT NULL,
    prev_hash   binary(32)    NOT NULL,
    hash        binary(32)    NOT NULL,
    INDEX ix_linked_event_rows CLUSTERED (seq)
);
GO
-- Links for events written without one (by a procedure, a trigger or a DBA), set once (migration 038).
CREATE TYPE inlet.event_link_rows AS TABLE (
    id        bigint     NOT NULL,
    prev_hash binary(32) NOT NULL,
    hash      binary(32) NOT NULL,
    INDEX ix_event_link_rows CLUSTERED (id)
);
GO
-- A channel whose quantity or unit the upload changed, or that it recorded first.
CREATE TYPE inlet.channel_change_rows AS TABLE (
    device_id  int           NOT NULL,
    channel    int           NOT NULL,
    quantity   nvarchar(200) NOT NULL,
    unit       nvarchar(50)  NOT NULL,
    valid_from datetime2(3)  NOT NULL,
    INDEX ix_channel_change_rows CLUSTERED (device_id, channel)
);
GO
CREATE TYPE inlet.quarantine_rows AS TABLE (
    upload_id   bigint        NOT NULL,
    device_id   int           NOT NULL,
    received_at datetime2(3)  NOT NULL,
    readings    nvarchar(max) NOT NULL,
    INDEX ix_quarantine_rows CLUSTERED (upload_id)
);
GO
CREATE TYPE inlet.suspension_rows AS TABLE (
    device_id    int            NOT NULL,
    reason       nvarchar(1000) NOT NULL,
    suspended_at datetime2(3)   NOT NULL,
    INDEX ix_suspension_rows CLUSTERED (device_id)
);
GO

CREATE PROCEDURE inlet.apply_upload_batch
    @batches         inlet.apply_batch_rows READONLY,
    @samples         inlet.apply_sample_rows READONLY,
    @devices         inlet.device_id_list READONLY,
    @channels        inlet.channel_key_rows READONLY,
    @with_unowned    bit,
    @lock_timeout_ms int
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    DECLARE @lock_result int;
    DECLARE @written_count int;
    DECLARE @first_id bigint = NULL;
    DECLARE @first_value sql_variant;
    DECLARE @head_id bigint;
    DECLARE @head_hash varbinary(32);
    DECLARE @stored TABLE (batch_index int NOT NULL PRIMARY KEY, id bigint NOT NULL, verdict varchar(12) NOT NULL);
    DECLARE @written TABLE (batch_index int NOT NULL PRIMARY KEY, upload_id bigint NULL);
    DECLARE @inserted TABLE (device_id int NOT NULL, channel int NOT NULL, sample_time datetime2(3) NOT NULL,
                             PRIMARY KEY (device_id, channel, sample_time));

    -- The uploads and events this writes are sealed by the gateway from what this returns: the
    -- caller's transaction holds both until it has written them (write_upload_batch).
    IF @@TRANCOUNT = 0
        THROW 50050, N'inlet.apply_upload_batch runs inside the gateway''s transaction, which writes the uploads next (inlet.write_upload_batch)', 1;
    EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.upload_writer', @LockMode = N'Exclusive',
        @LockOwner = N'Transaction', @LockTimeout = @lock_timeout_ms;
    IF @lock_result < 0 THROW 50011, N'timed out waiting for the upload writer lock (another Inlet instance holds it)', 1;
    EXEC @lock_result = sys.sp_getapplock @Resource = N'inlet.event_chain', @LockMode = N'Exclusive',
        @LockOwner = N'Transaction', @LockTimeout = @lock_timeout_ms;
    IF @lock_result < 0 THROW 50051, N'timed out waiting for the event chain lock (another Inlet instance is writing events)', 1;

    -- Replays: only the batches the gateway could not rule out (maybe_stored) are looked up.
    INSERT INTO @stored (batch_index, id, verdict)
    SELECT b.batch_index, u.id, u.verdict
    FROM @batches AS b
    INNER JOIN inlet.uploads AS u ON u.upload_key = b.upload_key
    WHERE b.maybe_stored = 1;

    -- A key repeated inside the batch is written by its first batch only; the gateway answers the
    -- later ones with the first one's result.
    INSERT INTO @written (batch_index)
    SELECT b.batch_index
    FROM @batches AS b
    WHERE NOT EXISTS (SELECT 1 FROM @stored AS s WHERE s.batch_index = b.batch_index)
      AND NOT EXISTS (SELECT 1 FROM @batches AS e WHERE e.upload_key = b.upload_key AND e.batch_index < b.batch_index);
    SET @written_count = @@ROWCOUNT;

    IF @written_count > 0
    BEGIN
        EXEC sys.sp_sequence_get_range @sequence_name = N'inlet.upload_id', @range_size = @written_count,
            @range_first_value = @first_value OUTPUT;
        SET @first_id = CAST(@first_value AS bigint);
        -- Ids in batch order: the gateway assigns the same ones from @first_id.
        UPDATE w
        SET w.upload_id = n.upload_id
        FROM @written AS w
        INNER JOIN (SELECT batch_index, @first_id + ROW_NUMBER() OVER (ORDER BY batch_index) - 1 AS upload_id
                    FROM @written) AS n ON n.batch_index = w.batch_index;

        -- One statement for the whole batch: the rollup and latest-value triggers run once, over
        -- every hour and channel the batch touched. Writers are serialised by the upload writer
        -- lock, so NOT EXISTS needs no range locks.
        INSERT INTO inlet.samples (device_id, channel, sample_time, value, error_code, alarm, upload_id)
        OUTPUT inserted.device_id, inserted.channel, inserted.sample_time INTO @inserted (device_id, channel, sample_time)
        SELECT r.device_id, r.channel, r.sample_time, r.value, r.error_code, r.alarm, w.upload_id
        FROM @samples AS r
        INNER JOIN @written AS w ON w.batch_index = r.batch_index
        WHERE NOT EXISTS (SELECT 1 FROM inlet.samples AS s
                          WHERE s.device_id = r.device_id AND s.channel = r.channel AND s.sample_time = r.sample_time)
        ORDER BY r.device_id, r.channel, r.sample_time;
    END;

    -- 1: the batches already stored, with the samples their upload stored.
    SELECT s.batch_index, s.id, s.verdict,
           (SELECT COUNT_BIG(*) FROM inlet.samples AS m WHERE m.upload_id = s.id) AS samples_stored
    FROM @stored AS s
    ORDER BY s.batch_index;
    -- 2: the first upload id (NULL: nothing to write) and the server's clock, for recorded_at.
    SELECT @first_id AS first_id, CAST(SYSUTCDATETIME() AS datetime2(3)) AS server_now;
    -- 3: the samples of written batches that were stored already (usually none: a resend).
    SELECT r.batch_index, r.channel, r.sample_time
    FROM @samples AS r
    INNER JOIN @written AS w ON w.batch_index = r.batch_index
    WHERE NOT EXISTS (SELECT 1 FROM @inserted AS i
                      WHERE i.device_id = r.device_id AND i.channel = r.channel AND i.sample_time = r.sample_time)
    ORDER BY r.batch_index, r.channel, r.sample_time;
    -- 4: each device's chain head; a chain whose uploads were all purged continues from its latest
    -- anchor (migration 008), looked up only when the chain has no upload.
    SELECT d.device_id, COALESCE(h.hash, a.hash) AS hash
    FROM @devices AS d
    OUTER APPLY (SELECT TOP (1) u.hash FROM inlet.uploads AS u WHERE u.device_id = d.device_id ORDER BY u.id DESC) AS h
    OUTER APPLY (SELECT TOP (1) c.hash FROM inlet.chain_anchors AS c WHERE h.hash IS NULL AND c.chain = d.device_id ORDER BY c.id DESC) AS a
    WHERE h.hash IS NOT NULL OR a.hash IS NOT NULL;
    -- 5: the head of the chain of uploads no device owns (refused ones).
    SELECT TOP (1) x.hash
    FROM (SELECT l.hash, 1 AS preference
          FROM (SELECT TOP (1) u.hash FROM inlet.uploads AS u WHERE u.device_id IS NULL ORDER BY u.id DESC) AS l
          UNION ALL
          SELECT n.hash, 2 AS preference
          FROM (SELECT TOP (1) c.hash FROM inlet.chain_anchors AS c WHERE c.chain = 0 ORDER BY c.id DESC) AS n) AS x
    WHERE @with_unowned = 1
    ORDER BY x.preference;
    -- 6: the channels the batch names, as they are now.
    SELECT c.device_id, c.channel, c.quantity, c.unit
    FROM @channels AS k
    INNER JOIN inlet.channels AS c ON c.device_id = k.device_id AND c.channel = k.channel;
    -- 7: the audit chain's head, and 8: the events after it not linked yet, oldest first.
    SELECT TOP (1) @head_id = e.id, @head_hash = e.hash FROM inlet.events AS e WHERE e.hash IS NOT NULL ORDER BY e.id DESC;
    SELECT @head_id AS id, @head_hash AS hash WHERE @head_id IS NOT NULL;
    SELECT e.id, e.occurred_at AS at, e.device_id, e.type, e.level, e.message, e.data, e.actor, e.source, e.recorded_at
    FROM inlet.events AS e
    WHERE e.id > COALESCE(@head_id, 0) AND e.hash IS NULL
    ORDER BY e.id;
END;
GO

CREATE PROCEDURE inlet.write_upload_batch
    @uploads     inlet.upload_rows READONLY,
    @events      inlet.linked_event_rows READONLY,
    @links       inlet.event_link_rows READONLY,
    @seen        inlet.device_seen_rows READONLY,
    @channels    inlet.channel_change_rows READONLY,
    @quarantine  inlet.quarantine_rows READONLY,
    @suspensions inlet.suspension_rows READONLY
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    IF COALESCE(APPLOCK_MODE(N'public', N'inlet.upload_writer', N'Transaction'), N'NoLock') <> N'Exclusive'
       OR COALESCE(APPLOCK_MODE(N'public', N'inlet.event_chain', N'Transaction'), N'NoLock') <> N'Exclusive'
        THROW 50052, N'inlet.write_upload_batch writes what inlet.apply_upload_batch returned, in the same transaction', 1;

    -- Links first: the events waiting for one are older than the ones written below.
    UPDATE e
    SET e.prev_hash = l.prev_hash, e.hash = l.hash
    FROM inlet.events AS e
    INNER JOIN @links AS l ON l.id = e.id;

    UPDATE c
    SET c.quantity = n.quantity, c.unit = n.unit
    FROM inlet.channels AS c
    INNER JOIN @channels AS n ON n.device_id = c.device_id AND n.channel = c.channel;
    INSERT INTO inlet.channels (device_id, channel, quantity, unit)
    SELECT n.device_id, n.channel, n.quantity, n.unit
    FROM @channels AS n
    WHERE NOT EXISTS (SELECT 1 FROM inlet.channels AS c WHERE c.device_id = n.device_id AND c.channel = n.channel);
    -- The first version of a channel an upload records; later versions are an administrator's (setChannelUnit).
    INSERT INTO inlet.channel_units (device_id, channel, valid_from, quantity, unit, set_by, reason)
    SELECT n.device_id, n.channel, n.valid_from, n.quantity, n.unit, N'device', N'first upload with this channel'
    FROM @channels AS n
    WHERE NOT EXISTS (SELECT 1 FROM inlet.channel_units AS v
                      WHERE v.device_id = n.device_id AND v.channel = n.channel AND v.valid_from = n.valid_from);

    -- ORDER BY on INSERT ... SELECT fixes the order identity values (event ids) are given in: the
    -- order the gateway linked them in.
    INSERT INTO inlet.uploads (id, device_id, family, received_at, remote_address, content_type, raw, raw_encoding, verdict, reason, serial, counter,
        prev_hash, hash, upload_key)
    SELECT id, device_id, family, received_at, remote_address, content_type, COMPRESS(raw), 'gzip', verdict, reason, serial, counter, prev_hash, hash, upload_key
    FROM @uploads
    ORDER BY id;
    INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data, actor, source, recorded_at, prev_hash, hash)
    SELECT occurred_at, device_id, type, level, message, data, actor, source, recorded_at, prev_hash, hash
    FROM @events
    ORDER BY seq;

    INSERT INTO inlet.quarantine (upload_id, device_id, received_at, readings)
    SELECT upload_id, device_id, received_at, readings
    FROM @quarantine;
    UPDATE d
    SET d.state = 'suspended', d.suspended_reason = s.reason, d.suspended_at = s.suspended_at, d.updated_at = s.suspended_at
    FROM inlet.devices AS d
    INNER JOIN @suspensions AS s ON s.device_id = d.id
    WHERE d.state = 'active';
    UPDATE d
    SET d.last_seen_at = CASE WHEN d.last_seen_at IS NULL OR d.last_seen_at < s.seen_at THEN s.seen_at ELSE d.last_seen_at END,
        d.declared_interval_s = COALESCE(s.declared_interval_s, d.declared_interval_s)
    FROM inlet.devices AS d
    INNER JOIN @seen AS s ON s.device_id = d.id;
END;
GO
