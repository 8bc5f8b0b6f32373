//! What a new column holds, read from its header and the first rows of the file: a first
//! import into an organization with no field definitions makes typed fields, so the same
//! import already refuses `31/02/1980` in a date-of-birth column.
//!
//! A column becomes a type when *every* sampled value is written like one (all dates have
//! three numeric parts, all e-mail addresses an `@`…) and at least half of them read as
//! one (any number of them, for dates); values written like the type that still do not
//! read (`31/02/1980`, `1990-13-45`) are refused row by row with the parser's reason. A
//! column whose values are mixed stays `text`, as does one with no value in the sample.
//! Some types are taken only when the header names them: phone numbers (else an account
//! number would be one), postcodes, `1`/`0` booleans and dates written as bare digits. A
//! column of dates that mostly read only in the other date order (day-first against
//! month-first) stays `text`, with a warning saying so. Likely personal data (names, dates of birth, contact details, postcodes,
//! national identifiers) is marked `pii` by its header or its type.
//!
//! The sample is the first [`SAMPLE_ROWS`] rows: a value past it that does not read as
//! the column's type is refused with its reason, as with any defined field.

use parley_domain::{FieldKey, FieldType};

use crate::limits::Count;
use crate::source::CellRef;
use crate::values::{
    ValueContext, cell_text, parse_bool, parse_date, parse_datetime, parse_email, parse_money,
    parse_number, parse_postcode, parse_url,
};

/// Rows of the file read before the new columns are typed.
pub const SAMPLE_ROWS: usize = 1000;
/// Most characters of a field's label (as the fields API allows).
const LABEL_CHARS: usize = 100;

/// A field an import creates for a column it does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewField {
    /// The key, from the normalised header.
    pub key: FieldKey,
    /// The header as written (trimmed, at most 100 characters), else the key.
    pub label: String,
    /// The type its values were read as.
    pub field_type: FieldType,
    /// Whether it likely holds personal data.
    pub pii: bool,
}

impl NewField {
    /// A `text` field for the column headed `header`, `pii` by its name.
    #[must_use]
    pub fn text(key: FieldKey, header: &str) -> Self {
        let label = shorten_label(header.trim(), key.as_str());
        let pii = personal_by_name(key.as_str());
        Self {
            key,
            label,
            field_type: FieldType::Text,
            pii,
        }
    }
}

fn shorten_label(header: &str, key: &str) -> String {
    if header.is_empty() {
        return key.to_owned();
    }
    header.chars().take(LABEL_CHARS).collect()
}

/// The words of a normalised key.
fn words(key: &str) -> impl Iterator<Item = &str> {
    key.split('_').filter(|w| !w.is_empty())
}

fn has_word(key: &str, list: &[&str]) -> bool {
    words(key).any(|w| list.contains(&w))
}

/// The type a header names, if it names one.
#[must_use]
pub fn hinted_type(key: &str) -> Option<FieldType> {
    const DATES: &[&str] = &["date", "dob", "birthday", "birthdate", "dateofbirth"];
    const INSTANTS: &[&str] = &["timestamp", "datetime"];
    const MONEY: &[&str] = &[
        "amount",
        "balance",
        "arrears",
        "owed",
        "owing",
        "debt",
        "price",
        "cost",
        "fee",
        "fees",
        "payment",
        "paid",
        "total",
        "outstanding",
        "instalment",
        "installment",
        "charge",
        "charges",
        "salary",
        "income",
    ];
    const PHONES: &[&str] = &[
        "phone",
        "mobile",
        "tel",
        "telephone",
        "cell",
        "cellphone",
        "msisdn",
        "whatsapp",
        "landline",
    ];
    const EMAILS: &[&str] = &["email", "mail"];
    const POSTCODES: &[&str] = &["postcode", "zip", "zipcode", "eircode", "postal"];
    const URLS: &[&str] = &["url", "link", "website", "web"];
    const FLAGS: &[&str] = &["is", "has", "opted", "consent", "vulnerable", "active"];
    if has_word(key, INSTANTS) || key.ends_with("_at") {
        Some(FieldType::Datetime)
    } else if has_word(key, DATES) || key.contains("birth") {
        Some(FieldType::Date)
    } else if has_word(key, EMAILS) || key.contains("email") {
        Some(FieldType::Email)
    } else if has_word(key, PHONES) {
        Some(FieldType::Phone)
    } else if has_word(key, POSTCODES) {
        Some(FieldType::Postcode)
    } else if has_word(key, URLS) {
        Some(FieldType::Url)
    } else if has_word(key, MONEY) {
        Some(FieldType::Money)
    } else if words(key).next().is_some_and(|w| FLAGS.contains(&w)) {
        Some(FieldType::Boolean)
    } else {
        None
    }
}

