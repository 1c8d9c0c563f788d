//! `/admin/templates/new`: writing a template and submitting it to Meta for review;
//! `/admin/templates/{id}/edit`: the same form for a template Meta lets be edited (its name and
//! language fixed). The form works without script: "Preview" shows the template as the customer
//! will read it (the inbox picker's preview) with every problem beside its field; "Submit" checks
//! the same way, then asks Meta and shows Meta's refusal in words. A refused form keeps everything
//! typed.

use askama::Template;
use axum::{
    extract::{Multipart, State, multipart::MultipartError},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    domain::{
        ids::TemplateId,
        messages::SentBy,
        numbers,
        templates::{
            TemplateStatus,
            edit::{self, Editable},
            submit::{self, Submitted},
        },
        tenants,
    },
    error::{AppError, Result},
    http::{
        AppState,
        extract::{Form, Path},
    },
    inbox::{
        auth::{Agent, MultipartAgent, csrf},
        page::render,
        thread::preview::Preview,
    },
    whatsapp::{
        graph::Auth,
        template_auth::{AuthLayout, OneTap},
        template_check::{self, TemplateDefinition},
        template_draft::{ButtonKind, Category, Draft, DraftButton, HeaderFormat, Problem},
    },
};

/// Button rows the form offers.
const BUTTON_ROWS: usize = 4;

/// Languages offered as suggestions (any code Meta knows may be typed).
const LANGUAGES: [&str; 14] = [
    "en", "en_US", "en_GB", "es", "es_MX", "pt_BR", "fr", "de", "it", "nl", "ar", "hi", "id", "he",
];

/// One button row as typed.
#[derive(Default, Clone)]
struct ButtonRow {
    kind: String,
    text: String,
    value: String,
    example: String,
}

/// The form as typed (kept whole when refused).
#[derive(Default, Clone)]
struct Typed {
    waba_id: String,
    name: String,
    language: String,
    category: String,
    named: bool,
    header: String,
    header_example: String,
    body: String,
    body_examples: String,
    footer: String,
    buttons: Vec<ButtonRow>,
    /// `text`, `image`, `video` or `document`.
    header_format: String,
    /// The media header's sample, uploaded to Meta: its handle and the file's name.
    header_handle: String,
    header_sample_name: String,
    /// An authentication template's options, as typed.
    security_recommendation: bool,
    expiry_minutes: String,
    button_text: String,
    /// `copy_code` or `one_tap`.
    otp_type: String,
    package_name: String,
    signature_hash: String,
    autofill_text: String,
}

impl Typed {
    /// A stored template's draft, as the form shows it.
    fn of(draft: &Draft) -> Self {
        let mut buttons: Vec<ButtonRow> = draft
            .buttons
            .iter()
            .map(|button| ButtonRow {
                kind: match button.kind {
                    ButtonKind::QuickReply => "quick_reply",
                    ButtonKind::Url => "url",
                    ButtonKind::PhoneNumber => "phone_number",
                    ButtonKind::CopyCode => "copy_code",
                }
                .to_owned(),
                text: button.text.clone(),
                value: button.value.clone(),
                example: button.example.clone(),
            })
            .collect();
        buttons.resize(BUTTON_ROWS.max(buttons.len()), ButtonRow::default());
        Self {
            waba_id: String::new(),
            name: draft.name.clone(),
            language: draft.language.clone(),
            category: match draft.category {
                Some(Category::Marketing) => "marketing",
                Some(Category::Authentication) => "authentication",
                _ => "utility",
            }
            .to_owned(),
            named: draft.named,
            header: draft.header.clone(),
            header_example: draft.header_example.clone(),
            body: draft.body.clone(),
            body_examples: draft.body_examples.join("\n"),
            footer: draft.footer.clone(),
            buttons,
            header_format: draft.header_format.as_form().to_owned(),
            security_recommendation: draft.auth.security_recommendation,
            expiry_minutes: draft
                .auth
                .expiry_minutes
                .map(|minutes| minutes.to_string())
                .unwrap_or_default(),
            button_text: draft.auth.button_text.clone(),
            otp_type: if draft.auth.one_tap.is_some() {
                "one_tap"
            } else {
                "copy_code"
            }
            .to_owned(),
            package_name: draft
                .auth
                .one_tap
                .as_ref()
                .map(|one_tap| one_tap.package_name.clone())
                .unwrap_or_default(),
            signature_hash: draft
                .auth
                .one_tap
                .as_ref()
                .map(|one_tap| one_tap.signature_hash.clone())
                .unwrap_or_default(),
            autofill_text: draft
                .auth
                .one_tap
                .as_ref()
                .map(|one_tap| one_tap.autofill_text.clone())
                .unwrap_or_default(),
            ..Self::default()
        }
    }

