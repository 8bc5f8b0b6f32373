//! From a header row to a column plan: header normalisation, the explicit mapping, the
//! channel-address column, built-in and known fields, and the fields unknown columns
//! become (`text` here; [`crate::infer`] types them from the file's first rows). Errors and warnings name a few headers, each shortened, never the
//! whole header: a file may have thousands of columns.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use parley_domain::{
    ChannelKind, FieldDefinition, FieldKey, FieldType, ImportOptions, MAX_FIELD_KEY_LEN,
};

use crate::infer::{NewField, infer_column, personal_type};
use crate::limits::{Count, shorten};
use crate::source::{CellRef, Row};
use crate::values::ValueContext;

/// Headers an error lists before "… and N more".
const LISTED_HEADERS: usize = 10;
/// Characters of one header an error or warning repeats.
const HEADER_CHARS: usize = 40;
/// Characters of a name from the options an error repeats.
const OPTION_CHARS: usize = 100;

/// Header words that name the channel-address column, strongest first.
const ADDRESS_WORDS: [&str; 9] = [
    "msisdn",
    "mobile",
    "mob",
    "cell",
    "cellphone",
    "whatsapp",
    "phone",
    "telephone",
    "tel",
];

/// What a column feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The channel address.
    Address,
    /// The built-in `customer_id`.
    CustomerId,
    /// A field value.
    Field {
        /// The key.
        key: FieldKey,
        /// How values are read.
        field_type: FieldType,
    },
    /// Not imported.
    Ignore,
}

/// One column of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The header as written.
    pub header: String,
    /// What it feeds.
    pub target: Target,
}

/// How each column of a file is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPlan {
    /// One entry per header cell.
    pub columns: Vec<Column>,
    /// The index of the address column.
    pub address_column: usize,
    /// The channel the addresses belong to.
    pub channel: ChannelKind,
    /// Fields to create with the first imported row: `text` as planned, typed from the
    /// file's first rows by [`type_new_fields`].
    pub new_fields: Vec<NewField>,
    /// Things worth telling the operator.
    pub warnings: Vec<String>,
}

/// Why the header and options do not make a plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// No column holds the channel address.
    #[error(
        "no channel-address column: none of the headers ({headers}) looks like a phone number column; name it with `address_column`"
    )]
    NoAddressColumn {
        /// The first headers, comma-separated, and how many more there are.
        headers: String,
    },
    /// A column named in the options is not in the file.
    #[error(
        "`{option}` names column `{column}`, which the file does not have (headers: {headers})"
    )]
    MissingColumn {
        /// `mapping` or `address_column`.
        option: &'static str,
        /// The column asked for.
        column: String,
        /// The first headers, comma-separated, and how many more there are.
        headers: String,
    },
    /// A mapping target is not a valid field key.
    #[error(
        "mapping for column `{column}`: `{target}` is not a field key (snake_case, starting with a letter)"
    )]
    BadTarget {
        /// The column.
        column: String,
        /// The target given.
        target: String,
    },
    /// Two columns feed the same field.
    #[error(
        "columns {first} and {second} (`{first_header}`, `{second_header}`) both map to `{key}`"
    )]
    DuplicateTarget {
        /// The field key.
        key: String,
        /// 1-based index of the first column.
        first: usize,
        /// Its header.
        first_header: String,
        /// 1-based index of the second column.
        second: usize,
        /// Its header.
        second_header: String,
    },
}

/// `"Mobile Number"` → `mobile_number`: lower case, accents dropped, every run of other
/// characters one `_`, trimmed; a leading digit gets `col_` in front; at most 64 chars.
#[must_use]
pub fn normalise_header(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut gap = false;
    for c in header.chars().flat_map(char::to_lowercase) {
        let c = fold_accent(c);
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "col_");
    }
    out.truncate(MAX_FIELD_KEY_LEN);
    out.trim_end_matches('_').to_owned()
}

