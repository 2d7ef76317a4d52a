-- A password an administrator set for someone else must be changed by its user at the next sign-in
-- (issue 15): until then that session may only change the password or sign out.
ALTER TABLE inlet.users ADD must_change_password bit NOT NULL CONSTRAINT df_users_must_change_password DEFAULT (0);
GO
