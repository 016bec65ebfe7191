-- The job queue, extracted text of files, and the change log the search index follows.

-- Jobs are claimed with FOR UPDATE SKIP LOCKED. A running job names its worker; every worker
-- holds a session advisory lock (class 0x64616e67, its id) for its whole life, so a job whose
-- worker's lock is gone (the process died) can be claimed again at once.
create sequence worker_ids as integer cycle;

create table jobs (
    id           bigint generated always as identity primary key,
    kind         text not null,
    payload      jsonb not null default '{}',
    -- while one job with this key is queued or running, enqueueing another is a no-op
    dedupe_key   text,
    status       text not null default 'queued',
    attempts     integer not null default 0,
    max_attempts integer not null default 5,
    run_at       timestamptz not null default now(),
    locked_by    integer,
    last_error   text,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    finished_at  timestamptz,
    constraint jobs_status_check check (status in ('queued', 'running', 'done', 'failed'))
);
create index jobs_ready_idx on jobs (run_at, id) where status = 'queued';
create index jobs_running_idx on jobs (locked_by) where status = 'running';
create index jobs_kind_idx on jobs (kind, created_at desc);
create unique index jobs_dedupe_idx on jobs (kind, dedupe_key)
    where dedupe_key is not null and status in ('queued', 'running');

-- Text of each file, and how it was obtained (pdftotext, ocr, text, docx, …).
create table file_texts (
    file_id     uuid primary key references record_files (id),
    record_id   uuid not null references records (id),
    status      text not null,
    method      text,
    text        text,
    pages       integer,
    error       text,
    updated_at  timestamptz not null default now(),
    constraint file_texts_status_check check (status in ('pending', 'done', 'failed', 'unsupported'))
);
create index file_texts_record_idx on file_texts (record_id);

-- Every change that the search index must follow, in commit order: readers take rows whose
-- transaction id lies below the oldest running transaction, ordered by (tx, seq).
create table index_changes (
    seq        bigint generated always as identity primary key,
    tx         xid8 not null default pg_current_xact_id(),
    record_id  uuid not null,
    at         timestamptz not null default now()
);
create index index_changes_position_idx on index_changes (tx, seq);

create function log_record_change() returns trigger language plpgsql as $$
begin
    insert into index_changes (record_id) values (new.id);
    return null;
end $$;

create function log_file_text_change() returns trigger language plpgsql as $$
begin
    insert into index_changes (record_id) values (new.record_id);
    return null;
end $$;

create function log_party_change() returns trigger language plpgsql as $$
begin
    insert into index_changes (record_id) select id from records where party_id = new.id;
    return null;
end $$;

create function notify_index() returns trigger language plpgsql as $$
begin
    perform pg_notify('dangan_index', '');
    return null;
end $$;

create trigger records_index_change after insert or update on records
    for each row execute function log_record_change();
create trigger file_texts_index_change after insert or update on file_texts
    for each row execute function log_file_text_change();
create trigger parties_index_change after update of name, identifier on parties
    for each row execute function log_party_change();
create trigger index_changes_notify after insert on index_changes
    for each statement execute function notify_index();
