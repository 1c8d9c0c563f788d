//! API keys: how programs call the Meta-compatible Graph endpoint and the JSON API
//! (`Authorization: Bearer <key>`). Admins create them in the console and the operator with
//! `switchboard apikey create`; the key is shown once and only its SHA-256 is stored, with its first
//! characters to recognise it by. A key may be limited to some of the tenant's numbers, is
//! revoked at once, and is allowed [`ApiKey::rate_per_second`] requests a second, counted in
//! Postgres so that every server process shares the count ([`Admissions`]).

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Connection, PgConnection, PgPool, postgres::types::PgInterval};

use super::{
    audit,
    ids::{ApiKeyId, NumberId, TenantId, UserId},
    numbers,
};
use crate::{
    batch::{Batcher, Shared},
    crypto::tokens::{random_token, token_hash},
};

/// What every key begins with, so that one pasted in the wrong place is recognised.
pub const KEY_PREFIX: &str = "sbk_";
/// Characters of a key kept to recognise it by ("sbk_AbCd1234").
const SHOWN: usize = 12;
/// Requests a second a key may make unless its creator chose otherwise.
pub const DEFAULT_RATE: i32 = 100;
/// How often a key's last use is written: every request would write a row for nothing.
const LAST_USE_PRECISION: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// A key as its tenant's admins see it (never the secret).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    /// The key's first characters.
    pub prefix: String,
    pub rate_per_second: i32,
    /// The numbers the key may use; empty when it may use all of them.
    pub numbers: Vec<String>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A new key: `secret` is shown once and never again (so it has no `Debug`).
pub struct NewKey {
    pub id: ApiKeyId,
    pub secret: String,
}

/// The program calling, once its key is recognised.
#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant_id: TenantId,
    pub key_id: ApiKeyId,
    pub name: String,
    /// The numbers the key may use; `None` for all of the tenant's.
    pub numbers: Option<Vec<NumberId>>,
    pub rate_per_second: i32,
}

impl Caller {
    /// Whether the key may send from (or read) `number`.
    pub fn may_use(&self, number: NumberId) -> bool {
        self.numbers
            .as_ref()
            .is_none_or(|numbers| numbers.contains(&number))
    }

    /// The row id of the tenant's number with Meta's `phone_number_id` (removed or not), if the
    /// key may use it; `None` for another tenant's number or one the key may not use, alike.
    pub async fn usable_number(
        &self,
        conn: &mut PgConnection,
        phone_number_id: &str,
    ) -> anyhow::Result<Option<NumberId>> {
        Ok(
            numbers::id_for_tenant(conn, self.tenant_id, phone_number_id)
                .await?
                .filter(|id| self.may_use(*id)),
        )
    }
}

/// Why a key was not created.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyRefused {
    #[error("A key's name has 1 to 80 characters.")]
    BadName,
    #[error("A key's rate is 1 to 100,000 requests a second.")]
    BadRate,
    #[error("There is no number {0} in this account.")]
    UnknownNumber(String),
}

/// Creates a key named `name` for `tenant_id`, limited to `numbers` (Meta's `phone_number_id`s;
/// none for all); audited as `api_key.create` by `by` (`None`: the operator).
pub async fn create(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    name: &str,
    numbers: &[String],
    rate_per_second: i32,
) -> anyhow::Result<Result<NewKey, KeyRefused>> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Ok(Err(KeyRefused::BadName));
    }
    if !(1..=100_000).contains(&rate_per_second) {
        return Ok(Err(KeyRefused::BadRate));
    }
    let mut tx = conn.begin().await.context("begin")?;
    let mut number_ids = Vec::with_capacity(numbers.len());
    for phone_number_id in numbers {
        let id = sqlx::query_scalar!(
            r#"select id as "id: NumberId" from phone_numbers
               where tenant_id = $1 and phone_number_id = $2 and removed_at is null"#,
            tenant_id as TenantId,
            phone_number_id
        )
        .fetch_optional(&mut *tx)
        .await
        .context("find the key's number")?;
        match id {
            Some(id) => number_ids.push(id.get()),
            None => return Ok(Err(KeyRefused::UnknownNumber(phone_number_id.clone()))),
        }
    }
    let secret = format!("{KEY_PREFIX}{}", random_token());
    let id = sqlx::query_scalar!(
        r#"insert into api_keys (tenant_id, name, prefix, secret_sha256, rate_per_second, created_by)
           values ($1, $2, $3, $4, $5, $6) returning id as "id: ApiKeyId""#,
        tenant_id as TenantId,
        name,
        &secret[..SHOWN],
        token_hash(&secret),
        rate_per_second,
        by as Option<UserId>
    )
    .fetch_one(&mut *tx)
    .await
    .context("store the key")?;
    sqlx::query!(
        "insert into api_key_numbers (tenant_id, api_key_id, number_id)
         select $1, $2, unnest($3::bigint[])",
        tenant_id as TenantId,
        id as ApiKeyId,
        &number_ids
    )
    .execute(&mut *tx)
    .await
    .context("store the key's numbers")?;
    audit::record(
        &mut tx,
        tenant_id,
        by,
        "api_key.create",
        json!({ "api_key_id": id, "name": name, "prefix": &secret[..SHOWN],
                "numbers": numbers, "rate_per_second": rate_per_second }),
    )
    .await?;
    tx.commit().await.context("commit")?;
    Ok(Ok(NewKey { id, secret }))
}

