-- How common the words an agent searches for are, as ANALYZE measured them (issue 8: searches at
-- 1 M conversations). The word indexes list every text holding a word, so a common word costs as
-- many entries as it has matches, growing with the table; reading the newest texts in order finds
-- its page sooner. `inbox::list::search` asks this function which way to go. ANALYZE keeps the
-- most common words of a column with their frequencies (`pg_stats.most_common_elems`); a larger
-- sample than the default keeps more of them, down to rarer words.
alter table message_texts alter column words set statistics 1000;
alter table contacts alter column search_words set statistics 1000;

-- The share of `stats_column`'s rows holding every word of `typed` (as `search_query` reads it),
-- assuming words independent, as the planner does; 0 when one of them is not among the most
-- common.
create function search_frequency(stats_table text, stats_column text, typed text)
returns double precision
language sql stable strict parallel safe as $$
    select coalesce(exp(sum(ln(greatest(coalesce(share, 0), 1e-12)))), 0)
    from (
        select (select sum(s.freq)
                from pg_stats p,
                     unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs)
                         as s (elem, freq)
                where p.schemaname = current_schema() and p.tablename = stats_table
                  and p.attname = stats_column and starts_with(s.elem, word)) as share
        from unnest(tsvector_to_array(to_tsvector('simple', typed))) as word
        where char_length(word) >= 3
    ) words
$$;
