-- Only the first pending delivery of each key (a conversation, a customer's payloads on a number)
-- can go, so the later ones are queued waiting (`next_attempt_at = 'infinity'`) and the deliverer
-- makes a key's next one due when the one before it is delivered or given up. A claim then reads
-- only deliveries that can go: during a long outage an endpoint's tens of thousands of later
-- deliveries are never walked, so they cost the other endpoints nothing.
--
-- Why the lock: a delivery is queued waiting only while it holds a share lock on a pending one of
-- its key (until its transaction commits). The deliverer's update of that one out of `pending`
-- waits for the lock, so its next statement, which makes the key's next delivery due, sees the
-- waiting one. A pending delivery that is locked (being claimed or recorded) is skipped rather
-- than waited for; with none left, the new delivery is queued due, as before, and the claim's
-- check of the key's first pending delivery keeps the order. A first pending delivery queued by
-- the same transaction needs no lock: nobody else sees it before the transaction commits (and
-- locking one's own new rows again and again costs ~0.2 ms each).
--
-- Without sequential scans: PL/pgSQL keeps a plan made while the table was nearly empty, and a seq
-- scan there made one statement queueing 30,000 events quadratic (60 s instead of 2 s).
create function webhook_delivery_waits() returns trigger
language plpgsql
set enable_seqscan = off
as $$
declare
    v_first_is_ours boolean;
begin
    if new.state <> 'pending' then
        return new;
    end if;
    select p.xmin = xid(pg_current_xact_id()) into v_first_is_ours
    from webhook_deliveries p
    where p.endpoint_id = new.endpoint_id and p.order_key = new.order_key
      and p.state = 'pending'
    order by p.id
    limit 1;
    if v_first_is_ours then
        new.next_attempt_at := 'infinity';
    elsif v_first_is_ours is not null then
        perform 1 from webhook_deliveries p
        where p.endpoint_id = new.endpoint_id and p.order_key = new.order_key
          and p.state = 'pending'
        order by p.id
        limit 1
        for share skip locked;
        if found then
            new.next_attempt_at := 'infinity';
        end if;
    end if;
    return new;
end
$$;

create trigger webhook_deliveries_wait_their_turn
before insert on webhook_deliveries
for each row execute function webhook_delivery_waits();

-- What is queued already: every pending delivery after its key's first waits.
update webhook_deliveries d set next_attempt_at = 'infinity'
where d.state = 'pending'
  and exists (select 1 from webhook_deliveries p
              where p.endpoint_id = d.endpoint_id and p.order_key = d.order_key
                and p.state = 'pending' and p.id < d.id);
