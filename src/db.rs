//! The PostgreSQL pool: create the database when missing, connect (JIT off, see [`connect`]), and
//! apply the embedded migrations.

use std::str::FromStr;

use anyhow::Context;
use sqlx::{
    PgPool, Postgres,
    migrate::MigrateDatabase,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Connects to `url`, creating the database first if it does not exist.
pub async fn connect(url: &str) -> anyhow::Result<PgPool> {
    if !Postgres::database_exists(url)
        .await
        .context("reach PostgreSQL")?
    {
        Postgres::create_database(url)
            .await
            .context("create the database")?;
        tracing::info!("created the database");
    }
    let options = PgConnectOptions::from_str(url)
        .context("read the database URL")?
        // The app's statements are short index lookups, but a plan's estimated cost can pass
        // `jit_above_cost` when statistics are stale (the send claim over a backlog the statistics
        // never saw: ~180,000), and JIT compilation then adds ~120 ms to a statement that runs
        // in ~15 ms. Nothing here gains from JIT, so it is off for the app's connections.
        .options([("jit", "off")]);
    PgPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect_with(options)
        .await
        .context("connect to the database")
}

/// A pool of one connection to `db`'s database on which statements keep the plan made for any
/// parameters, for a task that runs its statements one at a time. PostgreSQL plans a statement
/// anew while a plan for the parameters at hand looks cheaper than the generic one, which for
/// arrays of rows is always: the sends' look-ups took 1.0–1.6 ms to plan a call, three to five
/// times their run (`pg_stat_statements`, docs/benchmarks.md, "Integrators"). Only for statements
/// whose every table is read by index whatever the statistics say, since the plan is kept until
/// they change: the delivery's claim, kept so from a start on an empty queue, read its backlog
/// the slow way (enqueue → Graph call p99 from 88 to 308–353 ms in `benches/sends.rs`).
pub fn planned_once(db: &PgPool) -> PgPool {
    let options = (*db.connect_options())
        .clone()
        .options([("plan_cache_mode", "force_generic_plan")]);
    PgPoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options)
}

/// Applies pending migrations.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR
        .run(pool)
        .await
        .context("apply database migrations")
}

/// A listener on `db`'s database, `LISTEN`ing on `channel`: for a worker to be woken by the
/// statements that notify it (see [`notified`]).
pub async fn listen(db: &PgPool, channel: &str) -> anyhow::Result<PgListener> {
    let mut listener = PgListener::connect_with(db)
        .await
        .context("connect listener")?;
    listener.listen(channel).await.context("LISTEN")?;
    Ok(listener)
}

/// The next notification on `listener`'s channels, for a worker that LISTENs to be woken (and
/// polls anyway); without a listener (it could not connect), never.
pub async fn notified(listener: &mut Option<PgListener>) -> anyhow::Result<()> {
    match listener {
        Some(listener) => listener
            .recv()
            .await
            .map(drop)
            .context("receive notification"),
        None => std::future::pending().await,
    }
}
