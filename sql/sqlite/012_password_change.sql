-- A password an administrator set for someone else must be changed by its user at the next sign-in
-- (issue 15): until then that session may only change the password or sign out.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
