-- Enqueueing a job, as one function: a statement that writes what a job is for queues the job
-- in the same round trip (a filed file with its text extraction, a check with its run). A job
-- of the same kind and key that is queued or running already is not added (null is returned);
-- a job due now wakes the workers (NOTIFY on `channel`) when the transaction commits.
create function enqueue_job(job_kind text, job_payload jsonb, job_key text,
                            job_attempts integer, job_run_at timestamptz, channel text)
returns bigint language plpgsql as $$
declare
    added bigint;
    due timestamptz;
begin
    insert into jobs (kind, payload, dedupe_key, max_attempts, run_at)
    values (job_kind, job_payload, job_key, job_attempts, coalesce(job_run_at, now()))
    on conflict (kind, dedupe_key)
        where dedupe_key is not null and status in ('queued', 'running')
    do nothing
    returning id, run_at into added, due;
    if added is not null and due <= now() then
        perform pg_notify(channel, job_kind);
    end if;
    return added;
end
$$;
