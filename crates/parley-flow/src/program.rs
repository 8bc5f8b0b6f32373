//! A validated flow, ready to run: steps in a vector addressed by index, every template and
//! condition parsed, every duration read. Built only by [`crate::validate`], so the engine
//! never parses text or looks up a name while it runs.

use std::collections::HashMap;
use std::time::Duration;

use crate::condition::Condition;
use crate::document::Expect;
use crate::template::Template;

/// Index of a step in a [`Flow`].
pub(crate) type StepIndex = u16;

/// Most steps a flow may have.
pub const MAX_STEPS: usize = 2_000;

/// The queue a failing conversation joins when the document names none.
pub const DEFAULT_FALLBACK_QUEUE: &str = "default";

/// A runnable flow version.
#[derive(Debug, Clone)]
pub struct Flow {
    pub(crate) name: String,
    pub(crate) steps: Vec<Program>,
    pub(crate) names: Vec<Box<str>>,
    pub(crate) index: HashMap<Box<str>, StepIndex>,
    pub(crate) start: StepIndex,
    pub(crate) fallback_queue: String,
}

impl Flow {
    /// The flow's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many steps it has.
    #[must_use]
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// True when it has no steps (never, for a validated flow).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub(crate) fn name_of(&self, at: StepIndex) -> &str {
        self.names.get(usize::from(at)).map_or("?", |n| n)
    }
}

/// One compiled step.
#[derive(Debug, Clone)]
pub(crate) enum Program {
    Message {
        text: Template,
        next: StepIndex,
    },
    Ask(Box<Ask>),
    Branch {
        rules: Vec<(Condition, StepIndex)>,
        otherwise: StepIndex,
    },
    Fetch {
        fields: Vec<String>,
        next: StepIndex,
        on_failure: StepIndex,
    },
    Set {
        values: Vec<(Box<str>, Condition)>,
        next: StepIndex,
    },
    Status {
        status: String,
        next: StepIndex,
    },
    Queue {
        queue: String,
        text: Option<Template>,
    },
    Close {
        status: String,
        text: Option<Template>,
    },
    Wait {
        duration: Duration,
        next: StepIndex,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Ask {
    pub text: Template,
    pub save_as: Box<str>,
    pub expect: Expect,
    pub options: Vec<String>,
    pub retries: u8,
    pub retry_text: Option<Template>,
    pub timeout: Option<(Duration, StepIndex)>,
    pub next: StepIndex,
}
