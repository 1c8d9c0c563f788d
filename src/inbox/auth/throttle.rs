//! Sign-in throttling, per account and per client address, shared by every instance (a table, not
//! memory). Failures count in a window that starts with the first one; past the limit, sign-ins
//! for that account or from that address are refused until the window ends, right password or
//! not, so guessing gains nothing. A successful sign-in clears its account's count.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// How long failures count.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed sign-ins allowed per account within [`WINDOW`].
pub const ACCOUNT_LIMIT: i32 = 5;
/// Failed sign-ins allowed per client address within [`WINDOW`] (an office shares one).
pub const ADDRESS_LIMIT: i32 = 30;

/// The keys a sign-in attempt counts against.
pub struct Attempt<'a> {
    /// The e-mail address as typed (compared lower-cased).
    pub email: &'a str,
    /// The client's address, if known.
    pub address: Option<String>,
}

impl Attempt<'_> {
    fn keys(&self) -> (Vec<&'static str>, Vec<String>, Vec<i32>) {
        let mut scopes = vec!["account"];
        let mut keys = vec![self.email.trim().to_lowercase()];
        let mut limits = vec![ACCOUNT_LIMIT];
        if let Some(address) = &self.address {
            scopes.push("address");
            keys.push(address.clone());
            limits.push(ADDRESS_LIMIT);
        }
        (scopes, keys, limits)
    }
}

/// When sign-ins for this attempt's account or address may be tried again, if they are blocked now.
pub async fn blocked_until(
    db: &PgPool,
    attempt: &Attempt<'_>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let (scopes, keys, limits) = attempt.keys();
    sqlx::query_scalar!(
        r#"select max(f.window_started_at + make_interval(secs => $4))
           from unnest($1::text[], $2::text[], $3::int[]) as a (scope, key, max_failures)
           join login_failures f on f.scope = a.scope and f.key = a.key
           where f.failures >= a.max_failures
             and f.window_started_at > now() - make_interval(secs => $4)"#,
        &scopes as &[&str],
        &keys,
        &limits,
        WINDOW.as_secs_f64()
    )
    .fetch_one(db)
    .await
    .context("read sign-in failures")
}

/// Counts a failed sign-in against the attempt's account and address.
pub async fn record_failure(db: &PgPool, attempt: &Attempt<'_>) -> anyhow::Result<()> {
    let (scopes, keys, _) = attempt.keys();
    sqlx::query!(
        r#"insert into login_failures as f (scope, key, failures, window_started_at)
           select scope, key, 1, now() from unnest($1::text[], $2::text[]) as a (scope, key)
           on conflict (scope, key) do update set
               failures = case when f.window_started_at > now() - make_interval(secs => $3)
                               then f.failures + 1 else 1 end,
               window_started_at = case when f.window_started_at > now() - make_interval(secs => $3)
                                        then f.window_started_at else now() end"#,
        &scopes as &[&str],
        &keys,
        WINDOW.as_secs_f64()
    )
    .execute(db)
    .await
    .context("record a sign-in failure")?;
    Ok(())
}

/// Forgets the account's failures after it signed in.
pub async fn clear_account(db: &PgPool, email: &str) -> anyhow::Result<()> {
    sqlx::query!(
        "delete from login_failures where scope = 'account' and key = $1",
        email.trim().to_lowercase()
    )
    .execute(db)
    .await
    .context("clear sign-in failures")?;
    Ok(())
}

/// Forgets failures whose window has ended; returns how many.
pub async fn prune(db: &PgPool) -> anyhow::Result<u64> {
    let deleted = sqlx::query!(
        "delete from login_failures where window_started_at < now() - make_interval(secs => $1)",
        WINDOW.as_secs_f64()
    )
    .execute(db)
    .await
    .context("prune sign-in failures")?;
    Ok(deleted.rows_affected())
}
