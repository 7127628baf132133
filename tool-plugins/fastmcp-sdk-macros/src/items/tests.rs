//! What the item attributes generate and which mistakes they reject.

use super::*;

fn expand(
    attribute: fn(TokenStream, TokenStream) -> syn::Result<TokenStream>,
    attr: TokenStream,
    item: TokenStream,
) -> Result<String, String> {
    attribute(attr, item)
        .map(|tokens| tokens.to_string())
        .map_err(|error| error.to_string())
}

#[test]
fn resources_take_nothing_or_the_context() {
    let out = expand(
        resource,
        quote!(uri = "test://a", mime_type = "text/plain", size = 3),
        quote! {
            /// The a
            fn a(ctx: &Context) -> String {}
        },
    )
    .unwrap();
    assert!(
        out.contains("ResourceDef :: new (\"test://a\" , \"a\""),
        "{out}"
    );
    assert!(out.contains("read (_request , || a (_ctx))"), "{out}");
    assert!(out.contains("with_description (\"The a\")"), "{out}");
    assert!(out.contains("with_mime_type (\"text/plain\")"), "{out}");
    assert!(out.contains("with_size (3)"), "{out}");
    assert!(out.contains("impl :: fastmcp_sdk :: __private :: ResourceItem for a"));

    let error = expand(
        resource,
        quote!(name = "x"),
        quote!(
            fn a() {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("#[resource] needs `uri = "), "{error}");
    let error = expand(
        resource,
        quote!(uri = "x://"),
        quote!(
            fn a(p: P) {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("use #[resource_template]"), "{error}");
    let error = expand(
        resource,
        quote!(uri = ""),
        quote!(
            fn a() {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("cannot be empty"), "{error}");
}

#[test]
fn templates_take_context_uri_and_params_in_order() {
    let out = expand(
        resource_template,
        quote!(uri_template = "test://t/{id}", name = "t"),
        quote!(
            fn t(ctx: &Context, uri: &str, params: P) -> String {}
        ),
    )
    .unwrap();
    assert!(
        out.contains("ResourceTemplateDef :: new (\"test://t/{id}\" , \"t\""),
        "{out}"
    );
    assert!(
        out.contains(
            "read_params (_request , | __params : P | t (_ctx , _request . uri () , __params))"
        ),
        "{out}"
    );
    let out = expand(
        resource_template,
        quote!(uri_template = "test://t/{id}"),
        quote!(
            fn t(uri: &str) -> String {}
        ),
    )
    .unwrap();
    assert!(
        out.contains("read (_request , || t (_request . uri ()))"),
        "{out}"
    );

    let error = expand(
        resource_template,
        quote!(uri_template = "test://t/{id}"),
        quote!(
            fn t(params: P, ctx: &Context) {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("in this order"), "{error}");
    for (template, message) in [
        ("x://{id", "without its `}`"),
        ("x://id}", "without its `{`"),
        ("x://{/id}", "only {var}"),
        ("x://{a b}", "invalid variable name"),
    ] {
        let error = expand(
            resource_template,
            quote!(uri_template = #template),
            quote!(
                fn t() {}
            ),
        )
        .unwrap_err();
        assert!(error.contains(message), "{template}: {error}");
    }
}

#[test]
fn prompts_derive_their_arguments_from_the_type() {
    let out = expand(
        prompt,
        quote!(title = "Trip"),
        quote! {
            /// Plans a trip
            fn plan(ctx: &Context, args: TripArgs) -> String {}
        },
    )
    .unwrap();
    assert!(out.contains("PromptDef :: new (\"plan\""), "{out}");
    assert!(
        out.contains(
            "get_prompt_args (\"plan\" , _arguments , | __args : TripArgs | plan (_ctx , __args))"
        ),
        "{out}"
    );
    assert!(
        out.contains(
            "with_arguments (:: fastmcp_sdk :: __private :: prompt_arguments :: < TripArgs >)"
        ),
        "{out}"
    );
    assert!(out.contains("with_title (\"Trip\")"), "{out}");
    assert!(out.contains("with_description (\"Plans a trip\")"), "{out}");
    let out = expand(
        prompt,
        quote!(name = "hi"),
        quote!(
            fn p() -> String {}
        ),
    )
    .unwrap();
    assert!(out.contains("get_prompt (|| p ())"), "{out}");

    let error = expand(
        prompt,
        quote!(),
        quote!(
            fn p(a: A, b: B) {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("a #[prompt] function takes"), "{error}");
    let error = expand(
        prompt,
        quote!(uri = "x"),
        quote!(
            fn p() {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("unknown #[prompt] option `uri`"), "{error}");
    // An async prompt runs to its end on the plugin's runtime.
    let out = expand(
        prompt,
        quote!(),
        quote!(
            async fn p(ctx: &Context) {}
        ),
    )
    .unwrap();
    assert!(
        out.contains("get_prompt (|| :: fastmcp_sdk :: __private :: block_on (_ctx , p (_ctx)))"),
        "{out}"
    );
    assert!(out.contains("ctx : & Context < '_ >"), "{out}");
    assert!(out.contains("async_tool ! { { } { } }"), "{out}");
}

#[test]
fn completions_name_exactly_one_target() {
    let out = expand(
        completion,
        quote!(prompt = "plan", argument = "city"),
        quote!(
            fn cities(ctx: &Context, request: CompletionRequest) -> Vec<String> {}
        ),
    )
    .unwrap();
    assert!(
        out.contains("CompletionDef :: prompt (\"plan\" , | _ctx , _request |"),
        "{out}"
    );
    assert!(out.contains("complete (cities (_ctx , _request))"), "{out}");
    assert!(out.contains("for_argument (\"city\")"), "{out}");
    let out = expand(
        completion,
        quote!(resource_template = "x://{id}"),
        quote!(
            fn ids(request: CompletionRequest) -> Vec<String> {}
        ),
    )
    .unwrap();
    assert!(
        out.contains("CompletionDef :: resource_template (\"x://{id}\" ,"),
        "{out}"
    );

    let error = expand(
        completion,
        quote!(),
        quote!(
            fn c(r: R) {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("exactly one of"), "{error}");
    let both = quote!(prompt = "p", resource_template = "x://{id}");
    let error = expand(
        completion,
        both,
        quote!(
            fn c(r: R) {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("exactly one of"), "{error}");
    let error = expand(
        completion,
        quote!(prompt = "p"),
        quote!(
            fn c() {}
        ),
    )
    .unwrap_err();
    assert!(error.contains("a #[completion] function takes"), "{error}");
}
