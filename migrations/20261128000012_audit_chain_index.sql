-- The audit chain trigger reads a record's latest event (`where record_id = $1 order by id
-- desc limit 1`). With an index on record_id alone, once the table's statistics know it is
-- large the planner walks the primary key backwards looking for the record, which made each
-- audited destruction cost a scan of the trail; (record_id, id) answers it with one probe.
create index audit_events_record_chain_idx on audit_events (record_id, id);
drop index audit_events_record_id_idx;
