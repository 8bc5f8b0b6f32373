//! Opt-out, opt-in and help keywords (SPEC §5): which inbound messages are a keyword, on
//! any channel. What follows from one (suppress, confirm, close, re-subscribe, help text)
//! is the runtime's; this module only recognises them.
//!
//! A keyword is the whole message, compared without regard to case or white space (so
//! `Stop`, ` opt  out ` and `OPTOUT` all match). Punctuation around it is ignored too
//! (`STOP.`, `"stop!"`): consent may be revoked "in any reasonable manner" (FCC 24-24,
//! `reference/channels.md` §7.1), and a trailing full stop is not a reason to keep texting
//! someone. A keyword inside a longer message (`please stop texting me`) is not matched.

/// What an inbound keyword asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// Stop all messages to this address.
    OptOut,
    /// Messages may resume.
    OptIn,
    /// Send the organization's help text.
    Help,
}

/// The keywords, written without spaces (SPEC §5: `OPT OUT` is `OPTOUT` here).
const KEYWORDS: &[(&str, Keyword)] = &[
    ("STOP", Keyword::OptOut),
    ("STOPALL", Keyword::OptOut),
    ("UNSUBSCRIBE", Keyword::OptOut),
    ("CANCEL", Keyword::OptOut),
    ("END", Keyword::OptOut),
    ("QUIT", Keyword::OptOut),
    ("REVOKE", Keyword::OptOut),
    ("OPTOUT", Keyword::OptOut),
    ("START", Keyword::OptIn),
    ("UNSTOP", Keyword::OptIn),
    ("YES", Keyword::OptIn),
    ("HELP", Keyword::Help),
    ("INFO", Keyword::Help),
];

/// The longest keyword, in characters: a longer message is never one.
const LONGEST: usize = 11;

/// The keyword `body` is, if it is one.
#[must_use]
pub fn classify(body: &str) -> Option<Keyword> {
    let trimmed = body.trim_matches(|c: char| c.is_whitespace() || c.is_ascii_punctuation());
    let mut folded = String::with_capacity(LONGEST);
    for c in trimmed.chars().filter(|c| !c.is_whitespace()) {
        if folded.len() >= LONGEST {
            return None;
        }
        // Only ASCII letters make a keyword; anything else (including letters whose
        // upper case is ASCII, such as the Kelvin sign) rules it out.
        if !c.is_ascii_alphabetic() {
            return None;
        }
        folded.push(c.to_ascii_uppercase());
    }
    KEYWORDS
        .iter()
        .find(|(word, _)| *word == folded)
        .map(|(_, k)| *k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_keyword_of_the_spec_matches() {
        let out = [
            "STOP",
            "STOPALL",
            "UNSUBSCRIBE",
            "CANCEL",
            "END",
            "QUIT",
            "REVOKE",
            "OPT OUT",
        ];
        for word in out {
            assert_eq!(classify(word), Some(Keyword::OptOut), "{word}");
        }
        for word in ["START", "UNSTOP", "YES"] {
            assert_eq!(classify(word), Some(Keyword::OptIn), "{word}");
        }
        for word in ["HELP", "INFO"] {
            assert_eq!(classify(word), Some(Keyword::Help), "{word}");
        }
    }

    #[test]
    fn case_space_and_surrounding_punctuation_do_not_matter() {
        for body in [
            "stop",
            " Stop ",
            "sToP\n",
            "opt out",
            "Opt  Out",
            "optout",
            "STOP ALL",
            "Stop.",
            "\"stop!\"",
            "  ...STOP...  ",
            "O P T O U T",
        ] {
            assert_eq!(classify(body), Some(Keyword::OptOut), "{body:?}");
        }
        assert_eq!(classify("help?"), Some(Keyword::Help));
    }

    #[test]
    fn only_the_whole_message_counts() {
        for body in [
            "",
            "   ",
            "please stop",
            "stop it",
            "stopp",
            "STOP-ALL",
            "non-stop",
            "yes please",
            "ＳＴＯＰ",
            "\u{212a}",
            "helping",
            "end.of.story",
        ] {
            assert_eq!(classify(body), None, "{body:?}");
        }
    }

    proptest! {
        #[test]
        fn any_casing_and_spacing_of_a_keyword_matches(
            index in 0..KEYWORDS.len(),
            upper in proptest::collection::vec(any::<bool>(), LONGEST),
            spaces in proptest::collection::vec(0usize..3, LONGEST + 1),
        ) {
            let (word, keyword) = KEYWORDS[index];
            let mut body = " ".repeat(spaces[0]);
            for (i, c) in word.chars().enumerate() {
                body.push(if upper[i] { c } else { c.to_ascii_lowercase() });
                body.push_str(&" ".repeat(spaces[i + 1]));
            }
            prop_assert_eq!(classify(&body), Some(keyword));
        }

        #[test]
        fn a_message_with_other_letters_is_never_a_keyword(body in "\\PC{0,40}") {
            if let Some(k) = classify(&body) {
                let letters: String = body
                    .chars()
                    .filter(char::is_ascii_alphabetic)
                    .map(|c| c.to_ascii_uppercase())
                    .collect();
                prop_assert!(KEYWORDS.iter().any(|(w, kw)| *w == letters && *kw == k));
            }
        }
    }
}
