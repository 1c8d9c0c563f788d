-- Programs work conversations too (issue 10's JSON API): a timeline event names the API key that
-- made it, as a message does. New rows only, so the constraint needs no scan of the old ones.
alter table conversation_events add column api_key_id bigint;
alter table conversation_events add constraint conversation_events_api_key
    foreign key (tenant_id, api_key_id) references api_keys (tenant_id, id) not valid;
