//! Tracing setup: `RUST_LOG` filters, `LOG_FORMAT=json` switches to JSON lines. Logs go to stderr so
//! that CLI commands keep stdout for their answer.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber; call once, before anything logs.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let registry = tracing_subscriber::registry().with(filter);
    if json {
        registry
            .with(fmt::layer().json().with_writer(std::io::stderr))
            .init();
    } else {
        registry
            .with(fmt::layer().with_writer(std::io::stderr))
            .init();
    }
}
