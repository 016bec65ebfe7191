-- Disposition: appraisals (鑒定) that extend, make permanent or approve the destruction of
-- due records, and legal holds on records or on a whole party's folder.

-- Set by a "permanent" appraisal: recomputation keeps the record permanent for good.
alter table records add column retention_permanent boolean not null default false;

-- Every appraisal decision; the latest per record (decided_at, then id) is the one in force.
create table appraisals (
    id          uuid primary key,
    record_id   uuid not null references records (id),
    decision    text not null,
    -- extend: the years added to the due date
    years       integer,
    reason      text not null,
    decided_by  uuid references users (id),
    decided_at  timestamptz not null default now(),
    constraint appraisals_decision_check check (decision in ('destroy', 'extend', 'permanent')),
    constraint appraisals_years_check
        check ((decision = 'extend') = (years is not null) and (years is null or years > 0)),
    constraint appraisals_reason_check check (length(reason) > 0)
);
create index appraisals_record_idx on appraisals (record_id, decided_at desc, id desc);

-- A legal hold covers the records listed in hold_records, or, when party_id is set, every
-- record of that party's folder at the time of each check (records filed later included).
create table holds (
    id           uuid primary key,
    reason       text not null,
    party_id     uuid references parties (id),
    created_by   uuid references users (id),
    created_at   timestamptz not null default now(),
    released_by  uuid references users (id),
    released_at  timestamptz,
    constraint holds_reason_check check (length(reason) > 0)
);
create index holds_active_party_idx on holds (party_id) where released_at is null;

create table hold_records (
    hold_id    uuid not null references holds (id),
    record_id  uuid not null references records (id),
    primary key (hold_id, record_id)
);
create index hold_records_record_idx on hold_records (record_id);
