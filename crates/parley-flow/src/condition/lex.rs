//! Splits a condition into tokens, each with the 1-based column where it starts.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::ConditionError;
use crate::template::check_name;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    Comma,
    /// `==`, `!=`, `<`, `<=`, `>`, `>=`.
    Symbol(&'static str),
    Text(String),
    Number(Decimal),
    Date(NaiveDate),
    Field(String),
    /// A word: keyword, function name, `intent`, `entities.kind`.
    Word(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub column: usize,
}

pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, ConditionError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |column: usize, message: String| ConditionError { column, message };
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let push = |out: &mut Vec<Token>, tok| out.push(Token { tok, column });
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                push(&mut out, Tok::LParen);
                i += 1;
            }
            ')' => {
                push(&mut out, Tok::RParen);
                i += 1;
            }
            ',' => {
                push(&mut out, Tok::Comma);
                i += 1;
            }
            '<' if chars.get(i + 1) == Some(&'<') => {
                let start = i + 2;
                let mut j = start;
                while j + 1 < chars.len() && !(chars[j] == '>' && chars[j + 1] == '>') {
                    j += 1;
                }
                if j + 1 >= chars.len() {
                    return Err(err(column, "`<<` is not closed by `>>`".to_owned()));
                }
                let inner: String = chars[start..j].iter().collect();
                let name = check_name(&inner, start + 1).map_err(|e| err(e.column, e.message))?;
                push(&mut out, Tok::Field(name.to_owned()));
                i = j + 2;
            }
            '=' | '!' | '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let symbol = match (c, next) {
                    ('=', Some('=')) => "==",
                    ('!', Some('=')) => "!=",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', _) => "<",
                    ('>', _) => ">",
                    ('=', _) => return Err(err(column, "use `==` to compare".to_owned())),
                    _ => return Err(err(column, "use `!=` or `not`".to_owned())),
                };
                push(&mut out, Tok::Symbol(symbol));
                i += symbol.len();
            }
            '"' | '\'' => {
                let (value, end) = string(&chars, i)?;
                push(&mut out, Tok::Text(value));
                i = end;
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_ascii_digit() || matches!(chars[j], '.' | '-'))
                {
                    j += 1;
                }
                let word: String = chars[i..j].iter().collect();
                let tok = if word.len() == 10 && word.as_bytes()[4] == b'-' && c != '-' {
                    NaiveDate::parse_from_str(&word, "%Y-%m-%d")
                        .map(Tok::Date)
                        .map_err(|_| err(column, format!("`{word}` is not a date")))?
                } else {
                    Decimal::from_str(&word)
                        .map(Tok::Number)
                        .map_err(|_| err(column, format!("`{word}` is not a number")))?
                };
                push(&mut out, tok);
                i = j;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_alphanumeric() || chars[j] == '_' || chars[j] == '.')
                {
                    j += 1;
                }
                push(&mut out, Tok::Word(chars[i..j].iter().collect()));
                i = j;
            }
            other => return Err(err(column, format!("unexpected {other:?}"))),
        }
    }
    Ok(out)
}

/// A quoted string starting at `start`; `\\`, `\"`, `\'` and `\n` are escapes.
fn string(chars: &[char], start: usize) -> Result<(String, usize), ConditionError> {
    let quote = chars[start];
    let mut value = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            c if c == quote => return Ok((value, i + 1)),
            '\\' => {
                let escaped = chars.get(i + 1).copied().ok_or(ConditionError {
                    column: i + 1,
                    message: "a `\\` at the end of the text escapes nothing".to_owned(),
                })?;
                value.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
                i += 2;
            }
            c => {
                value.push(c);
                i += 1;
            }
        }
    }
    Err(ConditionError {
        column: start + 1,
        message: format!("text opened with {quote} is not closed"),
    })
}
