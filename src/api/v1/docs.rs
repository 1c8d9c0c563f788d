//! The API's OpenAPI document (`/api/v1/openapi.json`) and a page that reads it to people
//! (`/api/v1/docs`): each operation with its parameters, body and answers, then the schemas. Both
//! come from [`super::openapi`], so they describe exactly the routes served.

use askama::Template;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::{error::Result, http::extract::Json, inbox::page::render};

/// `GET /api/v1/openapi.json`.
pub(super) async fn json() -> Response {
    Json(super::openapi()).into_response()
}

/// `GET /api/v1/docs`.
pub(super) async fn page() -> Result<Response> {
    let document = serde_json::to_value(super::openapi()).map_err(anyhow::Error::from)?;
    Ok(render(&DocsPage::read(&document))?.into_response())
}

#[derive(Template)]
#[template(path = "api_docs.html")]
struct DocsPage {
    title: String,
    description: Vec<Span>,
    operations: Vec<Operation>,
    schemas: Vec<(String, String)>,
}

/// A piece of text: `code` (written between backticks) or not.
struct Span {
    code: bool,
    text: String,
}

/// Text whose backticked parts are code, as the document's descriptions write it.
fn spans(text: &str) -> Vec<Span> {
    text.split('`')
        .enumerate()
        .filter(|(_, text)| !text.is_empty())
        .map(|(index, text)| Span {
            code: index % 2 == 1,
            text: text.to_owned(),
        })
        .collect()
}

/// One method on one path.
struct Operation {
    method: String,
    path: String,
    summary: Vec<Span>,
    description: Vec<Span>,
    parameters: Vec<Parameter>,
    body: Option<String>,
    responses: Vec<(String, Vec<Span>, Option<String>)>,
}

struct Parameter {
    name: String,
    location: String,
    required: bool,
    description: Vec<Span>,
}

impl DocsPage {
    /// The page of an OpenAPI document, read as JSON.
    fn read(document: &Value) -> Self {
        let text = |value: &Value, pointer: &str| {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let mut operations = Vec::new();
        for (path, item) in document["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let parameters = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|parameter| Parameter {
                        name: text(parameter, "/name"),
                        location: text(parameter, "/in"),
                        required: parameter["required"] == Value::Bool(true),
                        description: spans(&text(parameter, "/description")),
                    })
                    .collect();
                let responses = operation["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(status, response)| {
                        let schema =
                            schema_name(response.pointer("/content/application~1json/schema/$ref"));
                        (
                            status.clone(),
                            spans(&text(response, "/description")),
                            schema,
                        )
                    })
                    .collect();
                operations.push(Operation {
                    method: method.to_ascii_uppercase(),
                    path: format!("/api/v1{path}"),
                    summary: spans(&text(operation, "/summary")),
                    description: spans(&text(operation, "/description")),
                    parameters,
                    body: schema_name(
                        operation.pointer("/requestBody/content/application~1json/schema/$ref"),
                    ),
                    responses,
                });
            }
        }
        let schemas = document
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(name, schema)| {
                let shown = serde_json::to_string_pretty(schema).unwrap_or_default();
                (name.clone(), shown)
            })
            .collect();
        Self {
            title: text(document, "/info/title"),
            description: spans(&text(document, "/info/description")),
            operations,
            schemas,
        }
    }
}

/// `Queued` for `{"$ref": "#/components/schemas/Queued"}`.
fn schema_name(reference: Option<&Value>) -> Option<String> {
    let reference = reference?.as_str()?;
    Some(reference.rsplit('/').next()?.to_owned())
}
