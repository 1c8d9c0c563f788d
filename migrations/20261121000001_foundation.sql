-- Switchboard's foundation: tenants and their Meta configuration, the inbox (contacts, conversations,
-- messages), templates, the raw webhook log, users and the audit trail.
-- Secrets (app secrets, verify tokens, access tokens) are stored as AEAD ciphertexts (`bytea`).

create table tenants (
    id          bigserial primary key,
    slug        text not null unique,
    name        text not null,
    created_at  timestamptz not null default now()
);

-- A Meta app belongs to one tenant: its secret signs the webhooks of that tenant's numbers only.
create table meta_apps (
    id                      bigserial primary key,
    tenant_id               bigint not null references tenants (id),
    meta_app_id             text not null unique,
    app_secret_encrypted    bytea not null,
    verify_token_encrypted  bytea not null,
    created_at              timestamptz not null default now(),
    updated_at              timestamptz not null default now()
);
create index meta_apps_tenant_id on meta_apps (tenant_id);

create table phone_numbers (
    id                      bigserial primary key,
    tenant_id               bigint not null references tenants (id),
    app_id                  bigint not null references meta_apps (id),
    phone_number_id         text not null unique,
    waba_id                 text not null,
    display_phone_number    text,
    verified_name           text,
    quality_rating          text,
    messaging_tier          text,
    access_token_encrypted  bytea not null,
    created_at              timestamptz not null default now(),
    updated_at              timestamptz not null default now()
);
create index phone_numbers_tenant_id on phone_numbers (tenant_id);
create index phone_numbers_app_waba on phone_numbers (app_id, waba_id);

-- A customer, per tenant. Meta identifies people by phone (`wa_id`) and, since 2025, by a
-- business-scoped user id that may arrive without any phone number.
create table contacts (
    id              bigserial primary key,
    tenant_id       bigint not null references tenants (id),
    wa_id           text,
    user_id         text,
    profile_name    text,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    constraint contacts_identified check (wa_id is not null or user_id is not null)
);
create unique index contacts_tenant_wa_id on contacts (tenant_id, wa_id) where wa_id is not null;
create unique index contacts_tenant_user_id_only on contacts (tenant_id, user_id) where wa_id is null;
create index contacts_tenant_user_id on contacts (tenant_id, user_id) where user_id is not null;

create table users (
    id              bigserial primary key,
    tenant_id       bigint not null references tenants (id),
    email           text not null,
    password_hash   text not null,
    role            text not null check (role in ('admin', 'agent')),
    created_at      timestamptz not null default now()
);
create unique index users_email on users (lower(email));
create index users_tenant_id on users (tenant_id);

-- One thread per (business number, customer). `last_customer_message_at` is the greatest Meta
-- timestamp of a message the customer sent: the 24-hour service window is measured from it.
create table conversations (
    id                          bigserial primary key,
    tenant_id                   bigint not null references tenants (id),
    phone_number_id             bigint not null references phone_numbers (id),
    contact_id                  bigint not null references contacts (id),
    status                      text not null default 'open' check (status in ('open', 'pending', 'resolved')),
    assignee_id                 bigint references users (id),
    unread_count                integer not null default 0,
    last_customer_message_at    timestamptz,
    last_message_at             timestamptz,
    created_at                  timestamptz not null default now(),
    updated_at                  timestamptz not null default now(),
    unique (phone_number_id, contact_id)
);
create index conversations_inbox on conversations (tenant_id, last_message_at desc, id desc);

-- Orders delivery statuses so that they only move forward (a late `delivered` never undoes `read`).
create function message_status_rank(status text) returns integer
language sql immutable parallel safe
return case status
    when 'queued' then 0
    when 'sending' then 1
    when 'sent' then 2
    when 'delivered' then 3
    when 'read' then 4
    when 'played' then 5
    when 'failed' then 6
    else -1
end;

create table messages (
    id                  bigserial primary key,
    tenant_id           bigint not null references tenants (id),
    conversation_id     bigint not null references conversations (id),
    phone_number_id     bigint not null references phone_numbers (id),
    direction           text not null check (direction in ('inbound', 'outbound')),
    wamid               text,
    type                text not null,
    body                text not null,
    content             jsonb not null,
    meta_timestamp      timestamptz,
    context_wamid       text,
    status              text not null,
    error_code          integer,
    error_title         text,
    error_message       text,
    error_details       text,
    created_at          timestamptz not null default now(),
    unique (phone_number_id, wamid)
);
create index messages_thread on messages (conversation_id, id desc);

-- Every delivery status Meta reported, kept whole; a status may arrive before its message exists.
create table message_statuses (
    id                  bigserial primary key,
    tenant_id           bigint not null references tenants (id),
    phone_number_id     bigint not null references phone_numbers (id),
    wamid               text not null,
    status              text not null,
    meta_timestamp      timestamptz not null,
    recipient_id        text,
    errors              jsonb,
    pricing             jsonb,
    conversation        jsonb,
    raw                 jsonb not null,
    received_at         timestamptz not null default now(),
    unique (phone_number_id, wamid, status)
);

-- Reactions attach to the message they react to; an empty emoji removes the reaction.
create table message_reactions (
    id                  bigserial primary key,
    tenant_id           bigint not null references tenants (id),
    phone_number_id     bigint not null references phone_numbers (id),
    target_wamid        text not null,
    direction           text not null check (direction in ('inbound', 'outbound')),
    emoji               text,
    reaction_wamid      text not null,
    meta_timestamp      timestamptz not null,
    raw                 jsonb not null,
    unique (phone_number_id, target_wamid, direction)
);

create table message_templates (
    id                  bigserial primary key,
    tenant_id           bigint not null references tenants (id),
    waba_id             text not null,
    meta_template_id    text,
    name                text not null,
    language            text not null,
    category            text,
    status              text not null,
    status_reason       text,
    quality_score       text,
    components          jsonb not null default '[]',
    -- Meta's `entry.time` of the last status event applied, so that a late one cannot undo a newer one.
    status_updated_at   timestamptz,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    unique (tenant_id, waba_id, name, language)
);

-- Every webhook POST whose signature verified, byte for byte as received, stored before we answer.
create table webhook_events (
    id              bigserial primary key,
    app_id          bigint not null references meta_apps (id),
    body            bytea not null,
    received_at     timestamptz not null default now(),
    state           text not null default 'pending'
                    check (state in ('pending', 'applied', 'unroutable', 'failed')),
    attempts        integer not null default 0,
    applied_at      timestamptz,
    error           text,
    -- Phone number ids or WABA ids in the event that are not registered under the signing app.
    unroutable      text[] not null default '{}'
);
create index webhook_events_pending on webhook_events (id) where state = 'pending';
create index webhook_events_failed on webhook_events (id) where state = 'failed';

create table audit_log (
    id          bigserial primary key,
    tenant_id   bigint references tenants (id),
    user_id     bigint references users (id),
    action      text not null,
    details     jsonb not null default '{}',
    created_at  timestamptz not null default now()
);
create index audit_log_tenant on audit_log (tenant_id, id desc);
