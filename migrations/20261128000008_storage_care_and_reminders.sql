-- Storage care (R19, R20) and the one reminders engine (R22).

-- 庫房: a storage room, with how many temperature/humidity readings a day it expects.
create table rooms (
    id                 uuid primary key,
    code               text not null,
    name               text not null,
    readings_per_day   integer not null default 2,
    created_by         uuid references users (id),
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    constraint rooms_code_key unique (code),
    constraint rooms_code_check check (length(code) > 0),
    constraint rooms_readings_per_day_check check (readings_per_day between 0 and 1440)
);

-- Places inside a room: cabinets (櫃), shelves (架), boxes (盒), each by a code unique in the room.
create table room_locations (
    id          uuid primary key,
    room_id     uuid not null references rooms (id),
    code        text not null,
    kind        text not null,
    label       text,
    created_at  timestamptz not null default now(),
    constraint room_locations_code_key unique (room_id, code),
    constraint room_locations_kind_check check (kind in ('cabinet', 'shelf', 'box', 'other'))
);

-- Climate targets of a room per carrier; daily swings are ± around the day's mean.
create table room_targets (
    room_id             uuid not null references rooms (id),
    carrier             text not null,
    temperature_min_c   numeric(5, 2) not null,
    temperature_max_c   numeric(5, 2) not null,
    humidity_min_pct    numeric(5, 2) not null,
    humidity_max_pct    numeric(5, 2) not null,
    temperature_swing_c numeric(5, 2) not null,
    humidity_swing_pct  numeric(5, 2) not null,
    primary key (room_id, carrier),
    constraint room_targets_temperature_check check (temperature_min_c <= temperature_max_c),
    constraint room_targets_humidity_check check (humidity_min_pct <= humidity_max_pct)
);

create table readings (
    id              uuid primary key,
    room_id         uuid not null references rooms (id),
    at              timestamptz not null,
    -- the local calendar day of `at` (time.timezone), for daily checks and summaries
    day             date not null,
    temperature_c   numeric(5, 2),
    humidity_pct    numeric(5, 2),
    source          text,
    created_by      uuid references users (id),
    created_at      timestamptz not null default now(),
    constraint readings_value_check check (temperature_c is not null or humidity_pct is not null),
    constraint readings_room_at_key unique (room_id, at)
);
create index readings_room_day_idx on readings (room_id, day);

-- 八防/十防: the checklist of a room's inspection plan, each item with its own interval.
create table inspection_items (
    room_id        uuid not null references rooms (id),
    code           text not null,
    name           text not null,
    interval_days  integer not null,
    next_due_on    date not null,
    position       integer not null,
    primary key (room_id, code),
    constraint inspection_items_interval_check check (interval_days > 0)
);

create table inspections (
    id            uuid primary key,
    room_id       uuid not null references rooms (id),
    inspected_on  date not null,
    inspected_by  uuid references users (id),
    remarks       text,
    -- [{item, ok, remarks}]
    results       jsonb not null,
    created_at    timestamptz not null default now()
);
create index inspections_room_idx on inspections (room_id, inspected_on);

-- Everything with a due date, for a role or a user. `key` names the cause, so each cause
-- raises one reminder however often the sweep runs.
create table reminders (
    id               uuid primary key,
    kind             text not null,
    subject          text not null,
    due_on           date not null,
    status           text not null default 'open',
    recipient_role   text,
    recipient_user   uuid references users (id),
    key              text not null,
    record_id        uuid,
    room_id          uuid references rooms (id),
    party_id         uuid references parties (id),
    details          jsonb not null default '{}',
    created_at       timestamptz not null default now(),
    acknowledged_by  uuid references users (id),
    acknowledged_at  timestamptz,
    done_by          uuid references users (id),
    done_at          timestamptz,
    constraint reminders_key_key unique (key),
    constraint reminders_kind_check check (kind in
        ('inspection', 'missed_reading', 'alert', 'retention', 'deadline', 'follow_up', 'review', 'loan')),
    constraint reminders_status_check check (status in ('open', 'acknowledged', 'done')),
    constraint reminders_recipient_check check (recipient_role is not null or recipient_user is not null)
);
create index reminders_due_idx on reminders (due_on) where status <> 'done';
create index reminders_room_idx on reminders (room_id) where room_id is not null;

-- One row per reminder and delivery channel (email, webhook), written before sending, so a
-- reminder goes out at most once per channel.
create table reminder_deliveries (
    reminder_id  uuid not null references reminders (id),
    channel      text not null,
    claimed_at   timestamptz not null default now(),
    sent_at      timestamptz,
    error        text,
    primary key (reminder_id, channel)
);

-- Deadlines the regulations set, as data (R22): `delay` after the trigger, then every
-- `repeat_every` if given. Trigger: an event type of the party, or `folder_created`.
create table deadline_rules (
    code            text primary key,
    party_kind      text not null,
    trigger         text not null,
    delay           interval not null,
    repeat_every    interval,
    kind            text not null,
    subject         text not null,
    recipient_role  text not null default 'archivist',
    active          boolean not null default true,
    constraint deadline_rules_party_kind_check check (party_kind in ('employee', 'customer')),
    constraint deadline_rules_kind_check check (kind in ('deadline', 'follow_up', 'review'))
);

insert into deadline_rules (code, party_kind, trigger, delay, repeat_every, kind, subject) values
    ('personnel_file_in', 'employee', 'regularised', '30 days', null, 'deadline',
     '人事檔案轉入 personnel file to be transferred in'),
    ('personnel_file_out', 'employee', 'employment_ended', '15 days', null, 'deadline',
     '人事檔案轉出 personnel file to be transferred out'),
    ('customer_follow_up_3', 'customer', 'folder_created', '3 days', null, 'follow_up',
     '客戶回訪 customer follow-up (3 days)'),
    ('customer_follow_up_30', 'customer', 'folder_created', '30 days', null, 'follow_up',
     '客戶回訪 customer follow-up (30 days)'),
    ('customer_follow_up_60', 'customer', 'folder_created', '60 days', null, 'follow_up',
     '客戶回訪 customer follow-up (60 days)'),
    ('customer_file_review', 'customer', 'folder_created', '3 months', '3 months', 'review',
     '客戶檔案季度檢查 quarterly customer-file review');

-- Where e-mailed reminders go.
alter table users add column email text;
