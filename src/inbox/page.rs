//! Rendering a page: an askama template to HTML, or, if the template fails, the error page.

use askama::Template;
use axum::response::Html;

use crate::error::{AppError, Result};

/// `page` as HTML; a render failure becomes a 500 page (logged with its cause).
pub fn render(page: &impl Template) -> Result<Html<String>> {
    page.render()
        .map(Html)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("render a page")))
}