fn fold_accent(c: char) -> char {
    match c {
        'à'..='å' | 'ā' => 'a',
        'ç' | 'č' => 'c',
        'è'..='ë' | 'ē' => 'e',
        'ì'..='ï' => 'i',
        'ñ' => 'n',
        'ò'..='ö' | 'ø' => 'o',
        'ù'..='ü' => 'u',
        'ý' | 'ÿ' => 'y',
        'ß' => 's',
        other => other,
    }
}

/// The first headers, each shortened, comma-separated, then "… and N more": what an
/// error says of a header, whatever its width.
#[must_use]
pub fn summarise_headers(headers: &[String]) -> String {
    let mut text = headers
        .iter()
        .take(LISTED_HEADERS)
        .map(|h| shorten(h, HEADER_CHARS))
        .collect::<Vec<_>>()
        .join(", ");
    if headers.len() > LISTED_HEADERS {
        let _ = write!(
            text,
            " … and {} more",
            Count((headers.len() - LISTED_HEADERS) as u64)
        );
    }
    text
}

/// The warning for the columns (from 0) that have no header: the first few by number
/// and how many there are.
fn no_header_warning(columns: &[usize]) -> Option<String> {
    let (first, rest) = columns.split_first()?;
    if rest.is_empty() {
        return Some(format!(
            "column {} has no header and was ignored",
            first + 1
        ));
    }
    let listed: Vec<String> = columns
        .iter()
        .take(LISTED_HEADERS)
        .map(|c| (c + 1).to_string())
        .collect();
    let more = if columns.len() > LISTED_HEADERS {
        format!(" … ({} in all)", Count(columns.len() as u64))
    } else {
        String::new()
    };
    Some(format!(
        "columns {}{more} have no header and were ignored",
        listed.join(", ")
    ))
}

fn find_column(headers: &[String], name: &str) -> Option<usize> {
    headers.iter().position(|h| h == name).or_else(|| {
        let wanted = normalise_header(name);
        headers.iter().position(|h| normalise_header(h) == wanted)
    })
}

fn detect_address(headers: &[String], taken: &[bool]) -> Option<usize> {
    let words: Vec<Vec<String>> = headers
        .iter()
        .map(|h| normalise_header(h).split('_').map(str::to_owned).collect())
        .collect();
    ADDRESS_WORDS.iter().find_map(|word| {
        words
            .iter()
            .enumerate()
            .find(|(i, w)| !taken[*i] && w.iter().any(|x| x == word))
            .map(|(i, _)| i)
    })
}

/// Builds the plan for `headers` under `options`, given the organization's `known`
/// field definitions (built-ins included or not).
pub fn plan(
    headers: &[String],
    options: &ImportOptions,
    known: &[FieldDefinition],
) -> Result<ImportPlan, PlanError> {
    let listing = || summarise_headers(headers);
    let mut targets: Vec<Option<Target>> = vec![None; headers.len()];
    let mut warnings = Vec::new();
    for (name, target) in &options.mapping {
        let index = find_column(headers, name).ok_or_else(|| PlanError::MissingColumn {
            option: "mapping",
            column: shorten(name, OPTION_CHARS),
            headers: listing(),
        })?;
        targets[index] = Some(match target {
            None => Target::Ignore,
            Some(key) => key_target(key, known).ok_or_else(|| PlanError::BadTarget {
                column: shorten(name, OPTION_CHARS),
                target: shorten(key, OPTION_CHARS),
            })?,
        });
    }
    let address_column = match &options.address_column {
        Some(name) => find_column(headers, name).ok_or_else(|| PlanError::MissingColumn {
            option: "address_column",
            column: shorten(name, OPTION_CHARS),
            headers: listing(),
        })?,
        None => {
            let taken: Vec<bool> = targets.iter().map(Option::is_some).collect();
            detect_address(headers, &taken)
                .ok_or_else(|| PlanError::NoAddressColumn { headers: listing() })?
        }
    };
    targets[address_column] = Some(Target::Address);
    let mut new_fields = Vec::new();
    let mut without_header = Vec::new();
    for (i, header) in headers.iter().enumerate() {
        if targets[i].is_some() {
            continue;
        }
        let key = normalise_header(header);
        if key.is_empty() {
            without_header.push(i);
            targets[i] = Some(Target::Ignore);
            continue;
        }
        targets[i] = Some(match key_target(&key, known) {
            Some(t @ Target::CustomerId) => t,
            Some(t) if is_known(&key, known) => t,
            _ if options.ignore_unknown => Target::Ignore,
            Some(t) => t,
            None => Target::Ignore,
        });
    }
    warnings.extend(no_header_warning(&without_header));
    let columns: Vec<Column> = headers
        .iter()
        .zip(targets)
        .map(|(h, t)| Column {
            header: h.clone(),
            target: t.unwrap_or(Target::Ignore),
        })
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, c) in columns.iter().enumerate() {
        let key = match &c.target {
            Target::Field { key, .. } => key.as_str().to_owned(),
            Target::CustomerId => "customer_id".to_owned(),
            Target::Address => "(channel address)".to_owned(),
            Target::Ignore => continue,
        };
        if let Some(&first) = seen.get(&key) {
            return Err(PlanError::DuplicateTarget {
                key,
                first: first + 1,
                first_header: shorten(&columns[first].header, HEADER_CHARS),
                second: i + 1,
                second_header: shorten(&c.header, HEADER_CHARS),
            });
        }
        seen.insert(key, i);
        if let Target::Field { key, .. } = &c.target
            && !is_known(key.as_str(), known)
            && !key.is_builtin()
        {
            new_fields.push(NewField::text(key.clone(), &c.header));
        }
    }
    Ok(ImportPlan {
        columns,
        address_column,
        channel: options.channel_kind(),
        new_fields,
        warnings,
    })
}

