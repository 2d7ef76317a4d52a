-- Inlet on SQL Server 2016 or later (Express included), schema version 1: the logical schema of
-- sql/sqlite/001_initial.sql. Times are datetime2(3) in UTC; Inlet converts from and to ms since the
-- epoch at its boundary. Uploads and samples are append-only and events cannot be edited (INSTEAD OF
-- triggers below, which bind every login, db_owner included); the per-device hash chain over uploads
-- makes any change made around them detectable by `inlet verify`.
-- Applied by `inlet migrate` in one transaction with XACT_ABORT ON; run by hand only with
-- `sqlcmd -I` (QUOTED_IDENTIFIER ON), which later filtered indexes need.

-- Upload ids come from a sequence, not IDENTITY: Inlet takes a range for a whole group commit
-- (sp_sequence_get_range) because each upload's id is part of its hash, computed before the insert.
-- Gaps (cache lost at a restart, a rolled-back group) are harmless: the chain links by device, not by id + 1.
CREATE SEQUENCE inlet.upload_id AS bigint START WITH 1 INCREMENT BY 1 NO CYCLE CACHE 100;
GO

CREATE TABLE inlet.devices (
    id                  int            IDENTITY(1, 1) NOT NULL,
    family              varchar(20)    NOT NULL,
    serial              nvarchar(64)   NOT NULL,
    model_code          int            NULL,
    model               nvarchar(100)  NOT NULL,
    name                nvarchar(200)  NOT NULL,
    location            nvarchar(200)  NOT NULL CONSTRAINT df_devices_location DEFAULT (N''),
    -- The entry token is a secret in the device's URL: compared byte for byte, never case-insensitively.
    entry_token         varchar(128)   COLLATE Latin1_General_100_BIN2 NOT NULL,
    allowed_interval_s  int            NULL,
    declared_interval_s int            NULL,
    customer_uid        nvarchar(100)  NULL,
    state               varchar(10)    NOT NULL CONSTRAINT df_devices_state DEFAULT ('active'),
    suspended_reason    nvarchar(1000) NULL,
    suspended_at        datetime2(3)   NULL,
    last_seen_at        datetime2(3)   NULL,
    created_at          datetime2(3)   NOT NULL,
    updated_at          datetime2(3)   NOT NULL,
    CONSTRAINT pk_devices PRIMARY KEY CLUSTERED (id),
    CONSTRAINT uq_devices_family_serial UNIQUE NONCLUSTERED (family, serial),
    CONSTRAINT uq_devices_entry_token UNIQUE NONCLUSTERED (entry_token),
    CONSTRAINT ck_devices_family CHECK (family IN ('soap', 'wifi', 'websensor-json', 'logger')),
    CONSTRAINT ck_devices_allowed_interval_s CHECK (allowed_interval_s IS NULL OR allowed_interval_s > 0),
    CONSTRAINT ck_devices_state CHECK (state IN ('active', 'suspended'))
);
CREATE NONCLUSTERED INDEX ix_devices_updated_at ON inlet.devices (updated_at);
GO

CREATE TABLE inlet.channels (
    device_id int           NOT NULL,
    channel   int           NOT NULL,
    quantity  nvarchar(200) NOT NULL,
    unit      nvarchar(50)  NOT NULL,
    CONSTRAINT pk_channels PRIMARY KEY CLUSTERED (device_id, channel),
    CONSTRAINT fk_channels_devices FOREIGN KEY (device_id) REFERENCES inlet.devices (id)
);
GO

-- The archive of every upload, refused ones included, with the bytes exactly as received. Text a
-- client states on the wire (content type, reason, stated serial) is nvarchar(max): an archive must
-- never refuse a record for its length. Values under 8,000 bytes stay in the row.
CREATE TABLE inlet.uploads (
    id             bigint         NOT NULL CONSTRAINT df_uploads_id DEFAULT (NEXT VALUE FOR inlet.upload_id),
    device_id      int            NULL,
    family         varchar(20)    NOT NULL,
    received_at    datetime2(3)   NOT NULL,
    remote_address nvarchar(128)  NOT NULL,
    content_type   nvarchar(max)  NOT NULL,
    raw            varbinary(max) NOT NULL,
    verdict        varchar(12)    NOT NULL,
    reason         nvarchar(max)  NOT NULL,
    serial         nvarchar(max)  NULL,
    counter        bigint         NULL,
    prev_hash      binary(32)     NOT NULL,
    hash           binary(32)     NOT NULL,
    CONSTRAINT pk_uploads PRIMARY KEY CLUSTERED (id),
    CONSTRAINT fk_uploads_devices FOREIGN KEY (device_id) REFERENCES inlet.devices (id),
    CONSTRAINT ck_uploads_verdict CHECK (verdict IN ('accepted', 'duplicate', 'refused', 'quarantined'))
);
-- Serves the chain head lookup (newest upload of a device) without touching the wide rows.
CREATE NONCLUSTERED INDEX ix_uploads_device_id ON inlet.uploads (device_id, id) INCLUDE (hash);
GO

