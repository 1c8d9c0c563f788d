-- Search in the inbox: by a contact's name, number or username, and by message text. Agents type
-- part of a name, a number or a word, so both match substrings (ILIKE '%…%'), served by trigram
-- indexes (pg_trgm; three characters at least). btree_gin puts the tenant in the same index, so a
-- search reads only its own tenant's entries. Both extensions are trusted: a database owner may
-- create them.
create extension if not exists pg_trgm;
create extension if not exists btree_gin;

-- What a contact is searched by, in one column: profile name, WhatsApp number (digits) and
-- business-scoped username.
alter table contacts add column search_text text generated always as (
    coalesce(profile_name, '') || ' ' || coalesce(wa_id, '') || ' ' || coalesce(user_id, '')
) stored;
create index contacts_search on contacts using gin (tenant_id, search_text gin_trgm_ops);

-- Message text (the body: text, caption or a type's summary), newest first within the tenant.
create index messages_search on messages using gin (tenant_id, body gin_trgm_ops);

-- A contact's conversations (one per number): for contacts found by a search, and for the other
-- threads a conversation's side panel lists.
create index conversations_by_contact on conversations (tenant_id, contact_id);