fn is_known(key: &str, known: &[FieldDefinition]) -> bool {
    known.iter().any(|d| d.key.as_str() == key)
}

fn key_target(key: &str, known: &[FieldDefinition]) -> Option<Target> {
    let key: FieldKey = key.parse().ok()?;
    if key.as_str() == "customer_id" {
        return Some(Target::CustomerId);
    }
    let field_type = known
        .iter()
        .find(|d| d.key == key)
        .map_or(FieldType::Text, |d| d.field_type);
    Some(Target::Field { key, field_type })
}

/// New fields listed in the import's warning before "… and N more".
const LISTED_FIELDS: usize = 10;

/// Types each new field of a plan from the sampled rows: sets its column's type and the
/// field's, marks it `pii` by name or type, and adds a warning listing the new fields
/// (and any column left as text although it looked like dates).
pub fn type_new_fields(plan: &mut ImportPlan, sample: &[&Row], ctx: &mut ValueContext) {
    if plan.new_fields.is_empty() {
        return;
    }
    let mut notes = Vec::new();
    for (index, column) in plan.columns.iter_mut().enumerate() {
        let Target::Field { key, field_type } = &mut column.target else {
            continue;
        };
        let Some(field) = plan.new_fields.iter_mut().find(|f| f.key == *key) else {
            continue;
        };
        let cells: Vec<CellRef<'_>> = sample
            .iter()
            .map(|row| row.cell(index))
            .filter(|c| !c.is_empty())
            .collect();
        let inferred = infer_column(key.as_str(), &cells, ctx);
        *field_type = inferred.field_type;
        field.field_type = inferred.field_type;
        field.pii = field.pii || personal_type(inferred.field_type);
        if let Some(note) = inferred.note {
            notes.push(format!("column `{}`: {note}", shorten(&column.header, 40)));
        }
    }
    plan.warnings.push(new_fields_warning(&plan.new_fields));
    plan.warnings.extend(notes);
}

