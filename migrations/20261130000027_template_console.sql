-- Templates in the admin console (issue 9, §2).

-- Syncs from Meta's template list, asked for by an admin or by the schedule, run by whichever
-- instance claims them first (`FOR UPDATE SKIP LOCKED`); the page shows their progress.
create table template_syncs (
    id              bigserial primary key,
    tenant_id       bigint not null references tenants (id),
    -- The admin who asked; null for the schedule.
    requested_by    bigint,
    requested_at    timestamptz not null default now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    -- Progress: templates stored so far.
    templates       integer not null default 0,
    -- Why it stopped short, in words.
    error           text,
    foreign key (tenant_id, requested_by) references users (tenant_id, id)
);
-- One waiting or running sync per tenant: asking again while one runs joins it.
create unique index template_syncs_one_at_a_time on template_syncs (tenant_id)
    where finished_at is null;
create index template_syncs_latest on template_syncs (tenant_id, id desc);
create index template_syncs_waiting on template_syncs (id) where finished_at is null;

-- When a template was submitted through Switchboard, and when Meta first approved it (however we
-- heard: webhook, sync or the sandbox), for its time to approval.
alter table message_templates
    add column submitted_at timestamptz,
    add column approved_at timestamptz;

create function message_templates_approved() returns trigger
language plpgsql as $$
begin
    if new.status = 'APPROVED' and new.approved_at is null then
        new.approved_at := now();
    end if;
    return new;
end
$$;
create trigger message_templates_approved before insert or update of status on message_templates
    for each row execute function message_templates_approved();

-- A template's messages, for its figures (sent, delivered, read, failed, replies).
create index messages_by_template on messages (template_id, created_at)
    where template_id is not null;
