//! Procedural macros of `fastmcp-sdk`: the `#[tool]`, `#[resource]`, `#[resource_template]`,
//! `#[prompt]` and `#[completion]` attributes, and `skills!`.
//!
//! Use them through `fastmcp_sdk::prelude`, not from this crate directly: the generated code
//! refers to `::fastmcp_sdk`, so the plugin crate must depend on `fastmcp-sdk` under that name.
//!
//! # Layout
//! - `options`: parses the attributes' arguments (`name = "..."`, `read_only`, `uri = "..."`).
//! - `signature`: the checks every attribute makes on the function, parameter kinds, doc comments.
//! - `expand`: writes the hidden tool definition.
//! - `items`: writes the hidden resource, template, prompt and completion definitions.
//! - `skills`: `skills!("dir")`, a directory of Agent Skills embedded at build time.

use proc_macro::TokenStream;

/// The README's example, compiled and run as a doctest (against `fastmcp-sdk`, a
/// dev-dependency) so the crates.io page stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod expand;
mod items;
mod options;
mod signature;
mod skills;

type Expand =
    fn(proc_macro2::TokenStream, proc_macro2::TokenStream) -> syn::Result<proc_macro2::TokenStream>;

/// Turns a function into an MCP tool; see `fastmcp_sdk::tool` for the documentation.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(expand::tool, attr, item)
}

/// Turns a function into an MCP resource; see `fastmcp_sdk::resource`.
#[proc_macro_attribute]
pub fn resource(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(items::resource, attr, item)
}

/// Turns a function into an MCP resource template; see `fastmcp_sdk::resource_template`.
#[proc_macro_attribute]
pub fn resource_template(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(items::resource_template, attr, item)
}

/// Turns a function into an MCP prompt; see `fastmcp_sdk::prompt`.
#[proc_macro_attribute]
pub fn prompt(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(items::prompt, attr, item)
}

/// Turns a function into a completion provider; see `fastmcp_sdk::completion`.
#[proc_macro_attribute]
pub fn completion(attr: TokenStream, item: TokenStream) -> TokenStream {
    run(items::completion, attr, item)
}

/// Embeds a directory of Agent Skills; see `fastmcp_sdk::skills`.
#[proc_macro]
pub fn skills(input: TokenStream) -> TokenStream {
    match skills::expand(input.into()) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// Expands, or reports the error while keeping the item as written.
fn run(expand: Expand, attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match expand(attr.into(), item.clone()) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            // Keep the function so one mistake in the attribute does not cascade into
            // "cannot find function" errors wherever it is used.
            let mut tokens = error.to_compile_error();
            tokens.extend(item);
            tokens.into()
        }
    }
}
