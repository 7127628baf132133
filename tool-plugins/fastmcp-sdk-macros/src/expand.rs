//! Writes what `#[tool]` generates next to the function it decorates.
//!
//! The function stays as written. Beside it goes a hidden, fieldless struct with the *same name*:
//! structs live in the type namespace and functions in the value namespace, so both coexist, and
//! `export_plugin!` can name the tool by the function's path (`calculate`, `tools::calculate`).
//! The struct implements `fastmcp_sdk::__private::ToolItem`, whose `definition()` returns the
//! `ToolDef`: name, description, schemas, annotations, access, and a handler that parses the
//! arguments and calls the function.
//!
//! For an `async fn` the handler builds the call's future instead (`ToolDef::new_async`): an
//! `async move` block that owns the call, borrows its `Context` from it, parses the arguments
//! and awaits the function. It is wrapped in `fastmcp_sdk::__private::async_tool!`, which
//! turns it into one clear error when the SDK's `async` feature is off.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{LitStr, ReturnType, Type};

use crate::options::ToolOptions;
use crate::signature::{self, Param, doc_text, name_of, owned};

/// Which of the four accepted signatures the function has.
enum Shape {
    /// `fn()`
    Bare,
    /// `fn(ctx: &Context)`
    Ctx,
    /// `fn(args: T)`
    Args(Type),
    /// `fn(ctx: &Context, args: T)`
    CtxArgs(Type),
}

