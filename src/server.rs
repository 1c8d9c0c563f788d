//! `switchboard serve`: connect and migrate, start the event log writer, the appliers, the
//! delivery worker, the outbound webhooks' deliverer, template syncs, the reports' daily figures and the sandbox's webhook
//! dispatcher, and serve HTTP. On SIGTERM or Ctrl-C: stop accepting, finish in-flight requests,
//! then stop the workers between jobs.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    db,
    domain::reports,
    http::{
        AppState, app,
        serve::{self, ConnectionLimits},
    },
    inbox::{auth, setup},
    ingest::{event_log::EventLog, retention, worker},
    metrics,
    outbound_webhooks::Deliverer,
    outbox::worker::{Outbox, OutboxConfig},
    whatsapp::graph::GraphClient,
    window::SystemClock,
};

/// Applier tasks per process; each applies a batch per transaction, in a fixed (number, customer)
/// order so that appliers never deadlock on the same customers' rows.
const APPLIERS: usize = 2;

/// Runs the service until a shutdown signal.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let limits = ConnectionLimits::default().within_open_files(serve::raise_open_file_limit());
    let pool = db::connect(&config.database_url).await?;
    db::migrate(&pool).await?;
    // Before any worker records a metric.
    metrics::handle();

    let shutdown = CancellationToken::new();
    let appended = Arc::new(Notify::new());
    let (events, writer) = EventLog::start(pool.clone(), appended.clone());
    let appliers: Vec<_> = (0..APPLIERS)
        .map(|_| {
            tokio::spawn(worker::run(
                pool.clone(),
                appended.clone(),
                shutdown.clone(),
            ))
        })
        .collect();

    let outbox = Outbox::new(
        pool.clone(),
        config.cipher(),
        GraphClient::new(&config.meta_api_version)?,
        Arc::new(SystemClock),
        OutboxConfig::new(&config.meta_graph_url, &config.sandbox_graph_url()),
    );
    let sender = tokio::spawn(outbox.run(shutdown.clone()));
    let pruner = tokio::spawn(auth::prune_until(pool.clone(), shutdown.clone()));
    let retention = tokio::spawn(retention::prune_until(
        pool.clone(),
        config.webhook_retention,
        shutdown.clone(),
    ));
    let webhooks = tokio::spawn(
        Deliverer::new(
            pool.clone(),
            config.cipher(),
            &config.webhook_allowed_hosts,
            config.webhook_retention,
        )?
        .run(shutdown.clone()),
    );

    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .with_context(|| format!("listen on {}", config.bind_addr))?;
    tracing::info!(
        addr = %config.bind_addr,
        public_url = %config.public_url,
        max_connections = limits.max_connections,
        "switchboard is listening"
    );
    let setup_link = setup::issue_link(&pool, &config.public_url).await?;
    print_welcome(&config, setup_link.as_deref());
    let state = AppState::new(pool.clone(), config, events)?;
    state.changes.listen(pool.clone(), shutdown.clone()).await?;
    let reports = tokio::spawn(reports::rollup::run(pool.clone(), shutdown.clone()));
    let template_syncs = tokio::spawn(
        state
            .template_syncer()
            .run(state.template_syncs.clone(), shutdown.clone()),
    );
    let streams = state.streams.clone();
    // The sandbox posts its webhooks to this very server, so it stops as soon as the server stops
    // accepting (instead of failing its posts while requests finish); what it has not posted stays
    // scheduled for the next instance.
    let sandbox_stop = shutdown.child_token();
    let sandbox_webhooks = match &state.sandbox {
        Some(sandbox) => Some(sandbox.start_dispatcher(sandbox_stop.clone())?),
        None => None,
    };
    let router = app(state);
    let stop_accepting = async move {
        shutdown_signal().await;
        sandbox_stop.cancel();
        streams.cancel();
    };
    serve::serve(listener, router, limits, stop_accepting).await;

    // The router (and with it every EventLog handle) is gone: the writer commits what is queued
    // and ends; the appliers finish their batch; the sender lets in-flight sends finish.
    shutdown.cancel();
    writer.await.context("event log writer")?;
    sender.await.context("delivery worker")?;
    pruner.await.context("session pruner")?;
    retention.await.context("webhook event retention")?;
    webhooks.await.context("outbound webhooks")?;
    template_syncs.await.context("template syncs")?;
    reports.await.context("reports")?;
    if let Some(dispatcher) = sandbox_webhooks {
        dispatcher.await.context("sandbox webhook dispatcher")?;
    }
    for applier in appliers {
        applier.await.context("applier")?;
    }
    pool.close().await;
    tracing::info!("switchboard stopped");
    Ok(())
}

/// Tells whoever started the server where it is and what to do next: on the first run, the setup
/// link; then where agents sign in.
fn print_welcome(config: &Config, setup_link: Option<&str>) {
    println!("Switchboard is running at {}", config.internal_url());
    match setup_link {
        Some(link) => {
            println!(
                "First run: open this link to create your organisation and its admin (it works once):"
            );
            println!("  {link}");
        }
        None => println!("  Agents sign in at {}/login", config.public_url),
    }
    println!(
        "  Meta webhooks:  {}/webhooks/whatsapp/{{app_id}}",
        config.public_url
    );
    println!("  Health:         {}/readyz", config.internal_url());
    if config.sandbox {
        println!(
            "Play a customer of a sandbox number from another terminal (README, \"The sandbox\"):"
        );
        println!(
            "  switchboard sandbox say --number <phone number id> --from +15550001111 \"Hi!\""
        );
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = ?error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = ?error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
