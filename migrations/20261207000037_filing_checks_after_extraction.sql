-- The queue serves what makes a filing findable first: a filing check (the four-properties
-- check of one record, due once its texts are in) waits behind the text extractions that
-- are due, whenever either was queued. During a bulk import every check woken meanwhile
-- used to take its turn among the extractions still to run (its sandbox child and its
-- statements took a tenth of the machine), so the last text became searchable that much
-- later; the checks now run once the extractions due have run, as their report is read after
-- the import. A check asked for by hand waits the same way behind a backlog of extractions.
drop index jobs_ready_idx;
create index jobs_ready_idx on jobs ((kind = 'four_properties'), run_at, id)
    where status = 'queued';
