//! Argument completion (`completion/complete`): [`CompletionDef`] (which prompt or resource
//! template argument a function completes), the request it gets ([`CompletionRequest`]) and
//! what it returns ([`Completion`], [`IntoCompletion`]).

use std::collections::HashMap;
use std::fmt::{self, Display};

use serde::Serialize;

use crate::{Context, ProtocolError};

/// At most this many values go into one answer (the MCP limit); the rest are counted in
/// `total` and flagged with `hasMore`.
pub(crate) const MAX_VALUES: usize = 100;

/// The function that serves a completion.
pub type CompletionHandler =
    for<'c, 'h> fn(&'c Context<'h>, CompletionRequest) -> Result<Completion, ProtocolError>;

/// What is being completed: an argument of a prompt or a variable of a resource template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompletionRef {
    /// A prompt, by name.
    Prompt(String),
    /// A resource template, by its URI template.
    ResourceTemplate(String),
}

/// One `completion/complete` request as a completion function sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompletionRequest {
    /// The prompt or resource template.
    pub reference: CompletionRef,
    /// The argument (or template variable) being completed.
    pub argument: String,
    /// What the user typed so far.
    pub value: String,
    /// Arguments the user already filled in (`context.arguments`).
    pub context: HashMap<String, String>,
}

impl CompletionRequest {
    /// A request for `argument` of `reference`, typed so far as `value`, with no context.
    pub fn new(
        reference: CompletionRef,
        argument: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        Self {
            reference,
            argument: argument.into(),
            value: value.into(),
            context: HashMap::new(),
        }
    }

    /// Sets the arguments already filled in.
    pub fn with_context(mut self, context: HashMap<String, String>) -> Self {
        self.context = context;
        self
    }

    /// The candidates that start with what was typed, ignoring ASCII case, in their order.
    ///
    /// ```
    /// use fastmcp_sdk::{CompletionRef, CompletionRequest};
    ///
    /// let request = CompletionRequest::new(CompletionRef::Prompt("trip".into()), "city", "Pa");
    /// assert_eq!(request.filter(["paris", "park", "oslo"]), ["paris", "park"]);
    /// ```
    pub fn filter<'a>(&self, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        let typed = self.value.as_bytes();
        candidates
            .into_iter()
            .filter(|candidate| {
                candidate
                    .as_bytes()
                    .get(..typed.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(typed))
            })
            .map(str::to_owned)
            .collect()
    }
}

/// The answer to `completion/complete`: suggested values, optionally how many exist in all and
/// whether there are more than listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    values: Vec<String>,
    total: Option<u64>,
    has_more: bool,
}

impl Completion {
    /// These values, and no more.
    pub fn new(values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            values: values.into_iter().map(Into::into).collect(),
            total: None,
            has_more: false,
        }
    }

    /// Sets how many values exist in all.
    pub fn with_total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Says that there are more values than listed.
    pub fn with_has_more(mut self, has_more: bool) -> Self {
        self.has_more = has_more;
        self
    }

    /// The values.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Applies the MCP limits: at most 100 values, and a `total` always set.
    pub(crate) fn capped(mut self) -> Self {
        let count = self.values.len() as u64;
        if self.values.len() > MAX_VALUES {
            self.values.truncate(MAX_VALUES);
            self.has_more = true;
        }
        self.total = Some(self.total.unwrap_or(count).max(count));
        self
    }
}

/// A value a `#[completion]` function may return: [`Completion`], `Vec<String>`, `Vec<&str>`,
/// or `Result<T, E>` with `E: Display` (an `Err` is a JSON-RPC error: `-32603` with the
/// error's text, unless it is a [`ProtocolError`], which keeps its code).
pub trait IntoCompletion {
    /// Converts the value into the completion.
    fn into_completion(self) -> Result<Completion, ProtocolError>;
}

impl IntoCompletion for Completion {
    fn into_completion(self) -> Result<Completion, ProtocolError> {
        Ok(self)
    }
}

impl IntoCompletion for Vec<String> {
    fn into_completion(self) -> Result<Completion, ProtocolError> {
        Ok(Completion::new(self))
    }
}

impl IntoCompletion for Vec<&str> {
    fn into_completion(self) -> Result<Completion, ProtocolError> {
        Ok(Completion::new(self))
    }
}

impl<T: IntoCompletion, E: Display + 'static> IntoCompletion for Result<T, E> {
    fn into_completion(self) -> Result<Completion, ProtocolError> {
        self.map_err(ProtocolError::from_display)?.into_completion()
    }
}

/// What a [`CompletionDef`] completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Prompt(&'static str),
    ResourceTemplate(&'static str),
}

/// A completion function for a prompt's arguments or a template's variables (all of them, or
/// one). `#[completion]` builds these.
#[derive(Clone)]
pub struct CompletionDef {
    pub(crate) target: Target,
    pub(crate) argument: Option<&'static str>,
    pub(crate) handler: CompletionHandler,
}

impl CompletionDef {
    /// Completes the arguments of the prompt `name`.
    pub fn prompt(name: &'static str, handler: CompletionHandler) -> Self {
        Self {
            target: Target::Prompt(name),
            argument: None,
            handler,
        }
    }

    /// Completes the variables of the resource template `uri_template`.
    pub fn resource_template(uri_template: &'static str, handler: CompletionHandler) -> Self {
        Self {
            target: Target::ResourceTemplate(uri_template),
            argument: None,
            handler,
        }
    }

    /// Only for this argument; a completion for one argument wins over one for all.
    pub fn for_argument(mut self, argument: &'static str) -> Self {
        self.argument = Some(argument);
        self
    }
}

impl fmt::Debug for CompletionDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionDef")
            .field("target", &self.target)
            .field("argument", &self.argument)
            .finish_non_exhaustive()
    }
}

/// Implemented by the hidden struct `#[completion]` puts beside each function.
#[doc(hidden)]
pub trait CompletionItem {
    fn definition() -> CompletionDef;
}

/// Converts what a completion function returned.
#[doc(hidden)]
pub fn complete<R: IntoCompletion>(value: R) -> Result<Completion, ProtocolError> {
    value.into_completion()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn answers_are_capped_at_100_values() {
        let many: Vec<String> = (0..150).map(|i| i.to_string()).collect();
        let capped = Completion::new(many).capped();
        assert_eq!(capped.values().len(), 100);
        assert_eq!(serde_json::to_value(&capped).unwrap()["total"], json!(150));
        assert!(capped.has_more);
        let few = Completion::new(["a"]).capped();
        assert_eq!(
            serde_json::to_value(few).unwrap(),
            json!({"values": ["a"], "total": 1, "hasMore": false})
        );
        let known = Completion::new(["a"])
            .with_total(40)
            .with_has_more(true)
            .capped();
        assert_eq!(
            serde_json::to_value(known).unwrap(),
            json!({"values": ["a"], "total": 40, "hasMore": true})
        );
    }

    #[test]
    fn filters_by_prefix_ignoring_case() {
        let request = CompletionRequest::new(CompletionRef::Prompt("p".into()), "a", "PAR");
        assert_eq!(
            request.filter(["paris", "park", "party", "pa"]),
            ["paris", "park", "party"]
        );
        let empty = CompletionRequest::new(CompletionRef::Prompt("p".into()), "a", "");
        assert_eq!(empty.filter(["x", "y"]), ["x", "y"]);
        let failed: Result<Vec<String>, &str> = Err("boom");
        assert_eq!(failed.into_completion().unwrap_err().code(), -32603);
    }
}
