//! Media: uploading a file to send by id, and fetching what customers sent (its URL first, then
//! the bytes, both with the number's token).
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media>

use bytes::Bytes;
use reqwest::{
    Body, Method,
    multipart::{Form, Part},
};
use serde::{Deserialize, Deserializer, de};

use super::{Auth, GraphClient, GraphFailure, failure};

/// What `GET /{media-id}` says about a media object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MediaInfo {
    pub id: String,
    /// Short-lived download URL; fetch it with [`GraphClient::download_media`].
    pub url: String,
    pub mime_type: String,
    pub sha256: Option<String>,
    /// Bytes; an integer in real answers, a string in Meta's OpenAPI example.
    #[serde(default, deserialize_with = "integer_or_string")]
    pub file_size: Option<u64>,
}

#[derive(Deserialize)]
struct Uploaded {
    id: String,
}

fn integer_or_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Integer(u64),
        Text(String),
    }
    match Option::<Size>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Size::Integer(size)) => Ok(Some(size)),
        Some(Size::Text(text)) => text.trim().parse().map(Some).map_err(de::Error::custom),
    }
}

impl GraphClient {
    /// Uploads a file for the number and returns its media id (valid for 30 days).
    #[tracing::instrument(skip_all, fields(phone_number_id = %phone_number_id, size = bytes.len()))]
    pub async fn upload_media(
        &self,
        auth: &Auth<'_>,
        phone_number_id: &str,
        bytes: Bytes,
        mime_type: &str,
        filename: &str,
    ) -> Result<String, GraphFailure> {
        let url = self.url(auth, &[phone_number_id, "media"])?;
        let length = bytes.len() as u64;
        let file = Part::stream_with_length(Body::from(bytes), length)
            .file_name(filename.to_owned())
            .mime_str(mime_type)
            .map_err(|e| {
                GraphFailure::Unreachable(format!(
                    "{mime_type:?} is not a MIME type ({e}); the upload was not sent"
                ))
            })?;
        let form = Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", mime_type.to_owned())
            .part("file", file);
        let uploaded: Uploaded = self
            .call(
                self.request(Method::POST, &url, auth)
                    .timeout(self.media_timeout)
                    .multipart(form),
            )
            .await?;
        Ok(uploaded.id)
    }

    /// The download URL, type, size and hash of a media object.
    #[tracing::instrument(skip_all, fields(media_id = %media_id))]
    pub async fn media_info(
        &self,
        auth: &Auth<'_>,
        media_id: &str,
    ) -> Result<MediaInfo, GraphFailure> {
        let url = self.url(auth, &[media_id])?;
        self.call(self.request(Method::GET, &url, auth)).await
    }

    /// The bytes behind a [`MediaInfo::url`]. The token goes with the request, so pass only URLs
    /// that Meta (or the sandbox) gave you.
    #[tracing::instrument(skip_all)]
    pub async fn download_media(&self, auth: &Auth<'_>, url: &str) -> Result<Bytes, GraphFailure> {
        let request = self
            .request(Method::GET, url, auth)
            .timeout(self.media_timeout);
        let (status, body) = self.exchange(request).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(failure::from_answer(status, &body))
        }
    }
}
