-- Lending as the plans run it (issue 19, item 5).
--
-- Outside borrowers (外單位利用者: public security, a talent centre) have no login: the
-- records office registers them with their organisation, identity document and letter of
-- introduction (介紹信), whose scan may be filed as a record.
create table outside_borrowers (
    id               uuid primary key,
    name             text not null check (length(name) > 0),
    organisation     text not null check (length(organisation) > 0),
    id_document      text not null check (length(id_document) > 0),
    letter           text not null check (length(letter) > 0),
    letter_record_id uuid references records (id),
    note             text,
    created_by       uuid not null references users (id),
    created_at       timestamptz not null default now()
);
create index outside_borrowers_name_idx on outside_borrowers (organisation, name);

-- A loan is for a user or for an outside borrower.
alter table loans alter column borrower_id drop not null;
alter table loans add column outside_borrower_id uuid references outside_borrowers (id);
alter table loans add constraint loans_borrower_check
    check ((borrower_id is null) <> (outside_borrower_id is null));
create index loans_outside_idx on loans (outside_borrower_id) where outside_borrower_id is not null;

-- Reading-room loans (閱覽室查閱): no copy, no download, back the same day. Loans in hours
-- (taken out for a visit): due at a time of the day they were approved. Both run 0 days.
alter table loans add column reading_room boolean not null default false;
alter table loans add column hours integer;
alter table loans add column due_at timestamptz;
alter table loans drop constraint loans_days_check;
alter table loans add constraint loans_days_check check (
    (hours is null and days between (case when reading_room then 0 else 1 end) and 365)
    or (hours between 1 and 12 and days = 0));
alter table loans add constraint loans_reading_room_check
    check (not reading_room or (days = 0 and not copy_allowed));
alter table loans add constraint loans_due_at_check check (due_at is null or hours is not null);
