-- Incremental verification (docs/sqlserver.md, "Incremental verification"): how far `inlet verify`
-- has got, appended after each intact run. The nightly run verifies what arrived above
-- verified_through, plus the next share of a rolling full pass ([rolling_cursor, rolling_end]), so
-- that a billion samples are not re-read every night and everything is still re-verified within
-- rolling_nights nights.
-- A row that moved verified_through forward would hide tampering below it, so rows are chained: mac
-- is HMAC-SHA256 under the gateway's chain key (a file on the Inlet machine, never in the database)
-- over prev_mac and the row's values, and prev_mac must be the mac of the row before (checked here);
-- verification recomputes the macs and falls back to a full pass when the chain of rows is broken.
-- recorded_at and recorded_by are the server's; the table is append-only for every login.
CREATE TABLE inlet.verify_progress (
    id               bigint        IDENTITY(1, 1) NOT NULL,
    verified_at      datetime2(3)  NOT NULL,
    mode             varchar(12)   NOT NULL,
    verified_through bigint        NOT NULL,
    rolling_cursor   bigint        NOT NULL,
    rolling_end      bigint        NOT NULL,
    rolling_nights   int           NOT NULL,
    prev_mac         binary(32)    NOT NULL,
    mac              binary(32)    NOT NULL,
    recorded_at      datetime2(3)  NOT NULL CONSTRAINT df_verify_progress_recorded_at DEFAULT (SYSUTCDATETIME()),
    recorded_by      nvarchar(128) NOT NULL CONSTRAINT df_verify_progress_recorded_by DEFAULT (ORIGINAL_LOGIN()),
    CONSTRAINT pk_verify_progress PRIMARY KEY CLUSTERED (id),
    CONSTRAINT ck_verify_progress_mode CHECK (mode IN ('incremental', 'full')),
    CONSTRAINT ck_verify_progress_ids CHECK (verified_through >= 0 AND rolling_cursor >= 0 AND rolling_end >= 0),
    CONSTRAINT ck_verify_progress_rolling_nights CHECK (rolling_nights BETWEEN 1 AND 366)
);
GO
CREATE TRIGGER inlet.tr_verify_progress_append_only ON inlet.verify_progress INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50025, N'inlet.verify_progress is append-only', 1;
END;
GO
-- One row per statement, linked to the latest row before it.
CREATE TRIGGER inlet.tr_verify_progress_linked ON inlet.verify_progress AFTER INSERT
AS
BEGIN
    SET NOCOUNT ON;
    IF (SELECT COUNT(*) FROM inserted) > 1
       OR EXISTS (SELECT 1 FROM inserted AS i
                  WHERE i.prev_mac <> COALESCE((SELECT TOP (1) p.mac FROM inlet.verify_progress AS p WHERE p.id < i.id ORDER BY p.id DESC),
                                               CONVERT(binary(32), 0x))
                     OR i.recorded_by <> ORIGINAL_LOGIN()
                     OR i.recorded_at < DATEADD(minute, -5, SYSUTCDATETIME()) OR i.recorded_at > DATEADD(minute, 5, SYSUTCDATETIME()))
        THROW 50025, N'a verify_progress row must be inserted alone and link to the latest one (prev_mac = its mac), with the server''s time and login', 1;
END;
GO
