-- The trigram indexes lose their tenant column (issue 8: searches within 50 ms at 1 M
-- conversations). A GIN index scan reads the whole posting list of every key it names, and a
-- tenant's key lists every row of the tenant: at 10 M messages of one tenant, 5,000 pages and
-- 25–30 ms per scan, where the trigrams alone cost 3–4 ms.
-- A search makes up to four scans (contacts, then spans of messages), so each search paid for its
-- tenant's size, whatever it looked for. The tenant is now checked on the rows the trigrams find
-- (`message_texts.tenant_id`, `contacts.tenant_id`), which costs a small tenant other tenants'
-- matches instead; both are bounded by the spans a search reads (see `inbox::list::search`).
set local maintenance_work_mem = '256MB';

drop index message_texts_search;
create index message_texts_search on message_texts using gin (body gin_trgm_ops);

drop index contacts_search;
create index contacts_search on contacts using gin (search_text gin_trgm_ops);

-- Nothing else puts a scalar in a GIN index.
drop extension btree_gin;