/// Whether a column so named likely holds personal data.
#[must_use]
pub fn personal_by_name(key: &str) -> bool {
    const PERSONAL: &[&str] = &[
        "name",
        "firstname",
        "lastname",
        "surname",
        "forename",
        "forenames",
        "dob",
        "birthday",
        "birthdate",
        "email",
        "address",
        "street",
        "postcode",
        "zip",
        "zipcode",
        "eircode",
        "phone",
        "mobile",
        "telephone",
        "landline",
        "ssn",
        "pps",
        "ppsn",
        "nino",
        "passport",
        "iban",
        "national",
        "nationality",
        "gender",
    ];
    has_word(key, PERSONAL) || key.contains("birth") || key.contains("email")
}

/// Types whose values are personal data whatever the header says.
pub(crate) fn personal_type(t: FieldType) -> bool {
    matches!(t, FieldType::Email | FieldType::Phone | FieldType::Postcode)
}

/// What the sample says of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    /// The type to create the field with.
    pub field_type: FieldType,
    /// Why a type the values looked like was not taken, for the import's warnings.
    pub note: Option<String>,
}

/// Candidates, in the order they are tried: the narrowest first.
const CANDIDATES: [FieldType; 9] = [
    FieldType::Boolean,
    FieldType::Datetime,
    FieldType::Date,
    FieldType::Phone,
    FieldType::Money,
    FieldType::Number,
    FieldType::Email,
    FieldType::Url,
    FieldType::Postcode,
];

/// The type of the column keyed `key` whose sampled non-empty cells are `cells`.
pub fn infer_column(key: &str, cells: &[CellRef<'_>], ctx: &mut ValueContext) -> Inferred {
    let hint = hinted_type(key);
    let mut note = None;
    if cells.is_empty() {
        return Inferred {
            field_type: FieldType::Text,
            note,
        };
    }
    for t in CANDIDATES {
        if !cells.iter().all(|c| written_like(t, *c, hint)) {
            continue;
        }
        let (mut read, mut total) = (0usize, 0usize);
        for c in cells {
            total += 1;
            if reads_as(t, *c, ctx) {
                read += 1;
            }
        }
        let dated = matches!(t, FieldType::Date | FieldType::Datetime);
        // Dates that read better the other way round are in the other order: text, and
        // say so. Otherwise dates written as dates are a date column, the bad ones
        // refused row by row.
        let other_order = dated && read * 2 < total && {
            let mut swapped = ValueContext::new(ctx.country, other(ctx.date_order));
            cells
                .iter()
                .filter(|c| reads_as(t, **c, &mut swapped))
                .count()
                > read
        };
        if (read * 2 >= total || dated) && !other_order {
            return Inferred {
                field_type: t,
                note: None,
            };
        }
        if note.is_none() && other_order {
            note = Some(format!(
                "{} of {} sampled values are written like dates but do not read as dates in {} order, so it was imported as text; set the import's date_order, or define the field, and import again",
                Count((total - read) as u64),
                Count(total as u64),
                order_words(ctx),
            ));
        }
    }
    Inferred {
        field_type: FieldType::Text,
        note,
    }
}

fn other(order: parley_domain::DateOrder) -> parley_domain::DateOrder {
    match order {
        parley_domain::DateOrder::Dmy => parley_domain::DateOrder::Mdy,
        parley_domain::DateOrder::Mdy => parley_domain::DateOrder::Dmy,
    }
}

fn order_words(ctx: &ValueContext) -> &'static str {
    match ctx.date_order {
        parley_domain::DateOrder::Dmy => "day-first (DD/MM/YYYY)",
        parley_domain::DateOrder::Mdy => "month-first (MM/DD/YYYY)",
    }
}

