-- The filing check asks, for every record filed, whether its class's item numbers run on
-- without gaps. It reads the class as a range of codes in byte order (every code of a class
-- starts with the class's prefix), which this index serves; the unique constraint's index
-- sorts by the database's collation, where a prefix is not a range.
create index records_archival_code_bytes on records ((archival_code collate "C"))
    where archival_code is not null;
