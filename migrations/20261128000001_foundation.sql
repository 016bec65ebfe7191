-- Foundation: departments, users and login tokens, content-addressed blobs, records with
-- their files, and the audit trail.

create table departments (
    id          uuid primary key,
    code        text not null,
    name        text not null,
    created_at  timestamptz not null default now(),
    constraint departments_code_key unique (code)
);

create table users (
    id             uuid primary key,
    username       text not null,
    password_hash  text not null,
    role           text not null,
    department_id  uuid references departments (id),
    active         boolean not null default true,
    created_at     timestamptz not null default now(),
    constraint users_username_key unique (username),
    constraint users_role_check check (role in
        ('admin', 'archivist', 'director', 'general_manager', 'dept_manager', 'staff', 'auditor'))
);

-- A login token is kept only as its SHA-256; the token itself is shown once, at login.
create table auth_tokens (
    token_hash  bytea primary key,
    user_id     uuid not null references users (id) on delete cascade,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null
);
create index auth_tokens_expires_at_idx on auth_tokens (expires_at);

-- One row per distinct content; refcount = number of record files that point at it.
create table blobs (
    sha256      bytea primary key,
    size        bigint not null,
    refcount    integer not null,
    created_at  timestamptz not null default now(),
    constraint blobs_sha256_length check (length(sha256) = 32),
    constraint blobs_size_check check (size >= 0),
    constraint blobs_refcount_check check (refcount >= 0)
);

create table records (
    id           uuid primary key,
    title        text not null,
    doc_date     date not null,
    category     text,
    description  text,
    status       text not null default 'active',
    created_by   uuid references users (id),
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    constraint records_title_check check (length(title) > 0),
    constraint records_status_check check (status in ('active', 'destroyed'))
);

create table record_files (
    id          uuid primary key,
    record_id   uuid not null references records (id),
    position    integer not null,
    sha256      bytea not null references blobs (sha256),
    size        bigint not null,
    media_type  text not null,
    filename    text not null,
    created_at  timestamptz not null default now(),
    constraint record_files_position_key unique (record_id, position)
);
create index record_files_sha256_idx on record_files (sha256);

create table audit_events (
    id          bigint generated always as identity primary key,
    at          timestamptz not null default now(),
    actor_id    uuid references users (id),
    action      text not null,
    record_id   uuid,
    details     jsonb not null default '{}'
);
create index audit_events_record_id_idx on audit_events (record_id);
