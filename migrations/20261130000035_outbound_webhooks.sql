-- Outbound webhooks (issue 10, §5): admins register endpoints of their own; Switchboard delivers
-- events to them from a Postgres outbox, at least once, in order per conversation.

create table webhook_endpoints (
    id               bigserial primary key,
    tenant_id        bigint not null references tenants (id),
    url              text not null check (url ~ '^https?://' and length(url) <= 2000),
    -- `meta`: Meta's own webhook payloads, re-signed; `switchboard`: our events.
    format           text not null check (format in ('meta', 'switchboard')),
    -- The `switchboard` events it takes (a `meta` endpoint takes every payload).
    events           text[] not null default '{}',
    -- Signs what it is sent (HMAC-SHA256), encrypted with the server's key.
    secret_encrypted bytea not null,
    created_by       bigint,
    created_at       timestamptz not null default now(),
    -- When deliveries have failed without a success since: an endpoint failing for 24 hours is
    -- disabled.
    failing_since    timestamptz,
    -- After a failure, the endpoint is left alone until then (one failing receiver never takes
    -- the deliverer's time from the others).
    backoff_until    timestamptz,
    disabled_at      timestamptz,
    disabled_reason  text,
    unique (tenant_id, id),
    foreign key (tenant_id, created_by) references users (tenant_id, id)
);
create index webhook_endpoints_live on webhook_endpoints (tenant_id) where disabled_at is null;

-- An event's id, the same for every endpoint it goes to (receivers dedupe by it).
create sequence webhook_event_ids;

-- The outbox: one row per event and endpoint, kept as the delivery log.
create table webhook_deliveries (
    id              bigserial primary key,
    tenant_id       bigint not null,
    endpoint_id     bigint not null,
    event_id        text not null,
    event_type      text not null,
    -- Deliveries with the same key go out one at a time, in id order: a conversation's events
    -- (`c{id}`), or a customer's Meta payloads on a number (`m{phone_number_id}:{wa_id}`).
    order_key       text not null,
    -- Exactly the bytes sent (and signed).
    body            bytea not null,
    state           text not null default 'pending'
                    check (state in ('pending', 'delivered', 'failed')),
    attempts        integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    -- A worker is sending it until then (another process skips it meanwhile).
    leased_until    timestamptz,
    created_at      timestamptz not null default now(),
    last_attempt_at timestamptz,
    -- The receiver's HTTP status, or the failure in words when there was none.
    last_status     integer,
    last_error      text,
    last_latency_ms integer,
    response_snippet text,
    foreign key (tenant_id, endpoint_id) references webhook_endpoints (tenant_id, id)
        on delete cascade
);
create index webhook_deliveries_due on webhook_deliveries (endpoint_id, next_attempt_at, id)
    where state = 'pending';
create index webhook_deliveries_order on webhook_deliveries (endpoint_id, order_key, id)
    where state = 'pending';
create index webhook_deliveries_log on webhook_deliveries (endpoint_id, id desc);

-- The window events are told once per customer message: which one was told.
alter table conversations add column window_closing_told_for timestamptz,
                          add column window_closed_told_for timestamptz;

-- Queues a `switchboard` event of type `event_type` about the conversation for each of the
-- tenant's live endpoints that takes it; `extra` joins the event's `data`.
create function webhook_event(p_tenant bigint, p_conversation bigint, p_message bigint,
                              event_type text, extra jsonb default '{}')
returns void
language plpgsql volatile
as $$
declare
    v_event text;
    v_data jsonb;
begin
    if not exists (select 1 from webhook_endpoints e
                   where e.tenant_id = p_tenant and e.disabled_at is null
                     and e.format = 'switchboard' and event_type = any (e.events)) then
        return;
    end if;
    select jsonb_build_object(
               'conversation', jsonb_build_object(
                   'id', c.id, 'status', c.status, 'assignee_id', c.assignee_id,
                   'phone_number_id', n.phone_number_id,
                   'last_customer_message_at', c.last_customer_message_at),
               'contact', jsonb_build_object(
                   'id', k.id, 'wa_id', k.wa_id, 'user_id', k.user_id, 'name', k.profile_name),
               'message', (select jsonb_build_object(
                               'id', m.id, 'wamid', m.wamid, 'direction', m.direction,
                               'type', m.type, 'status', m.status, 'content', m.content,
                               'at', coalesce(m.meta_timestamp, m.created_at),
                               'sent_by', coalesce(u.name, ak.name || ' (API)'),
                               'error', case when m.error_code is not null
                                             or m.error_title is not null then
                                   jsonb_build_object('code', m.error_code,
                                                      'title', m.error_title,
                                                      'message', m.error_message) end)
                           from messages m
                           left join users u on u.tenant_id = m.tenant_id and u.id = m.sent_by
                           left join api_keys ak on ak.tenant_id = m.tenant_id
                                                and ak.id = m.api_key_id
                           where m.tenant_id = p_tenant and m.id = p_message)
           ) || extra
    into v_data
    from conversations c
    join contacts k on k.tenant_id = c.tenant_id and k.id = c.contact_id
    join phone_numbers n on n.tenant_id = c.tenant_id and n.id = c.phone_number_id
    where c.tenant_id = p_tenant and c.id = p_conversation;
    if v_data is null then
        return;
    end if;
    v_event := 'evt_' || nextval('webhook_event_ids');
    insert into webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, order_key, body)
    select p_tenant, e.id, v_event, event_type, 'c' || p_conversation,
           convert_to(jsonb_build_object('id', v_event, 'type', event_type,
                                         'created_at', now(), 'data', v_data)::text, 'UTF8')
    from webhook_endpoints e
    where e.tenant_id = p_tenant and e.disabled_at is null and e.format = 'switchboard'
      and event_type = any (e.events);
