-- Change events (issue 7): every change an agent's screen must show is announced with NOTIFY on
-- `inbox_changes`, from the statement that makes it, so a listener never sees an event before its
-- data. Small payloads, no message bodies: {"tenant", "conversation", "message", "kinds"}.
-- `domain::events` documents the kinds and parses the payload.
create function announce(tenant_id bigint, conversation_id bigint, message_id bigint, kinds text[])
returns void
language sql volatile
return pg_notify(
    'inbox_changes',
    json_build_object('tenant', tenant_id, 'conversation', conversation_id, 'message', message_id,
                      'kinds', kinds)::text
);
