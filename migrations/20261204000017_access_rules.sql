-- R11: who sees a category's records without a loan, and who approves its loans, as data.
-- `{"see": [grant, …], "loan_approver": "director" | "general_manager"}`; null inherits the
-- parent category's rule, and a top-level category without one follows the standard rule
-- (admin, archivist, director, general manager, the record's department manager; loans
-- approved by the director). See domain::permissions.
alter table categories add column access jsonb;
update categories set access =
    '{"see": ["admin", "archivist", "director", "department_manager"], "loan_approver": "director"}'
    where folder_kind = 'employee';
update categories set access =
    '{"see": ["admin", "archivist", "general_manager"], "loan_approver": "general_manager"}'
    where folder_kind = 'customer';

-- A user's own employee folder, which they never see or borrow from.
alter table users add column party_id uuid references parties (id);
create unique index users_party_idx on users (party_id) where party_id is not null;

-- A party's transfer changes which department manager sees its folder: its records are
-- indexed again.
create trigger parties_department_index_change after update of department_id on parties
    for each row when (old.department_id is distinct from new.department_id)
    execute function log_party_change();

-- The department a record belongs to for access: a record in a party's folder belongs to
-- the party's current department, any other to its own.
create function record_access_department(r records) returns uuid
    language sql stable as $$
    select case when r.party_id is null then r.department_id
                else (select p.department_id from parties p where p.id = r.party_id) end
$$;

-- domain::permissions::Visibility::allows in SQL, for lists and counts; `v` is the
-- Visibility serialised as JSON by the db layer. Kept in step with the Rust function: the
-- access matrix test runs both over the same records.
create function record_visible(r records, v jsonb) returns boolean
    language sql stable as $$
    select case
        when (v ->> 'nothing')::boolean then false
        when r.party_id is not null and r.party_id::text = v ->> 'own_party' then false
        when v -> 'loaned' ? r.id::text then true
        when r.open_status = 'open' then true
        when v -> 'categories' ? coalesce(r.category_id::text, 'none') then true
        when jsonb_typeof(v -> 'managed') = 'object'
             and v -> 'managed' -> 'categories' ? coalesce(r.category_id::text, 'none')
             and v -> 'managed' -> 'levels' ? r.security_level
             and record_access_department(r)::text = v -> 'managed' ->> 'department'
            then true
        else false
    end
$$;

-- domain::permissions::Visibility::allows_folder in SQL: a party's folder (its basic data,
-- checklist and the list of its records) is seen by whoever the folder category's rule
-- admits to an internal record of the party's department; never by the party themselves.
create function party_visible(p parties, v jsonb) returns boolean
    language sql stable as $$
    select case
        when (v ->> 'nothing')::boolean then false
        when p.id::text = v ->> 'own_party' then false
        when v -> 'categories' ? coalesce(
            (select c.id::text from categories c where c.folder_kind = p.kind), 'none') then true
        when jsonb_typeof(v -> 'managed') = 'object'
             and v -> 'managed' -> 'categories' ? coalesce(
                 (select c.id::text from categories c where c.folder_kind = p.kind), 'none')
             and v -> 'managed' -> 'levels' ? 'internal'
             and p.department_id::text = v -> 'managed' ->> 'department'
            then true
        else false
    end
$$;
