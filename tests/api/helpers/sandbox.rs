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
        self.start_outbox_with("http://127.0.0.1:9");
    }

    /// Delivers queued messages from now on, real numbers' to the app's Meta (`META_GRAPH_URL`:
    /// with [`TestApp::with_fake_meta`], the fake Graph API).
    pub fn start_outbox_to_meta(&self) {
        self.start_outbox_with(&self.config.meta_graph_url);
    }

    fn start_outbox_with(&self, meta_url: &str) {
        let graph = GraphClient::new("v23.0").unwrap();
        let config = OutboxConfig::new(meta_url, &self.config.sandbox_graph_url());
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