-- One row per device, channel and sample time. The clustered key serves "one channel over a time
-- range" as a single range seek, and makes a resent sample a no-op (Inlet inserts only missing keys).
-- No foreign key to uploads: a group writes its samples before its uploads, whose hashes depend on
-- which samples were new. int rather than smallint for channel: page compression stores it small anyway.
CREATE TABLE inlet.samples (
    device_id   int          NOT NULL,
    channel     int          NOT NULL,
    sample_time datetime2(3) NOT NULL,
    value       float(53)    NULL,
    error_code  int          NULL,
    alarm       char(2)      NOT NULL,
    upload_id   bigint       NOT NULL,
    CONSTRAINT pk_samples PRIMARY KEY CLUSTERED (device_id, channel, sample_time),
    CONSTRAINT ck_samples_alarm CHECK (alarm IN ('no', 'hi', 'lo')),
    CONSTRAINT ck_samples_value_or_error CHECK ((value IS NULL AND error_code IS NOT NULL) OR (value IS NOT NULL AND error_code IS NULL))
);
CREATE NONCLUSTERED INDEX ix_samples_upload_id ON inlet.samples (upload_id);
GO

-- Page compression roughly halves the samples on disk. Every edition has it since SQL Server 2016 SP1
-- (13.0.4001), Express included; before that only Enterprise/Developer/Evaluation (EngineEdition 3)
-- and Azure SQL (5, 8). The dynamic statement is a constant: nothing from outside reaches it.
DECLARE @product_version nvarchar(128) = CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128));
DECLARE @major int = CAST(PARSENAME(@product_version, 4) AS int);
DECLARE @build int = CAST(PARSENAME(@product_version, 2) AS int);
IF CAST(SERVERPROPERTY('EngineEdition') AS int) IN (3, 5, 8) OR @major > 13 OR (@major = 13 AND @build >= 4001)
    EXEC (N'ALTER INDEX ALL ON inlet.samples REBUILD WITH (DATA_COMPRESSION = PAGE);');
GO

CREATE TABLE inlet.events (
    id          bigint        IDENTITY(1, 1) NOT NULL,
    occurred_at datetime2(3)  NOT NULL,
    device_id   int           NULL,
    type        varchar(100)  NOT NULL,
    level       varchar(10)   NOT NULL,
    message     nvarchar(max) NOT NULL,
    data        nvarchar(max) NULL,
    CONSTRAINT pk_events PRIMARY KEY CLUSTERED (id),
    CONSTRAINT fk_events_devices FOREIGN KEY (device_id) REFERENCES inlet.devices (id),
    CONSTRAINT ck_events_level CHECK (level IN ('info', 'warning', 'alarm'))
);
CREATE NONCLUSTERED INDEX ix_events_occurred_at ON inlet.events (occurred_at);
CREATE NONCLUSTERED INDEX ix_events_device_id ON inlet.events (device_id, occurred_at);
GO

-- Readings of a suspended device, kept aside until an administrator releases them.
CREATE TABLE inlet.quarantine (
    upload_id   bigint        NOT NULL,
    device_id   int           NOT NULL,
    received_at datetime2(3)  NOT NULL,
    readings    nvarchar(max) NOT NULL,
    released_at datetime2(3)  NULL,
    imported    bit           NULL,
    CONSTRAINT pk_quarantine PRIMARY KEY CLUSTERED (upload_id),
    CONSTRAINT fk_quarantine_uploads FOREIGN KEY (upload_id) REFERENCES inlet.uploads (id),
    CONSTRAINT fk_quarantine_devices FOREIGN KEY (device_id) REFERENCES inlet.devices (id)
);
CREATE NONCLUSTERED INDEX ix_quarantine_device_id ON inlet.quarantine (device_id, released_at);
GO

