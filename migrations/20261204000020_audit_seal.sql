-- The whole audit trail is one hash chain as well (R13): a sealer appends every event, in
-- the order it seals them, to `chain_hash` = sha256(previous chain_hash || the event), once
-- the transaction that wrote the event has ended; the chain's head is anchored outside
-- PostgreSQL (the object store), so deleting the newest events shows as well.
alter table audit_events
    add column tx          xid8 default pg_current_xact_id(),
    add column seal_seq    bigint,
    add column chain_hash  bytea;
create unique index audit_events_seal_idx on audit_events (seal_seq) where seal_seq is not null;
create index audit_events_unsealed_idx on audit_events (id) where seal_seq is null;
