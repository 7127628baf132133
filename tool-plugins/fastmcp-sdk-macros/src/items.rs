//! Writes what `#[resource]`, `#[resource_template]`, `#[prompt]` and `#[completion]` generate:
//! like `#[tool]`, the function stays as written and a hidden fieldless struct with the same
//! name implements the SDK's `ResourceItem` / `ResourceTemplateItem` / `PromptItem` /
//! `CompletionItem`, whose `definition()` builds the item with a handler calling the function.
//!
//! Each may be an `async fn`: its future then runs to its end on the calling (host worker)
//! thread, on the plugin's async runtime (`fastmcp_sdk::__private::block_on`).

use fastmcp_abi::uri_template::UriTemplate;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

use crate::options::ItemOptions;
use crate::signature::{self, Param, doc_text, name_of, owned};

const RESOURCE: &[&str] = &["uri", "name", "title", "description", "mime_type", "size"];
const TEMPLATE: &[&str] = &["uri_template", "name", "title", "description", "mime_type"];
const PROMPT: &[&str] = &["name", "title", "description"];
const COMPLETION: &[&str] = &["prompt", "resource_template", "argument"];

pub(crate) fn resource(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = ItemOptions::parse(attr, "resource", RESOURCE)?;
    let (function, params) = prepare("resource", item)?;
    let uri = required(options.uri.as_ref(), "resource", "uri = \"scheme://path\"")?;
    let ctx = match params.as_slice() {
        [] => quote!(),
        [Param::Context(_)] => quote!(_ctx),
        [param, ..] => {
            return Err(syn::Error::new(
                param.span(),
                "a #[resource] function takes nothing or `ctx: &Context` (its URI is fixed; \
                 for URIs with variables use #[resource_template])",
            ));
        }
    };
    let ident = &function.sig.ident;
    let call = awaited(&function, quote!(#ident(#ctx)));
    let name = options
        .name
        .clone()
        .map_or_else(|| name_of(&function), |n| n.value());
    let size = options.size.as_ref().map(|size| quote!(.with_size(#size)));
    let common = common(&function, &options);
    let sdk = quote!(::fastmcp_sdk);
    let body = quote! {
        #sdk::ResourceDef::new(#uri, #name, |_ctx, _request| {
            #sdk::__private::read(_request, || #call)
        })
        #common
        #size
    };
    Ok(item_struct(
        &function,
        quote!(ResourceItem),
        quote!(ResourceDef),
        body,
    ))
}

pub(crate) fn resource_template(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = ItemOptions::parse(attr, "resource_template", TEMPLATE)?;
    let (function, params) = prepare("resource_template", item)?;
    let example = "uri_template = \"scheme://items/{id}\"";
    let template = required(options.uri_template.as_ref(), "resource_template", example)?;
    check_template(template)?;

    // `(ctx?, uri?, params?)`, in that order.
    let mut args = Vec::new();
    let mut params_type = None;
    let mut rank = 0;
    for param in &params {
        let (this, arg) = match param {
            Param::Context(_) => (1, quote!(_ctx)),
            Param::Str(_) => (2, quote!(_request.uri())),
            Param::Owned(ty) => {
                params_type = Some(owned(ty, "the template's parameters")?);
                (3, quote!(__params))
            }
        };
        if this <= rank {
            return Err(syn::Error::new(
                param.span(),
                "a #[resource_template] function takes, each optional and in this order, \
                 `ctx: &Context`, `uri: &str` and one parameter type for the URI's variables",
            ));
        }
        rank = this;
        args.push(arg);
    }
    let ident = &function.sig.ident;
    let sdk = quote!(::fastmcp_sdk);
    let call = awaited(&function, quote!(#ident(#(#args),*)));
    let read = match &params_type {
        Some(ty) => quote_spanned! {ty.span()=>
            #sdk::__private::read_params(_request, |__params: #ty| #call)
        },
        None => quote!(#sdk::__private::read(_request, || #call)),
    };
    let name = options
        .name
        .clone()
        .map_or_else(|| name_of(&function), |n| n.value());
    let common = common(&function, &options);
    let body = quote! {
        #sdk::ResourceTemplateDef::new(#template, #name, |_ctx, _request| #read)
        #common
    };
    let kind = (quote!(ResourceTemplateItem), quote!(ResourceTemplateDef));
    Ok(item_struct(&function, kind.0, kind.1, body))
}

pub(crate) fn prompt(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = ItemOptions::parse(attr, "prompt", PROMPT)?;
    let (function, params) = prepare("prompt", item)?;
    let (ctx, args_type) = match params.as_slice() {
        [] => (None, None),
        [Param::Context(_)] => (Some(quote!(_ctx)), None),
        [Param::Owned(ty)] => (None, Some(owned(ty, "prompt arguments")?)),
        [Param::Context(_), Param::Owned(ty)] => {
            (Some(quote!(_ctx)), Some(owned(ty, "prompt arguments")?))
        }
        [first, ..] => {
            return Err(syn::Error::new(
                first.span(),
                "a #[prompt] function takes `()`, `(args: T)`, `(ctx: &Context)` or \
                 `(ctx: &Context, args: T)`, where T derives Deserialize and JsonSchema",
            ));
        }
    };
    let name = match &options.name {
        Some(name) => name.value(),
        None => name_of(&function),
    };
    if name.is_empty() {
        let span = options
            .name
            .as_ref()
            .map_or(function.sig.ident.span(), LitStr::span);
        return Err(syn::Error::new(span, "a prompt name cannot be empty"));
    }
    let ident = &function.sig.ident;
    let sdk = quote!(::fastmcp_sdk);
    let private = quote!(#sdk::__private);
    let (handler, arguments) = match &args_type {
        Some(ty) => {
            let call = match &ctx {
                Some(ctx) => quote!(#ident(#ctx, __args)),
                None => quote!(#ident(__args)),
            };
            let call = awaited(&function, call);
            let handler = quote_spanned! {ty.span()=>
                #private::get_prompt_args(#name, _arguments, |__args: #ty| #call)
            };
            let arguments =
                quote_spanned!(ty.span()=> .with_arguments(#private::prompt_arguments::<#ty>));
            (handler, Some(arguments))
        }
        None => {
            let call = awaited(&function, quote!(#ident(#ctx)));
            (quote!(#private::get_prompt(|| #call)), None)
        }
    };
    let title = options
        .title
        .as_ref()
        .map(|title| quote!(.with_title(#title)));
    let description = description(&function, &options);
    let body = quote! {
        #sdk::PromptDef::new(#name, |_ctx, _arguments| #handler)
        #title
        #description
        #arguments
    };
    Ok(item_struct(
        &function,
        quote!(PromptItem),
        quote!(PromptDef),
        body,
    ))
}

pub(crate) fn completion(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = ItemOptions::parse(attr, "completion", COMPLETION)?;
    let (function, params) = prepare("completion", item)?;
    let (constructor, target) = match (&options.prompt, &options.resource_template) {
        (Some(prompt), None) => (quote!(prompt), prompt),
        (None, Some(template)) => {
            check_template(template)?;
            (quote!(resource_template), template)
        }
        _ => {
            return Err(syn::Error::new(
                proc_macro2::Span::call_site(),
                "#[completion] needs exactly one of `prompt = \"name\"` or \
                 `resource_template = \"uri template\"`",
            ));
        }
    };
    let args = match params.as_slice() {
        [Param::Owned(_)] => quote!(_request),
        [Param::Context(_), Param::Owned(_)] => quote!(_ctx, _request),
        _ => {
            let span = params
                .first()
                .map_or(function.sig.ident.span(), Param::span);
            return Err(syn::Error::new(
                span,
                "a #[completion] function takes `(request: CompletionRequest)` or \
                 `(ctx: &Context, request: CompletionRequest)`",
            ));
        }
    };
    let argument = options.argument.as_ref().map(|a| quote!(.for_argument(#a)));
    let ident = &function.sig.ident;
    let sdk = quote!(::fastmcp_sdk);
    let call = awaited(&function, quote!(#ident(#args)));
    let body = quote! {
        #sdk::CompletionDef::#constructor(#target, |_ctx, _request| {
            #sdk::__private::complete(#call)
        })
        #argument
    };
    Ok(item_struct(
        &function,
        quote!(CompletionItem),
        quote!(CompletionDef),
        body,
    ))
}

/// The function, and beside it the hidden struct implementing `trait_name`.
fn item_struct(
    function: &ItemFn,
    trait_name: TokenStream,
    def: TokenStream,
    body: TokenStream,
) -> TokenStream {
    let ident = &function.sig.ident;
    let vis = &function.vis;
    // Without the SDK's `async` feature, an async function is one clear compile error.
    let needs_async = function
        .sig
        .asyncness
        .is_some()
        .then(|| quote!(::fastmcp_sdk::__private::async_tool! { {} {} }));
    quote! {
        #function

        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code, missing_debug_implementations)]
        #vis struct #ident {}

        impl ::fastmcp_sdk::__private::#trait_name for #ident {
            fn definition() -> ::fastmcp_sdk::#def {
                #body
            }
        }

        #needs_async
    }
}

/// Parses and checks the function; an `async fn` gets its context's lifetime named.
fn prepare(attribute: &str, item: TokenStream) -> syn::Result<(ItemFn, Vec<Param>)> {
    let (mut function, params) = signature::function(attribute, item)?;
    if function.sig.asyncness.is_some() {
        signature::name_context_lifetime(&mut function);
    }
    Ok((function, params))
}

/// `call`, or for an `async fn`, its future run to the end on the plugin's runtime.
fn awaited(function: &ItemFn, call: TokenStream) -> TokenStream {
    if function.sig.asyncness.is_some() {
        quote!(::fastmcp_sdk::__private::block_on(_ctx, #call))
    } else {
        call
    }
}

/// `.with_title(..)`, `.with_description(..)` and `.with_mime_type(..)`, where given.
fn common(function: &ItemFn, options: &ItemOptions) -> TokenStream {
    let title = options
        .title
        .as_ref()
        .map(|title| quote!(.with_title(#title)));
    let mime = options
        .mime_type
        .as_ref()
        .map(|mime| quote!(.with_mime_type(#mime)));
    let description = description(function, options);
    quote!(#title #description #mime)
}

/// The `description` option, or else the doc comments.
fn description(function: &ItemFn, options: &ItemOptions) -> Option<TokenStream> {
    let text = match &options.description {
        Some(description) => Some(description.value()),
        None => doc_text(&function.attrs),
    };
    text.map(|text| quote!(.with_description(#text)))
}

fn required<'a>(
    value: Option<&'a LitStr>,
    attribute: &str,
    example: &str,
) -> syn::Result<&'a LitStr> {
    match value {
        Some(value) if !value.value().is_empty() => Ok(value),
        Some(value) => Err(syn::Error::new(value.span(), "this cannot be empty")),
        None => Err(syn::Error::new(
            proc_macro2::Span::call_site(),
            format!("#[{attribute}] needs `{example}`"),
        )),
    }
}

/// Checks an RFC 6570 template's syntax with the parser the SDK and the host use, so a
/// template that compiles is one they accept.
fn check_template(template: &LitStr) -> syn::Result<()> {
    match UriTemplate::parse(&template.value()) {
        Ok(_) => Ok(()),
        Err(error) => Err(syn::Error::new(
            template.span(),
            format!("invalid URI template: {error}"),
        )),
    }
}

#[cfg(test)]
mod tests;
