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

insert into deadline_rules (code, party_kind, trigger, delay, repeat_every, kind, subject,
                            recipient_role, stop_when) values
    ('customer_sign_off', 'customer', 'folder_created', '7 days', null, 'deadline',
     '客戶檔案待審核簽字 customer folder awaiting sign-off', 'general_manager', 'signed_off'),
    ('customer_purchase_follow_up_3', 'customer', 'purchase', '3 days', null, 'follow_up',
     '購買後回訪 follow-up visit 3 days after a purchase', 'archivist', null),
    ('customer_purchase_follow_up_30', 'customer', 'purchase', '30 days', null, 'follow_up',
     '購買後回訪 follow-up visit 30 days after a purchase', 'archivist', null),
    ('customer_purchase_follow_up_60', 'customer', 'purchase', '60 days', null, 'follow_up',
     '購買後回訪 follow-up visit 60 days after a purchase', 'archivist', null),
    ('customer_visit_follow_up_3', 'customer', 'visit', '3 days', null, 'follow_up',
     '未購買回訪 follow-up 3 days after a visit without a purchase', 'archivist', null),
    ('customer_visit_follow_up_15', 'customer', 'visit', '15 days', null, 'follow_up',
     '未購買回訪 follow-up 15 days after a visit without a purchase', 'archivist', null),
    ('customer_satisfaction_survey', 'customer', 'folder_created', '1 year', '1 year', 'review',
     '客戶滿意度調查 yearly satisfaction survey', 'archivist', null),
    ('customer_file_assessment', 'customer', 'folder_created', '1 year', '1 year', 'review',
     '客戶檔案年度評估 yearly customer-file assessment', 'archivist', null)
on conflict (code) do nothing;
