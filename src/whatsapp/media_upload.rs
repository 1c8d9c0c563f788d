//! A media upload as Meta's Graph API takes it (`POST /{version}/{phone_number_id}/media`,
//! multipart: `messaging_product`, `type`, `file`), read as Meta reads it and refused with Meta's
//! errors. The sandbox stores what it reads; the Meta-compatible endpoint passes it on to Meta.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media>

use axum::{body::Bytes, extract::Multipart};

use super::envelope::MetaError;

/// Meta takes documents of up to 100 MB, the largest media it accepts.
pub const MAX_BYTES: usize = 100 * 1024 * 1024;

/// A file as uploaded.
pub struct MediaUpload {
    pub mime_type: String,
    pub filename: Option<String>,
    pub bytes: Bytes,
}

impl MediaUpload {
    /// Reads the form; `type` names the MIME type (else the file part's content type does).
    pub async fn read(mut multipart: Multipart) -> Result<Self, MetaError> {
        let (mut product, mut mime_type, mut file) = (None, None, None);
        while let Some(field) = multipart.next_field().await.map_err(bad_form)? {
            match field.name() {
                Some("messaging_product") => product = Some(field.text().await.map_err(bad_form)?),
                Some("type") => mime_type = Some(field.text().await.map_err(bad_form)?),
                Some("file") => {
                    let filename = field.file_name().map(str::to_owned);
                    let content_type = field.content_type().map(str::to_owned);
                    file = Some((
                        filename,
                        content_type,
                        field.bytes().await.map_err(bad_form)?,
                    ));
                }
                _ => {}
            }
        }
        match product.as_deref() {
            Some("whatsapp") => {}
            Some(other) => {
                return Err(MetaError::invalid_parameter(format!(
                    "Param messaging_product must be one of {{WHATSAPP}} - got \"{other}\"."
                )));
            }
            None => return Err(MetaError::required("messaging_product")),
        }
        let (filename, content_type, bytes) = file.ok_or_else(|| MetaError::required("file"))?;
        let mime_type = mime_type
            .or(content_type)
            .ok_or_else(|| MetaError::required("type"))?;
        if !is_mime_type(&mime_type) {
            return Err(MetaError::invalid_parameter(format!(
                "Param type must be a MIME type such as image/jpeg - got \"{mime_type}\"."
            )));
        }
        Ok(Self {
            mime_type,
            filename,
            bytes,
        })
    }
}

fn bad_form(error: axum::extract::multipart::MultipartError) -> MetaError {
    MetaError::invalid_parameter(error.body_text())
}

/// `type/subtype`, each a token, with parameters after `;` (`audio/ogg; codecs=opus`).
fn is_mime_type(text: &str) -> bool {
    let essence = text.split(';').next().unwrap_or_default().trim();
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    essence
        .split_once('/')
        .is_some_and(|(kind, subtype)| token(kind) && token(subtype))
        && text.bytes().all(|b| b.is_ascii_graphic() || b == b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_is_a_mime_type() {
        for good in [
            "image/png",
            "audio/ogg; codecs=opus",
            "application/vnd.ms-excel",
        ] {
            assert!(is_mime_type(good), "{good}");
        }
        for bad in [
            "",
            "image",
            "image/",
            "/png",
            "image/png\r\nX: y",
            "ima ge/png",
        ] {
            assert!(!is_mime_type(bad), "{bad:?}");
        }
    }
}
