-- Media a program may reach through the Meta-compatible endpoint (issue 10): the ones it uploaded
-- for one of its tenant's numbers, and the ones customers sent to them. A media id is relayed to
-- Meta only when it is found here, with the token of the number it belongs to: any other id would
-- be asked of Meta with a number's token, which may reach far more than that number's media.
create table graph_media (
    tenant_id   bigint not null,
    media_id    text not null,
    number_id   bigint not null,
    created_at  timestamptz not null default now(),
    primary key (tenant_id, media_id),
    foreign key (tenant_id, number_id) references phone_numbers (tenant_id, id)
);

-- A customer's media message by its media id (the object under the message's type).
create index messages_inbound_media on messages (tenant_id, ((content -> type) ->> 'id'))
    where direction = 'inbound' and type in ('image', 'video', 'audio', 'document', 'sticker');
