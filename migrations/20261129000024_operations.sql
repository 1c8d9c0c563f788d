-- The operations page (issue 9, §5): a tenant's recent failed and unconfirmed sends, by time,
-- without reading its whole history.
create index messages_failures on messages (tenant_id, created_at)
    where status in ('failed', 'unknown');
