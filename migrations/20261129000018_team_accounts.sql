-- Admins manage their team (issue 9, §3): a deactivated user can no longer sign in and loses every
-- session at once; invitations and password resets are one-time links, stored as the SHA-256 of
-- their token (a copy of the table opens nothing), for one user of one tenant, spent once.
alter table users add column deactivated_at timestamptz;

create table account_links (
    token_hash  bytea primary key,
    tenant_id   bigint not null,
    user_id     bigint not null,
    purpose     text not null check (purpose in ('invite', 'reset')),
    created_by  bigint,
    created_at  timestamptz not null default now(),
    expires_at  timestamptz not null,
    foreign key (tenant_id, user_id) references users (tenant_id, id) on delete cascade,
    foreign key (tenant_id, created_by) references users (tenant_id, id)
);
create index account_links_user on account_links (tenant_id, user_id);
