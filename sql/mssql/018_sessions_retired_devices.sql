-- Viewer sessions: the logical schema of sql/sqlite/018_sessions.sql. Only the SHA-256 of a
-- session id is kept (hex): a copy of the database lets nobody into the viewer. display = 1 is a
-- wall display's read-only session, which stays signed in (an operator's decision, in events).
CREATE TABLE inlet.sessions (
    id_hash        char(64)     COLLATE Latin1_General_100_BIN2 NOT NULL,
    user_id        int          NOT NULL,
    created_at     datetime2(3) NOT NULL,
    last_active_at datetime2(3) NOT NULL,
    display        bit          NOT NULL CONSTRAINT df_sessions_display DEFAULT (0),
    -- the global role and zone roles signed in with, JSON: a directory account's come from its groups
    access         nvarchar(max) NOT NULL CONSTRAINT ck_sessions_access_json CHECK (ISJSON(access) = 1),
    CONSTRAINT pk_sessions PRIMARY KEY CLUSTERED (id_hash),
    CONSTRAINT fk_sessions_users FOREIGN KEY (user_id) REFERENCES inlet.users (id)
);
GO
CREATE NONCLUSTERED INDEX ix_sessions_user ON inlet.sessions (user_id);
GO
-- Retired devices: the logical schema of sql/sqlite/018_sessions_retired_devices.sql. A row per
-- device while it is retired; putting it back in use deletes the row (events keep the record).
CREATE TABLE inlet.device_retirements (
    device_id  int           NOT NULL,
    retired_at datetime2(3)  NOT NULL,
    retired_by nvarchar(128) NOT NULL,
    reason     nvarchar(400) NOT NULL,
    CONSTRAINT pk_device_retirements PRIMARY KEY CLUSTERED (device_id),
    CONSTRAINT fk_device_retirements_devices FOREIGN KEY (device_id) REFERENCES inlet.devices (id)
);
GO
