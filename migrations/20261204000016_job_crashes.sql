-- A job whose worker died under it (killed, out of memory, the machine lost) is an attempt
-- that failed: `crashes` counts those deaths. A job out of attempts, or whose worker died
-- worker.max_crashes times, is never run again: the next worker only records why it gave up.
alter table jobs add column crashes integer not null default 0;
