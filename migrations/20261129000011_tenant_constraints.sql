-- Tenant integrity (issue 7): the database itself refuses a state the code never writes, and a row
-- that points at another tenant's row.
--
-- States. Every state column the code owns is checked; the ones that earlier migrations already
-- check (`messages.direction`, `messages.sent_by_kind`, `conversations.status`, `users.role`,
-- `webhook_events.state`, `message_changes.kind`, `message_reactions.direction`,
-- `sandbox_webhooks.state`) keep their constraints. Columns that hold what Meta sends are left
-- unchecked on purpose, because a webhook must never fail to apply when Meta adds a value:
-- `message_statuses.status` (Meta also sends `deleted`, `warning`, upper-case call statuses…; a
-- status the rank function does not know never reaches `messages.status`),
-- `message_templates.status` (APPROVED, PENDING, PAUSED, IN_APPEAL, … and our `UNKNOWN`) and
-- `message_templates.category`, and the phone number's `quality_rating` and `messaging_tier`.
--
-- Tenants. Each tenant-owned row that points at another tenant-owned row carries both `tenant_id`s
-- in one composite foreign key onto `unique (tenant_id, id)` of the row it points at, so the two
-- rows belong to the same tenant. A nullable pointer (`assignee_id`, `sent_by`, `template_id`) is
-- checked only when it is set (MATCH SIMPLE), which is what a missing assignee means. The
-- single-column foreign keys these supersede are dropped: with a non-null `tenant_id` the composite
-- key implies them, and keeping both would cost every insert two lookups instead of one. The one
-- kept is `audit_log.user_id`: an audit entry's `tenant_id` may be null (system entries), and then
-- the composite key checks nothing. `messages` gets no `unique (tenant_id, id)`: no row points at a
-- message by id, and the hottest table should not carry an index nothing uses. Tables that are not
-- tenant-owned (`webhook_events`, `send_pacing`, `outbox_instances`, `sandbox_*`) are left as
-- they are.

-- The outbound lifecycle (`queued`, `sending`, `unknown`, `sent`, `failed`), the delivery statuses
-- that `message_status_rank` orders (`delivered`, `read`, `played`), and `received` for the
-- customer's messages.
alter table messages add constraint messages_status_check check (status in (
    'queued', 'sending', 'unknown', 'sent', 'delivered', 'read', 'played', 'failed', 'received'
));

-- Meta documents the two formats in upper case but has been seen answering `named`; the code
-- reads any case, and anything but NAMED as positional, so stored values are normalized the same
-- way (and the template sync now stores them so).
update message_templates
set parameter_format = case when upper(parameter_format) = 'NAMED' then 'NAMED' else 'POSITIONAL' end
where parameter_format not in ('POSITIONAL', 'NAMED');
alter table message_templates add constraint message_templates_parameter_format_check
    check (parameter_format in ('POSITIONAL', 'NAMED'));

-- What composite foreign keys point at.
alter table meta_apps add constraint meta_apps_tenant_id_id_key unique (tenant_id, id);
alter table phone_numbers add constraint phone_numbers_tenant_id_id_key unique (tenant_id, id);
alter table contacts add constraint contacts_tenant_id_id_key unique (tenant_id, id);
alter table users add constraint users_tenant_id_id_key unique (tenant_id, id);
alter table conversations add constraint conversations_tenant_id_id_key unique (tenant_id, id);
alter table message_templates add constraint message_templates_tenant_id_id_key unique (tenant_id, id);

-- A number under its tenant's own Meta app (whose secret signs its webhooks).
alter table phone_numbers
    drop constraint phone_numbers_app_id_fkey,
    add constraint phone_numbers_tenant_id_app_id_fkey
        foreign key (tenant_id, app_id) references meta_apps (tenant_id, id);

alter table conversations
    drop constraint conversations_phone_number_id_fkey,
    drop constraint conversations_contact_id_fkey,
    drop constraint conversations_assignee_id_fkey,
    add constraint conversations_tenant_id_phone_number_id_fkey
        foreign key (tenant_id, phone_number_id) references phone_numbers (tenant_id, id),
    add constraint conversations_tenant_id_contact_id_fkey
        foreign key (tenant_id, contact_id) references contacts (tenant_id, id),
    add constraint conversations_tenant_id_assignee_id_fkey
        foreign key (tenant_id, assignee_id) references users (tenant_id, id);

alter table messages
    drop constraint messages_conversation_id_fkey,
    drop constraint messages_phone_number_id_fkey,
    drop constraint messages_sent_by_fkey,
    drop constraint messages_template_id_fkey,
    add constraint messages_tenant_id_conversation_id_fkey
        foreign key (tenant_id, conversation_id) references conversations (tenant_id, id),
    add constraint messages_tenant_id_phone_number_id_fkey
        foreign key (tenant_id, phone_number_id) references phone_numbers (tenant_id, id),
    add constraint messages_tenant_id_sent_by_fkey
        foreign key (tenant_id, sent_by) references users (tenant_id, id),
    add constraint messages_tenant_id_template_id_fkey
        foreign key (tenant_id, template_id) references message_templates (tenant_id, id);

alter table message_statuses
    drop constraint message_statuses_phone_number_id_fkey,
    add constraint message_statuses_tenant_id_phone_number_id_fkey
        foreign key (tenant_id, phone_number_id) references phone_numbers (tenant_id, id);

alter table message_reactions
    drop constraint message_reactions_phone_number_id_fkey,
    add constraint message_reactions_tenant_id_phone_number_id_fkey
        foreign key (tenant_id, phone_number_id) references phone_numbers (tenant_id, id);

alter table message_changes
    drop constraint message_changes_phone_number_id_fkey,
    add constraint message_changes_tenant_id_phone_number_id_fkey
        foreign key (tenant_id, phone_number_id) references phone_numbers (tenant_id, id);

-- `audit_log_user_id_fkey` stays (see above).
alter table audit_log
    add constraint audit_log_tenant_id_user_id_fkey
        foreign key (tenant_id, user_id) references users (tenant_id, id);