/// "new fields: date_of_birth (date, personal data), balance (money) … and 3 more".
fn new_fields_warning(fields: &[NewField]) -> String {
    let mut text = String::from("new fields from this file's columns: ");
    for (i, f) in fields.iter().take(LISTED_FIELDS).enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        let _ = write!(text, "{} ({}", f.key.as_str(), f.field_type.as_str());
        if f.pii {
            text.push_str(", personal data");
        }
        text.push(')');
    }
    if fields.len() > LISTED_FIELDS {
        let _ = write!(
            text,
            " … and {} more",
            Count((fields.len() - LISTED_FIELDS) as u64)
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn headers_normalise() {
        assert_eq!(normalise_header("Mobile Number"), "mobile_number");
        assert_eq!(
            normalise_header("  Date of Birth (DOB) "),
            "date_of_birth_dob"
        );
        assert_eq!(normalise_header("Prénom"), "prenom");
        assert_eq!(normalise_header("1st line"), "col_1st_line");
        assert_eq!(normalise_header("%%"), "");
    }

    #[test]
    fn address_is_detected_and_unknown_columns_become_text() {
        let p = plan(
            &headers(&["Customer ID", "Home Phone", "Mobile No", "Balance", ""]),
            &ImportOptions::default(),
            &[],
        )
        .unwrap();
        assert_eq!(p.address_column, 2, "mobile beats phone");
        assert_eq!(p.columns[0].target, Target::CustomerId);
        assert_eq!(
            p.new_fields
                .iter()
                .map(|f| f.key.as_str())
                .collect::<Vec<_>>(),
            ["home_phone", "balance"]
        );
        assert_eq!(p.columns[4].target, Target::Ignore);
        assert_eq!(p.warnings, ["column 5 has no header and was ignored"]);
    }

    #[test]
    fn mapping_and_ignore_unknown() {
        let mut options = ImportOptions {
            ignore_unknown: true,
            ..ImportOptions::default()
        };
        options
            .mapping
            .insert("Ref".into(), Some("customer_id".into()));
        options.mapping.insert("Notes".into(), None);
        let p = plan(&headers(&["Ref", "cell", "Notes", "Other"]), &options, &[]).unwrap();
        assert_eq!(p.columns[0].target, Target::CustomerId);
        assert_eq!(p.columns[2].target, Target::Ignore);
        assert_eq!(p.columns[3].target, Target::Ignore);
        assert!(p.new_fields.is_empty());
    }

    #[test]
    fn a_wide_header_is_summarised_not_echoed() {
        let mut wide: Vec<String> = (0..100_000).map(|i| format!("column {i}")).collect();
        wide[7] = "x".repeat(10_000);
        let e = plan(&wide, &ImportOptions::default(), &[]).unwrap_err();
        let message = e.to_string();
        assert!(message.len() < 700, "{} bytes", message.len());
        assert!(
            message.contains("column 0, column 1, column 2")
                && message.contains("… and 99,990 more"),
            "{message}"
        );
        assert!(
            message.contains(&format!("{}…", "x".repeat(40))),
            "{message}"
        );
        let mut options = ImportOptions::default();
        options.mapping.insert("y".repeat(5000), None);
        let e = plan(&wide, &options, &[]).unwrap_err();
        assert!(e.to_string().len() < 900, "{e}");

        let mut blank = vec![String::new(); 50_000];
        blank[3] = "Mobile".into();
        let p = plan(&blank, &ImportOptions::default(), &[]).unwrap();
        assert_eq!(
            p.warnings,
            [
                "columns 1, 2, 3, 5, 6, 7, 8, 9, 10, 11 … (49,999 in all) have no header and were ignored"
            ]
        );
    }

    #[test]
    fn plan_errors_name_the_columns() {
        let e = plan(
            &headers(&["name", "balance"]),
            &ImportOptions::default(),
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("name, balance"), "{e}");
        let e = plan(
            &headers(&["phone", "Balance", "balance "]),
            &ImportOptions::default(),
            &[],
        )
        .unwrap_err();
        assert!(e.to_string().contains("columns 2 and 3"), "{e}");
        let mut options = ImportOptions::default();
        options.mapping.insert("Nope".into(), Some("x".into()));
        let e = plan(&headers(&["phone"]), &options, &[]).unwrap_err();
        assert!(e.to_string().contains("`Nope`"), "{e}");
        options.mapping.clear();
        options
            .mapping
            .insert("phone".into(), Some("Bad Key".into()));
        options.address_column = Some("phone".into());
        assert!(matches!(
            plan(&headers(&["phone"]), &options, &[]),
            Err(PlanError::BadTarget { .. })
        ));
    }
}
