-- Destruction batches run at a scheduled time; physical items (paper, photos, objects,
-- media: the record's carrier) are confirmed shredded by a named supervisor before the batch
-- is done (R17).
-- Records have a custodian, handed over to a successor before an employee leaves (R14).

alter table destruction_batches
    add column run_at timestamptz,
    drop constraint destruction_batches_status_check,
    add constraint destruction_batches_status_check
        check (status in ('awaiting_approval', 'approved', 'running', 'awaiting_shredding', 'done'));

alter table batch_items
    add column shredded_by     uuid references users (id),
    add column shredded_at     timestamptz,
    add column shred_supervisor text,
    add column shred_remarks   text;

-- The employee (a party) who keeps a record in their care.
alter table records add column custodian_id uuid references parties (id);
create index records_custodian_idx on records (custodian_id) where custodian_id is not null;
