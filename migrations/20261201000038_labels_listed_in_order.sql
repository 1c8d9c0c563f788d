-- The list filtered by a label, read in the label's own order. Before, a page walked the view's
-- index and checked each conversation for the label: with one conversation in 25 carrying it,
-- ~1,300 conversations (and their label look-ups) for a page of 50. Each label of a conversation
-- now carries a copy of what the views filter and sort on (the conversation's status, assignee,
-- number and last activity), so a page is a range of one of the two indexes below: 50 entries,
-- whatever the label's share.
--
-- Triggers keep the copies, whichever code writes: a label takes its conversation's values when it
-- is put on (waiting for a change of the conversation being committed, so it never keeps an older
-- one), and a change of a conversation's status, assignee or last activity is copied to its
-- labels. A conversation's number never changes.
alter table conversation_labels
    add column status text,
    add column assignee_id bigint,
    add column phone_number_id bigint,
    add column last_message_at timestamptz;

update conversation_labels cl
set status = c.status, assignee_id = c.assignee_id, phone_number_id = c.phone_number_id,
    last_message_at = c.last_message_at
from conversations c
where c.tenant_id = cl.tenant_id and c.id = cl.conversation_id;

alter table conversation_labels
    alter column status set not null,
    alter column phone_number_id set not null,
    alter column last_message_at set not null;

-- All, and Mine or Unassigned: the same order as the conversations' own view indexes.
create index conversation_labels_listed
    on conversation_labels (tenant_id, label_id, status, last_message_at desc, conversation_id desc);
create index conversation_labels_listed_by_assignee
    on conversation_labels (tenant_id, label_id, assignee_id, status, last_message_at desc,
                            conversation_id desc);

create function conversation_labels_copy() returns trigger
language plpgsql as $$
begin
    select c.status, c.assignee_id, c.phone_number_id, c.last_message_at
    into new.status, new.assignee_id, new.phone_number_id, new.last_message_at
    from conversations c
    where c.tenant_id = new.tenant_id and c.id = new.conversation_id
    for share;
    return new;
end
$$;

create trigger conversation_labels_copy
    before insert on conversation_labels
    for each row execute function conversation_labels_copy();

create function conversations_copy_to_labels() returns trigger
language plpgsql as $$
begin
    update conversation_labels
    set status = new.status, assignee_id = new.assignee_id, last_message_at = new.last_message_at
    where conversation_id = new.id;
    return null;
end
$$;

create trigger conversations_copy_to_labels
    after update of status, assignee_id, last_message_at on conversations
    for each row
    when (old.status is distinct from new.status
          or old.assignee_id is distinct from new.assignee_id
          or old.last_message_at is distinct from new.last_message_at)
    execute function conversations_copy_to_labels();
