-- SQL Server only (sql/mssql/039): the DBA's retention-floor triggers take the event chain's lock
-- before they write their event, so that an unlinked event below the chain's head can be reported
-- there as inserted outside Inlet. SQLite has no such triggers. This file keeps both dialects' lists
-- of migrations the same.
SELECT 1;