/// Whether `cell` is written like a value of `t`: the loose test every sampled value must
/// pass for the column to take the type.
fn written_like(t: FieldType, cell: CellRef<'_>, hint: Option<FieldType>) -> bool {
    let named = hint == Some(t);
    let text = cell_text(cell);
    let text = text.as_ref();
    match (t, cell) {
        (FieldType::Boolean, CellRef::Bool(_)) => true,
        (FieldType::Boolean, CellRef::Number(n)) => named && (n == 0.0 || n == 1.0),
        (FieldType::Boolean, CellRef::Text(_)) => {
            let lower = text.to_ascii_lowercase();
            matches!(
                lower.as_str(),
                "true" | "false" | "yes" | "no" | "y" | "n" | "t" | "f"
            ) || (named && matches!(lower.as_str(), "1" | "0" | "on" | "off"))
        }
        (FieldType::Datetime, CellRef::DateTime(dt)) => dt.time() != chrono::NaiveTime::MIN,
        (FieldType::Datetime, CellRef::Text(_)) => {
            text.contains(':') && date_part_shape(text.split([' ', 'T']).next().unwrap_or(""))
        }
        (FieldType::Date, CellRef::DateTime(dt)) => dt.time() == chrono::NaiveTime::MIN,
        (FieldType::Date, CellRef::Number(_)) => named,
        (FieldType::Date, CellRef::Text(_)) => {
            date_part_shape(text)
                || named_month_shape(text)
                || (named && text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()))
        }
        (FieldType::Phone, CellRef::Text(_)) => {
            (named || text.starts_with('+'))
                && text.bytes().filter(u8::is_ascii_digit).count() >= 6
                && text
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b" +-().".contains(&b))
        }
        (FieldType::Phone, CellRef::Number(_)) => named,
        (FieldType::Money, CellRef::Number(_)) => named,
        (FieldType::Money, CellRef::Text(_)) => {
            let sign = text.contains(['€', '£', '$']);
            (named || sign) && parse_money(cell).is_ok()
        }
        (FieldType::Number, CellRef::Number(_)) => true,
        (FieldType::Number, CellRef::Text(_)) => number_shape(text),
        (FieldType::Email, CellRef::Text(_)) => text.contains('@'),
        (FieldType::Url, CellRef::Text(_)) => {
            let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        }
        (FieldType::Postcode, CellRef::Text(_)) => {
            named
                && (2..=10).contains(&text.len())
                && text.bytes().any(|b| b.is_ascii_digit())
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b" -".contains(&b))
        }
        _ => false,
    }
}

/// Plain decimal numbers: an optional minus, digits with optional thousands separators and
/// decimals; not a leading zero (`00123` is an identifier), not more than 15 digits (a
/// longer run is an account or card number, not a quantity).
fn number_shape(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    let digits = body.bytes().filter(u8::is_ascii_digit).count();
    let leading_zero = body.len() > 1 && body.starts_with('0') && !body.starts_with("0.");
    digits > 0
        && digits <= 15
        && !leading_zero
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || b",.".contains(&b))
        && parse_number(CellRef::Text(text)).is_ok()
}

