//! `export_plugin!`: the one macro call that makes a crate a fastmcp plugin.

/// Exports the plugin: defines the `fastmcp_plugin_entry` symbol the host looks up, returning
/// the ABI table whose functions serve the listed items.
///
/// ```no_run
/// use fastmcp_sdk::prelude::*;
///
/// /// Says hello
/// #[tool]
/// fn hello() -> &'static str {
///     "Hello!"
/// }
///
/// /// The greeting
/// #[resource(uri = "hello://greeting")]
/// fn greeting() -> &'static str {
///     "Hello!"
/// }
///
/// fastmcp_sdk::export_plugin! {
///     name: "hello",
///     version: env!("CARGO_PKG_VERSION"),
///     tools: [hello],
///     resources: [greeting],
///     subscribe: true,
/// }
/// ```
///
/// After `name` and `version`, in any order and each optional:
/// - `tools: [...]`: `#[tool]` functions, by path (`hello`, `tools::weather`);
/// - `resources: [...]`, `resource_templates: [...]`, `prompts: [...]`, `completions: [...]`:
///   `#[resource]`, `#[resource_template]`, `#[prompt]` and `#[completion]` functions;
/// - `skills: fastmcp_sdk::skills!("skills")`: a directory of Agent Skills embedded at build
///   time (see [`skills!`](crate::skills));
/// - `subscribe: true`: clients may subscribe to the plugin's resources (see
///   [`Plugin::with_subscribe`](crate::Plugin::with_subscribe)).
///
/// The definitions are collected, checked and turned into the manifest on the host's first
/// request; a mistake such as a duplicated name makes loading fail with a message naming the
/// item.
///
/// A plugin built by hand is exported with `export_plugin! { plugin: expr }`, where the
/// expression is a [`Plugin`](crate::Plugin).
///
/// Use the macro once per crate: the entry point is an unmangled symbol.
#[macro_export]
macro_rules! export_plugin {
    (plugin: $plugin:expr $(,)?) => {
        /// The entry point the fastmcp host looks up (`fastmcp_abi::ENTRY_SYMBOL`).
        #[unsafe(no_mangle)]
        pub extern "C" fn fastmcp_plugin_entry() -> *const $crate::__private::abi::PluginTable {
            enum Source {}
            impl $crate::__private::PluginSource for Source {
                fn registry() -> &'static $crate::__private::Registry {
                    REGISTRY.get_or_init(|| $crate::__private::Registry::new($plugin))
                }
                fn release() {
                    REGISTRY.release()
                }
            }
            static REGISTRY: $crate::__private::RegistryCell = $crate::__private::RegistryCell::new();
            static TABLE: $crate::__private::abi::PluginTable = $crate::__private::table::<Source>();
            &TABLE
        }
    };
    (name: $name:expr, version: $version:expr $(, $($rest:tt)*)?) => {
        $crate::export_plugin! {
            @items [$crate::Plugin::new($name, $version)] $($($rest)*)?
        }
    };
    // The lists, one at a time, appended to the plugin expression in brackets.
    (@items [$($plugin:tt)*] tools: [$($item:path),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::export_plugin! {
            @items [$($plugin)* $(.tool(<$item as $crate::__private::ToolItem>::definition()))*]
            $($($rest)*)?
        }
    };
    (@items [$($plugin:tt)*] resources: [$($item:path),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::export_plugin! {
            @items [$($plugin)*
                $(.resource(<$item as $crate::__private::ResourceItem>::definition()))*]
            $($($rest)*)?
        }
    };
    (@items [$($plugin:tt)*] resource_templates: [$($item:path),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::export_plugin! {
            @items [$($plugin)* $(.resource_template(
                <$item as $crate::__private::ResourceTemplateItem>::definition()
            ))*]
            $($($rest)*)?
        }
    };
    (@items [$($plugin:tt)*] prompts: [$($item:path),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::export_plugin! {
            @items [$($plugin)* $(.prompt(<$item as $crate::__private::PromptItem>::definition()))*]
            $($($rest)*)?
        }
    };
    (@items [$($plugin:tt)*] completions: [$($item:path),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::export_plugin! {
            @items [$($plugin)*
                $(.completion(<$item as $crate::__private::CompletionItem>::definition()))*]
            $($($rest)*)?
        }
    };
    (@items [$($plugin:tt)*] skills: $skills:expr $(, $($rest:tt)*)?) => {
        $crate::export_plugin! {
            @items [$($plugin)* .skills($skills)] $($($rest)*)?
        }
    };
    (@items [$($plugin:tt)*] subscribe: $subscribe:literal $(, $($rest:tt)*)?) => {
        $crate::export_plugin! {
            @items [$($plugin)* .with_subscribe($subscribe)] $($($rest)*)?
        }
    };
    (@items [$($plugin:tt)*]) => {
        $crate::export_plugin! { plugin: $($plugin)* }
    };
    (@items [$($plugin:tt)*] $key:ident $($rest:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "export_plugin!: unexpected `", ::core::stringify!($key), "`; after name and version \
             come, in any order: tools: [...], resources: [...], resource_templates: [...], \
             prompts: [...], completions: [...], skills: skills!(\"dir\"), \
             subscribe: true"
        ));
    };
}
