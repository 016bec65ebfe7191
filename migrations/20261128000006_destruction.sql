-- Destruction batches (銷毀): records appraised "destroy", approved by two distinct approvers
-- other than the creator, then destroyed item by item by the `destroy_batch` job.

create table destruction_batches (
    id           uuid primary key,
    as_of        date not null,
    status       text not null default 'awaiting_approval',
    supervisors  text[] not null,
    created_by   uuid not null references users (id),
    created_at   timestamptz not null default now(),
    approved_at  timestamptz,
    finished_at  timestamptz,
    constraint destruction_batches_status_check
        check (status in ('awaiting_approval', 'approved', 'running', 'done')),
    constraint destruction_batches_supervisors_check check (cardinality(supervisors) > 0)
);

create table batch_approvals (
    batch_id  uuid not null references destruction_batches (id),
    user_id   uuid not null references users (id),
    at        timestamptz not null default now(),
    constraint batch_approvals_unique unique (batch_id, user_id)
);

-- One row per record of a batch; `position` is the order the job works in; an item is
-- skipped_reappraised when a later appraisal kept its record. A record is in
-- at most one open batch: `open` is cleared when the batch is done.
create table batch_items (
    batch_id   uuid not null references destruction_batches (id),
    position   integer not null,
    record_id  uuid not null references records (id),
    open       boolean not null default true,
    outcome    text not null default 'pending',
    detail     text,
    tombstone  jsonb,
    done_at    timestamptz,
    primary key (batch_id, position),
    constraint batch_items_record_unique unique (batch_id, record_id),
    constraint batch_items_outcome_check
        check (outcome in ('pending', 'destroyed', 'skipped_hold', 'skipped_gone', 'skipped_reappraised'))
);
create unique index batch_items_open_record_idx on batch_items (record_id) where open;
create index batch_items_record_idx on batch_items (record_id);
