-- Run by `inlet migrate` (and at start) before it reads which migrations are applied. Idempotent, and
-- it creates nothing once the schema exists, so a service login without DDL rights passes through it.
-- Not a numbered migration: it creates the table that records them.
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
