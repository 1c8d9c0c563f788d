-- A narrow send queue beside `messages` (issue 7). Claiming used to rewrite each wide message row
-- (`queued` → `sending`), moving it out of and into the partial queue indexes, so no claim was a
-- HOT update: about 0.5 ms of database time per message. Now an outbound message waiting to be sent,
-- or being sent, has a row here that holds what the claim walks and writes; `messages` keeps the
-- status users see: `queued` until its Graph call starts, `sending` from the call's start (Meta may
-- have it from then), then `sent`, `failed` or `unknown`. The row goes when the outcome is recorded.
-- Now a row points at a message, so `messages` gets the key composite foreign keys point at.
alter table messages add constraint messages_tenant_id_id_key unique (tenant_id, id);

create table send_queue (
    message_id      bigint primary key,
    tenant_id       bigint not null,
    phone_number_id bigint not null,
    conversation_id bigint not null,
    next_attempt_at timestamptz not null default now(),
    -- Claims so far; also tells one claim from a later one.
    attempts        integer not null default 0 check (attempts >= 0),
    -- Set while a delivery instance holds the message (`claimed_by` may be gone: a crash).
    claimed_at      timestamptz,
    claimed_by      bigint,
    -- Set, durably, right before the Graph call: a claim without it never reached Meta and can be
    -- queued again; with it, Meta may have the message.
    call_started_at timestamptz,
    check (claimed_by is null or claimed_at is not null),
    check (call_started_at is null or claimed_at is not null),
    foreign key (tenant_id, message_id) references messages (tenant_id, id) on delete cascade,
    foreign key (tenant_id, conversation_id) references conversations (tenant_id, id),
    foreign key (tenant_id, phone_number_id) references phone_numbers (tenant_id, id)
);

-- The walk over the numbers with messages waiting, and each number's queue in order.
create index send_queue_due on send_queue (phone_number_id, next_attempt_at, message_id)
    where claimed_at is null;
-- Each conversation's first unsent message (waiting or in flight): one at a time, in order.
create index send_queue_conversation on send_queue (conversation_id, message_id);
-- The sweep over claims whose instance is gone or that are stuck.
create index send_queue_claimed on send_queue (claimed_at) where claimed_at is not null;

-- What was waiting or in flight. A `sending` message whose call never started is `queued` again
-- (its claim is settled by the sweep as before: queued again, as its instance is gone).
insert into send_queue (message_id, tenant_id, phone_number_id, conversation_id, next_attempt_at,
                        attempts, claimed_at, claimed_by, call_started_at)
select id, tenant_id, phone_number_id, conversation_id, coalesce(next_attempt_at, now()), attempts,
       case when status = 'sending' then coalesce(sending_started_at, now()) end,
       case when status = 'sending' then claimed_by end,
       case when status = 'sending' then call_started_at end
from messages where status in ('queued', 'sending');
update messages set status = 'queued' where status = 'sending' and call_started_at is null;

-- The queue's columns and indexes on `messages` have moved here.
drop index messages_queue;
drop index messages_in_flight;
drop index messages_sending;
alter table messages
    drop column next_attempt_at,
    drop column claimed_by,
    drop column call_started_at;
