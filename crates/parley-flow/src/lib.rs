#![doc = include_str!("../README.md")]

mod condition;
mod document;
mod duration;
mod engine;
mod expect;
mod layout;
mod program;
mod script;
pub mod step_form;
mod template;
mod transcript;
mod validate;
mod value;

pub use condition::{Condition, ConditionError, Env, MAX_CONDITION_LEN};
pub use document::{
    AskStep, BranchStep, CURRENT_SCHEMA, CloseStep, DocumentError, Expect, FetchStep, FlowDocument,
    MAX_DOCUMENT_BYTES, MessageStep, QueueStep, Rule as BranchRule, SetStep, StatusStep, Step,
    WaitStep, migrate,
};
pub use duration::{DurationError, MAX_DURATION, format_duration, parse_duration};
pub use engine::{
    Context, DEFAULT_STEP_BUDGET, Effect, Input, MAX_VARIABLE_CHARS, Phase, Reply, State, Stepped,
    step,
};
pub use expect::MAX_REPLY_CHARS;
pub use layout::{Edge, Layout, NODE_HEIGHT, NODE_WIDTH, Node, layout};
pub use program::{DEFAULT_FALLBACK_QUEUE, Flow, MAX_STEPS};
pub use script::{
    DialogueReport, FieldMap, ScriptFailure, ScriptRun, Settings, play_script, run_script,
};
pub use template::{Lookup, Template, TemplateError};
pub use validate::{
    BUILTIN_NAMES, Diagnostic, MAX_RETRIES, Names, OPTED_OUT_STATUS, Rule, Severity, Validation,
    check_names, names_used, validate,
};
pub use value::{Value, compare};
