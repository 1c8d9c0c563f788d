-- Queued deliveries wake the deliverers (`outbound_webhooks`), which LISTEN on this channel and
-- otherwise poll: a bot's `message.received` then goes out at once instead of up to a poll later.
-- Only statements that queued something notify: Meta's payloads are offered to `meta` endpoints
-- for every batch of webhooks applied, and most tenants have none.
create function webhook_deliveries_queued() returns trigger
language plpgsql as $$
begin
    if exists (select from queued) then
        perform pg_notify('webhook_deliveries', '');
    end if;
    return null;
end
$$;
create trigger webhook_deliveries_queued after insert on webhook_deliveries
    referencing new table as queued
    for each statement execute function webhook_deliveries_queued();
