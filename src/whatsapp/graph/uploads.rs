//! Meta's Resumable Upload API: a file uploaded for the app, answered with a handle that a
//! template's media header gives as its example (`example.header_handle`).
//! <https://developers.facebook.com/docs/graph-api/guides/upload>

use bytes::Bytes;
use reqwest::{
    Method,
    header::{self, HeaderValue},
};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Auth, GraphClient, GraphFailure};

#[derive(Deserialize)]
struct Session {
    id: String,
}

#[derive(Deserialize)]
struct Uploaded {
    h: String,
}

impl GraphClient {
    /// Uploads `bytes` for Meta app `app_id` in one piece: opens an upload session, then sends the
    /// file from offset 0; answers the file's handle.
    #[tracing::instrument(skip_all, fields(app_id = %app_id, size = bytes.len()))]
    pub async fn upload_sample(
        &self,
        auth: &Auth<'_>,
        app_id: &str,
        bytes: Bytes,
        mime_type: &str,
        filename: &str,
    ) -> Result<String, GraphFailure> {
        let url = self.url(auth, &[app_id, "uploads"])?;
        let length = bytes.len().to_string();
        let query = [
            ("file_name", filename),
            ("file_length", length.as_str()),
            ("file_type", mime_type),
        ];
        let session: Session = self
            .call(self.request(Method::POST, &url, auth).query(&query))
            .await?;
        // The session id is `upload:…`, often with its own `?sig=…`: it goes in the path as
        // Meta gave it, once it is known to be nothing else.
        if !is_session_id(&session.id) {
            return Err(GraphFailure::Unreadable {
                status: 200,
                body: format!("not an upload session id: {:?}", session.id),
            });
        }
        let url = format!(
            "{}/{}/{}",
            auth.base_url.trim_end_matches('/'),
            self.version,
            session.id
        );
        // Meta documents this call with `Authorization: OAuth …`.
        let mut token = HeaderValue::from_str(&format!("OAuth {}", auth.token.expose_secret()))
            .map_err(|_| GraphFailure::Unreachable("the access token is not a header".into()))?;
        token.set_sensitive(true);
        let uploaded: Uploaded = self
            .call(
                self.http
                    .request(Method::POST, &url)
                    .header(header::AUTHORIZATION, token)
                    .timeout(self.media_timeout)
                    .header("file_offset", "0")
                    .body(bytes),
            )
            .await?;
        Ok(uploaded.h)
    }
}

/// `upload:` then letters, digits and the few marks of Meta's ids and signature (no `/`, so the
/// path cannot leave the version's root).
fn is_session_id(id: &str) -> bool {
    id.strip_prefix("upload:").is_some_and(|rest| {
        !rest.is_empty()
            && !rest.contains("..")
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"=?&_-+.%:".contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_id_stays_in_the_path_it_names() {
        assert!(is_session_id(
            "upload:MTphdHRhY2htZW50OjlkYWJh?sig=ARZqkGCA_uQMxC8nHKI"
        ));
        for bad in ["upload:", "upload:../me", "upload:a/b", "me", "upload:a b"] {
            assert!(!is_session_id(bad), "{bad}");
        }
    }
}