    fn read(fields: &[(String, String)]) -> Self {
        let get = |name: &str| {
            fields
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        Self {
            waba_id: get("waba_id"),
            name: get("name").trim().to_owned(),
            language: get("language").trim().to_owned(),
            category: get("category"),
            named: get("format") == "named",
            header: get("header"),
            header_example: get("header_example"),
            body: get("body").replace("\r\n", "\n"),
            body_examples: get("body_examples").replace("\r\n", "\n"),
            footer: get("footer"),
            buttons: (0..BUTTON_ROWS)
                .map(|i| ButtonRow {
                    kind: get(&format!("button{i}_kind")),
                    text: get(&format!("button{i}_text")),
                    value: get(&format!("button{i}_value")),
                    example: get(&format!("button{i}_example")),
                })
                .collect(),
            header_format: get("header_format"),
            header_handle: get("header_handle"),
            header_sample_name: get("header_sample_name"),
            security_recommendation: get("security_recommendation") == "on",
            expiry_minutes: get("expiry_minutes").trim().to_owned(),
            button_text: get("button_text"),
            otp_type: get("otp_type"),
            package_name: get("package_name"),
            signature_hash: get("signature_hash"),
            autofill_text: get("autofill_text"),
        }
    }

    fn draft(&self) -> Draft {
        Draft {
            name: self.name.clone(),
            language: self.language.clone(),
            category: match self.category.as_str() {
                "marketing" => Some(Category::Marketing),
                "utility" => Some(Category::Utility),
                "authentication" => Some(Category::Authentication),
                _ => None,
            },
            named: self.named,
            header_format: HeaderFormat::parse(&self.header_format).unwrap_or_default(),
            header: self.header.trim().to_owned(),
            header_example: self.header_example.clone(),
            header_handle: self.header_handle.trim().to_owned(),
            body: self.body.trim().to_owned(),
            body_examples: self
                .body_examples
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(str::to_owned)
                .collect(),
            footer: self.footer.trim().to_owned(),
            buttons: self
                .buttons
                .iter()
                .filter_map(|row| {
                    Some(DraftButton {
                        kind: ButtonKind::parse(&row.kind)?,
                        text: row.text.clone(),
                        value: row.value.clone(),
                        example: row.example.clone(),
                    })
                })
                .collect(),
            auth: AuthLayout {
                security_recommendation: self.security_recommendation,
                // Anything but a number of minutes is out of Meta's range, and said so.
                expiry_minutes: (!self.expiry_minutes.is_empty())
                    .then(|| self.expiry_minutes.parse().unwrap_or(0)),
                button_text: self.button_text.clone(),
                one_tap: (self.otp_type == "one_tap").then(|| OneTap {
                    package_name: self.package_name.clone(),
                    signature_hash: self.signature_hash.clone(),
                    autofill_text: self.autofill_text.clone(),
                }),
            },
        }
    }
}

/// `templates/admin/template_form.html`.
#[derive(Template)]
#[template(path = "admin/template_form.html")]
struct FormPage {
    agent: Agent,
    /// The template edited, and its status; `None` for a new one.
    editing: Option<(TemplateId, TemplateStatus)>,
    wabas: Vec<String>,
    typed: Typed,
    problems: Vec<Problem>,
    /// Meta's refusal, in words.
    refusal: Option<String>,
    preview: Option<Preview>,
}

impl FormPage {
    /// Where the form posts.
    fn action(&self) -> String {
        match self.editing {
            Some((id, _)) => format!("/admin/templates/{id}/edit"),
            None => "/admin/templates/new".to_owned(),
        }
    }

