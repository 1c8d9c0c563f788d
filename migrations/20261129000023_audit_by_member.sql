-- The audit trail narrowed to one member's actions (issue 9, §6), newest first, by index.
create index audit_log_member on audit_log (tenant_id, user_id, id desc);
