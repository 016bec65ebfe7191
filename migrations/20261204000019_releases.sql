-- Release review (R18, 解密/開放鑒定): an archivist proposes to open records or lower their
-- security level; a director or general manager other than the proposer approves (all
-- items change in one transaction) or rejects.
create table releases (
    id              uuid primary key,
    -- what the records become: open status and/or security level (at least one)
    open_status     text,
    security_level  text,
    reason          text not null,
    status          text not null default 'proposed',
    proposed_by     uuid not null references users (id),
    proposed_at     timestamptz not null default now(),
    decided_by      uuid references users (id),
    decided_at      timestamptz,
    constraint releases_change_check check (open_status is not null or security_level is not null),
    constraint releases_open_status_check check (open_status in ('open', 'controlled')),
    constraint releases_level_check check
        (security_level in ('public', 'internal', 'secret', 'confidential')),
    constraint releases_status_check check (status in ('proposed', 'approved', 'rejected'))
);
create index releases_status_idx on releases (status, proposed_at);

-- Each record of a release with what it was when proposed.
create table release_items (
    release_id      uuid not null references releases (id),
    record_id       uuid not null references records (id),
    level_before    text not null,
    open_before     text not null,
    primary key (release_id, record_id)
);
create index release_items_record_idx on release_items (record_id);
