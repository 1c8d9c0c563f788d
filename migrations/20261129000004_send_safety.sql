-- Safer sending: failures that Meta reports by webhook explained in the same words as direct
-- answers, the moment each Graph call starts and the delivery instance that claimed the message (so
-- that what a crash left behind is settled within seconds), and each tenant's default template
-- language.

-- A failed status's first error, explained for agents when it is received (`whatsapp::errors`), so
-- a message shows the same words whether Meta answered the send or reported the failure later.
alter table message_statuses
    add column error_code       integer,
    add column error_title      text,
    add column error_message    text,
    add column error_details    text;
update message_statuses set
    error_code = (errors -> 0 ->> 'code')::integer,
    error_title = errors -> 0 ->> 'title',
    error_message = errors -> 0 ->> 'message',
    error_details = coalesce(errors -> 0 -> 'error_data' ->> 'details', errors -> 0 ->> 'details')
where errors is not null and jsonb_typeof(errors) = 'array' and errors -> 0 ->> 'code' ~ '^[0-9]{1,9}$';

-- Delivery instances (one per `switchboard serve`), alive while their heartbeat is recent.
create table outbox_instances (
    id              bigserial primary key,
    started_at      timestamptz not null default now(),
    heartbeat_at    timestamptz not null default now()
);

alter table messages
    -- The instance holding a `sending` message.
    add column claimed_by       bigint,
    -- Set, durably, right before the Graph call: a `sending` message without it never reached
    -- Meta and can be queued again; with it, Meta may have it.
    add column call_started_at  timestamptz;
-- Messages already `sending` may have been called: treat them as such.
update messages set call_started_at = sending_started_at where status = 'sending';

-- Templates in this language are offered first to customers whose language is unknown.
alter table tenants add column default_language text not null default 'en';
