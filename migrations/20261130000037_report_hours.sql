-- Reports: today and yesterday are worked out an hour at a time (`domain::reports::rollup`). Each
-- minute only the hours that can still change are worked out again (the hour going on, an hour
-- just ended, an hour whose messages got statuses), and the day's row in `report_days` is the sum
-- of its hours: a minute's work follows the last minutes' messages, not the size of the day. Hours
-- of older days are forgotten; those days are worked out whole, as before.
create table report_hours (
    tenant_id       bigint not null,
    hour            timestamptz not null,
    phone_number_id bigint not null,
    figures         jsonb not null,
    primary key (hour, tenant_id, phone_number_id),
    foreign key (tenant_id, phone_number_id) references phone_numbers (tenant_id, id)
);

create table report_hour_runs (
    hour        timestamptz primary key,
    computed_at timestamptz not null
);

-- The customers' messages by when they were sent (Meta's timestamp, else when they arrived): the
-- windows that closed in an hour are the messages sent in an hour a day before, a range of this
-- index, instead of every message of the 25 hours before, read to find them.
create index messages_inbound_sent on messages ((coalesce(meta_timestamp, created_at)))
    where direction = 'inbound';
