-- API keys (issue 10): programs call the Meta-compatible Graph endpoint and the JSON API with
-- `Authorization: Bearer <key>`. A key is 256 random bits, shown once; only its SHA-256 is kept
-- (a key is not a password: nothing is gained by a slow hash of random bits, and every request
-- looks one up), with its first characters to recognise it by.
create table api_keys (
    id            bigserial primary key,
    tenant_id     bigint not null references tenants (id),
    name          text not null check (length(name) between 1 and 80),
    prefix        text not null,
    secret_sha256 bytea not null unique,
    -- Requests a second the key may make; more are answered 429.
    rate_per_second integer not null check (rate_per_second > 0),
    created_by    bigint,
    created_at    timestamptz not null default now(),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    unique (tenant_id, id),
    foreign key (tenant_id, created_by) references users (tenant_id, id)
);
create index api_keys_by_tenant on api_keys (tenant_id, created_at desc);

-- A key limited to some of the tenant's numbers lists them; a key with none may use all.
create table api_key_numbers (
    tenant_id  bigint not null,
    api_key_id bigint not null,
    number_id  bigint not null,
    primary key (api_key_id, number_id),
    foreign key (tenant_id, api_key_id) references api_keys (tenant_id, id) on delete cascade,
    foreign key (tenant_id, number_id) references phone_numbers (tenant_id, id)
);

-- The requests of each key's current second, shared by every server process (one row a key,
-- restarted each second). Unlogged: a crash may forget a second's count, never anything else.
create unlogged table api_key_usage (
    api_key_id bigint primary key references api_keys (id) on delete cascade,
    second     timestamptz not null,
    requests   integer not null
);

-- Messages sent with a key now name it.
alter table messages add constraint messages_api_key
    foreign key (tenant_id, api_key_id) references api_keys (tenant_id, id) not valid;
