-- sql/mssql/032 partitions inlet.uploads and inlet.samples by upload id ranges so that retention
-- switches whole partitions out instead of deleting rows. SQLite has no partitions: its purge deletes
-- rows in short transactions on the gateway's own file, and VACUUM-free reuse of the freed pages is
-- what a switch would buy there. The migration exists so that both dialects keep one list of versions.
SELECT 1;
