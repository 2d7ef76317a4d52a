-- Issued reports: the logical schema of sql/sqlite/022_issued_reports.sql. Every PDF report Inlet
-- hands out, by its verification code, with the SHA-256 of the file and of its content; a signed
-- report names the code of the one it approves. Never changed or deleted (trigger binds db_owner
-- too); each row is also an event.
CREATE TABLE inlet.issued_reports (
    code           varchar(19)    NOT NULL,
    file_sha256    char(64)       NOT NULL,
    content_sha256 char(64)       NOT NULL,
    generated_at   datetime2(3)   NOT NULL,
    generated_by   nvarchar(128)  NOT NULL,
    request        nvarchar(max)  NOT NULL,
    signed_by      nvarchar(128)  NULL,
    signed_at      datetime2(3)   NULL,
    meaning        nvarchar(100)  NULL,
    signs_code     varchar(19)    NULL,
    CONSTRAINT pk_issued_reports PRIMARY KEY CLUSTERED (code),
    CONSTRAINT fk_issued_reports_signs FOREIGN KEY (signs_code) REFERENCES inlet.issued_reports (code),
    CONSTRAINT ck_issued_reports_request CHECK (ISJSON(request) = 1),
    -- Signed means by whom, when, meaning what, and which report: all four or none.
    CONSTRAINT ck_issued_reports_signature CHECK (
        (signed_by IS NULL AND signed_at IS NULL AND meaning IS NULL AND signs_code IS NULL)
        OR (signed_by IS NOT NULL AND signed_at IS NOT NULL AND meaning IS NOT NULL AND signs_code IS NOT NULL))
);
GO

-- `inlet report verify` looks a file up by its hash.
CREATE NONCLUSTERED INDEX ix_issued_reports_file_sha256 ON inlet.issued_reports (file_sha256);
GO

CREATE TRIGGER inlet.tr_issued_reports_append_only ON inlet.issued_reports INSTEAD OF UPDATE, DELETE
AS
BEGIN
    SET NOCOUNT ON;
    THROW 50210, N'inlet.issued_reports keeps reports as issued: they cannot be changed or deleted', 1;
END;
GO
