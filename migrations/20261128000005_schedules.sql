-- Recurring jobs: every process that runs workers also runs the scheduler; the first to
-- record a (schedule, slot) pair enqueues its job, so each slot runs once cluster-wide.
create table schedule_runs (
    name       text not null,
    slot       timestamptz not null,
    job_id     bigint references jobs (id),
    created_at timestamptz not null default now(),
    primary key (name, slot)
);