    /// Whether the category is fixed (an approved template keeps its own).
    fn category_fixed(&self) -> bool {
        self.editing
            .is_some_and(|(_, status)| status == TemplateStatus::Approved)
    }

    /// The problem of `field`, if any.
    fn problem(&self, field: &str) -> Option<&str> {
        self.problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| p.message.as_str())
    }

    /// The problem of button row `i`, if any.
    fn button_problem(&self, i: &usize) -> Option<&str> {
        // Rows left empty are not buttons: the draft's i-th button is the i-th filled row.
        let row = self
            .typed
            .buttons
            .iter()
            .enumerate()
            .filter(|(_, row)| ButtonKind::parse(&row.kind).is_some())
            .position(|(at, _)| at == *i)?;
        self.problem(&format!("button{row}"))
    }

    /// The header's formats: (value, label).
    fn header_formats(&self) -> [(&'static str, &'static str); 4] {
        [
            ("text", "Text (or none)"),
            ("image", "Image"),
            ("video", "Video"),
            ("document", "Document (PDF)"),
        ]
    }

    /// Whether the header format `value` is the one typed (text when none is).
    fn header_format_is(&self, value: &str) -> bool {
        HeaderFormat::parse(&self.typed.header_format)
            .unwrap_or_default()
            .as_form()
            == value
    }

    fn languages(&self) -> [&'static str; 14] {
        LANGUAGES
    }

    /// The button kinds a row offers: (value, label).
    fn kinds(&self) -> [(&'static str, &'static str); 5] {
        [
            ("", "No button"),
            ("quick_reply", "Quick reply"),
            ("url", "Link"),
            ("phone_number", "Call"),
            ("copy_code", "Copy code"),
        ]
    }
}

/// The tenant's WABAs with a number to submit through.
async fn wabas(state: &AppState, agent: &Agent) -> Result<Vec<String>> {
    let mut conn = state.db.acquire().await?;
    Ok(numbers::wabas(&mut conn, agent.tenant_id).await?)
}

/// `GET /admin/templates/new`.
pub async fn show(State(state): State<AppState>, agent: Agent) -> Result<Response> {
    let wabas = wabas(&state, &agent).await?;
    let mut conn = state.db.acquire().await?;
    let settings = tenants::settings(&mut conn, agent.tenant_id).await?;
    drop(conn);
    let typed = Typed {
        waba_id: wabas.first().cloned().unwrap_or_default(),
        language: settings.default_language,
        category: "utility".into(),
        buttons: vec![ButtonRow::default(); BUTTON_ROWS],
        ..Typed::default()
    };
    let page = FormPage {
        agent,
        editing: None,
        wabas,
        typed,
        problems: Vec::new(),
        refusal: None,
        preview: None,
    };
    Ok(render(&page)?.into_response())
}

