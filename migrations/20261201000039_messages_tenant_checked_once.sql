-- A message's tenant was checked twice as it was stored: against `tenants`, and with its
-- conversation (`(tenant_id, conversation_id)` references `conversations (tenant_id, id)`, whose
-- tenant references `tenants`). The first check is implied by the second; it cost one look-up and
-- row lock of the tenant for every message stored (~0.45 ms a batch of 48 queued messages,
-- `EXPLAIN ANALYZE`; docs/benchmarks.md, "Integrators").
alter table messages drop constraint messages_tenant_id_fkey;
