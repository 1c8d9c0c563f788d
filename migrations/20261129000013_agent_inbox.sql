-- The agent inbox (issue 8): who is signed in, what each agent has read, how conversations are
-- listed, and what happens in a conversation besides its messages.

-- An agent's name, shown on the replies they send and in the timeline ("Ana assigned this to
-- herself"). Existing users are named after their e-mail address until an admin renames them.
alter table users add column name text not null default '';
update users set name = split_part(email, '@', 1) where name = '';

-- Server-side sessions. The browser holds a random token; only its SHA-256 is stored, so a copy of
-- this table signs nobody in. `csrf_token` is the session's synchronizer token: every form and
-- every script request that changes something carries it.
create table sessions (
    token_hash      bytea primary key,
    tenant_id       bigint not null,
    user_id         bigint not null,
    csrf_token      text not null,
    created_at      timestamptz not null default now(),
    last_seen_at    timestamptz not null default now(),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);
create index sessions_user on sessions (tenant_id, user_id);
create index sessions_last_seen on sessions (last_seen_at);

-- Failed logins per account (lower-cased e-mail) and per client address, in a window that starts
-- with the first failure; shared by every instance.
create table login_failures (
    scope           text not null check (scope in ('account', 'address')),
    key             text not null,
    failures        integer not null,
    window_started_at timestamptz not null,
    primary key (scope, key)
);

-- The first run's setup link: its token's hash, usable once, while no user exists.
create table setup_tokens (
    token_hash      bytea primary key,
    created_at      timestamptz not null default now()
);

-- Every conversation has a last activity, so lists sort and page on it without NULLs.
update conversations set last_message_at = coalesce(last_message_at, created_at)
where last_message_at is null;
alter table conversations
    alter column last_message_at set default now(),
    alter column last_message_at set not null;

-- When the business last answered (an agent's, an API key's or the operator's message, or an echo
-- from the WhatsApp Business app): the customer "wrote last" while this is older than
-- `last_customer_message_at`. Backfilled from the outbound messages already stored.
alter table conversations add column last_reply_at timestamptz;
update conversations c set last_reply_at = r.at
from (select conversation_id, max(created_at) as at from messages
      where direction = 'outbound' group by conversation_id) r
where r.conversation_id = c.id;

-- The list's views, each read in index order and paged by (last_message_at, id): all of a status,
-- one agent's or nobody's (assignee_id is null), one number's. The unfiltered index
-- `conversations_inbox` stays for "any status".
create index conversations_by_status
    on conversations (tenant_id, status, last_message_at desc, id desc);
create index conversations_by_assignee
    on conversations (tenant_id, assignee_id, status, last_message_at desc, id desc);
create index conversations_by_number
    on conversations (tenant_id, phone_number_id, status, last_message_at desc, id desc);
-- "Closing soon": open conversations by the end of their window (their customer's last message).
create index conversations_closing
    on conversations (tenant_id, last_customer_message_at, id) where status = 'open';

-- How far each agent has read each conversation: their unread count is the customer's messages
-- after this one.
create table conversation_reads (
    tenant_id               bigint not null,
    conversation_id         bigint not null,
    user_id                 bigint not null,
    last_read_message_id    bigint not null,
    read_at                 timestamptz not null default now(),
    primary key (conversation_id, user_id),
    foreign key (tenant_id, conversation_id) references conversations (tenant_id, id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);
-- The customer's messages of a conversation, newest first (unread counts, snippets).
create index messages_inbound on messages (conversation_id, id desc) where direction = 'inbound';

-- Labels, tenant-wide, created inline by any agent.
create table labels (
    id          bigserial primary key,
    tenant_id   bigint not null references tenants (id),
    name        text not null check (length(name) between 1 and 40),
    created_at  timestamptz not null default now(),
    unique (tenant_id, id)
);
create unique index labels_name on labels (tenant_id, lower(name));

create table conversation_labels (
    tenant_id       bigint not null,
    conversation_id bigint not null,
    label_id        bigint not null,
    created_at      timestamptz not null default now(),
    primary key (conversation_id, label_id),
    foreign key (tenant_id, conversation_id) references conversations (tenant_id, id),
    foreign key (tenant_id, label_id) references labels (tenant_id, id) on delete cascade
);
create index conversation_labels_label on conversation_labels (tenant_id, label_id, conversation_id);

-- What happens in a conversation besides its messages, in its timeline: private notes (never sent
-- to WhatsApp) and events with who and when.
create table conversation_events (
    id              bigserial primary key,
    tenant_id       bigint not null,
    conversation_id bigint not null,
    user_id         bigint,
    kind            text not null check (kind in (
                        'note', 'assigned', 'unassigned', 'status', 'label_added',
                        'label_removed')),
    body            text not null default '',
    created_at      timestamptz not null default now(),
    foreign key (tenant_id, conversation_id) references conversations (tenant_id, id),
    foreign key (tenant_id, user_id) references users (tenant_id, id)
);
create index conversation_events_thread on conversation_events (conversation_id, created_at desc);

-- Canned responses: tenant-wide snippets an agent inserts with /shortcut.
create table canned_responses (
    id          bigserial primary key,
    tenant_id   bigint not null references tenants (id),
    shortcut    text not null check (shortcut ~ '^[a-z0-9_-]{1,32}$'),
    body        text not null check (length(body) between 1 and 4096),
    created_by  bigint,
    created_at  timestamptz not null default now(),
    unique (tenant_id, shortcut),
    foreign key (tenant_id, created_by) references users (tenant_id, id)
);

-- Whether opening a conversation marks the customer's messages read at Meta (blue ticks on their
-- phone): a per-number choice, off unless an admin turns it on.
alter table phone_numbers add column send_read_receipts boolean not null default false;

-- Who has a conversation open right now ("Ana is viewing"): refreshed while their page is open,
-- forgotten once stale; shared by every instance.
create table conversation_viewers (
    tenant_id       bigint not null,
    conversation_id bigint not null,
    user_id         bigint not null,
    seen_at         timestamptz not null default now(),
    primary key (conversation_id, user_id),
    foreign key (tenant_id, conversation_id) references conversations (tenant_id, id),
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade
);
