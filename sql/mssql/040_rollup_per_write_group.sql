-- SQLite only (sql/sqlite/040): the embedded store's hourly rollup moves from a per-sample trigger to
-- the writer, once per hour and write group. SQL Server already rolls up per batch (037). This file
-- keeps both dialects' lists of migrations the same.
SELECT 1;
