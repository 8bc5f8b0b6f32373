//! `POST /app/{org}/imports/preview`: what a chosen file will become before it is
//! imported. Our module sends the import form with the file's head (the first megabyte of
//! a CSV file) or the whole workbook each time the file or an option changes, and puts
//! the answer — a region of the form — in place: how the file was read (encoding,
//! delimiter, line endings, or the worksheet with a choice of the others), one row per
//! column with what it goes to (a choice of the channel address, customer id, each field,
//! a new field or nothing) and the type it is read as, and the first rows with each cell
//! as the import stores it or why it would refuse the row. The choices are the form's own
//! boxes, so **Import** sends the mapping the person saw. Nothing is stored.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use parley_app::AppError;
use parley_app::imports::PREVIEW_BYTES;
use parley_app::imports::{Encoding, Preview, PreviewCell, Target, normalise_header};
use parley_domain::{FieldDefinition, ImportOptions, OrgId};

use super::import_form::{self, ADDRESS, FormError, IGNORE};
use super::pages::{PageError, Refusal, render};
use super::session::{Session, Viewer};
use crate::AppState;
use crate::problem::ApiError;

/// Rows whose cells each column's line shows as examples.
const EXAMPLES: usize = 3;

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

struct ColumnView {
    index: usize,
    header: String,
    choices: Vec<Choice>,
    reads_as: String,
    examples: Vec<CellView>,
}

struct CellView {
    text: String,
    read: Option<String>,
    problem: Option<String>,
}

struct RowView {
    number: u64,
    cells: Vec<CellView>,
    problem: Option<String>,
}

/// The preview region of the import form.
#[derive(Template)]
#[template(path = "app/import_preview.html")]
struct PreviewRegion {
    file: String,
    detected: String,
    sheets: Vec<(String, bool)>,
    columns: Vec<ColumnView>,
    rows: Vec<RowView>,
    sampled: usize,
    plan_problem: Option<String>,
    read_problem: Option<String>,
    warnings: Vec<String>,
    refused: Option<Refusal>,
}

impl PreviewRegion {
    fn refused(file: String, refusal: Refusal) -> Self {
        Self {
            file,
            detected: String::new(),
            sheets: Vec::new(),
            columns: Vec::new(),
            rows: Vec::new(),
            sampled: 0,
            plan_problem: None,
            read_problem: None,
            warnings: Vec::new(),
            refused: Some(refusal),
        }
    }
}

/// `POST /app/{org}/imports/preview`: the import form with `partial` ("1" when the file
/// part is only the file's head) before the file.
pub(crate) async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    request: Request,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let access = &viewer.access;
    let app = &state.app;
    let read = import_form::read(&state, &headers, &session, request, async |posted, file| {
        let Some(mut file) = file else {
            return Err((String::new(), AppError::invalid("file", "choose a file to preview")));
        };
        let name = file.file_name().unwrap_or_default().to_owned();
        let mut bytes = Vec::new();
        loop {
            match file.chunk().await {
                Ok(Some(chunk)) if bytes.len() + chunk.len() <= PREVIEW_BYTES => {
                    bytes.extend_from_slice(&chunk);
                }
                Ok(Some(_)) => {
                    let e = AppError::invalid(
                        "file",
                        format!("is larger than the {PREVIEW_BYTES} bytes a preview reads; import it without one"),
                    );
                    return Err((name, e));
                }
                Ok(None) => break,
                Err(_) => {
                    let e = AppError::invalid("file", "the upload was cut short; choose the file again");
                    return Err((name, e));
                }
            }
        }
        let options = import_form::options(&posted).map_err(|e| (name.clone(), e))?;
        let partial = posted.get("partial") == "1";
        match app.preview_import(access, &name, bytes, partial, options.clone()).await {
            Ok(preview) => Ok((name, preview, options, posted)),
            Err(e) => Err((name, e)),
        }
    })
    .await;
    let (name, preview, options, posted) = match read {
        Err(FormError::Unchecked(e)) => return Err(e.into()),
        Err(FormError::Checked(e)) => return Ok(refused(String::new(), &e.into())),
        Ok(Err((_, e @ (AppError::Forbidden(_) | AppError::NotFound(_))))) => {
            return Err(e.into());
        }
        Ok(Err((name, e))) => return Ok(refused(name, &e.into())),
        Ok(Ok(seen)) => seen,
    };
    let fields = app.list_fields(access).await?;
    let region = region(name, &preview, &options, &posted, &fields);
    Ok(render(StatusCode::OK, &region))
}

fn refused(file: String, e: &ApiError) -> Response {
    let refusal = Refusal::of(e);
    let status = refusal.status;
    render(status, &PreviewRegion::refused(file, refusal))
}

