-- How common the words an agent searches for are, as ANALYZE measures them (issue 8: searches at
-- 1 M conversations). The word indexes list every text holding a word, so a common word costs as
-- many entries as it has matches, growing with the table; reading the newest texts in order finds
-- its page sooner. ANALYZE keeps the most common words of a column with their shares
-- (`pg_stats.most_common_elems`), which `inbox::list::search` reads; a larger sample than the
-- default keeps more of them, down to rarer words.
alter table message_texts alter column words set statistics 1000;
alter table contacts alter column search_words set statistics 1000;
