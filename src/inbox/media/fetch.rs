//! Media bytes from Meta, with the message's number's token, kept for a while per process.
//!
//! Meta's download URLs expire within minutes, so each fetch asks for a fresh one (`GET
//! /{media-id}`) and downloads it at once, from Meta or, for a sandbox number, from the embedded
//! sandbox. The token travels only in the `Authorization` header ([`GraphClient`]).
//!
//! What was fetched is kept for [`KEEP_FOR`], keyed by tenant and message, in at most
//! [`CACHE_BYTES`] in all; a file over [`LARGEST_KEPT`] is not kept (a large document is fetched
//! again). The largest kept is Meta's limit for video and audio, so a browser seeking in a video
//! (one range request after another) never makes us download it twice. Concurrent requests for
//! one file share one fetch. Media Meta no longer has are remembered as gone, so that a thread of
//! old photos does not ask Meta again on every view; failures are not remembered.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use bytes::Bytes;
use sqlx::PgPool;

use crate::{
    cache::ReadThrough,
    crypto::Cipher,
    domain::{
        ids::{MessageId, NumberId, TenantId},
        numbers,
    },
    error::AppError,
    whatsapp::graph::{Auth, GraphClient, GraphFailure, GraphUrls},
};

/// How long a fetched file is served without asking Meta again.
pub const KEEP_FOR: Duration = Duration::from_secs(3600);
/// At most this many bytes of files are kept per process.
pub const CACHE_BYTES: u64 = 64 * 1024 * 1024;
/// Files larger than this are not kept: Meta's limit for video and audio (16 MB).
pub const LARGEST_KEPT: u32 = 16 * 1024 * 1024;

/// What Meta gave for a message's media.
pub enum Fetched {
    File(MediaFile),
    /// Meta no longer has it (media are kept for 30 days) or never had it.
    Gone,
}

/// A media file as Meta serves it.
pub struct MediaFile {
    /// Meta's type for it; never served as is (see `answer`).
    pub mime_type: String,
    /// Meta's checksum of the file.
    pub sha256: Option<String>,
    pub bytes: Bytes,
}

/// The media a request wants: whose message, sent from which number, with which media id.
pub struct Wanted<'a> {
    pub tenant_id: TenantId,
    pub message_id: MessageId,
    pub number_id: NumberId,
    pub media_id: &'a str,
}

/// Fetches and keeps media files; cheap to clone (clones share the cache).
#[derive(Clone)]
pub struct MediaFiles {
    pub(super) db: PgPool,
    pub(super) cipher: Cipher,
    pub(super) graph: GraphClient,
    pub(super) urls: GraphUrls,
    cache: Arc<ReadThrough<(TenantId, MessageId), Fetched>>,
}

impl MediaFiles {
    /// Fetches through `graph`, from Meta or the sandbox (`urls`), with tokens opened by `cipher`.
    pub fn new(db: PgPool, cipher: Cipher, graph: GraphClient, urls: GraphUrls) -> Self {
        let cache = ReadThrough::weighed(KEEP_FOR, CACHE_BYTES, LARGEST_KEPT, weight);
        Self {
            db,
            cipher,
            graph,
            urls,
            cache: Arc::new(cache),
        }
    }

    /// The media, kept or fetched now. Meta out of reach, or refusing, is a 502 that says so.
    pub async fn get(&self, wanted: &Wanted<'_>) -> Result<Arc<Fetched>, AppError> {
        let key = (wanted.tenant_id, wanted.message_id);
        let fetched = self
            .cache
            .get_or_load(&key, async { self.fetch(wanted).await.map(Some) })
            .await;
        match fetched {
            Ok(Some(fetched)) => Ok(fetched),
            Ok(None) => Err(AppError::Internal(anyhow::anyhow!(
                "a media fetch gave nothing"
            ))),
            Err(error) => Err(match upstream_sentence(&error) {
                Some(message) => AppError::BadGateway {
                    message,
                    cause: error,
                },
                None => AppError::from_database(error),
            }),
        }
    }

    /// Asks Meta for a fresh download URL, then downloads it.
    #[tracing::instrument(skip_all, fields(tenant_id = %wanted.tenant_id, message_id = %wanted.message_id))]
    async fn fetch(&self, wanted: &Wanted<'_>) -> anyhow::Result<Fetched> {
        let number = {
            let mut conn = self.db.acquire().await.context("acquire connection")?;
            numbers::credentials(&mut conn, &self.cipher, wanted.tenant_id, wanted.number_id)
                .await?
        };
        let auth = Auth {
            base_url: self.urls.for_number(number.sandbox),
            token: &number.access_token,
        };
        let info = match self.graph.media_info(&auth, wanted.media_id).await {
            Ok(info) => info,
            Err(failure) if is_gone(&failure) => return Ok(Fetched::Gone),
            Err(failure) => return Err(Upstream::from(failure)).context("look up media at Meta"),
        };
        let bytes = match self.graph.download_media(&auth, &info.url).await {
            Ok(bytes) => bytes,
            Err(failure) if is_gone(&failure) => return Ok(Fetched::Gone),
            Err(failure) => return Err(Upstream::from(failure)).context("download media"),
        };
        Ok(Fetched::File(MediaFile {
            mime_type: info.mime_type,
            sha256: info.sha256,
            bytes,
        }))
    }
}

