-- Digital integrity (R21): fixity sweeps over the object store, and the four-properties
-- check (四性檢測, DA/T 70) of records at filing (GD), hand-over (YJ) and storage (CQ).

-- The last verification of each blob against its stored content.
alter table blobs
    add column verified_at     timestamptz,
    add column verify_outcome  text,
    add constraint blobs_verify_outcome_check
        check (verify_outcome in ('ok', 'mismatch', 'missing'));
create index blobs_created_idx on blobs (created_at desc, sha256);

-- A fixity sweep or a four-properties check, with its figures.
create table integrity_checks (
    id            uuid primary key,
    kind          text not null,
    stage         text,
    record_ids    uuid[],
    status        text not null default 'queued',
    requested_by  uuid references users (id),
    created_at    timestamptz not null default now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    checked       bigint not null default 0,
    ok            bigint not null default 0,
    bytes         bigint not null default 0,
    -- [{sha256, size, records: [uuid]}] of blobs whose content differs or is gone
    mismatched    jsonb not null default '[]',
    missing       jsonb not null default '[]',
    -- object keys that no blob row references
    unreferenced  jsonb not null default '[]',
    error         text,
    constraint integrity_checks_kind_check check (kind in ('fixity', 'four_properties')),
    constraint integrity_checks_stage_check check (stage in ('GD', 'YJ', 'CQ')),
    constraint integrity_checks_status_check check (status in ('queued', 'running', 'done', 'failed'))
);
create index integrity_checks_created_idx on integrity_checks (created_at desc);

-- Preservation events: each verification of a blob, kept.
create table preservation_events (
    id        bigint generated always as identity primary key,
    sha256    bytea not null,
    check_id  uuid references integrity_checks (id),
    at        timestamptz not null default now(),
    outcome   text not null,
    detail    text,
    constraint preservation_events_outcome_check check (outcome in ('ok', 'mismatch', 'missing'))
);
create index preservation_events_sha256_idx on preservation_events (sha256, at);

-- One result per record, property and test of a four-properties check.
create table integrity_results (
    check_id   uuid not null references integrity_checks (id),
    record_id  uuid not null references records (id),
    property   text not null,
    test       text not null,
    passed     boolean not null,
    reason     text not null,
    primary key (check_id, record_id, test),
    constraint integrity_results_property_check
        check (property in ('authenticity', 'integrity', 'usability', 'security'))
);
create index integrity_results_record_idx on integrity_results (record_id);

-- The audit trail of each record is a hash chain: every event's hash covers its content and
-- the hash of the record's previous event, so a changed or deleted event shows.
alter table audit_events add column hash bytea;

create function audit_events_chain() returns trigger language plpgsql as $$
declare
    previous bytea;
begin
    if new.record_id is not null then
        -- one chain per record: events of the same record are chained one after the other
        perform pg_advisory_xact_lock(hashtextextended(new.record_id::text, 7));
        select hash into previous from audit_events
            where record_id = new.record_id order by id desc limit 1;
        new.hash := sha256(coalesce(previous, '\x'::bytea)
            || convert_to(new.id::text || '|' || new.action || '|' || new.record_id::text
                          || '|' || coalesce(new.actor_id::text, '') || '|' || new.details::text,
                          'UTF8'));
    end if;
    return new;
end;
$$;
create trigger audit_events_chain before insert on audit_events
    for each row execute function audit_events_chain();

-- Chain the events already recorded.
do $$
declare
    event record;
    previous bytea;
    last_record uuid;
begin
    for event in select * from audit_events where record_id is not null order by record_id, id loop
        if last_record is distinct from event.record_id then
            previous := null;
            last_record := event.record_id;
        end if;
        previous := sha256(coalesce(previous, '\x'::bytea)
            || convert_to(event.id::text || '|' || event.action || '|' || event.record_id::text
                          || '|' || coalesce(event.actor_id::text, '') || '|' || event.details::text,
                          'UTF8'));
        update audit_events set hash = previous where id = event.id;
    end loop;
end;
$$;