pub(crate) fn tool(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = ToolOptions::parse(attr)?;
    let (mut function, params) = signature::function("tool", item)?;
    let shape = shape(&params)?;
    let is_async = function.sig.asyncness.is_some();
    if is_async {
        signature::name_context_lifetime(&mut function);
    }
    if let (true, Some(true)) = (is_async, options.blocking) {
        return Err(syn::Error::new(
            function.sig.fn_token.span(),
            "an async tool runs on the plugin's async runtime and must not block; `blocking` is \
             for a plain `fn` that does",
        ));
    }

    let ident = &function.sig.ident;
    let vis = &function.vis;
    let name = match &options.name {
        Some(name) => name.value(),
        None => name_of(&function),
    };
    check_name(
        &name,
        options.name.as_ref().map_or(ident.span(), |lit| lit.span()),
    )?;

    let sdk = quote!(::fastmcp_sdk);
    let private = quote!(#sdk::__private);
    let handler = handler(&function, &shape, &name, is_async);
    let input_schema = match (&options.input_schema, &shape) {
        (Some(path), _) => quote!(#path),
        (None, Shape::Args(ty) | Shape::CtxArgs(ty)) => {
            quote_spanned!(ty.span()=> #private::input_schema::<#ty>)
        }
        (None, Shape::Bare | Shape::Ctx) => quote!(#private::empty_object_schema),
    };
    let output = match &function.sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    };

    let (execution, task_support) = execution(&options, &shape, is_async)?;
    let (title_and_description, metadata) = description(&options, &function);
    let constructor = if is_async {
        quote!(new_async)
    } else {
        quote!(new)
    };

    let item = quote! {
        // The struct updates keep this code compiling when the SDK adds fields.
        #[allow(clippy::needless_update)]
        impl #private::ToolItem for #ident {
            fn definition() -> #sdk::ToolDef {
                #sdk::ToolDef::#constructor(#name, #handler)
                    #title_and_description
                    .with_input_schema(#input_schema)
                    .with_output_schema(<#output as #sdk::IntoToolResult>::output_schema)
                    #metadata
                    .with_execution(#execution)
                    #task_support
            }
        }
    };
    let item = gate_async(item, ident, &name, is_async);

    Ok(quote! {
        #function

        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code, missing_debug_implementations)]
        #vis struct #ident {}

        #item
    })
}

/// The closure that runs one call: parses the arguments and calls the function.
fn handler(function: &syn::ItemFn, shape: &Shape, name: &str, is_async: bool) -> TokenStream {
    let ident = &function.sig.ident;
    let private = quote!(::fastmcp_sdk::__private);
    match shape {
        _ if is_async => async_handler(function, shape, name),
        Shape::Bare => quote!(|_ctx, _args| #private::invoke(#ident)),
        Shape::Ctx => quote!(|ctx, _args| #private::invoke_ctx(ctx, #ident)),
        Shape::Args(_) => quote!(|_ctx, args| #private::invoke_args(#name, args, #ident)),
        Shape::CtxArgs(_) => {
            quote!(|ctx, args| #private::invoke_ctx_args(#name, ctx, args, #ident))
        }
    }
}

/// The builder calls that describe the tool to clients: its title and description, then its
/// annotations and access rules.
fn description(options: &ToolOptions, function: &syn::ItemFn) -> (TokenStream, TokenStream) {
    let sdk = quote!(::fastmcp_sdk);
    let title = options
        .title
        .as_ref()
        .map(|title| quote!(.with_title(#title)));
    let description = match &options.description {
        Some(description) => Some(description.value()),
        None => doc_text(&function.attrs),
    };
    let description = description.map(|text| quote!(.with_description(#text)));
    let hint = |value: Option<bool>| match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    };
    let (read_only, destructive) = (hint(options.read_only), hint(options.destructive));
    let (idempotent, open_world) = (hint(options.idempotent), hint(options.open_world));
    let scopes = options.scopes.clone().unwrap_or_default();
    let authenticated = options.requires_auth.unwrap_or(false) || !scopes.is_empty();
    let title_and_description = quote!(#title #description);
    let metadata = quote! {
        .with_annotations(#sdk::ToolAnnotations {
            read_only_hint: #read_only,
            destructive_hint: #destructive,
            idempotent_hint: #idempotent,
            open_world_hint: #open_world,
            ..::core::default::Default::default()
        })
        .with_access(#sdk::ToolAccess {
            authenticated: #authenticated,
            scopes: &[#(#scopes),*],
            ..::core::default::Default::default()
        })
    };
    (title_and_description, metadata)
}

/// Where the host may run the tool's calls, and its task support (`.with_task_support(..)`).
fn execution(
    options: &ToolOptions,
    shape: &Shape,
    is_async: bool,
) -> syn::Result<(TokenStream, TokenStream)> {
    let sdk = quote!(::fastmcp_sdk);
    // A tool without a context cannot report progress, be cancelled or ask the client: unless
    // it says it blocks, the host may run it inline on its I/O threads.
    // A tool with a context runs on the workers unless it says it is short (`inline`): then
    // the host may run it inline where its context cannot block.
    let (blocking, inline) = (options.blocking.unwrap_or(false), options.inline);
    if inline == Some(true) && (blocking || is_async) {
        return Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            "an `inline` tool cannot be `blocking` or `async` (an async tool holds no thread \
             while it waits: it needs no inline path)",
        ));
    }
    let execution = match (&shape, blocking, inline) {
        _ if is_async => quote!(#sdk::Execution::Worker),
        (Shape::Bare | Shape::Args(_), false, None | Some(true)) => {
            quote!(#sdk::Execution::Inline)
        }
        (Shape::Ctx | Shape::CtxArgs(_), false, Some(true)) => {
            quote!(#sdk::Execution::InlineContext)
        }
        _ => quote!(#sdk::Execution::Worker),
    };
    let task_support = match options.task.as_ref().map(LitStr::value).as_deref() {
        Some("optional") => quote!(.with_task_support(#sdk::TaskSupport::Optional)),
        Some("required") => quote!(.with_task_support(#sdk::TaskSupport::Required)),
        _ => quote!(),
    };
    let task_support = match options.input_before_task {
        Some(true) => quote!(#task_support .with_input_before_task(true)),
        _ => task_support,
    };
    Ok((execution, task_support))
}

/// An async tool's definition, which fails to compile with a message naming the missing
/// `async` feature when the SDK is built without it.
fn gate_async(item: TokenStream, ident: &syn::Ident, name: &str, is_async: bool) -> TokenStream {
    if !is_async {
        return item;
    }
    let sdk = quote!(::fastmcp_sdk);
    let private = quote!(#sdk::__private);
    // Without the `async` feature: the error, and a stand-in so nothing else fails.
    quote! {
        #private::async_tool! {
            { #item }
            {
                impl #private::ToolItem for #ident {
                    fn definition() -> #sdk::ToolDef {
                        #sdk::ToolDef::new(#name, |_, _| ::core::unreachable!())
                    }
                }
            }
        }
    }
}

/// The handler of an `async fn` tool: builds the future of one call, which owns the call,
/// takes its context from it, parses the arguments and awaits the function.
fn async_handler(function: &syn::ItemFn, shape: &Shape, name: &str) -> TokenStream {
    let ident = &function.sig.ident;
    let sdk = quote!(::fastmcp_sdk);
    let private = quote!(#sdk::__private);
    let parse = match shape {
        Shape::Args(ty) | Shape::CtxArgs(ty) => quote_spanned! {ty.span()=>
            let __args = match #private::arguments::<#ty>(#name, __call.arguments()) {
                ::core::result::Result::Ok(__args) => __args,
                ::core::result::Result::Err(__invalid) => {
                    return #private::AsyncOutcome::new(&__ctx, __invalid);
                }
            };
        },
        Shape::Bare | Shape::Ctx => quote!(),
    };
    let args = match shape {
        Shape::Bare => quote!(),
        Shape::Ctx => quote!(&__ctx),
        Shape::Args(_) => quote!(__args),
        Shape::CtxArgs(_) => quote!(&__ctx, __args),
    };
    // Spanned at the signature: a future that is not `Send` is reported at the function.
    let future = quote_spanned! {function.sig.span()=>
        ::std::boxed::Box::pin(async move {
            let __ctx = __call.context();
            #parse
            let __result = #sdk::IntoToolResult::into_tool_result(#ident(#args).await);
            #private::AsyncOutcome::new(&__ctx, __result)
        })
    };
    quote!(|__call: #private::AsyncCall| -> #private::ToolFuture { #future })
}

/// Classifies the parameters; rejects what the generated handler could not call.
fn shape(params: &[Param]) -> syn::Result<Shape> {
    let args = |param: &Param| match param {
        Param::Owned(ty) => owned(ty, "tool arguments"),
        other => Err(syn::Error::new(
            other.span(),
            "tool arguments must be an owned type that implements Deserialize and JsonSchema \
             (the context parameter is `&Context`)",
        )),
    };
    match params {
        [] => Ok(Shape::Bare),
        [Param::Context(_)] => Ok(Shape::Ctx),
        [param] => Ok(Shape::Args(args(param)?)),
        [Param::Context(_), param] => Ok(Shape::CtxArgs(args(param)?)),
        [first, _] => Err(syn::Error::new(
            first.span(),
            "the first of two parameters must be the context: `ctx: &Context`",
        )),
        [_, _, extra, ..] => Err(syn::Error::new(
            extra.span(),
            "a tool takes at most `(ctx: &Context, args: T)`: put every argument in one struct \
             that derives Deserialize and JsonSchema",
        )),
    }
}

/// MCP tool names: 1 to 128 characters of `A-Z a-z 0-9 _ - .`.
fn check_name(name: &str, span: Span) -> syn::Result<()> {
    let valid = (1..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(syn::Error::new(
            span,
            format!("invalid tool name {name:?}: use 1 to 128 characters of A-Z a-z 0-9 _ - ."),
        ))
    }
}

#[cfg(test)]
mod tests;