/// What a fetched file costs the cache, in bytes.
fn weight(fetched: &Fetched) -> u32 {
    // Roughly what the entry and its strings take besides the bytes.
    const OVERHEAD: usize = 256;
    let size = match fetched {
        Fetched::File(file) => OVERHEAD + file.bytes.len() + file.mime_type.len(),
        Fetched::Gone => OVERHEAD,
    };
    u32::try_from(size).unwrap_or(u32::MAX)
}

/// Meta says the media does not exist (Graph's 100/33 "does not exist, cannot be loaded due to
/// missing permissions", or a 404 from the media host once a URL expired).
fn is_gone(failure: &GraphFailure) -> bool {
    match failure {
        GraphFailure::Api(error) => {
            matches!(error.http_status, 404 | 410)
                || (error.code == 100 && error.subcode == Some(33))
        }
        GraphFailure::Unreadable { status, .. } => matches!(status, 404 | 410),
        GraphFailure::Unreachable(_) | GraphFailure::Ambiguous(_) => false,
    }
}

/// Meta could not be reached or refused: what to tell the agent, with Meta's failure as the cause.
#[derive(Debug, thiserror::Error)]
#[error("{sentence}")]
struct Upstream {
    sentence: &'static str,
    #[source]
    failure: GraphFailure,
}

impl From<GraphFailure> for Upstream {
    fn from(failure: GraphFailure) -> Self {
        let sentence = match &failure {
            GraphFailure::Api(error)
                if error.code == 190 || matches!(error.http_status, 401 | 403) =>
            {
                "WhatsApp refused this number's access token, so its media cannot be shown; \
                 an admin needs to renew the token"
            }
            GraphFailure::Api(_) => {
                "WhatsApp did not hand over this media just now; try again in a moment"
            }
            GraphFailure::Unreachable(_) | GraphFailure::Ambiguous(_) => {
                "WhatsApp could not be reached to fetch this media; try again in a moment"
            }
            GraphFailure::Unreadable { .. } => {
                "WhatsApp answered something unexpected when asked for this media; try again in \
                 a moment"
            }
        };
        Self { sentence, failure }
    }
}

/// The sentence of an [`Upstream`] failure in `error`'s chain, if that is what it is.
fn upstream_sentence(error: &anyhow::Error) -> Option<&'static str> {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<Upstream>())
        .map(|upstream| upstream.sentence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatsapp::graph::GraphError;

    fn api(http_status: u16, code: i64, subcode: Option<i64>) -> GraphFailure {
        GraphFailure::Api(GraphError {
            http_status,
            code,
            subcode,
            message: String::new(),
            kind: None,
            details: None,
            fbtrace_id: None,
            is_transient: false,
            user_title: None,
            user_message: None,
        })
    }

    #[test]
    fn media_meta_does_not_have_is_gone_and_the_rest_is_a_failure() {
        assert!(is_gone(&api(400, 100, Some(33))));
        assert!(is_gone(&api(404, 100, None)));
        assert!(is_gone(&GraphFailure::Unreadable {
            status: 404,
            body: String::new()
        }));
        assert!(!is_gone(&api(400, 100, None)));
        assert!(!is_gone(&api(401, 190, None)));
        assert!(!is_gone(&api(429, 4, None)));
        assert!(!is_gone(&GraphFailure::Unreachable("refused".into())));
        assert!(!is_gone(&GraphFailure::Unreadable {
            status: 502,
            body: String::new()
        }));
    }

    #[tokio::test]
    async fn a_failure_is_found_behind_the_context_and_the_shared_load() {
        let cache = ReadThrough::<u8, u8>::new(KEEP_FOR, 1);
        let load = async {
            Err::<Option<u8>, _>(Upstream::from(api(401, 190, None)))
                .context("look up media at Meta")
        };
        let error = cache.get_or_load(&1, load).await.unwrap_err();
        assert_eq!(
            upstream_sentence(&error),
            Some(
                "WhatsApp refused this number's access token, so its media cannot be shown; \
                 an admin needs to renew the token"
            )
        );
        assert_eq!(upstream_sentence(&anyhow::anyhow!("pool timed out")), None);
    }
}