/// The tenant's keys, newest first, revoked ones included.
pub async fn list(conn: &mut PgConnection, tenant_id: TenantId) -> anyhow::Result<Vec<ApiKey>> {
    sqlx::query_as!(
        ApiKey,
        r#"select k.id as "id: ApiKeyId", k.name, k.prefix, k.rate_per_second,
                  array(select n.phone_number_id from api_key_numbers kn
                        join phone_numbers n on n.tenant_id = kn.tenant_id and n.id = kn.number_id
                        where kn.api_key_id = k.id order by n.phone_number_id) as "numbers!",
                  u.name as "created_by?", k.created_at, k.last_used_at, k.revoked_at
           from api_keys k
           left join users u on u.tenant_id = k.tenant_id and u.id = k.created_by
           where k.tenant_id = $1
           order by k.created_at desc, k.id desc"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list API keys")
}

/// The tenant's numbers a key may be limited to, not removed: Meta's `phone_number_id` and how
/// the team knows the number.
pub async fn number_choices(
    conn: &mut PgConnection,
    tenant_id: TenantId,
) -> anyhow::Result<Vec<(String, String)>> {
    let rows = sqlx::query!(
        r#"select phone_number_id,
                  coalesce(verified_name || ' · ' || display_phone_number, display_phone_number,
                           verified_name, phone_number_id) as "label!"
           from phone_numbers where tenant_id = $1 and removed_at is null order by id"#,
        tenant_id as TenantId
    )
    .fetch_all(conn)
    .await
    .context("list the numbers a key may use")?;
    Ok(rows
        .into_iter()
        .map(|row| (row.phone_number_id, row.label))
        .collect())
}

/// Revokes the key at once; audited as `api_key.revoke`. `false` when the tenant has no such key
/// or it was revoked already.
pub async fn revoke(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    by: Option<UserId>,
    id: ApiKeyId,
) -> anyhow::Result<bool> {
    let mut tx = conn.begin().await.context("begin")?;
    let revoked = sqlx::query_scalar!(
        "update api_keys set revoked_at = now()
         where tenant_id = $1 and id = $2 and revoked_at is null returning name",
        tenant_id as TenantId,
        id as ApiKeyId
    )
    .fetch_optional(&mut *tx)
    .await
    .context("revoke the key")?;
    let Some(name) = revoked else {
        return Ok(false);
    };
    audit::record(
        &mut tx,
        tenant_id,
        by,
        "api_key.revoke",
        json!({ "api_key_id": id, "name": name }),
    )
    .await?;
    tx.commit().await.context("commit")?;
    Ok(true)
}

/// What a presented key gets.
#[derive(Debug)]
pub enum Admission {
    /// Unknown or revoked.
    Refused,
    /// The key's requests this second are used up: try again after this long.
    Limited(std::time::Duration),
    Admitted(Caller),
}

/// Recognises presented keys and counts their requests in the current second, for every request
/// of a process: the requests that arrive together in one statement ([`Batcher`]), since at a
/// program's rate one statement per request was most of the database's time.
#[derive(Clone)]
pub struct Admissions {
    batcher: Batcher<Vec<u8>, Shared<Admission>>,
}

/// Keys presented at once, at most.
const ADMISSION_BATCH: usize = 128;
/// While requests keep coming, how long a batch waits for more ([`crate::batch::gather`]).
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

