-- Stock-takes (庫檢, issue 17): what a room or a place held when the stock-take began, what
-- was seen where, and when it was closed. The report is derived from these rows and kept
-- with them; a finding opens a reminder of kind 'stocktake' to the keepers.
create table stocktakes (
    id           uuid primary key,
    room_id      uuid not null references rooms (id),
    place_id     uuid references room_locations (id),
    started_at   timestamptz not null default now(),
    started_by   uuid references users (id),
    finished_at  timestamptz,
    finished_by  uuid references users (id)
);
create index stocktakes_room_idx on stocktakes (room_id, started_at);

-- One row per item: expected (in the scope when the stock-take began), seen, or both. An
-- item scanned that names no record the scanner may see is kept by the code scanned.
create table stocktake_items (
    id                 uuid primary key,
    stocktake_id       uuid not null references stocktakes (id),
    record_id          uuid references records (id),
    code               text not null,
    expected           boolean not null,
    expected_place_id  uuid references room_locations (id),
    expected_location  jsonb,
    seen_place_id      uuid references room_locations (id),
    seen_at            timestamptz,
    seen_by            uuid references users (id),
    constraint stocktake_items_seen_check check ((seen_at is null) = (seen_place_id is null)),
    constraint stocktake_items_code_check check (length(btrim(code)) > 0)
);
create unique index stocktake_items_record_idx on stocktake_items (stocktake_id, record_id)
    where record_id is not null;
create unique index stocktake_items_code_idx on stocktake_items (stocktake_id, code)
    where record_id is null;

alter table reminders drop constraint reminders_kind_check;
alter table reminders add constraint reminders_kind_check check (kind in
    ('inspection', 'missed_reading', 'alert', 'retention', 'deadline', 'follow_up', 'review', 'loan',
     'stocktake'));

-- A physical item lent out leaves its place and comes back to it: the movements a loan made.
alter table record_movements add column loan_id uuid references loans (id);
create index record_movements_loan_idx on record_movements (loan_id) where loan_id is not null;
