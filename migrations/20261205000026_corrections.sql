-- Corrections (issue 19, item 1).
--
-- A file of a filed record can be replaced (a bad scan): the earlier file stays, with its
-- content, hash and text, marked with the file that replaced it, when and why. Only the
-- current files are indexed and listed as the record's files; the replacement takes the
-- earlier file's position.
-- deferred: the replacement is inserted after the earlier file gives up its position
alter table record_files add column replaced_by uuid references record_files (id)
    deferrable initially deferred;
alter table record_files add column replaced_at timestamptz;
alter table record_files add column replace_reason text;
alter table record_files add constraint record_files_replaced_check
    check ((replaced_by is null) = (replaced_at is null)
           and (replaced_by is null) = (replace_reason is null));
alter table record_files drop constraint record_files_position_key;
create unique index record_files_position_key on record_files (record_id, position)
    where replaced_by is null;

-- A record filed by mistake is withdrawn (作廢): an archivist proposes it with a reason, a
-- director or general manager other than the proposer approves. The record stays as a
-- tombstone with its archival code, so its item number is never given again.
alter table records drop constraint records_status_check;
alter table records add constraint records_status_check
    check (status in ('active', 'destroyed', 'withdrawn'));

create table withdrawals (
    id           uuid primary key,
    record_id    uuid not null references records (id),
    reason       text not null check (length(reason) > 0),
    status       text not null default 'proposed',
    proposed_by  uuid not null references users (id),
    proposed_at  timestamptz not null default now(),
    decided_by   uuid references users (id),
    decided_at   timestamptz,
    note         text,
    constraint withdrawals_status_check check (status in ('proposed', 'approved', 'rejected')),
    constraint withdrawals_decided_check check ((status = 'proposed') = (decided_by is null))
);
-- one open proposal per record
create unique index withdrawals_open_key on withdrawals (record_id) where status = 'proposed';
create index withdrawals_status_idx on withdrawals (status, proposed_at);
