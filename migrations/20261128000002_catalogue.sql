-- Catalogue: fonds (全宗), categories (門類) with custom fields and folder checklists,
-- retention policies (保管期限), parties (員工, 客戶) with their events, fully described
-- records with archival codes (檔號) and retention due dates.

create table fonds (
    id          uuid primary key,
    code        text not null,
    name        text not null,
    is_default  boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint fonds_code_key unique (code)
);
-- at most one default fonds
create unique index fonds_one_default_idx on fonds (is_default) where is_default;

create table retention_policies (
    id          uuid primary key,
    code        text not null,
    name        text not null,
    -- null: permanent (永久)
    years       integer,
    -- 'formation_year', or the event type whose date starts the clock
    trigger     text not null default 'formation_year',
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint retention_policies_code_key unique (code),
    constraint retention_policies_years_check check (years is null or years > 0)
);

create table categories (
    id                    uuid primary key,
    code                  text not null,
    name_hans             text not null,
    name_hant             text not null,
    name_en               text not null,
    parent_id             uuid references categories (id),
    default_retention_id  uuid references retention_policies (id),
    -- the category whose records make up an employee's or customer's folder
    folder_kind           text,
    -- [{name, label, type, required, values}]
    fields                jsonb not null default '[]',
    -- [{code, name, required}]
    checklist             jsonb not null default '[]',
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    constraint categories_code_key unique (code),
    constraint categories_folder_kind_check check (folder_kind in ('employee', 'customer'))
);
create unique index categories_one_folder_kind_idx on categories (folder_kind) where folder_kind is not null;

alter table departments add column updated_at timestamptz not null default now();

create table parties (
    id             uuid primary key,
    kind           text not null,
    -- 工號 for employees, customer code for customers
    identifier     text not null,
    name           text not null,
    department_id  uuid references departments (id),
    status         text not null default 'active',
    -- customers (R5)
    industry       text,
    nature         text,
    region         text,
    customer_type  text,
    grade          text,
    credit_limit   numeric(18, 2),
    contacts       jsonb not null default '[]',
    created_by     uuid references users (id),
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now(),
    constraint parties_kind_check check (kind in ('employee', 'customer')),
    constraint parties_status_check check (status in ('active', 'departed', 'inactive')),
    constraint parties_kind_identifier_key unique (kind, identifier)
);
create index parties_department_id_idx on parties (department_id);

-- Dated events of a party (employment_ended, regularised, …) or of a record (asset_disposed):
-- event-based retention policies count from them.
create table events (
    id          uuid primary key,
    party_id    uuid references parties (id),
    record_id   uuid references records (id),
    type        text not null,
    date        date not null,
    note        text,
    created_by  uuid references users (id),
    created_at  timestamptz not null default now(),
    constraint events_subject_check check ((party_id is null) <> (record_id is null))
);
create index events_party_idx on events (party_id, type, date);
create index events_record_idx on events (record_id, type, date);

alter table records
    add column fonds_id              uuid references fonds (id),
    add column category_id           uuid references categories (id),
    add column retention_policy_id   uuid references retention_policies (id),
    add column department_id         uuid references departments (id),
    add column party_id              uuid references parties (id),
    add column year                  integer,
    add column doc_number            text,
    add column responsible           text,
    add column pages                 integer,
    add column security_level        text not null default 'internal',
    add column open_status           text not null default 'controlled',
    add column carrier               text not null default 'electronic',
    -- {room, row, cabinet, shelf, box}
    add column location              jsonb,
    add column translated_title      text,
    -- the folder checklist item this record fulfils, e.g. id_card
    add column doc_type              text,
    add column custom                jsonb not null default '{}',
    add column archival_code         text,
    add column item_number           integer,
    add column retention_due_on      date,
    add column retention_reason      text,
    -- set by appraisal: the due date is never recomputed below it
    add column retention_min_due_on  date,
    add constraint records_archival_code_key unique (archival_code),
    add constraint records_pages_check check (pages is null or pages >= 0),
    add constraint records_security_level_check
        check (security_level in ('public', 'internal', 'secret', 'confidential')),
    add constraint records_open_status_check check (open_status in ('open', 'controlled')),
    add constraint records_carrier_check
        check (carrier in ('electronic', 'paper', 'photo', 'object', 'media'));

update records set year = extract(year from doc_date)::integer;
alter table records alter column year set not null;
-- the free-text category of the foundation gives way to the classification
alter table records drop column category;

create index records_category_year_idx on records (category_id, year);
create index records_party_idx on records (party_id, doc_date);
create index records_department_idx on records (department_id);
create index records_retention_due_idx on records (retention_due_on) where status = 'active';

-- The last item number given in each archival class (fonds, category, year, retention,
-- department). Taken with a row lock inside the filing transaction: numbers are continuous,
-- never collide, and are never given twice, even after destruction.
create table archival_sequences (
    fonds_id             uuid not null references fonds (id),
    category_id          uuid not null references categories (id),
    year                 integer not null,
    retention_policy_id  uuid not null references retention_policies (id),
    department_id        uuid not null references departments (id),
    last_item            integer not null,
    primary key (fonds_id, category_id, year, retention_policy_id, department_id)
);

-- Rows of import manifests already filed, so a re-run skips them.
create table import_rows (
    row_key     text primary key,
    record_id   uuid not null references records (id),
    created_at  timestamptz not null default now()
);