end
$$;

-- Every change the inbox hears can also be an event for the tenant's endpoints: `announce()` now
-- queues those in the same transaction (so an event is delivered if and only if its change
-- commits), then notifies as before.
drop function announce(bigint, bigint, bigint, text[]);
create function announce(p_tenant bigint, p_conversation bigint, p_message bigint, kinds text[])
returns void
language plpgsql volatile
as $$
declare
    v_direction text;
    v_sent_by text;
    v_added boolean := 'message_added' = any (kinds);
begin
    if exists (select 1 from webhook_endpoints e
               where e.tenant_id = p_tenant and e.disabled_at is null
                 and e.format = 'switchboard') then
        if p_message is not null then
            select m.direction, m.sent_by_kind into v_direction, v_sent_by
            from messages m where m.tenant_id = p_tenant and m.id = p_message;
        end if;
        if v_added and v_direction = 'inbound' then
            perform webhook_event(p_tenant, p_conversation, p_message, 'message.received');
        elsif v_added and v_sent_by = 'agent' then
            perform webhook_event(p_tenant, p_conversation, p_message, 'message.sent_by_agent');
        end if;
        if 'message_status' = any (kinds) and v_direction = 'outbound' then
            perform webhook_event(p_tenant, p_conversation, p_message, 'message.status');
        end if;
        if 'assignment' = any (kinds) then
            perform webhook_event(p_tenant, p_conversation, null, 'conversation.assigned');
        end if;
        -- With a customer's message, the status only may have changed (a reopening): that
        -- arrives as `message.received`, which carries the conversation's status.
        if 'conversation_status' = any (kinds) and not v_added then
            perform webhook_event(p_tenant, p_conversation, null, 'conversation.status');
        end if;
        -- Without a message, the window changes only when WhatsApp closed it (131047).
        if 'window' = any (kinds) and not v_added then
            perform webhook_event(p_tenant, p_conversation, null, 'conversation.window_closed',
                                  jsonb_build_object('window', jsonb_build_object(
                                      'closed_at', now(), 'reason', 'refused_by_meta')));
        end if;
    end if;
    perform pg_notify(
        'inbox_changes',
        json_build_object('tenant', p_tenant, 'conversation', p_conversation,
                          'message', p_message, 'kinds', kinds)::text
    );
end
$$;

-- Tells the endpoints that take them of windows about to close (within the hour, the customer
-- unanswered) and of windows that closed with time, once per customer message, at most `batch`
-- of each; returns how many events were made. Run every minute; a window that closed more than an
-- hour before a run is not told late.
create function webhook_window_events(batch integer)
returns integer
language plpgsql volatile
as $$
declare
    r record;
    told integer := 0;
begin
    for r in
        update conversations c set window_closing_told_for = c.last_customer_message_at
        from (select d.id from conversations d
              where d.status = 'open'
                and d.tenant_id in (select e.tenant_id from webhook_endpoints e
                                    where e.disabled_at is null and e.format = 'switchboard'
                                      and 'conversation.window_closing' = any (e.events))
                and d.last_customer_message_at > now() - interval '24 hours'
                and d.last_customer_message_at <= now() - interval '23 hours'
                and (d.last_reply_at is null or d.last_reply_at < d.last_customer_message_at)
                and (d.window_closed_by_meta_at is null
                     or d.window_closed_by_meta_at < d.last_customer_message_at)
                and d.window_closing_told_for is distinct from d.last_customer_message_at
              limit batch
              for update skip locked) due
        where c.id = due.id
        returning c.tenant_id, c.id, c.last_customer_message_at
    loop
        perform webhook_event(r.tenant_id, r.id, null, 'conversation.window_closing',
                              jsonb_build_object('window', jsonb_build_object(
                                  'closes_at', r.last_customer_message_at + interval '24 hours')));
        told := told + 1;
    end loop;
    for r in
        update conversations c set window_closed_told_for = c.last_customer_message_at
        from (select d.id from conversations d
              where d.status = 'open'
                and d.tenant_id in (select e.tenant_id from webhook_endpoints e
                                    where e.disabled_at is null and e.format = 'switchboard'
                                      and 'conversation.window_closed' = any (e.events))
                and d.last_customer_message_at > now() - interval '25 hours'
                and d.last_customer_message_at <= now() - interval '24 hours'
                and (d.window_closed_by_meta_at is null
                     or d.window_closed_by_meta_at < d.last_customer_message_at)
                and d.window_closed_told_for is distinct from d.last_customer_message_at
              limit batch
              for update skip locked) due
        where c.id = due.id
        returning c.tenant_id, c.id, c.last_customer_message_at
    loop
        perform webhook_event(r.tenant_id, r.id, null, 'conversation.window_closed',
                              jsonb_build_object('window', jsonb_build_object(
                                  'closed_at', r.last_customer_message_at + interval '24 hours',
                                  'reason', 'expired')));
        told := told + 1;
    end loop;
    return told;
end
$$;
