-- A full name typed as it is written ("Nadia Sato") finds its contacts by the name's beginning
-- (issue 8: a search at 1 M conversations within 1.25× of its time at 100 k). Looked up by its
-- words, a name of two common words intersects both words' index entries (37,000 and 46,000 at
-- 1 M contacts), which grow with the table; a range of this index reads only the contacts it
-- returns, and the search wants a hundred at most.
create index contacts_by_name on contacts (tenant_id, lower(profile_name) text_pattern_ops);
