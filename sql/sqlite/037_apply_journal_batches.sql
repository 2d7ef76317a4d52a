-- SQL Server only (sql/mssql/037): the procedures and table types of the journal's apply in large
-- sorted batches. The SQLite store applies the journal on its write thread (sqlite/writer.ts) in one
-- transaction per chunk, with nothing to send over a network. This file keeps both dialects' lists
-- of migrations the same.
SELECT 1;
