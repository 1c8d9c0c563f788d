-- Events that carry customer messages are applied before those with only delivery statuses, so a
-- customer's reply (the one that opens the window) is never stuck behind a campaign's ticks.
-- 0: carries messages; 1: the rest. Application is order-independent, so any order is correct.
alter table webhook_events add column priority smallint not null default 1;
drop index webhook_events_pending;
create index webhook_events_pending on webhook_events (priority, id) where state = 'pending';
