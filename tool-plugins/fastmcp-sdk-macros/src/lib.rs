//! Procedural macros of `fastmcp-sdk`: the `#[tool]` attribute.
//!
//! Use it through `fastmcp_sdk::prelude`, not from this crate directly: the generated code refers
//! to `::fastmcp_sdk`, so the plugin crate must depend on `fastmcp-sdk` under that name.
//!
//! # Layout
//! - `options`: parses the attribute's arguments (`name = "..."`, `read_only`, `scopes = [...]`).
//! - `expand`: checks the function's signature and writes the hidden tool definition.

use proc_macro::TokenStream;

mod expand;
mod options;

/// Turns a function into an MCP tool; see `fastmcp_sdk::tool` for the documentation.
#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match expand::tool(attr.into(), item.clone()) {
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
