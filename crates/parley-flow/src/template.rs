//! `<<field>>` templates: text with placeholders, parsed once at validation and rendered
//! per message. A name is a letter or `_` then letters, digits or `_`, with optional spaces
//! inside the brackets (`<< first_name >>`). Rendering asks a [`Lookup`] for each name;
//! an unknown name renders empty (SPEC §4), because a customer should get a message with a
//! gap rather than no message.
//!
//! ```
//! use parley_flow::{Template, Lookup};
//! struct One;
//! impl Lookup for One {
//!     fn lookup(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
//!         (name == "first_name").then(|| "Sam".into())
//!     }
//! }
//! let t = Template::parse("Hi <<first_name>>, <<missing>>!").unwrap();
//! assert_eq!(t.render(&One), "Hi Sam, !");
//! ```

use std::borrow::Cow;

/// Longest placeholder name.
pub const MAX_NAME_LEN: usize = 64;

/// Where values for placeholders come from.
pub trait Lookup {
    /// The value of `name`, or `None` when nothing has that name.
    fn lookup(&self, name: &str) -> Option<Cow<'_, str>>;
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(Box<str>),
    Field(Box<str>),
}

/// Why a template could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct TemplateError {
    /// 1-based, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl Template {
    /// The empty template.
    #[must_use]
    pub fn empty() -> Self {
        Self {
            segments: Vec::new(),
        }
    }

    /// Parses `text`.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut segments = Vec::new();
        let mut rest = text;
        let mut consumed_chars = 0;
        while let Some(open) = rest.find("<<") {
            if open > 0 {
                segments.push(Segment::Text(rest[..open].into()));
            }
            let open_column = consumed_chars + rest[..open].chars().count() + 1;
            let after = &rest[open + 2..];
            let Some(close) = after.find(">>") else {
                return Err(TemplateError {
                    column: open_column,
                    message: "`<<` is not closed by `>>`".to_owned(),
                });
            };
            let inner = &after[..close];
            let name = check_name(inner, open_column + 2)?;
            segments.push(Segment::Field(name.into()));
            let used = open + 2 + close + 2;
            consumed_chars += rest[..used].chars().count();
            rest = &rest[used..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.into()));
        }
        Ok(Self { segments })
    }

    /// The placeholder names, in order of appearance.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Field(name) => Some(&**name),
            Segment::Text(_) => None,
        })
    }

    /// The text with each placeholder replaced by its value (empty when unknown).
    #[must_use]
    pub fn render(&self, values: &dyn Lookup) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(t) => out.push_str(t),
                Segment::Field(name) => {
                    if let Some(v) = values.lookup(name) {
                        out.push_str(&v);
                    }
                }
            }
        }
        out
    }
}

/// Checks a placeholder name (`inner` is what stood between the brackets, starting at
/// `column`) and returns it without surrounding spaces.
pub(crate) fn check_name(inner: &str, column: usize) -> Result<&str, TemplateError> {
    let lead = inner.chars().take_while(|c| *c == ' ').count();
    let name = inner.trim_matches(' ');
    let err = |offset: usize, message: String| TemplateError {
        column: column + lead + offset,
        message,
    };
    if name.is_empty() {
        return Err(TemplateError {
            column,
            message: "empty placeholder; write a field name between `<<` and `>>`".to_owned(),
        });
    }
    for (i, c) in name.chars().enumerate() {
        let ok = c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit());
        if !ok {
            return Err(err(
                i,
                format!("{c:?} cannot be part of a field name (letters, digits and _)"),
            ));
        }
    }
    if name.len() > MAX_NAME_LEN {
        return Err(err(
            0,
            format!("field name longer than {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    struct Map(BTreeMap<&'static str, &'static str>);
    impl Lookup for Map {
        fn lookup(&self, name: &str) -> Option<Cow<'_, str>> {
            self.0.get(name).map(|v| Cow::Borrowed(*v))
        }
    }

    #[test]
    fn renders_known_and_blanks_unknown() {
        let values = Map(BTreeMap::from([("a", "1"), ("b_2", "two")]));
        let t = Template::parse("x<<a>>y<< b_2 >>z<<nope>>£").unwrap();
        assert_eq!(t.render(&values), "x1ytwoz£");
        assert_eq!(t.fields().collect::<Vec<_>>(), ["a", "b_2", "nope"]);
        assert_eq!(
            Template::parse("a < b >> c").unwrap().render(&values),
            "a < b >> c"
        );
    }

    #[test]
    fn errors_point_at_the_column() {
        let e = |t: &str| Template::parse(t).unwrap_err().to_string();
        assert_eq!(e("Hi <<name"), "column 4: `<<` is not closed by `>>`");
        assert_eq!(
            e("£1 <<>>"),
            "column 6: empty placeholder; write a field name between `<<` and `>>`"
        );
        assert_eq!(
            e("é <<first name>>"),
            "column 10: ' ' cannot be part of a field name (letters, digits and _)"
        );
        assert_eq!(
            e("<<9lives>>"),
            "column 3: '9' cannot be part of a field name (letters, digits and _)"
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_round_trips_plain_text(text in "\\PC{0,80}") {
            if let Ok(t) = Template::parse(&text) {
                let rendered = t.render(&Map(BTreeMap::new()));
                prop_assert!(rendered.len() <= text.len());
                if !text.contains("<<") {
                    prop_assert_eq!(rendered, text);
                }
            }
        }

        #[test]
        fn bracket_soup_never_panics(text in "[<>a_ 9é]{0,40}") {
            match Template::parse(&text) {
                Ok(t) => { let _ = t.render(&Map(BTreeMap::new())); }
                Err(e) => prop_assert!(e.column >= 1 && e.column <= text.chars().count() + 1),
            }
        }
    }
}
