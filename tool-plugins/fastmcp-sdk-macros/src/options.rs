//! The arguments of the attributes: `#[tool(...)]` ([`ToolOptions`]) and those of
//! `#[resource]`, `#[resource_template]`, `#[prompt]` and `#[completion]` ([`ItemOptions`]).

use proc_macro2::TokenStream;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{LitBool, LitInt, LitStr, Path, Token};

/// Everything `#[tool(...)]` accepts. `None` means "not given", so defaults stay with the SDK.
#[derive(Default)]
pub(crate) struct ToolOptions {
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
    pub requires_auth: Option<bool>,
    pub scopes: Option<Vec<LitStr>>,
    /// The tool may block (network, disk, long computation): never run it inline.
    pub blocking: Option<bool>,
    /// A tool with a context that is short and never waits: the host may run it inline where
    /// its context cannot block (stateless requests), collecting its notifications.
    pub inline: Option<bool>,
    /// A `fn() -> serde_json::Value` replacing the schema generated from the argument type.
    pub input_schema: Option<Path>,
    /// `task = "optional" | "required" | "forbidden"`: whether the tool may run as a task.
    pub task: Option<LitStr>,
    /// With `task`: ask the client before the task is created (2026-07-28).
    pub input_before_task: Option<bool>,
}

const KNOWN: &str = "name, title, description, read_only, destructive, idempotent, open_world, \
                     requires_auth, scopes, blocking, inline, input_schema, task, \
                     input_before_task";

impl ToolOptions {
    /// Parses the tokens between the attribute's parentheses.
    pub fn parse(attr: TokenStream) -> syn::Result<Self> {
        let mut options = Self::default();
        syn::meta::parser(|meta| options.parse_one(&meta)).parse2(attr)?;
        Ok(options)
    }

    fn parse_one(&mut self, meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
        let Some(ident) = meta.path.get_ident() else {
            return Err(meta.error(format!("expected one of: {KNOWN}")));
        };
        match ident.to_string().as_str() {
            "name" => set(&mut self.name, meta, meta.value()?.parse()?),
            "title" => set(&mut self.title, meta, meta.value()?.parse()?),
            "description" => set(&mut self.description, meta, meta.value()?.parse()?),
            "read_only" => set(&mut self.read_only, meta, flag(meta)?),
            "destructive" => set(&mut self.destructive, meta, flag(meta)?),
            "idempotent" => set(&mut self.idempotent, meta, flag(meta)?),
            "open_world" => set(&mut self.open_world, meta, flag(meta)?),
            "requires_auth" => set(&mut self.requires_auth, meta, flag(meta)?),
            "blocking" => set(&mut self.blocking, meta, flag(meta)?),
            "inline" => set(&mut self.inline, meta, flag(meta)?),
            "input_before_task" => set(&mut self.input_before_task, meta, flag(meta)?),
            "scopes" => {
                let value = meta.value()?;
                let content;
                syn::bracketed!(content in value);
                let scopes = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                set(&mut self.scopes, meta, scopes.into_iter().collect())
            }
            "input_schema" => set(&mut self.input_schema, meta, meta.value()?.parse()?),
            "task" => {
                let value: LitStr = meta.value()?.parse()?;
                if !matches!(
                    value.value().as_str(),
                    "optional" | "required" | "forbidden"
                ) {
                    return Err(syn::Error::new(
                        value.span(),
                        "`task` is one of \"optional\", \"required\", \"forbidden\"",
                    ));
                }
                set(&mut self.task, meta, value)
            }
            other => Err(meta.error(format!(
                "unknown #[tool] option `{other}`; expected one of: {KNOWN}"
            ))),
        }
    }
}

/// The options of the other attributes: every one a string but `size`. Which ones an
/// attribute accepts is its `known` list.
#[derive(Default)]
pub(crate) struct ItemOptions {
    pub uri: Option<LitStr>,
    pub uri_template: Option<LitStr>,
    pub name: Option<LitStr>,
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    pub mime_type: Option<LitStr>,
    pub size: Option<LitInt>,
    pub prompt: Option<LitStr>,
    pub resource_template: Option<LitStr>,
    pub argument: Option<LitStr>,
}

impl ItemOptions {
    /// Parses `#[attribute(...)]`'s tokens, accepting only the options in `known`.
    pub fn parse(attr: TokenStream, attribute: &str, known: &[&str]) -> syn::Result<Self> {
        let mut options = Self::default();
        syn::meta::parser(|meta| options.parse_one(&meta, attribute, known)).parse2(attr)?;
        Ok(options)
    }

