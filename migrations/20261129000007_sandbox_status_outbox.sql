-- The sandbox's webhooks to Switchboard (delivery statuses, template reviews), kept until they are
-- posted: written when the fake decides what becomes of a message or a template, posted when due by
-- a dispatcher in any instance. A restart loses none, and several instances share them.
create table sandbox_webhooks (
    id              bigserial primary key,
    -- The number it is about (for a template review, the WABA's number that created the template).
    phone_number_id bigint not null references phone_numbers (id),
    -- The app whose webhook endpoint receives it and whose secret signs it (when it is posted, so a
    -- rotated secret is used).
    meta_app_id     text not null,
    -- Webhooks of one series (a message's statuses, by wamid) are posted one at a time, in id order:
    -- `sent` before `delivered` before `read`, even when one is retried.
    series          text,
    -- The body as posted, timestamped for when it is due.
    body            jsonb not null,
    -- When to post it: first when due, then after each failed attempt. While an attempt is in
    -- flight, when that attempt counts as lost (its instance stopped) and the webhook is due again.
    due_at          timestamptz not null,
    attempts        integer not null default 0,
    state           text not null default 'pending'
                    check (state in ('pending', 'sent', 'given_up')),
    sent_at         timestamptz,
    -- Why the last attempt failed (kept once given up).
    last_error      text,
    created_at      timestamptz not null default now()
);
create index sandbox_webhooks_due on sandbox_webhooks (due_at) where state = 'pending';
create index sandbox_webhooks_series on sandbox_webhooks (series, id) where state = 'pending';
