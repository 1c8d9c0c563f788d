-- The admin console's apps and numbers (issue 9, §1).

-- An admin pauses a number (nothing is sent from it; its queued messages wait) or removes it (its
-- conversations stay, read-only; its webhooks are no longer routed to it and wait in the event
-- log as unroutable, so adding the number again and replaying them loses nothing).
alter table phone_numbers
    add column paused_at timestamptz,
    add column removed_at timestamptz;

-- When Meta last completed the callback URL's verification handshake for the app.
alter table meta_apps add column handshake_at timestamptz;

-- The newest event of an app (when its last signed webhook arrived), and those an admin should
-- look at: failed, or naming a number or WABA the app does not have.
create index webhook_events_by_app on webhook_events (app_id, id);
create index webhook_events_troubled on webhook_events (app_id, id)
    where state in ('failed', 'unroutable');
