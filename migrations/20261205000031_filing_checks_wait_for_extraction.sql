-- A filing check (four properties, GD) waits for its record's text extraction. It used to
-- look again every 15 s, so a bulk import with a long extraction backlog polled every
-- waiting check over and over. Now the extraction that leaves a record with no pending text
-- wakes its check: filing-check jobs carry the record in their payload, found through this
-- index while they wait.
create index jobs_waiting_filing_check_idx on jobs ((payload ->> 'record_id'))
    where kind = 'four_properties' and status = 'queued';
