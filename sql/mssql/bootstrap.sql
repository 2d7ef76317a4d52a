-- Run by `inlet migrate` (and at start) before it reads which migrations are applied. Idempotent, and
-- it creates nothing once the schema exists, so a service login without DDL rights passes through it.
-- Not a numbered migration: it creates the table that records them.
-- First it refuses a server Inlet does not support: SQL Server 2016 SP1 (13.0.4001) or later (CREATE
-- OR ALTER in migration 009, page compression in every edition), or Azure SQL Database / Managed
-- Instance (EngineEdition 5 and 8, whose ProductVersion says 12), and a database at compatibility
-- level 130 or higher (STRING_ESCAPE in migration 013). `inlet migrate --check` reports the same.
DECLARE @product_version nvarchar(128) = CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128));
DECLARE @major int = CAST(PARSENAME(@product_version, 4) AS int);
DECLARE @build int = CAST(PARSENAME(@product_version, 2) AS int);
DECLARE @compatibility_level int = (SELECT d.compatibility_level FROM sys.databases AS d WHERE d.database_id = DB_ID());
DECLARE @refusal nvarchar(2048);
IF CAST(SERVERPROPERTY('EngineEdition') AS int) NOT IN (5, 8) AND (@major < 13 OR (@major = 13 AND @build < 4001))
BEGIN
    SET @refusal = CONCAT(N'Inlet needs SQL Server 2016 SP1 (13.0.4001) or later; this server is ', @product_version, N': apply the service pack or upgrade');
    THROW 50021, @refusal, 1;
END;
IF @compatibility_level < 130
BEGIN
    SET @refusal = CONCAT(N'Inlet needs database compatibility level 130 or higher; this database is at ', @compatibility_level,
        N': ALTER DATABASE CURRENT SET COMPATIBILITY_LEVEL = 130 (or the server''s own level)');
    THROW 50021, @refusal, 1;
END;
GO
IF SCHEMA_ID(N'inlet') IS NULL
    EXEC (N'CREATE SCHEMA inlet AUTHORIZATION dbo;');
GO
IF OBJECT_ID(N'inlet.schema_migrations', N'U') IS NULL
    CREATE TABLE inlet.schema_migrations (
        version    int           NOT NULL,
        name       nvarchar(200) NOT NULL,
        checksum   char(64)      NOT NULL,
        applied_at datetime2(3)  NOT NULL CONSTRAINT df_schema_migrations_applied_at DEFAULT (SYSUTCDATETIME()),
        applied_by nvarchar(128) NOT NULL CONSTRAINT df_schema_migrations_applied_by DEFAULT (ORIGINAL_LOGIN()),
        CONSTRAINT pk_schema_migrations PRIMARY KEY CLUSTERED (version)
    );