impl Admissions {
    /// Starts the admitting task on `db` (on the current Tokio runtime).
    pub fn start(db: PgPool) -> Self {
        let batcher =
            Batcher::start_fallible(ADMISSION_BATCH, GATHER, move |hashes: Vec<Vec<u8>>| {
                let db = db.clone();
                async move { admit_all(&db, &hashes).await }
            });
        Self { batcher }
    }

    /// What the key `presented` gets; its request is counted. Notes the key's use at most once a
    /// minute.
    pub async fn admit(&self, presented: &str) -> anyhow::Result<Admission> {
        if !presented.starts_with(KEY_PREFIX) {
            return Ok(Admission::Refused);
        }
        self.batcher.try_call(token_hash(presented)).await
    }
}

/// What each key of `hashes` (SHA-256 of presented keys) gets, in order, with its request counted:
/// a key presented n times counts n requests, the first ones within the rate.
async fn admit_all(db: &PgPool, hashes: &[Vec<u8>]) -> anyhow::Result<Vec<Admission>> {
    let rows = sqlx::query!(
        r#"with presented as (
               select * from unnest($1::bytea[]) with ordinality as p (secret_sha256, position)
           ),
           keys as (
               select p.position, k.id, k.tenant_id, k.name, k.rate_per_second, k.last_used_at,
                      row_number() over (partition by k.id order by p.position) as nth
               from presented p
               join api_keys k on k.secret_sha256 = p.secret_sha256 and k.revoked_at is null
           ),
           batch as (select id, count(*)::integer as requests from keys group by id),
           counted as (
               insert into api_key_usage as u (api_key_id, second, requests)
               select id, date_trunc('second', clock_timestamp()), requests from batch order by id
               on conflict (api_key_id) do update
                   set requests = case when excluded.second > u.second then excluded.requests
                                       else u.requests + excluded.requests end,
                       second = greatest(u.second, excluded.second)
               returning api_key_id, requests,
                         extract(epoch from second + interval '1 second' - clock_timestamp())::float8
                             as seconds_left
           )
           select keys.position as "position!", keys.id as "id!: ApiKeyId",
                  keys.tenant_id as "tenant_id!: TenantId", keys.name as "name!",
                  keys.rate_per_second as "rate_per_second!", keys.last_used_at,
                  (counted.requests - batch.requests + keys.nth)::integer as "requests!",
                  counted.seconds_left as "seconds_left!",
                  array(select number_id from api_key_numbers where api_key_id = keys.id) as "numbers!"
           from keys
           join batch on batch.id = keys.id
           join counted on counted.api_key_id = keys.id"#,
        hashes
    )
    .fetch_all(db)
    .await
    .context("admit API requests")?;
    let mut admissions: Vec<Admission> = hashes.iter().map(|_| Admission::Refused).collect();
    let mut used = Vec::new();
    for key in rows {
        let Some(admission) = usize::try_from(key.position - 1)
            .ok()
            .and_then(|i| admissions.get_mut(i))
        else {
            continue;
        };
        if key.requests > key.rate_per_second {
            let left = key.seconds_left.clamp(0.0, 1.0);
            *admission = Admission::Limited(std::time::Duration::from_secs_f64(left));
            continue;
        }
        if key
            .last_used_at
            .is_none_or(|at| at < Utc::now() - LAST_USE_PRECISION)
        {
            used.push(key.id);
        }
        *admission = Admission::Admitted(Caller {
            tenant_id: key.tenant_id,
            key_id: key.id,
            name: key.name,
            numbers: (!key.numbers.is_empty())
                .then(|| key.numbers.into_iter().map(NumberId::new).collect()),
            rate_per_second: key.rate_per_second,
        });
    }
    if !used.is_empty() {
        note_use(db, &used).await?;
    }
    Ok(admissions)
}

/// Notes that `keys` were used now, unless that was noted within [`LAST_USE_PRECISION`] (requests
/// at the same moment all see the old time; one of them writes).
async fn note_use(db: &PgPool, keys: &[ApiKeyId]) -> anyhow::Result<()> {
    let keys: Vec<i64> = keys.iter().map(|id| id.get()).collect();
    sqlx::query!(
        "update api_keys set last_used_at = now()
         where id = any($1) and (last_used_at is null or last_used_at < now() - $2::interval)",
        &keys,
        PgInterval::try_from(LAST_USE_PRECISION).ok()
    )
    .execute(db)
    .await
    .context("note the keys' use")?;
    Ok(())
}
