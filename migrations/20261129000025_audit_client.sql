-- Every audited action records the address it came from (issue 9, §6): the client's, as the
-- request that made the change saw it (behind a trusted proxy, the address the proxy added); none
-- for the CLI and background work.
alter table audit_log add column ip text;
