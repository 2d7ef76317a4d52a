-- The physical design of sql/mssql/014 changes nothing that SQLite needs: a large BLOB already
-- leaves its row for overflow pages, so scans of uploads read narrow rows; SQLite has no built-in
-- compression to store bodies with; and the live view's latest value per channel is one backward
-- seek on the samples' primary key inside this process, with no network round trip or plan to pay
-- for, so it keeps reading the samples. The migration exists so that both dialects keep one list
-- of versions.
SELECT 1;
