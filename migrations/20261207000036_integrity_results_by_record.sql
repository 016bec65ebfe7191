-- The results of a check, one row per record with its tests in one array. A filing check
-- stored about fifteen rows, one per test, each with its two foreign-key checks and two
-- index entries: 208 blocks a filing, the largest single share (30 %) of the blocks
-- PostgreSQL touched in a bulk import (pg_stat_statements over 5 000 filings).
create table integrity_record_results (
    check_id  uuid not null references integrity_checks (id),
    record_id uuid not null references records (id),
    -- [{"property", "test", "passed", "reason"}], in the order the check ran them
    tests     jsonb not null,
    primary key (check_id, record_id),
    constraint integrity_record_results_tests_check check (jsonb_typeof(tests) = 'array')
);

insert into integrity_record_results (check_id, record_id, tests)
select check_id, record_id,
       jsonb_agg(jsonb_build_object('property', property, 'test', test, 'passed', passed,
                                    'reason', reason)
                 order by test)
from integrity_results
group by check_id, record_id;

drop table integrity_results;
