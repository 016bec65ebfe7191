-- Work queues (issue 19, item 2): what waits for someone's decision is a reminder to them,
-- raised with the request and closed with the decision: destruction batches awaiting
-- approval (to the director and the general manager), batches awaiting shredding (to each
-- named supervisor), releases and withdrawals awaiting review.
alter table reminders drop constraint reminders_kind_check;
alter table reminders add constraint reminders_kind_check check (kind in
    ('inspection', 'missed_reading', 'alert', 'retention', 'deadline', 'follow_up', 'review', 'loan',
     'stocktake', 'approval', 'shredding'));
