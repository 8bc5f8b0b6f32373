//! How a conversation with the engine reads as a transcript: one line per customer input
//! and per effect, the same words wherever a person watches a flow run (the editor's Try
//! it, a dialogue script played in the page).

use std::fmt;

use crate::duration::format_duration;
use crate::engine::{Effect, Input};

impl Input {
    /// The transcript's line for this input; `None` for a start without an opening
    /// message (nothing was said).
    #[must_use]
    pub fn transcript_line(&self) -> Option<String> {
        match self {
            Input::Start { opening: None } => None,
            Input::Start {
                opening: Some(reply),
            }
            | Input::Reply(reply) => Some(format!("You: {}", reply.text)),
            Input::Fetched(Ok(values)) => Some(format!(
                "(the custom value endpoint answers{})",
                if values.is_empty() {
                    String::new()
                } else {
                    let pairs: Vec<String> =
                        values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                    format!(": {}", pairs.join(", "))
                }
            )),
            Input::Fetched(Err(why)) => Some(format!("(the custom value request fails: {why})")),
            Input::Timer { .. } => Some("(the timer passes)".to_owned()),
            Input::Resume { step } => Some(format!("(a person hands back to step {step})")),
        }
    }
}

/// The transcript's line for an effect: `Bot: …` for a message, the rest in brackets.
impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Effect::Send { text } => write!(f, "Bot: {text}"),
            Effect::SetStatus { status } => write!(f, "(outcome status set: {status})"),
            Effect::Queue { queue, note: None } => {
                write!(f, "(handed over to the queue {queue})")
            }
            Effect::Queue {
                queue,
                note: Some(note),
            } => write!(f, "(handed over to the queue {queue}: {note})"),
            Effect::Close { status } => write!(f, "(closed: {status})"),
            Effect::Fetch { fields } => write!(
                f,
                "(asks the custom value endpoint for {})",
                fields.join(", ")
            ),
            Effect::StartTimer { after, .. } => {
                write!(f, "(a timer of {} starts)", format_duration(*after))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use super::*;
    use crate::engine::Reply;

    #[test]
    fn inputs_and_effects_read_as_lines_of_a_conversation() {
        assert_eq!(Input::Start { opening: None }.transcript_line(), None);
        assert_eq!(
            Input::Reply(Reply::text("yes"))
                .transcript_line()
                .as_deref(),
            Some("You: yes")
        );
        let values = BTreeMap::from([("balance".to_owned(), "12.50".to_owned())]);
        assert_eq!(
            Input::Fetched(Ok(values)).transcript_line().as_deref(),
            Some("(the custom value endpoint answers: balance = 12.50)")
        );
        assert_eq!(
            Input::Fetched(Err("timed out".to_owned()))
                .transcript_line()
                .as_deref(),
            Some("(the custom value request fails: timed out)")
        );
        assert_eq!(
            Effect::Send {
                text: "Hello".to_owned()
            }
            .to_string(),
            "Bot: Hello"
        );
        assert_eq!(
            Effect::StartTimer {
                id: 1,
                after: Duration::from_secs(86_400)
            }
            .to_string(),
            "(a timer of 1d starts)"
        );
        assert_eq!(
            Effect::Queue {
                queue: "agents".to_owned(),
                note: Some("step budget spent".to_owned())
            }
            .to_string(),
            "(handed over to the queue agents: step budget spent)"
        );
    }
}
