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
