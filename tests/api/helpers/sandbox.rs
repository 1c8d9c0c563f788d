//! A [`TestApp`] that delivers what it queues, as `switchboard serve` does: with
//! [`TestApp::start_sandbox_dispatcher`] too, the whole sandbox loop runs (send, then the status
//! webhooks the embedded fake sends back).

use std::sync::Arc;

use switchboard::{
    outbox::worker::{Outbox, OutboxConfig},
    whatsapp::graph::GraphClient,
    window::SystemClock,
};

use super::TestApp;

impl TestApp {
    /// Delivers queued messages from now on, on the real clock: sandbox numbers' to the embedded
    /// fake, real numbers' to an address where nothing answers.
    pub fn start_outbox(&self) {
        let graph = GraphClient::new("v23.0").unwrap();
        let config = OutboxConfig::new("http://127.0.0.1:9", &self.config.sandbox_graph_url());
        let outbox = Outbox::new(
            self.pool.clone(),
            self.config.secret_key.cipher(),
            graph,
            Arc::new(SystemClock),
            config,
        );
        tokio::spawn(outbox.run(self.shutdown()));
    }
}