/// The tenant's template `id` for the edit form (404 for another tenant's, or one the form cannot
/// write).
async fn editable(state: &AppState, agent: &Agent, id: TemplateId) -> Result<Editable> {
    let mut conn = state.db.acquire().await?;
    edit::editable(&mut conn, agent.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /admin/templates/{id}/edit`.
pub async fn show_edit(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<TemplateId>,
) -> Result<Response> {
    let editable = editable(&state, &agent, id).await?;
    let refusal = edit::refusal(editable.status, &[], chrono::Utc::now());
    let page = FormPage {
        agent,
        editing: Some((id, editable.status)),
        wabas: Vec::new(),
        typed: Typed::of(&editable.draft),
        problems: Vec::new(),
        refusal,
        preview: Some(preview(&editable.draft)),
    };
    Ok(render(&page)?.into_response())
}

/// `POST /admin/templates/{id}/edit`: submit (`intent=submit`) or preview.
pub async fn submit_edit(
    State(state): State<AppState>,
    agent: Agent,
    Path(id): Path<TemplateId>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let editable = editable(&state, &agent, id).await?;
    let mut typed = Typed::read(&fields);
    // The name and language are the template's own, whatever the form says.
    typed.name.clone_from(&editable.draft.name);
    typed.language.clone_from(&editable.draft.language);
    let draft = typed.draft();
    let (status, problems, refusal) = if fields.iter().any(|(k, v)| k == "intent" && v == "submit")
    {
        let edited = edit::edit(
            &state.db,
            &state.cipher,
            &state.graph,
            &state.config.graph_urls(),
            agent.tenant_id,
            agent.user_id,
            id,
            &draft,
        )
        .await?
        .ok_or(AppError::NotFound)?;
        let Some((problems, refusal)) = refused(edited, "the edit") else {
            return Ok(Redirect::to("/admin/templates").into_response());
        };
        (StatusCode::UNPROCESSABLE_ENTITY, problems, refusal)
    } else {
        (StatusCode::OK, draft.check(), None)
    };
    let page = FormPage {
        agent,
        editing: Some((id, editable.status)),
        wabas: Vec::new(),
        preview: Some(preview(&draft)),
        typed,
        problems,
        refusal,
    };
    Ok((status, render(&page)?).into_response())
}

/// What the form shows again after a refused submission of `what` (the problems by field, or
/// Meta's refusal in words); `None` when it was taken.
fn refused<T>(submitted: Submitted<T>, what: &str) -> Option<(Vec<Problem>, Option<String>)> {
    match submitted {
        Submitted::Created(_) => None,
        Submitted::Refused(problems) => Some((problems, None)),
        Submitted::MetaRefused(failure) => {
            let (title, message) = failure.in_words();
            Some((
                Vec::new(),
                Some(format!("WhatsApp refused {what}: {title}. {message}")),
            ))
        }
    }
}

/// The preview of `draft`, its samples in place of its variables.
fn preview(draft: &Draft) -> Preview {
    let components = draft.components();
    let definition = TemplateDefinition {
        components: &components,
        parameter_format: Some(if draft.named { "NAMED" } else { "POSITIONAL" }),
    };
    let variables = template_check::variables(&definition);
    Preview::new(&components, &variables, &[])
}

/// `POST /admin/templates/new`: submit (`intent=submit`) or preview.
pub async fn submit(
    State(state): State<AppState>,
    agent: Agent,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let typed = Typed::read(&fields);
    let draft = typed.draft();
    let wabas = wabas(&state, &agent).await?;
    // Only the Submit button sends it to Meta; anything else previews.
    let previewing = !fields.iter().any(|(k, v)| k == "intent" && v == "submit");
    let (status, problems, refusal) = if previewing {
        (StatusCode::OK, draft.check(), None)
    } else {
        if !wabas.contains(&typed.waba_id) {
            return Err(AppError::NotFound);
        }
        let submitted = submit::submit(
            &state.db,
            &state.cipher,
            &state.graph,
            &state.config.graph_urls(),
            agent.tenant_id,
            SentBy::Agent(agent.user_id),
            &typed.waba_id,
            &draft,
        )
        .await?
        .ok_or(AppError::NotFound)?;
        let Some((problems, refusal)) = refused(submitted, "the template") else {
            return Ok(Redirect::to("/admin/templates").into_response());
        };
        (StatusCode::UNPROCESSABLE_ENTITY, problems, refusal)
    };
    let page = FormPage {
        agent,
        editing: None,
        wabas,
        preview: Some(preview(&draft)),
        typed,
        problems,
        refusal,
    };
    Ok((status, render(&page)?).into_response())
}

/// The largest sample a media header takes here (Meta's own limits are per format, see
/// [`HeaderFormat::sample_types`]).
pub const SAMPLE_LIMIT: usize = 16 * 1024 * 1024;

/// `POST /admin/templates/sample` (multipart: the whole form and `header_sample`): uploads the
/// media header's sample to Meta for the WABA's app (its Resumable Upload API) and shows the form
/// again with the sample's handle kept, everything typed, and the preview. With `editing` (the edit
/// form's), for the template edited.
pub async fn sample(
    State(state): State<AppState>,
    MultipartAgent(agent): MultipartAgent,
    mut multipart: Multipart,
) -> Result<Response> {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file = None;
    let cut = |e: MultipartError| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::PayloadTooLarge,
        _ => AppError::BadRequest(format!("the form was cut short: {e}")),
    };
    while let Some(field) = multipart.next_field().await.map_err(cut)? {
        let name = field.name().unwrap_or_default().to_owned();
        // The token comes first in the form: nothing else is read without it.
        let csrf = fields.iter().find(|(key, _)| key == "csrf");
        if name != "csrf" && !csrf.is_some_and(|(_, token)| csrf::matches(&agent.csrf_token, token))
        {
            return Err(AppError::Forbidden);
        }
        if name == "header_sample" {
            let filename = field.file_name().unwrap_or("sample").to_owned();
            let mime = field.content_type().unwrap_or_default().to_owned();
            let bytes = field.bytes().await.map_err(cut)?;
            if !bytes.is_empty() {
                file = Some((filename, mime, bytes));
            }
        } else {
            fields.push((name, field.text().await.map_err(cut)?));
        }
    }
    let mut typed = Typed::read(&fields);
    // The edit form's sample: for the template edited, its name and language its own.
    let editing = match fields.iter().find(|(key, _)| key == "editing") {
        Some((_, id)) => {
            let id = id.parse().map_err(|_| AppError::NotFound)?;
            let editable = editable(&state, &agent, id).await?;
            typed.name.clone_from(&editable.draft.name);
            typed.language.clone_from(&editable.draft.language);
            typed.waba_id = editable.waba_id;
            Some((id, editable.status))
        }
        None => None,
    };
    let wabas = match editing {
        Some(_) => vec![typed.waba_id.clone()],
        None => wabas(&state, &agent).await?,
    };
    let mut problems = Vec::new();
    let format = HeaderFormat::parse(&typed.header_format).unwrap_or_default();
    match file {
        None => {}
        Some(_) if !wabas.contains(&typed.waba_id) => return Err(AppError::NotFound),
        Some((filename, mime, bytes)) => {
            let (types, limit) = format.sample_types();
            if !types.contains(&mime.as_str()) || bytes.len() > limit {
                problems.push(Problem {
                    field: "header_sample".into(),
                    message: sample_refusal(format, types, limit),
                });
            } else {
                match upload_sample(&state, &agent, &typed.waba_id, bytes, &mime, &filename).await?
                {
                    Ok(handle) => {
                        typed.header_handle = handle;
                        typed.header_sample_name = filename;
                    }
                    Err(message) => problems.push(Problem {
                        field: "header_sample".into(),
                        message,
                    }),
                }
            }
        }
    }
    let draft = typed.draft();
    if problems.is_empty() {
        problems = draft.check();
    }
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = FormPage {
        agent,
        wabas: if editing.is_some() { Vec::new() } else { wabas },
        editing,
        preview: Some(preview(&draft)),
        typed,
        problems,
        refusal: None,
    };
    Ok((status, render(&page)?).into_response())
}

/// Why a sample was not taken, in words.
fn sample_refusal(format: HeaderFormat, types: &[&str], limit: usize) -> String {
    if types.is_empty() {
        return "Choose an image, video or document header to upload a sample.".into();
    }
    format!(
        "A sample {} is {} of at most {} MB.",
        format.as_form(),
        types.join(" or "),
        limit / (1024 * 1024)
    )
}

/// Uploads a sample through the first number of WABA `waba_id`, for its Meta app: Meta's handle,
/// or Meta's refusal in words.
async fn upload_sample(
    state: &AppState,
    agent: &Agent,
    waba_id: &str,
    bytes: axum::body::Bytes,
    mime: &str,
    filename: &str,
) -> Result<std::result::Result<String, String>> {
    let mut conn = state.db.acquire().await?;
    let number_id = numbers::first_in_waba(&mut conn, agent.tenant_id, waba_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let number = numbers::credentials(&mut conn, &state.cipher, agent.tenant_id, number_id).await?;
    drop(conn);
    let urls = state.config.graph_urls();
    let auth = Auth {
        base_url: urls.for_number(number.sandbox),
        token: &number.access_token,
    };
    let uploaded = state
        .graph
        .upload_sample(&auth, &number.meta_app_id, bytes, mime, filename)
        .await;
    Ok(uploaded.map_err(|failure| {
        let (title, message) = failure.in_words();
        format!("WhatsApp did not take the sample: {title}. {message}")
    }))
}
