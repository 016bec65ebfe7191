-- Failed logins per user name and per client address (`user:<name>`, `addr:<ip>`): past a
-- few, each further attempt waits a growing delay (429 with Retry-After). A success clears
-- the user name's count; an address's count fades after a quiet quarter of an hour.
create table login_failures (
    key             text primary key,
    failures        integer not null,
    last_failed_at  timestamptz not null
);
