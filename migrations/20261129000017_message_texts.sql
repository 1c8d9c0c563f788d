-- Searchable message text moves out of `messages` (issue 7, §6). The trigram index on
-- `messages.body` got a fresh set of a few dozen entries on every status change of a message
-- (queued → sending, the call's start, sent, delivered, read: none of them a HOT update), and
-- that cost the send path its goals. Here each message's text is written once, when the message is
-- stored, and again only when the customer edits or deletes it. Triggers on `messages` keep it,
-- so every writer (sends, webhooks, the sandbox, seeding) is covered without knowing of it.
create table message_texts (
    message_id      bigint primary key references messages (id) on delete cascade,
    tenant_id       bigint not null,
    body            text not null
);

-- What an agent types, as trigrams, within the tenant (see `inbox::list::search`).
create index message_texts_search on message_texts using gin (tenant_id, body gin_trgm_ops);
-- Texts are inserted in message id order, so a block range index on the id tells which pages hold
-- a span of recent messages; search combines it with the trigram index.
create index message_texts_id_range on message_texts using brin (message_id);

-- New messages, a statement's rows at once (a bulk insert makes one call). A message that arrives
-- already deleted has no text to find.
create function message_texts_added() returns trigger
language plpgsql as $$
begin
    insert into message_texts (message_id, tenant_id, body)
    select id, tenant_id, body from added where deleted_at is null;
    return null;
end
$$;
create trigger message_texts_added after insert on messages
    referencing new table as added
    for each statement execute function message_texts_added();

-- An edit replaces the text; a deletion removes it, so a deleted message is never found.
create function message_texts_changed() returns trigger
language plpgsql as $$
begin
    if new.deleted_at is not null then
        delete from message_texts where message_id = new.id;
    else
        insert into message_texts (message_id, tenant_id, body)
        values (new.id, new.tenant_id, new.body)
        on conflict (message_id) do update set body = excluded.body;
    end if;
    return null;
end
$$;
create trigger message_texts_changed after update of body, deleted_at on messages
    for each row
    when (old.body is distinct from new.body or old.deleted_at is distinct from new.deleted_at)
    execute function message_texts_changed();

insert into message_texts (message_id, tenant_id, body)
select id, tenant_id, body from messages where deleted_at is null;

drop index messages_search;
drop index messages_id_range;
