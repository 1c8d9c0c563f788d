-- Messages are inserted in id order, so a block range index on id is tiny and tells which pages
-- hold a span of ids. Search combines it with the trigram index (`messages_search`) to read only
-- the matches within a span of recent messages (see `inbox::list::search`), instead of building
-- a bitmap of every id in the span from the primary key.
create index messages_id_range on messages using brin (id);

-- A customer's number, as agents type it: from its start (with the country code) or its end
-- (without), for the search's contacts.
create index contacts_by_number on contacts (tenant_id, wa_id text_pattern_ops);
create index contacts_by_number_end on contacts (tenant_id, reverse(wa_id) text_pattern_ops);
