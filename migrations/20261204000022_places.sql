-- The paper side (issue 17): places form a tree in their room (a box stands on a shelf, a
-- shelf in a cabinet: 排架, 盒), a box has a width on its shelf (for the holdings' shelf
-- metres, 基礎臺帳), and every movement of a physical item is registered (進出庫).
alter table room_locations add column parent_id uuid references room_locations (id);
alter table room_locations add column width_mm integer;
alter table room_locations add constraint room_locations_width_check
    check (width_mm is null or width_mm between 1 and 5000);

create table record_movements (
    id             uuid primary key,
    record_id      uuid not null references records (id),
    at             timestamptz not null default now(),
    actor_id       uuid references users (id),
    from_location  jsonb,
    to_location    jsonb,
    reason         text not null,
    constraint record_movements_reason_check check (length(btrim(reason)) > 0)
);
create index record_movements_record_idx on record_movements (record_id, at);
