-- Sending: the outbound queue on `messages`, per-number pacing, per-recipient back-off, opt-out
-- keywords, sandbox numbers, and the window as Meta last reported it.

alter table tenants
    add column opt_out_keywords text[] not null default '{STOP,UNSUBSCRIBE}',
    add column opt_in_keywords  text[] not null default '{START}';

alter table contacts
    add column opted_out_at timestamptz,
    -- Meta's timestamp of the STOP/START that last changed `opted_out_at`, so that a late one loses.
    add column opt_changed_at timestamptz,
    -- Template language to offer first (e.g. `es`, `pt_BR`); unknown until someone sets it.
    add column language text;

-- POSITIONAL (`{{1}}`) or NAMED (`{{first_name}}`) parameters.
alter table message_templates
    add column parameter_format text not null default 'POSITIONAL';

-- Sandbox numbers talk to Switchboard's own fake Graph API, never to Meta.
alter table phone_numbers
    add column sandbox boolean not null default false,
    add column max_messages_per_second integer not null default 80
        check (max_messages_per_second > 0);

alter table conversations
    -- Meta answered 131047 although our clock said the window was open: closed from then until the
    -- customer writes again.
    add column window_closed_by_meta_at timestamptz,
    -- Back-off for this recipient after Meta's pair rate limit (131056).
    add column send_paused_until timestamptz;

-- The outbound queue: an outbound message is a row first (`queued`), then `sending`, then `sent`
-- (or `failed`, or `unknown` when a crash left it unclear whether Meta received it).
alter table messages
    add column idempotency_key      text,
    add column sent_by              bigint references users (id),
    add column template_id          bigint references message_templates (id),
    add column attempts             integer not null default 0,
    add column next_attempt_at      timestamptz,
    add column sending_started_at   timestamptz,
    add column sent_at              timestamptz;
create unique index messages_idempotency_key on messages (tenant_id, idempotency_key)
    where idempotency_key is not null;
create index messages_queued on messages (next_attempt_at, id) where status = 'queued';
create index messages_in_flight on messages (conversation_id, id) where status in ('queued', 'sending');
create index messages_sending on messages (sending_started_at) where status = 'sending';

create or replace function message_status_rank(status text) returns integer
language sql immutable parallel safe
return case status
    when 'queued' then 0
    when 'sending' then 1
    when 'unknown' then 1
    when 'sent' then 2
    when 'delivered' then 3
    when 'read' then 4
    when 'played' then 5
    when 'failed' then 6
    else -1
end;

-- The next free send slot of each number: slots are spaced 1/max_messages_per_second apart, so no
-- second ever carries more than the number's limit, whichever instance sends.
create table send_pacing (
    phone_number_id bigint primary key references phone_numbers (id),
    next_slot_at    timestamptz not null
);

-- The sandbox's Meta side: media uploaded to the fake Graph API, and failures queued by an admin or
-- a test ("make the next send fail with 131026").
create table sandbox_media (
    id              bigserial primary key,
    phone_number_id bigint not null references phone_numbers (id),
    mime_type       text not null,
    filename        text,
    bytes           bytea not null,
    created_at      timestamptz not null default now()
);

create table sandbox_faults (
    id              bigserial primary key,
    phone_number_id bigint not null references phone_numbers (id),
    code            integer not null,
    created_at      timestamptz not null default now()
);
create index sandbox_faults_number on sandbox_faults (phone_number_id, id);