/// Three numeric parts split by `/`, `-` or `.` (`31/02/1980`, `1990-13-45`).
fn date_part_shape(text: &str) -> bool {
    let parts: Vec<&str> = text.split(['/', '-', '.']).collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| (1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.iter().any(|p| p.len() == 4 || p.len() == 2)
}

/// A month written as a word among numbers (`12 Mar 1980`, `March 12, 1980`).
fn named_month_shape(text: &str) -> bool {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = text.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-' || c == '/')
        .filter(|w| !w.is_empty())
        .collect();
    words.len() == 3
        && words
            .iter()
            .filter(|w| w.bytes().all(|b| b.is_ascii_digit()))
            .count()
            == 2
        && words
            .iter()
            .any(|w| w.len() >= 3 && MONTHS.iter().any(|m| w.starts_with(m)))
}

/// Whether `cell` reads as a value of `t`.
fn reads_as(t: FieldType, cell: CellRef<'_>, ctx: &mut ValueContext) -> bool {
    match t {
        FieldType::Boolean => parse_bool(cell).is_ok(),
        FieldType::Datetime => parse_datetime(cell, ctx.date_order).is_ok(),
        FieldType::Date => parse_date(cell, ctx.date_order).is_ok(),
        FieldType::Phone => ctx.phones.normalise(cell).is_ok(),
        FieldType::Money => parse_money(cell).is_ok(),
        FieldType::Number => parse_number(cell).is_ok(),
        FieldType::Email => parse_email(cell).is_ok(),
        FieldType::Url => parse_url(cell).is_ok(),
        FieldType::Postcode => parse_postcode(cell, ctx.country).is_ok(),
        FieldType::Text => true,
    }
}

#[cfg(test)]
mod tests {
    use parley_domain::DateOrder;

    use super::*;

    fn ctx() -> ValueContext {
        ValueContext::new("GB".parse().unwrap(), DateOrder::Dmy)
    }

    fn infer(key: &str, values: &[&str]) -> FieldType {
        let cells: Vec<CellRef<'_>> = values.iter().map(|v| CellRef::Text(v)).collect();
        infer_column(key, &cells, &mut ctx()).field_type
    }

    #[test]
    fn columns_take_the_type_their_values_are_written_in() {
        assert_eq!(
            infer("date_of_birth", &["01/02/1980", "31/02/1980", "1990-13-45"]),
            FieldType::Date,
            "impossible dates are refused row by row, not a reason for text"
        );
        assert_eq!(
            infer("joined", &["2024-01-31", "12 Mar 2023"]),
            FieldType::Date
        );
        assert_eq!(
            infer("balance", &["120.50", "99", "1,204.10"]),
            FieldType::Money
        );
        assert_eq!(infer("owed", &["£120.50", "€9"]), FieldType::Money);
        assert_eq!(infer("score", &["12", "7.5", "-3"]), FieldType::Number);
        assert_eq!(infer("vip", &["yes", "No", "Y"]), FieldType::Boolean);
        assert_eq!(infer("is_vulnerable", &["1", "0"]), FieldType::Boolean);
        assert_eq!(infer("contact", &["a@b.ie", "x@y.com"]), FieldType::Email);
        assert_eq!(
            infer("alt_phone", &["07700 900123", "+44 20 7946 0000"]),
            FieldType::Phone
        );
        assert_eq!(
            infer("link", &["https://pay.example.com/x"]),
            FieldType::Url
        );
        assert_eq!(
            infer("postcode", &["SW1A 1AA", "D02 X285"]),
            FieldType::Postcode
        );
        assert_eq!(
            infer("last_seen_at", &["2024-01-31 10:15"]),
            FieldType::Datetime
        );
    }

    #[test]
    fn mixed_or_identifier_like_columns_stay_text() {
        assert_eq!(infer("dob", &["01/02/1980", "unknown"]), FieldType::Text);
        assert_eq!(infer("account", &["00123", "00456"]), FieldType::Text);
        assert_eq!(infer("card", &["4111111111111111111"]), FieldType::Text);
        assert_eq!(infer("reference", &["12345678"]), FieldType::Number);
        assert_eq!(
            infer("account_no", &["0871234567"]),
            FieldType::Text,
            "no phone without a phone header"
        );
        assert_eq!(
            infer("flag", &["1", "0"]),
            FieldType::Number,
            "1/0 is a boolean only by name"
        );
        assert_eq!(infer("notes", &[]), FieldType::Text);
        assert_eq!(infer("payment_method", &["card", "cash"]), FieldType::Text);
    }

    #[test]
    fn dates_that_mostly_do_not_read_in_the_date_order_stay_text_with_a_note() {
        let mut us = ValueContext::new("US".parse().unwrap(), DateOrder::Mdy);
        let values = ["31/01/1980", "25/12/1990", "01/02/1985"];
        let cells: Vec<CellRef<'_>> = values.iter().map(|v| CellRef::Text(v)).collect();
        let inferred = infer_column("dob", &cells, &mut us);
        assert_eq!(inferred.field_type, FieldType::Text);
        let note = inferred.note.unwrap();
        assert!(
            note.contains("2 of 3") && note.contains("month-first"),
            "{note}"
        );
    }

    #[test]
    fn personal_data_is_marked_by_name_or_type() {
        for key in [
            "first_name",
            "surname",
            "date_of_birth",
            "dob",
            "email_address",
            "postcode",
            "home_phone",
            "ppsn",
        ] {
            assert!(personal_by_name(key), "{key}");
        }
        for key in ["balance", "plan", "due_date", "segment"] {
            assert!(!personal_by_name(key), "{key}");
        }
        assert!(personal_type(FieldType::Email) && !personal_type(FieldType::Money));
    }

    #[test]
    fn spreadsheet_cells_keep_their_kind() {
        let dt = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let cells = [CellRef::DateTime(dt("1980-02-01 00:00"))];
        assert_eq!(
            infer_column("x", &cells, &mut ctx()).field_type,
            FieldType::Date
        );
        let cells = [CellRef::Number(12.5), CellRef::Number(3.0)];
        assert_eq!(
            infer_column("x", &cells, &mut ctx()).field_type,
            FieldType::Number
        );
        assert_eq!(
            infer_column("balance", &cells, &mut ctx()).field_type,
            FieldType::Money
        );
        let cells = [CellRef::Bool(true), CellRef::Bool(false)];
        assert_eq!(
            infer_column("x", &cells, &mut ctx()).field_type,
            FieldType::Boolean
        );
    }
}
