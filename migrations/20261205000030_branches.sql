-- R22: a branch (分支機構) reports the catalogue of what it filed to the parent company within
-- one month of filing. A department flagged as a branch gets one reminder per month in which
-- it filed, due a month after its first filing that month, with the catalogue export linked.
alter table departments add column branch boolean not null default false;
