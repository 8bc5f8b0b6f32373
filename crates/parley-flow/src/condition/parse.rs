//! Recursive-descent parser over the tokens, by the grammar in the module doc of
//! [`crate::condition`]. Depth is bounded so hostile input cannot overflow the stack.

use regex::RegexBuilder;

use super::lex::{Tok, Token};
use super::{ConditionError, Expr, Func, MAX_DEPTH, Op};

/// Largest compiled regular expression, in bytes (the crate's default is 10 MiB).
const REGEX_SIZE_LIMIT: usize = 256 * 1024;

pub(crate) struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    depth: usize,
    end_column: usize,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(tokens: &'a [Token], chars: usize) -> Self {
        Self {
            tokens,
            pos: 0,
            depth: 0,
            end_column: chars + 1,
        }
    }

    pub(crate) fn parse(mut self) -> Result<Expr, ConditionError> {
        if self.tokens.is_empty() {
            return Err(self.error_at(1, "empty condition".to_owned()));
        }
        let expr = self.or()?;
        if let Some(t) = self.peek() {
            return Err(self.error_at(t.column, format!("unexpected {}", describe(&t.tok))));
        }
        Ok(expr)
    }

    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.pos)
    }

    fn next_column(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    fn error_at(&self, column: usize, message: String) -> ConditionError {
        ConditionError { column, message }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w == word)
    }

    /// One level deeper, at the token starting at `column`.
    fn enter(&mut self, column: usize) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(column, format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.and()?;
        while self.is_word("or") {
            self.pos += 1;
            self.operand_after("or")?;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// After the keyword `what`, the input must go on.
    fn operand_after(&self, what: &str) -> Result<(), ConditionError> {
        match self.peek() {
            Some(_) => Ok(()),
            None => Err(self.error_at(
                self.end_column,
                format!("expected a condition after `{what}`"),
            )),
        }
    }

    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.not()?;
        while self.is_word("and") {
            self.pos += 1;
            self.operand_after("and")?;
            let right = self.not()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ConditionError> {
        if self.is_word("not") {
            let column = self.next_column();
            self.pos += 1;
            self.enter(column)?;
            self.operand_after("not")?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.compare()
    }

    fn compare(&mut self) -> Result<Expr, ConditionError> {
        let left = self.value()?;
        let Some(token) = self.peek() else {
            return Ok(left);
        };
        let op = match &token.tok {
            Tok::Symbol(s) => match *s {
                "==" => Op::Eq,
                "!=" => Op::Ne,
                "<" => Op::Lt,
                "<=" => Op::Le,
                ">" => Op::Gt,
                _ => Op::Ge,
            },
            Tok::Word(w) => match w.as_str() {
                "contains" => Op::Contains,
                "starts_with" => Op::StartsWith,
                "ends_with" => Op::EndsWith,
                "is_set" => {
                    self.pos += 1;
                    return Ok(Expr::IsSet(Box::new(left)));
                }
                "is_empty" => {
                    self.pos += 1;
                    return Ok(Expr::Not(Box::new(Expr::IsSet(Box::new(left)))));
                }
                "matches" => {
                    self.pos += 1;
                    return self.matches(left, token.column);
                }
                _ => return Ok(left),
            },
            _ => return Ok(left),
        };
        self.pos += 1;
        let name = operator_name(&token.tok);
        if self.peek().is_none() {
            return Err(self.error_at(self.end_column, format!("expected a value after `{name}`")));
        }
        let right = self.value()?;
        Ok(Expr::Compare(op, Box::new(left), Box::new(right)))
    }

    fn matches(&mut self, left: Expr, column: usize) -> Result<Expr, ConditionError> {
        let Some(Token {
            tok: Tok::Text(pattern),
            column: at,
        }) = self.peek()
        else {
            let at = self.next_column().max(column);
            return Err(self.error_at(at, "`matches` needs a pattern in quotes".to_owned()));
        };
        let regex = RegexBuilder::new(pattern)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                let reason = e.to_string();
                let reason = reason.lines().last().unwrap_or_default().trim().to_owned();
                self.error_at(*at, format!("not a valid pattern: {reason}"))
            })?;
        self.pos += 1;
        Ok(Expr::Matches(Box::new(left), Box::new(regex)))
    }

    fn value(&mut self) -> Result<Expr, ConditionError> {
        let Some(token) = self.peek() else {
            return Err(self.error_at(self.end_column, "expected a value".to_owned()));
        };
        self.pos += 1;
        Ok(match &token.tok {
            Tok::Text(t) => Expr::Text(t.as_str().into()),
            Tok::Number(n) => Expr::Number(*n),
            Tok::Date(d) => Expr::Date(*d),
            Tok::Field(f) => Expr::Field(f.as_str().into()),
            Tok::LParen => {
                self.enter(token.column)?;
                let inner = self.or()?;
                self.expect_close(token.column)?;
                self.depth -= 1;
                inner
            }
            Tok::Word(w) => self.word(w, token.column)?,
            other => {
                return Err(self.error_at(
                    token.column,
                    format!("expected a value, found {}", describe(other)),
                ));
            }
        })
    }

    fn expect_close(&mut self, open: usize) -> Result<(), ConditionError> {
        match self.peek() {
            Some(Token {
                tok: Tok::RParen, ..
            }) => {
                self.pos += 1;
                Ok(())
            }
            Some(t) => Err(self.error_at(
                t.column,
                format!("expected `)`, found {}", describe(&t.tok)),
            )),
            None => Err(self.error_at(open, "`(` is not closed".to_owned())),
        }
    }

    fn word(&mut self, word: &str, column: usize) -> Result<Expr, ConditionError> {
        match word {
            "true" => return Ok(Expr::Bool(true)),
            "false" => return Ok(Expr::Bool(false)),
            "intent" => return Ok(Expr::Intent),
            "intent_confidence" => return Ok(Expr::IntentConfidence),
            _ => {}
        }
        if let Some(kind) = word.strip_prefix("entities.") {
            let ok =
                !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(self.error_at(column, format!("`{word}` is not an entity name")));
            }
            return Ok(Expr::Entity(kind.into()));
        }
        let is_call = matches!(
            self.peek(),
            Some(Token {
                tok: Tok::LParen,
                ..
            })
        );
        let func = match word {
            "lower" => Func::Lower,
            "upper" => Func::Upper,
            "trim" => Func::Trim,
            "len" => Func::Len,
            "today" => Func::Today,
            "days_between" => Func::DaysBetween,
            "is_set" | "is_empty" if is_call => {
                let arg = self.call_args(word, 1, column)?.pop();
                let set = Expr::IsSet(Box::new(arg.unwrap_or(Expr::Bool(false))));
                return Ok(if word == "is_set" {
                    set
                } else {
                    Expr::Not(Box::new(set))
                });
            }
            _ if is_call => return Err(self.error_at(column, format!("unknown function `{word}`"))),
            _ => {
                return Err(self.error_at(
                    column,
                    format!(
                        "unknown name `{word}`; write a field as <<{word}>> and text in quotes"
                    ),
                ));
            }
        };
        if !is_call {
            return Err(self.error_at(
                column,
                format!("`{word}` is a function; call it as {word}(…)"),
            ));
        }
        let arity = match func {
            Func::Today => 0,
            Func::DaysBetween => 2,
            _ => 1,
        };
        let args = self.call_args(word, arity, column)?;
        Ok(Expr::Call(func, args))
    }

    fn call_args(
        &mut self,
        name: &str,
        arity: usize,
        column: usize,
    ) -> Result<Vec<Expr>, ConditionError> {
        let open = self.next_column();
        self.pos += 1; // `(`
        self.enter(open)?;
        let mut args = Vec::new();
        if !matches!(
            self.peek(),
            Some(Token {
                tok: Tok::RParen,
                ..
            })
        ) {
            loop {
                args.push(self.or()?);
                if matches!(
                    self.peek(),
                    Some(Token {
                        tok: Tok::Comma,
                        ..
                    })
                ) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        self.expect_close(open)?;
        self.depth -= 1;
        if args.len() != arity {
            let wanted = match arity {
                0 => "no arguments".to_owned(),
                1 => "1 argument".to_owned(),
                n => format!("{n} arguments"),
            };
            return Err(self.error_at(
                column,
                format!("`{name}` takes {wanted}, not {}", args.len()),
            ));
        }
        Ok(args)
    }
}

fn operator_name(tok: &Tok) -> &str {
    match tok {
        Tok::Symbol(s) => s,
        Tok::Word(w) => w,
        _ => "?",
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::LParen => "`(`".to_owned(),
        Tok::RParen => "`)`".to_owned(),
        Tok::Comma => "`,`".to_owned(),
        Tok::Symbol(s) => format!("`{s}`"),
        Tok::Text(t) => format!("text {t:?}"),
        Tok::Number(n) => format!("number {n}"),
        Tok::Date(d) => format!("date {d}"),
        Tok::Field(f) => format!("<<{f}>>"),
        Tok::Word(w) => format!("`{w}`"),
    }
}
