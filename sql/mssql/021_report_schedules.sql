-- Scheduled reports: the logical schema of sql/sqlite/021_report_schedules.sql. One PDF per
-- location or list of devices for each past day, week or month, mailed and/or written to a folder.
-- A removed schedule is marked (deleted_at), not deleted: the service login has no DELETE, and the
-- events of its runs still name it. Every change is also an event.
CREATE TABLE inlet.report_schedules (
    id         int            IDENTITY(1, 1) NOT NULL,
    name       nvarchar(100)  NOT NULL,
    scope      varchar(10)    NOT NULL,
    location   nvarchar(200)  NOT NULL CONSTRAINT df_report_schedules_location DEFAULT (N''),
    device_ids varchar(4000)  NOT NULL CONSTRAINT df_report_schedules_device_ids DEFAULT ('[]'),
    period     varchar(10)    NOT NULL,
    mail_to    nvarchar(4000) NOT NULL CONSTRAINT df_report_schedules_mail_to DEFAULT (N'[]'),
    folder     nvarchar(400)  NOT NULL CONSTRAINT df_report_schedules_folder DEFAULT (N''),
    enabled    bit            NOT NULL CONSTRAINT df_report_schedules_enabled DEFAULT (1),
    updated_at datetime2(3)   NOT NULL,
    updated_by nvarchar(128)  NOT NULL,
    deleted_at datetime2(3)   NULL,
    CONSTRAINT pk_report_schedules PRIMARY KEY CLUSTERED (id),
    CONSTRAINT ck_report_schedules_name CHECK (LEN(name) > 0),
    CONSTRAINT ck_report_schedules_scope CHECK (scope IN ('location', 'devices')),
    CONSTRAINT ck_report_schedules_period CHECK (period IN ('daily', 'weekly', 'monthly')),
    CONSTRAINT ck_report_schedules_device_ids CHECK (ISJSON(device_ids) = 1),
    CONSTRAINT ck_report_schedules_mail_to CHECK (ISJSON(mail_to) = 1)
);
GO

-- One live schedule per name; removed ones may share it. Filtered indexes need QUOTED_IDENTIFIER ON.
CREATE UNIQUE NONCLUSTERED INDEX ux_report_schedules_name ON inlet.report_schedules (name) WHERE deleted_at IS NULL;
GO
