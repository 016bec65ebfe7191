-- DA/T 22 makes the organisation segment of an archival code optional: a record without a
-- department is numbered in its class without one (Z109-WS·2024-D30-0007). Such classes
-- share one sequence per fonds, category, year and retention.
alter table archival_sequences drop constraint archival_sequences_pkey;
alter table archival_sequences alter column department_id drop not null;
create unique index archival_sequences_class_key on archival_sequences (
    fonds_id, category_id, year, retention_policy_id,
    coalesce(department_id, '00000000-0000-0000-0000-000000000000'::uuid)
);
