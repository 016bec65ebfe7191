-- The archive's own regional variants and synonyms for the relaxed tier of a search (issue
-- 18), beside the groups that ship with dangan: one group of words of one meaning a row.
create table search_variants (
    id        bigserial primary key,
    words     text[] not null check (cardinality(words) between 2 and 20),
    added_by  uuid references users (id),
    added_at  timestamptz not null default now()
);
