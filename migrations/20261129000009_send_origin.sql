-- Who had each message sent (issue 7): an agent (`sent_by`, their user id), a program with an API
-- key (`api_key_id`: the keys' table comes with the public API, so no foreign key yet), or the
-- operator's command line. Messages that did not go through the send path (the customer's, echoes
-- of ones sent from elsewhere) have no kind and no idempotency key.
alter table messages
    add column sent_by_kind text check (sent_by_kind in ('agent', 'api_key', 'operator')),
    add column api_key_id   bigint;

-- Until now the send path served agents (with `sent_by`) and the operator's `switchboard send`.
update messages set sent_by_kind = case when sent_by is not null then 'agent' else 'operator' end
where idempotency_key is not null;

alter table messages add constraint messages_sent_by_origin check (
    case sent_by_kind
        when 'agent' then sent_by is not null and api_key_id is null
        when 'api_key' then sent_by is null and api_key_id is not null
        when 'operator' then sent_by is null and api_key_id is null
        else sent_by is null and api_key_id is null and idempotency_key is null
    end
);
