-- Zones (site → building → room, any depth): devices are placed in one, and rights are scoped to
-- them (src/domain/zones.ts). The logical schema of sql/sqlite/023_zones.sql.
-- A user's `role` stays their global role while `scope` is 'global'; with scope 'zones' they hold
-- only the roles in inlet.user_zone_roles, each covering the zone's sub-zones. Directory users
-- (source 'directory') get their roles from their Active Directory groups at each sign-in.
CREATE TABLE inlet.zones (
    id         int           IDENTITY(1, 1) NOT NULL,
    parent_id  int           NULL,
    name       nvarchar(100) NOT NULL,
    created_at datetime2(3)  NOT NULL,
    -- Top-level zones share the parent key 0, so that their names are unique too (a unique index
    -- treats NULLs as equal only once).
    parent_key AS ISNULL(parent_id, 0) PERSISTED,
    CONSTRAINT pk_zones PRIMARY KEY CLUSTERED (id),
    CONSTRAINT fk_zones_parent FOREIGN KEY (parent_id) REFERENCES inlet.zones (id),
    CONSTRAINT uq_zones_parent_name UNIQUE NONCLUSTERED (parent_key, name),
    CONSTRAINT ck_zones_name CHECK (LEN(name) >= 1 AND CHARINDEX(N'/', name) = 0)
);
GO

ALTER TABLE inlet.devices ADD zone_id int NULL
    CONSTRAINT fk_devices_zones FOREIGN KEY REFERENCES inlet.zones (id);
GO
CREATE NONCLUSTERED INDEX ix_devices_zone_id ON inlet.devices (zone_id);
GO

ALTER TABLE inlet.users ADD scope varchar(10) NOT NULL CONSTRAINT df_users_scope DEFAULT ('global');
GO
ALTER TABLE inlet.users ADD source varchar(10) NOT NULL CONSTRAINT df_users_source DEFAULT ('local');
GO
ALTER TABLE inlet.users ADD
    CONSTRAINT ck_users_scope CHECK (scope IN ('global', 'zones')),
    CONSTRAINT ck_users_source CHECK (source IN ('local', 'directory'));
GO

CREATE TABLE inlet.user_zone_roles (
    user_id    int           NOT NULL,
    zone_id    int           NOT NULL,
    role       varchar(20)   NOT NULL,
    granted_at datetime2(3)  NOT NULL,
    granted_by nvarchar(128) NOT NULL,
    CONSTRAINT pk_user_zone_roles PRIMARY KEY CLUSTERED (user_id, zone_id),
    CONSTRAINT fk_user_zone_roles_users FOREIGN KEY (user_id) REFERENCES inlet.users (id),
    CONSTRAINT fk_user_zone_roles_zones FOREIGN KEY (zone_id) REFERENCES inlet.zones (id),
    CONSTRAINT ck_user_zone_roles_role CHECK (role IN ('administrator', 'operator', 'viewer'))
);
CREATE NONCLUSTERED INDEX ix_user_zone_roles_zone_id ON inlet.user_zone_roles (zone_id);
GO

-- Replaces a user's zone roles and records the change, in one transaction. A procedure because the
-- service login keeps its DENY DELETE on the schema (docs/sqlserver.md); ownership chaining lets
-- this DELETE, and only this one, through.
CREATE PROCEDURE inlet.set_user_zone_roles
    @user_id       int,
    @grants        nvarchar(max),  -- JSON array of {"zoneId": n, "role": "..."}
    @granted_at    datetime2(3),
    @granted_by    nvarchar(128),
    @event_message nvarchar(max),
    @event_data    nvarchar(max)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    BEGIN TRY
        BEGIN TRANSACTION;
        DELETE FROM inlet.user_zone_roles WHERE user_id = @user_id;
        INSERT INTO inlet.user_zone_roles (user_id, zone_id, role, granted_at, granted_by)
        SELECT @user_id, g.zone_id, g.role, @granted_at, @granted_by
        FROM OPENJSON(@grants) WITH (zone_id int '$.zoneId', role varchar(20) '$.role') AS g;
        INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data)
        VALUES (@granted_at, NULL, 'user.zones.changed', 'info', @event_message, @event_data);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- Removes an empty zone (no sub-zones, no devices, no roles on it) and records it.
CREATE PROCEDURE inlet.remove_zone
    @zone_id       int,
    @removed_at    datetime2(3),
    @event_message nvarchar(max),
    @event_data    nvarchar(max)
AS
BEGIN
    SET NOCOUNT ON;
    SET XACT_ABORT ON;
    BEGIN TRY
        BEGIN TRANSACTION;
        IF EXISTS (SELECT 1 FROM inlet.zones WITH (UPDLOCK, HOLDLOCK) WHERE parent_id = @zone_id)
            OR EXISTS (SELECT 1 FROM inlet.devices WITH (UPDLOCK, HOLDLOCK) WHERE zone_id = @zone_id)
            OR EXISTS (SELECT 1 FROM inlet.user_zone_roles WITH (UPDLOCK, HOLDLOCK) WHERE zone_id = @zone_id)
            THROW 50030, N'the zone is not empty: move its sub-zones and devices and remove the roles on it first', 1;
        DELETE FROM inlet.zones WHERE id = @zone_id;
        IF @@ROWCOUNT = 0 THROW 50031, N'no such zone', 1;
        INSERT INTO inlet.events (occurred_at, device_id, type, level, message, data)
        VALUES (@removed_at, NULL, 'zone.removed', 'info', @event_message, @event_data);
        COMMIT TRANSACTION;
    END TRY
    BEGIN CATCH
        IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;
        THROW;
    END CATCH;
END;
GO

-- Each device's free-text location becomes a top-level zone of that name, and the device is placed in it.
INSERT INTO inlet.zones (parent_id, name, created_at)
SELECT DISTINCT NULL, REPLACE(LTRIM(RTRIM(location)), N'/', N'-'), SYSUTCDATETIME()
FROM inlet.devices WHERE LTRIM(RTRIM(location)) <> N'';
GO
UPDATE d SET zone_id = z.id, location = z.name
FROM inlet.devices AS d
JOIN inlet.zones AS z ON z.parent_id IS NULL AND z.name = REPLACE(LTRIM(RTRIM(d.location)), N'/', N'-')
WHERE LTRIM(RTRIM(d.location)) <> N'';
GO