CREATE TABLE inlet.users (
    id            int           IDENTITY(1, 1) NOT NULL,
    -- Case-sensitive like the embedded store, so both stores accept and find the same names.
    username      nvarchar(128) COLLATE Latin1_General_100_CS_AS NOT NULL,
    role          varchar(20)   NOT NULL,
    password_hash nvarchar(400) NOT NULL,
    failed_logins int           NOT NULL CONSTRAINT df_users_failed_logins DEFAULT (0),
    locked_until  datetime2(3)  NULL,
    disabled      bit           NOT NULL CONSTRAINT df_users_disabled DEFAULT (0),
    created_at    datetime2(3)  NOT NULL,
    CONSTRAINT pk_users PRIMARY KEY CLUSTERED (id),
    CONSTRAINT uq_users_username UNIQUE NONCLUSTERED (username),
    CONSTRAINT ck_users_role CHECK (role IN ('administrator', 'operator', 'viewer'))
);
GO

-- Table types for the group commit: a whole group's samples, uploads, events and device sightings
-- each travel as one table-valued parameter. The service login needs EXECUTE on them; grant it on
-- the schema (GRANT EXECUTE ON SCHEMA::inlet) so that types a later migration recreates stay covered.
CREATE TYPE inlet.sample_rows AS TABLE (
    upload_id   bigint       NOT NULL,
    ordinal     int          NOT NULL,
    device_id   int          NOT NULL,
    channel     int          NOT NULL,
    sample_time datetime2(3) NOT NULL,
    value       float(53)    NULL,
    error_code  int          NULL,
    alarm       char(2)      NOT NULL,
    INDEX ix_sample_rows_key CLUSTERED (device_id, channel, sample_time, upload_id, ordinal)
);
GO
CREATE TYPE inlet.upload_rows AS TABLE (
    id             bigint         NOT NULL,
    device_id      int            NULL,
    family         varchar(20)    NOT NULL,
    received_at    datetime2(3)   NOT NULL,
    remote_address nvarchar(128)  NOT NULL,
    content_type   nvarchar(max)  NOT NULL,
    raw            varbinary(max) NOT NULL,
    verdict        varchar(12)    NOT NULL,
    reason         nvarchar(max)  NOT NULL,
    serial         nvarchar(max)  NULL,
    counter        bigint         NULL,
    prev_hash      binary(32)     NOT NULL,
    hash           binary(32)     NOT NULL
);
GO
CREATE TYPE inlet.event_rows AS TABLE (
    upload_id   bigint        NOT NULL,
    ordinal     int           NOT NULL,
    occurred_at datetime2(3)  NOT NULL,
    device_id   int           NULL,
    type        varchar(100)  NOT NULL,
    level       varchar(10)   NOT NULL,
    message     nvarchar(max) NOT NULL,
    data        nvarchar(max) NULL
);
GO
CREATE TYPE inlet.device_seen_rows AS TABLE (
    device_id           int          NOT NULL,
    seen_at             datetime2(3) NOT NULL,
    declared_interval_s int          NULL
);
GO
CREATE TYPE inlet.device_id_list AS TABLE (
    device_id int NOT NULL
);
GO

-- Append-only, enforced in the database rather than only by withholding rights (DENY and missing
-- grants do not bind db_owner or sysadmin; these triggers do). Removing data on purpose (retention)
-- is a deliberate owner action: DISABLE TRIGGER, delete, ENABLE TRIGGER, and the chain shows the cut.
CREATE TRIGGER inlet.tr_uploads_append_only ON inlet.uploads INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50001, N'inlet.uploads is append-only: uploads cannot be changed or deleted', 1;
END;
GO
CREATE TRIGGER inlet.tr_samples_append_only ON inlet.samples INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50002, N'inlet.samples is append-only: samples cannot be changed or deleted', 1;
END;
GO
CREATE TRIGGER inlet.tr_events_append_only ON inlet.events INSTEAD OF UPDATE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50003, N'inlet.events is append-only: events cannot be changed', 1;
END;
GO
