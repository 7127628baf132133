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
    let handler = match &shape {
        _ if is_async => async_handler(&function, &shape, &name),
        Shape::Bare => quote!(|_ctx, _args| #private::invoke(#ident)),
        Shape::Ctx => quote!(|ctx, _args| #private::invoke_ctx(ctx, #ident)),
        Shape::Args(_) => quote!(|_ctx, args| #private::invoke_args(#name, args, #ident)),
        Shape::CtxArgs(_) => {
            quote!(|ctx, args| #private::invoke_ctx_args(#name, ctx, args, #ident))
        }
    };
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
    let scopes = options.scopes.unwrap_or_default();
    let authenticated = options.requires_auth.unwrap_or(false) || !scopes.is_empty();
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
                    #title
                    #description
                    .with_input_schema(#input_schema)
                    .with_output_schema(<#output as #sdk::IntoToolResult>::output_schema)
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
                    .with_execution(#execution)
                    #task_support
            }
        }
    };
    let item = if is_async {
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
    } else {
        item
    };

    Ok(quote! {
        #function

        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code, missing_debug_implementations)]
        #vis struct #ident {}

        #item
    })
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
mod tests {
    use super::*;

    fn expand(attr: TokenStream, item: TokenStream) -> Result<String, String> {
        tool(attr, item)
            .map(|tokens| tokens.to_string())
            .map_err(|error| error.to_string())
    }

    #[test]
    fn recognises_the_four_signatures() {
        let cases = [
            (
                quote!(
                    fn f() -> String {}
                ),
                "invoke (f)",
            ),
            (
                quote!(
                    fn f(ctx: &Context) -> String {}
                ),
                "invoke_ctx (ctx , f)",
            ),
            (
                quote!(
                    fn f(a: A) -> String {}
                ),
                "invoke_args (\"f\" , args , f)",
            ),
            (
                quote!(
                    fn f(c: &sdk::Context<'_>, a: A) {}
                ),
                "invoke_ctx_args (\"f\" , ctx , args , f)",
            ),
        ];
        for (item, call) in cases {
            let out = expand(TokenStream::new(), item).unwrap();
            assert!(out.contains(call), "{call} not in {out}");
        }
    }

    #[test]
    fn writes_options_into_the_definition() {
        let out = expand(
            quote!(
                name = "sleep",
                title = "Sleep",
                read_only,
                scopes = ["admin"]
            ),
            quote! {
                /// Sleeps
                fn sleep_tool(args: SleepArgs) -> Result<String, ToolError> {}
            },
        )
        .unwrap();
        assert!(out.contains("struct sleep_tool { }"), "{out}");
        assert!(out.contains("ToolDef :: new (\"sleep\""), "{out}");
        assert!(out.contains("with_title (\"Sleep\")"), "{out}");
        assert!(out.contains("with_description (\"Sleeps\")"), "{out}");
        assert!(out.contains("read_only_hint : :: core :: option :: Option :: Some (true)"));
        assert!(out.contains("authenticated : true"), "{out}");
        assert!(out.contains("input_schema :: < SleepArgs >"), "{out}");
        assert!(out.contains("Execution :: Inline"), "{out}");
    }

    #[test]
    fn tools_with_a_context_or_that_block_run_on_workers() {
        let cases = [
            (
                quote!(),
                quote!(
                    fn f(ctx: &Context) {}
                ),
                "Worker",
            ),
            (
                quote!(),
                quote!(
                    fn f(ctx: &Context, a: A) {}
                ),
                "Worker",
            ),
            (
                quote!(blocking),
                quote!(
                    fn f(a: A) {}
                ),
                "Worker",
            ),
            (
                quote!(blocking = false),
                quote!(
                    fn f() {}
                ),
                "Inline",
            ),
            (
                quote!(),
                quote!(
                    fn f() {}
                ),
                "Inline",
            ),
            (
                quote!(inline),
                quote!(
                    fn f(ctx: &Context) {}
                ),
                "InlineContext",
            ),
            (
                quote!(inline = false),
                quote!(
                    fn f() {}
                ),
                "Worker",
            ),
        ];
        for (attr, item, execution) in cases {
            let out = expand(attr, item).unwrap();
            assert!(out.contains(&format!("Execution :: {execution}")), "{out}");
        }
    }

    #[test]
    fn async_functions_build_a_future_and_are_never_inline() {
        let out = expand(
            TokenStream::new(),
            quote!(
                async fn f(ctx: &Context, a: A) -> String {}
            ),
        )
        .unwrap();
        assert!(out.contains("ToolDef :: new_async (\"f\""), "{out}");
        assert!(out.contains("__call . context ()"), "{out}");
        assert!(out.contains("arguments :: < A > (\"f\" , __call . arguments ())"));
        assert!(out.contains("f (& __ctx , __args) . await"), "{out}");
        // An async fn may not elide the context's lifetime; the attribute names it.
        assert!(out.contains("ctx : & Context < '_ >"), "{out}");
        assert!(out.contains("async_tool !"), "{out}");
        assert!(out.contains("Execution :: Worker"), "{out}");
        let bare = expand(
            TokenStream::new(),
            quote!(
                async fn g() {}
            ),
        )
        .unwrap();
        assert!(bare.contains("g () . await"), "{bare}");
        let error = expand(
            quote!(blocking),
            quote!(
                async fn f() {}
            ),
        )
        .unwrap_err();
        assert!(error.contains("must not block"), "{error}");
        let error = expand(
            quote!(inline),
            quote!(
                async fn f() {}
            ),
        )
        .unwrap_err();
        assert!(error.contains("cannot be `blocking` or `async`"), "{error}");
    }

    #[test]
    fn rejects_unsupported_functions() {
        let cases = [
            (
                quote!(
                    fn f<T>(a: T) {}
                ),
                "cannot be generic",
            ),
            (
                quote!(
                    fn f(a: A, b: B) {}
                ),
                "must be the context",
            ),
            (
                quote!(
                    fn f(c: &Context, a: A, b: B) {}
                ),
                "at most",
            ),
            (
                quote!(
                    fn f(a: &str) {}
                ),
                "owned type",
            ),
            (
                quote!(
                    fn f(c: &mut Context) {}
                ),
                "not `&mut`",
            ),
            (
                quote!(
                    fn f() -> impl Display {}
                ),
                "named return type",
            ),
            (
                quote!(
                    struct S;
                ),
                "free function",
            ),
        ];
        for (item, message) in cases {
            let error = expand(TokenStream::new(), item).unwrap_err();
            assert!(error.contains(message), "{message:?} not in {error:?}");
        }
        let error = expand(
            quote!(name = "has space"),
            quote!(
                fn f() {}
            ),
        )
        .unwrap_err();
        assert!(error.contains("invalid tool name"), "{error}");
    }
}
