-- The import ledger's progress denominator: the bytes the connector will read, as it
-- reports them (ReadReport.bytes_total). For a zip that is the uncompressed size of the
-- members it reads, the same measure as bytes_read, so bytes_read / bytes_total never
-- passes 1; size_bytes stays the stored file's size.
ALTER TABLE import ADD COLUMN bytes_total bigint;
