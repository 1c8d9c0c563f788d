//! Graph calls passed on for a program that speaks Meta's API to Switchboard (the Meta-compatible
//! endpoint): the answer is Meta's JSON as it came, or Meta's error.

use reqwest::Method;
use serde_json::Value;

use super::{Auth, GraphClient, GraphFailure};

impl GraphClient {
    /// `method /{segments…}?{query}` with the number's token; Meta's JSON answer as it came.
    #[tracing::instrument(skip_all, fields(method = %method))]
    pub async fn relay(
        &self,
        auth: &Auth<'_>,
        method: Method,
        segments: &[&str],
        query: &[(String, String)],
    ) -> Result<Value, GraphFailure> {
        let url = self.url(auth, segments)?;
        self.call(self.request(method, &url, auth).query(query))
            .await
    }
}
