-- Scheduled reports an administrator sets up in the viewer (the configuration file can hold more,
-- reports.schedules): one PDF per location or list of devices for each past day, week or month,
-- mailed and/or written to a folder. A removed schedule keeps its row (deleted_at) so that the
-- events of its runs still name something; every change is also an event.
CREATE TABLE report_schedules (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  scope       TEXT    NOT NULL CHECK (scope IN ('location', 'devices')),
  location    TEXT    NOT NULL DEFAULT '',
  device_ids  TEXT    NOT NULL DEFAULT '[]',   -- JSON array of device ids, for scope 'devices'
  period      TEXT    NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly')),
  mail_to     TEXT    NOT NULL DEFAULT '[]',   -- JSON array of addresses
  folder      TEXT    NOT NULL DEFAULT '',
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  updated_at  INTEGER NOT NULL,
  updated_by  TEXT    NOT NULL,
  deleted_at  INTEGER
);
CREATE UNIQUE INDEX ux_report_schedules_name ON report_schedules (name) WHERE deleted_at IS NULL;