    fn parse_one(
        &mut self,
        meta: &ParseNestedMeta<'_>,
        attribute: &str,
        known: &[&str],
    ) -> syn::Result<()> {
        let name = meta.path.get_ident().map(ToString::to_string);
        let Some(name) = name.filter(|name| known.contains(&name.as_str())) else {
            let given = meta
                .path
                .get_ident()
                .map_or_else(String::new, |ident| format!(" `{ident}`"));
            return Err(meta.error(format!(
                "unknown #[{attribute}] option{given}; expected one of: {}",
                known.join(", ")
            )));
        };
        let slot = match name.as_str() {
            "size" => return set(&mut self.size, meta, meta.value()?.parse()?),
            "uri" => &mut self.uri,
            "uri_template" => &mut self.uri_template,
            "name" => &mut self.name,
            "title" => &mut self.title,
            "description" => &mut self.description,
            "mime_type" => &mut self.mime_type,
            "prompt" => &mut self.prompt,
            "resource_template" => &mut self.resource_template,
            "argument" => &mut self.argument,
            other => unreachable!("option {other} is known but not handled"),
        };
        set(slot, meta, meta.value()?.parse()?)
    }
}

/// `flag` alone means `true`; `flag = false` is accepted too.
fn flag(meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    if meta.input.peek(Token![=]) {
        Ok(meta.value()?.parse::<LitBool>()?.value)
    } else {
        Ok(true)
    }
}

fn set<T>(slot: &mut Option<T>, meta: &ParseNestedMeta<'_>, value: T) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error("this option is given twice"));
    }
    *slot = Some(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn parses_every_option() {
        let options = ToolOptions::parse(quote! {
            name = "sleep", title = "Sleep", description = "Sleeps",
            read_only, destructive = false, idempotent = true, open_world = false,
            requires_auth, scopes = ["read", "write"], blocking, input_schema = schemas::sleep,
            task = "optional", input_before_task
        })
        .unwrap();
        assert_eq!(options.name.unwrap().value(), "sleep");
        assert_eq!(options.title.unwrap().value(), "Sleep");
        assert_eq!(options.description.unwrap().value(), "Sleeps");
        assert_eq!(options.read_only, Some(true));
        assert_eq!(options.destructive, Some(false));
        assert_eq!(options.idempotent, Some(true));
        assert_eq!(options.open_world, Some(false));
        assert_eq!(options.requires_auth, Some(true));
        let scopes: Vec<String> = options.scopes.unwrap().iter().map(LitStr::value).collect();
        assert_eq!(scopes, ["read", "write"]);
        assert_eq!(options.blocking, Some(true));
        assert!(options.input_schema.is_some());
        assert_eq!(options.task.unwrap().value(), "optional");
        assert_eq!(options.input_before_task, Some(true));
    }

    #[test]
    fn task_takes_one_of_three_values() {
        for ok in ["optional", "required", "forbidden"] {
            let options = ToolOptions::parse(quote!(task = #ok)).unwrap();
            assert_eq!(options.task.unwrap().value(), ok);
        }
        let error = ToolOptions::parse(quote!(task = "sometimes"))
            .err()
            .unwrap();
        assert!(error.to_string().contains("`task` is one of"), "{error}");
    }

    #[test]
    fn empty_attribute_is_all_defaults() {
        let options = ToolOptions::parse(TokenStream::new()).unwrap();
        assert!(options.name.is_none() && options.read_only.is_none() && options.scopes.is_none());
    }

    #[test]
    fn item_options_accept_only_their_known_keys() {
        let known = ["uri", "name", "size"];
        let options = ItemOptions::parse(
            quote!(uri = "test://a", name = "a", size = 12),
            "resource",
            &known,
        )
        .unwrap();
        assert_eq!(options.uri.unwrap().value(), "test://a");
        assert_eq!(options.size.unwrap().base10_digits(), "12");
        let error = ItemOptions::parse(quote!(prompt = "p"), "resource", &known)
            .err()
            .unwrap();
        assert_eq!(
            error.to_string(),
            "unknown #[resource] option `prompt`; expected one of: uri, name, size"
        );
        let error = ItemOptions::parse(quote!(uri = "a", uri = "b"), "resource", &known)
            .err()
            .unwrap();
        assert!(error.to_string().contains("given twice"), "{error}");
    }

    #[test]
    fn rejects_unknown_and_repeated_options() {
        let error = ToolOptions::parse(quote!(readonly)).err().unwrap();
        assert!(
            error
                .to_string()
                .contains("unknown #[tool] option `readonly`"),
            "{error}"
        );
        let error = ToolOptions::parse(quote!(name = "a", name = "b"))
            .err()
            .unwrap();
        assert!(error.to_string().contains("given twice"), "{error}");
        assert!(ToolOptions::parse(quote!(name = 3)).is_err());
    }
}
