-- Edits and deletions change the original message (issue 7): its content becomes the latest edit,
-- `edited_at`/`deleted_at` mark it, `original_content` keeps what it first said, and every change
-- is kept as its history. A change may arrive before its original.
alter table messages
    add column edited_at        timestamptz,
    add column deleted_at       timestamptz,
    add column original_content jsonb;

create table message_changes (
    id                  bigserial primary key,
    tenant_id           bigint not null references tenants (id),
    phone_number_id     bigint not null references phone_numbers (id),
    -- The change's own wamid, and the message it changes.
    wamid               text not null,
    target_wamid        text not null,
    kind                text not null check (kind in ('edit', 'revoke')),
    -- The edited message (`type` and its content); null for a deletion.
    content             jsonb,
    meta_timestamp      timestamptz not null,
    raw                 jsonb not null,
    unique (phone_number_id, wamid)
);
create index message_changes_target on message_changes (phone_number_id, target_wamid);

-- The reconciliation sweep looks at recent statuses only.
create index message_statuses_received on message_statuses (received_at);
