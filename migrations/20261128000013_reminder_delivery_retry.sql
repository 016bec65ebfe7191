-- A delivery that certainly did not go out (no recipient had an e-mail address yet, the SMTP
-- server answered 4xx, the webhook could not be reached or said 429/503) is tried again
-- after `retry_at`; one that may have gone out is never sent again.
alter table reminder_deliveries add column retry_at timestamptz;
