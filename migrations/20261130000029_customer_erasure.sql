-- Erasing a customer on request (issue 9, §5): the contact keeps its row, so its conversations
-- stay in place and say that the customer was erased, but loses every identifier and name.
alter table contacts add column erased_at timestamptz;
alter table contacts drop constraint contacts_identified;
alter table contacts add constraint contacts_identified
    check (wa_id is not null or user_id is not null or erased_at is not null);

-- The timeline event the erasure leaves in each of the customer's conversations.
alter table conversation_events drop constraint conversation_events_kind_check;
alter table conversation_events add constraint conversation_events_kind_check
    check (kind in ('note', 'assigned', 'unassigned', 'status', 'label_added', 'label_removed',
                    'erased'));
