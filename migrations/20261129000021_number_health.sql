-- A number's health (issue 9, §1): what the console's "Check connection" last found, and every
-- change of quality rating, messaging limit or verified name, as a webhook reported it or a check
-- found it. The newest changes are the console's alerts.
alter table phone_numbers
    add column checked_at timestamptz,
    -- The Graph API's fields for the number and whether the app is subscribed to its WABA's
    -- webhooks, or the failure in words (`{"ok": false, "title": …, "message": …}`).
    add column check_result jsonb;

create table number_history (
    id          bigserial primary key,
    tenant_id   bigint not null,
    number_id   bigint not null,
    at          timestamptz not null default now(),
    source      text not null check (source in ('webhook', 'check')),
    field       text not null check (field in ('quality', 'limit', 'name')),
    value       text not null,
    foreign key (tenant_id, number_id) references phone_numbers (tenant_id, id)
);
create index number_history_by_number on number_history (tenant_id, number_id, id);
create index number_history_by_tenant on number_history (tenant_id, id);
