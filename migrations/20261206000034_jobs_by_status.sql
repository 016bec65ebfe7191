-- The jobs listing by status (what is queued, running or failed now): the partial indexes of
-- the queue serve the claim, not a listing newest first, so asking for the queued jobs when
-- none was left read every job of the table backwards (7 000 blocks a call after a
-- 10 000-file import, found with pg_stat_statements).
create index jobs_status_idx on jobs (status, id);
