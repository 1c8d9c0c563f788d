//! WhatsApp's limits on what an agent composes: lengths, button and row counts, unique ids, which
//! media take a caption. Checked before anything is queued, so the agent hears why at once.

use serde_json::Value;

use super::{ListRow, ListSection, MediaKind, MediaSource, ReplyButton};

/// `what` must be non-blank and at most `max` characters.
pub(super) fn required(what: &str, value: &str, max: usize) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("{what} is empty."));
    }
    at_most(what, value, max)
}

fn at_most(what: &str, value: &str, max: usize) -> Result<(), String> {
    let length = value.chars().count();
    if length > max {
        return Err(format!(
            "{what} is {length} characters long; WhatsApp allows at most {max}."
        ));
    }
    Ok(())
}

pub(super) fn validate_media(
    kind: MediaKind,
    source: &MediaSource,
    caption: Option<&str>,
    filename: Option<&str>,
) -> Result<(), String> {
    match source {
        MediaSource::Id(id) if id.trim().is_empty() => return Err("The media id is empty.".into()),
        MediaSource::Link(link)
            if !(link.starts_with("https://") || link.starts_with("http://")) =>
        {
            return Err("The media link must be an http(s) URL.".into());
        }
        _ => {}
    }
    if let Some(caption) = caption {
        if !kind.takes_caption() {
            return Err(format!(
                "WhatsApp does not show a caption on {}.",
                kind.as_str()
            ));
        }
        at_most("The caption", caption, 1024)?;
    }
    if filename.is_some() && kind != MediaKind::Document {
        return Err("Only documents have a file name.".into());
    }
    Ok(())
}

pub(super) fn validate_frame(
    body: &str,
    max_body: usize,
    header: Option<&str>,
    footer: Option<&str>,
) -> Result<(), String> {
    required("The message text", body, max_body)?;
    if let Some(header) = header {
        required("The header", header, 60)?;
    }
    if let Some(footer) = footer {
        required("The footer", footer, 60)?;
    }
    Ok(())
}

pub(super) fn validate_buttons(buttons: &[ReplyButton]) -> Result<(), String> {
    if buttons.is_empty() || buttons.len() > 3 {
        return Err(format!(
            "A message has 1 to 3 reply buttons, not {}.",
            buttons.len()
        ));
    }
    for (i, button) in buttons.iter().enumerate() {
        required("A button id", &button.id, 256)?;
        required("A button title", &button.title, 20)?;
        if buttons[..i].iter().any(|earlier| earlier.id == button.id) {
            return Err(format!("Two buttons have the id {:?}.", button.id));
        }
    }
    Ok(())
}

pub(super) fn validate_sections(sections: &[ListSection]) -> Result<(), String> {
    if sections.is_empty() || sections.len() > 10 {
        return Err(format!(
            "A list has 1 to 10 sections, not {}.",
            sections.len()
        ));
    }
    let rows: Vec<&ListRow> = sections.iter().flat_map(|s| &s.rows).collect();
    if rows.is_empty() || rows.len() > 10 {
        return Err(format!(
            "A list has 1 to 10 rows in all, not {}.",
            rows.len()
        ));
    }
    for section in sections {
        match &section.title {
            Some(title) => required("A section title", title, 24)?,
            None if sections.len() > 1 => {
                return Err("Each section needs a title when there are several.".into());
            }
            None => {}
        }
    }
    for (i, row) in rows.iter().enumerate() {
        required("A row id", &row.id, 200)?;
        required("A row title", &row.title, 24)?;
        if let Some(description) = &row.description {
            at_most("A row description", description, 72)?;
        }
        if rows[..i].iter().any(|earlier| earlier.id == row.id) {
            return Err(format!("Two rows have the id {:?}.", row.id));
        }
    }
    Ok(())
}

pub(super) fn validate_template(
    name: &str,
    language: &str,
    components: &Value,
) -> Result<(), String> {
    required("The template name", name, 512)?;
    required("The template language", language, 16)?;
    if !(components.is_array() || components.is_null()) {
        return Err("Template components must be a list.".into());
    }
    Ok(())
}