fn region(
    file: String,
    p: &Preview,
    options: &ImportOptions,
    posted: &super::pages::Posted,
    fields: &[FieldDefinition],
) -> PreviewRegion {
    let plan = p.plan.as_ref().ok();
    let columns = p
        .header
        .iter()
        .enumerate()
        .map(|(index, header)| {
            let planned = plan.map(|plan| &plan.columns[index].target);
            let selected = match planned {
                Some(Target::Address) => ADDRESS.to_owned(),
                Some(Target::CustomerId) => "customer_id".to_owned(),
                Some(Target::Field { key, .. }) => key.as_str().to_owned(),
                Some(Target::Ignore) => IGNORE.to_owned(),
                None => posted.text(&format!("column.{index}")),
            };
            let is_new = |key: &str| {
                plan.is_some_and(|plan| plan.new_fields.iter().any(|f| f.key.as_str() == key))
            };
            let reads_as = match planned {
                Some(Target::Address) => format!("{} address", options.channel_kind().as_str()),
                Some(Target::CustomerId) => "text".to_owned(),
                Some(Target::Field { key, field_type }) if is_new(key.as_str()) => {
                    format!("{field_type} · new field")
                }
                Some(Target::Field { field_type, .. }) => field_type.to_string(),
                Some(Target::Ignore) => "not imported".to_owned(),
                None => String::new(),
            };
            ColumnView {
                index,
                header: header.clone(),
                choices: choices(header, &selected, fields),
                reads_as,
                examples: p
                    .rows
                    .iter()
                    .take(EXAMPLES)
                    .map(|r| cell(&r.cells[index]))
                    .collect(),
            }
        })
        .collect();
    let detected = match (&p.dialect, &p.sheet) {
        (Some(d), _) => format!(
            "CSV in {}, values separated by {}, {} line endings",
            match d.encoding {
                Encoding::Utf8 => "UTF-8",
                Encoding::Utf16Le => "UTF-16 (little-endian)",
                Encoding::Utf16Be => "UTF-16 (big-endian)",
                Encoding::Windows1252 => "Windows-1252",
            },
            match d.delimiter {
                b';' => "semicolons",
                b'\t' => "tabs",
                b'|' => "vertical bars",
                _ => "commas",
            },
            if d.crlf { "Windows" } else { "Unix" }
        ),
        (None, Some(sheet)) => format!("Excel workbook, worksheet “{sheet}”"),
        (None, None) => String::new(),
    };
    PreviewRegion {
        file,
        detected,
        sheets: p
            .sheets
            .iter()
            .map(|s| (s.clone(), p.sheet.as_ref() == Some(s)))
            .collect(),
        columns,
        rows: p
            .rows
            .iter()
            .map(|r| RowView {
                number: r.number,
                cells: r.cells.iter().map(cell).collect(),
                problem: r.problem.clone(),
            })
            .collect(),
        sampled: p.sampled,
        plan_problem: p.plan.as_ref().err().map(ToString::to_string),
        read_problem: p.error.as_ref().map(ToString::to_string),
        warnings: plan.map(|plan| plan.warnings.clone()).unwrap_or_default(),
        refused: None,
    }
}

fn cell(c: &PreviewCell) -> CellView {
    let (read, problem) = match &c.read {
        Ok(Some(v)) if *v != c.text => (Some(v.clone()), None),
        Ok(_) => (None, None),
        Err(reason) => (None, Some(reason.clone())),
    };
    CellView {
        text: c.text.clone(),
        read,
        problem,
    }
}

/// What a column may go to: the channel address, the customer id, each field, a new
/// field named by its header (when it names none), or nothing.
fn choices(header: &str, selected: &str, fields: &[FieldDefinition]) -> Vec<Choice> {
    let choice = |value: String, label: String| Choice {
        selected: value == selected,
        value,
        label,
    };
    let mut all = vec![
        choice(String::new(), "By its header".to_owned()),
        choice(ADDRESS.to_owned(), "Channel address".to_owned()),
        choice("customer_id".to_owned(), "Customer id".to_owned()),
    ];
    for f in fields.iter().filter(|f| f.key.as_str() != "customer_id") {
        all.push(choice(
            f.key.as_str().to_owned(),
            format!("{} ({})", f.label, f.field_type),
        ));
    }
    let key = normalise_header(header);
    let new_key = key.parse::<parley_domain::FieldKey>().is_ok()
        && !fields.iter().any(|f| f.key.as_str() == key);
    if new_key || (!selected.starts_with('@') && !all.iter().any(|c| c.value == selected)) {
        let key = if new_key { key } else { selected.to_owned() };
        all.push(choice(key.clone(), format!("New field “{key}”")));
    }
    all.push(choice(IGNORE.to_owned(), "Not imported".to_owned()));
    all
}
