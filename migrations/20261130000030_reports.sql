-- Reports (issue 9, §4). A background job works out each day's figures (UTC days) for every number
-- from the messages, statuses and timeline of that day, and keeps them here; a report over any
-- period adds up its days, so it reads a few hundred small rows however many messages there are.
-- Today is worked out again every minute (a busy day less often), a past day until shortly after
-- it ended, and an older day's deliveries whenever its messages get statuses.
create table report_days (
    tenant_id       bigint not null,
    day             date not null,
    phone_number_id bigint not null,
    -- Counts, response-time histograms, failures by code, and per agent and per template figures
    -- (`domain::reports::figures::DayFigures`).
    figures         jsonb not null,
    primary key (tenant_id, day, phone_number_id),
    foreign key (tenant_id, phone_number_id) references phone_numbers (tenant_id, id)
);

-- The days worked out, and when: the report says how fresh it is, and the job knows which days
-- it has never done (an upgraded install's history is worked out newest first).
create table report_runs (
    day         date primary key,
    computed_at timestamptz not null,
    -- How long working it out took the last time: a busy day is worked out less often.
    took        interval not null default '0'
);

-- A day's messages, and the conversations resolved that day.
create index messages_created on messages (created_at);
create index conversation_events_resolved on conversation_events (created_at)
    where kind = 'status' and body = 'resolved this';
