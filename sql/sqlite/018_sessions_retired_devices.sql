-- Viewer sessions, so that a restart of the gateway signs nobody out. Only the SHA-256 of a
-- session id is kept (hex): a copy of the database lets nobody into the viewer. display = 1 is a
-- wall display's read-only session, which stays signed in (an operator's decision, in events).
CREATE TABLE sessions (
  id_hash         TEXT    NOT NULL PRIMARY KEY CHECK (length(id_hash) = 64),
  user_id         INTEGER NOT NULL REFERENCES users (id),
  created_at      INTEGER NOT NULL,
  last_active_at  INTEGER NOT NULL,
  display         INTEGER NOT NULL DEFAULT 0 CHECK (display IN (0, 1)),
  -- the global role and zone roles signed in with, JSON: a directory account's come from its groups
  access          TEXT    NOT NULL CHECK (json_valid(access))
) WITHOUT ROWID;
CREATE INDEX ix_sessions_user ON sessions (user_id);

-- Retired devices (taken out of use: their history and chain are kept, they raise no offline
-- alarm and are hidden by default). A row per device while it is retired; putting it back in use
-- deletes the row. The record of who retired which and why, and who reinstated it, is in events.
CREATE TABLE device_retirements (
  device_id   INTEGER NOT NULL PRIMARY KEY REFERENCES devices (id),
  retired_at  INTEGER NOT NULL,
  retired_by  TEXT    NOT NULL,
  reason      TEXT    NOT NULL
) WITHOUT ROWID;
