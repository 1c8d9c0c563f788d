//! Sending a file: the composer's attachment, uploaded to the number's media endpoint at Meta (or
//! the sandbox) with the number's token; the message then refers to Meta's media id.

use bytes::Bytes;

use super::fetch::MediaFiles;
use crate::{
    domain::{
        ids::{NumberId, TenantId},
        numbers,
    },
    error::AppError,
    whatsapp::graph::Auth,
};

/// A file to upload.
pub struct Upload<'a> {
    pub bytes: Bytes,
    pub mime_type: &'a str,
    pub filename: &'a str,
}

impl MediaFiles {
    /// Uploads `file` for the tenant's number `number_id`; Meta's media id.
    #[tracing::instrument(skip_all, fields(tenant_id = %tenant_id, number_id = %number_id))]
    pub async fn upload(
        &self,
        tenant_id: TenantId,
        number_id: NumberId,
        file: Upload<'_>,
    ) -> Result<String, AppError> {
        let number = {
            let mut conn = self
                .db
                .acquire()
                .await
                .map_err(|e| AppError::from_database(e.into()))?;
            numbers::credentials(&mut conn, &self.cipher, tenant_id, number_id)
                .await
                .map_err(AppError::from_database)?
        };
        let auth = Auth {
            base_url: self.urls.for_number(number.sandbox),
            token: &number.access_token,
        };
        self.graph
            .upload_media(
                &auth,
                &number.phone_number_id,
                file.bytes,
                file.mime_type,
                file.filename,
            )
            .await
            .map_err(|failure| AppError::BadGateway {
                message: "WhatsApp did not take the file just now; try again in a moment",
                cause: anyhow::Error::new(failure).context("upload media"),
            })
    }
}
