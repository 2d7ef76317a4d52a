-- Zones (site → building → room, any depth): devices are placed in one, and rights are scoped to
-- them (src/domain/zones.ts). A user's `role` stays their global role while `scope` is 'global';
-- with scope 'zones' they hold only the roles of user_zone_roles, each covering the zone's sub-zones.
-- Directory users (source 'directory') sign in against Active Directory; their roles come from
-- their groups at each sign-in, so they have no rows in user_zone_roles.
CREATE TABLE zones (
  id         INTEGER PRIMARY KEY,
  parent_id  INTEGER REFERENCES zones (id),
  name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 100 AND instr(name, '/') = 0),
  created_at INTEGER NOT NULL
);
-- Names are unique among siblings; top-level zones share the parent "0".
CREATE UNIQUE INDEX uq_zones_parent_name ON zones (ifnull(parent_id, 0), name);

ALTER TABLE devices ADD COLUMN zone_id INTEGER REFERENCES zones (id);
CREATE INDEX ix_devices_zone_id ON devices (zone_id);

ALTER TABLE users ADD COLUMN scope TEXT NOT NULL DEFAULT 'global' CHECK (scope IN ('global', 'zones'));
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'directory'));

CREATE TABLE user_zone_roles (
  user_id    INTEGER NOT NULL REFERENCES users (id),
  zone_id    INTEGER NOT NULL REFERENCES zones (id),
  role       TEXT    NOT NULL CHECK (role IN ('administrator', 'operator', 'viewer')),
  granted_at INTEGER NOT NULL,
  granted_by TEXT    NOT NULL,
  PRIMARY KEY (user_id, zone_id)
) WITHOUT ROWID;
CREATE INDEX ix_user_zone_roles_zone_id ON user_zone_roles (zone_id);

-- Each device's free-text location becomes a top-level zone of that name, and the device is placed
-- in it; devices with no location stay unplaced (seen by users with a global role only).
INSERT INTO zones (parent_id, name, created_at)
SELECT DISTINCT NULL, replace(trim(location), '/', '-'), CAST(strftime('%s', 'now') AS INTEGER) * 1000
FROM devices WHERE trim(location) <> '';
UPDATE devices SET zone_id = (SELECT z.id FROM zones AS z WHERE z.parent_id IS NULL AND z.name = replace(trim(devices.location), '/', '-'))
WHERE trim(location) <> '';
UPDATE devices SET location = replace(trim(location), '/', '-') WHERE trim(location) <> '';
