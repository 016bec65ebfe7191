-- Lending (借閱, R12): a loan is requested for one record, approved or rejected by an
-- approver, and returned. An approved loan lets its borrower see the record and read its
-- files until the due date; downloads are watermarked unless the loan permits copies.
create table loans (
    id             uuid primary key,
    record_id      uuid not null references records (id),
    borrower_id    uuid not null references users (id),
    purpose        text not null,
    days           integer not null,
    physical       boolean not null default false,
    copy_allowed   boolean not null default false,
    status         text not null default 'requested',
    requested_at   timestamptz not null default now(),
    decided_by     uuid references users (id),
    decided_at     timestamptz,
    due_on         date,
    returned_to    uuid references users (id),
    returned_at    timestamptz,
    constraint loans_days_check check (days between 1 and 365),
    constraint loans_status_check check (status in ('requested', 'approved', 'rejected', 'returned')),
    constraint loans_purpose_check check (length(purpose) > 0),
    constraint loans_due_check check ((status in ('approved', 'returned')) = (due_on is not null))
);
create index loans_borrower_idx on loans (borrower_id, record_id) where status = 'approved';
create index loans_record_idx on loans (record_id);
create index loans_due_idx on loans (due_on) where status = 'approved';
-- One physical item can be out with one borrower at a time.
create unique index loans_physical_out_key on loans (record_id) where physical and status = 'approved';
