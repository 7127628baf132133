//! What every attribute checks about the function it decorates, and the helpers they share:
//! classifying parameters (`&Context`, `&str`, an owned type) and reading doc comments.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, FnArg, ItemFn, Lit, Meta, ReturnType, Type};

/// One parameter, by what the generated code passes for it.
pub(crate) enum Param {
    /// `ctx: &Context` (any path ending in `Context`).
    Context(Span),
    /// `uri: &str`.
    Str(Span),
    /// An owned value the SDK deserializes (boxed: a `Type` is large).
    Owned(Box<Type>),
}

impl Param {
    pub fn span(&self) -> Span {
        match self {
            Param::Context(span) | Param::Str(span) => *span,
            Param::Owned(ty) => ty.span(),
        }
    }
}

/// Parses the item as a function (plain or `async`) and checks what no attribute accepts:
/// `unsafe`, generics, variadics, methods and `impl Trait` return types. Returns the function
/// and its parameters.
pub(crate) fn function(attribute: &str, item: TokenStream) -> syn::Result<(ItemFn, Vec<Param>)> {
    let function: ItemFn = syn::parse2(item).map_err(|error| {
        syn::Error::new(
            error.span(),
            format!("#[{attribute}] goes on a free function: `fn name(...) -> R`"),
        )
    })?;
    let sig = &function.sig;
    if let Some(unsafety) = &sig.unsafety {
        let message = format!("#[{attribute}] functions cannot be unsafe");
        return Err(syn::Error::new(unsafety.span(), message));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let message = format!("#[{attribute}] functions cannot be generic");
        return Err(syn::Error::new(sig.generics.span(), message));
    }
    if let Some(variadic) = &sig.variadic {
        let message = format!("#[{attribute}] functions cannot be variadic");
        return Err(syn::Error::new(variadic.span(), message));
    }
    if let ReturnType::Type(_, ty) = &sig.output
        && let Type::ImplTrait(_) = **ty
    {
        return Err(syn::Error::new(
            ty.span(),
            format!(
                "#[{attribute}] needs a named return type (String, Json<T>, Result<T, E>, ...), \
                 not `impl Trait`"
            ),
        ));
    }
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new(
                    receiver.span(),
                    format!("#[{attribute}] goes on a free function, not a method"),
                ));
            }
            FnArg::Typed(typed) => params.push(param(&typed.ty)?),
        }
    }
    Ok((function, params))
}

/// Classifies one parameter's type.
fn param(ty: &Type) -> syn::Result<Param> {
    let Type::Reference(reference) = ty else {
        return Ok(Param::Owned(Box::new(ty.clone())));
    };
    let Type::Path(path) = &*reference.elem else {
        return Ok(Param::Owned(Box::new(ty.clone())));
    };
    let last = path.path.segments.last();
    if last.is_some_and(|last| last.ident == "Context") {
        if reference.mutability.is_some() {
            return Err(syn::Error::new(
                ty.span(),
                "take the context as `&Context`, not `&mut`",
            ));
        }
        return Ok(Param::Context(ty.span()));
    }
    if path.path.is_ident("str") && reference.mutability.is_none() {
        return Ok(Param::Str(ty.span()));
    }
    Ok(Param::Owned(Box::new(ty.clone())))
}

/// Writes `&Context` as `&Context<'_>`: an `async fn` may not elide a lifetime in a path, and
/// the context's is one the author never needs to name.
pub(crate) fn name_context_lifetime(function: &mut ItemFn) {
    for input in &mut function.sig.inputs {
        if let FnArg::Typed(typed) = input
            && let Type::Reference(reference) = &mut *typed.ty
            && let Type::Path(path) = &mut *reference.elem
            && let Some(last) = path.path.segments.last_mut()
            && last.ident == "Context"
            && last.arguments.is_none()
        {
            last.arguments = syn::PathArguments::AngleBracketed(syn::parse_quote!(<'_>));
        }
    }
}

/// The error for a borrowed type where an owned one is needed.
pub(crate) fn owned(ty: &Type, what: &str) -> syn::Result<Type> {
    if let Type::Reference(_) = ty {
        return Err(syn::Error::new(
            ty.span(),
            format!("{what} must be an owned type (the context parameter is `&Context`)"),
        ));
    }
    Ok(ty.clone())
}

/// The function's name, without a raw identifier's `r#`.
pub(crate) fn name_of(function: &ItemFn) -> String {
    function
        .sig
        .ident
        .to_string()
        .trim_start_matches("r#")
        .to_owned()
}

/// The doc comments, joined by newlines, with their common indentation removed and trimmed;
/// `None` when there are none.
pub(crate) fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let mut text = String::new();
    for attr in attrs {
        if let Meta::NameValue(pair) = &attr.meta
            && pair.path.is_ident("doc")
            && let Expr::Lit(expr) = &pair.value
            && let Lit::Str(line) = &expr.lit
        {
            text.push_str(&line.value());
            text.push('\n');
        }
    }
    let indent = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()?;
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.get(indent..).unwrap_or(""))
        .collect();
    Some(lines.join("\n").trim().to_owned()).filter(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn doc_comments_become_the_description() {
        let function: ItemFn = syn::parse_quote! {
            /// Perform a calculation
            ///
            /// Second paragraph,
            ///   indented.
            fn calculate() {}
        };
        let text = doc_text(&function.attrs).unwrap();
        assert_eq!(
            text,
            "Perform a calculation\n\nSecond paragraph,\n  indented."
        );
        let bare: ItemFn = syn::parse_quote!(
            fn f() {}
        );
        assert_eq!(doc_text(&bare.attrs), None);
    }

    #[test]
    fn classifies_parameters() {
        let (_, params) = function(
            "resource_template",
            quote!(
                fn f(ctx: &sdk::Context<'_>, uri: &str, p: Params) {}
            ),
        )
        .unwrap();
        assert!(matches!(
            params.as_slice(),
            [Param::Context(_), Param::Str(_), Param::Owned(_)]
        ));
        let error = function(
            "prompt",
            quote!(
                fn f(c: &mut Context) {}
            ),
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("not `&mut`"), "{error}");
        let (function, _) = function(
            "prompt",
            quote!(
                async fn f() {}
            ),
        )
        .unwrap();
        assert!(function.sig.asyncness.is_some());
    }
}
