-- Customer files as the plans run them (issue 19, item 4; R5, R22).
--
-- A new folder is reviewed and signed off (審核) by the role its category's access rule
-- names (`sign_off`); until then a reminder asks for it a week after the folder was made.
alter table parties add column signed_off_by uuid references users (id);
alter table parties add column signed_off_at timestamptz;
alter table parties add column sign_off_note text;
alter table parties add constraint parties_signed_off_check
    check ((signed_off_by is null) = (signed_off_at is null));

-- Follow-up visits (回訪) and other events carry what came of them and what comes next.
alter table events add column outcome text;
alter table events add column next_step text;

-- A rule stops when its folder is signed off; a rule may also count from the latest filing
-- into the party's folder (trigger `record_filed`).
alter table deadline_rules add column stop_when text;
alter table deadline_rules add constraint deadline_rules_stop_when_check
    check (stop_when in ('signed_off'));

-- The rules of the customer plans (sign-off, follow-ups after purchases and visits, yearly
-- survey and assessment) come with the preset (config/presets/enterprise.toml).
