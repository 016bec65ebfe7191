-- Pruning of the search change log. Every index generation that follows index_changes
-- registers how far it has read; housekeeping deletes the entries every registered reader
-- has passed, and remembers the highest entry deleted, so that a reader standing below it
-- (a new node, an index restored from an old copy, one away longer than readers are kept)
-- knows to rebuild from the tables instead of replaying the log.
create table index_readers (
    reader   uuid primary key,
    tx       xid8 not null,
    seq      bigint not null,
    seen_at  timestamptz not null default now()
);

create table index_log_pruned (
    only_row boolean primary key default true check (only_row),
    tx       xid8 not null,
    seq      bigint not null
);
