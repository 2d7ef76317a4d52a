-- SQL Server only (sql/mssql/038): events written by procedures and triggers there are linked into
-- the audit chain by the gateway afterwards. SQLite has no procedures: every event is appended linked
-- by the gateway's own code (sqlite/event-chain.ts). This file keeps both dialects' lists of
-- migrations the same.
SELECT 1;
