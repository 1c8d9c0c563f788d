-- The send queue, per number: workers take each number's oldest due messages, as many as its pace
-- allows in the next moments, so that one number's backlog (a campaign) cannot hold back the
-- messages of other numbers and tenants. The index serves both the walk over the numbers that have
-- queued messages and each number's queue in order.
drop index messages_queued;
create index messages_queue on messages (phone_number_id, next_attempt_at, id) where status = 'queued';
