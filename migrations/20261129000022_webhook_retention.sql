-- Retention (issue 9, §5): raw webhook events are deleted some time after they were applied (or
-- dismissed by an admin), so a long-running install does not grow without bound. Failed and
-- unroutable events stay until an admin replays or dismisses them.
alter table webhook_events
    drop constraint webhook_events_state_check,
    add constraint webhook_events_state_check
        check (state in ('pending', 'applied', 'unroutable', 'failed', 'dismissed'));
