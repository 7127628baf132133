//! `export_plugin!`: the one macro call that makes a crate a fastmcp plugin.

/// Exports the plugin: defines the `fastmcp_plugin_entry` symbol the host looks up, returning
/// the ABI table whose functions serve the listed tools.
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
/// fastmcp_sdk::export_plugin! {
///     name: "hello",
///     version: env!("CARGO_PKG_VERSION"),
///     tools: [hello],
/// }
/// ```
///
/// `tools` lists `#[tool]` functions by path (`hello`, `tools::weather`). The definitions are
/// collected, checked and turned into the manifest on the host's first request; a mistake such
/// as a duplicated name makes loading fail with a message naming the tool.
///
/// A plugin built by hand is exported with `export_plugin! { plugin: expr }`, where the
/// expression is a [`Plugin`](crate::Plugin).
///
/// Use the macro once per crate: the entry point is an unmangled symbol.
#[macro_export]
macro_rules! export_plugin {
    (
        name: $name:expr,
        version: $version:expr,
        tools: [$($tool:path),* $(,)?] $(,)?
    ) => {
        $crate::export_plugin! {
            plugin: $crate::Plugin::new($name, $version)
                $(.tool(<$tool as $crate::__private::ToolItem>::definition()))*
        }
    };
    (plugin: $plugin:expr $(,)?) => {
        /// The entry point the fastmcp host looks up (`fastmcp_abi::ENTRY_SYMBOL`).
        #[unsafe(no_mangle)]
        pub extern "C" fn fastmcp_plugin_entry() -> *const $crate::__private::abi::PluginTable {
            enum Source {}
            impl $crate::__private::PluginSource for Source {
                fn registry() -> &'static $crate::__private::Registry {
                    static REGISTRY: ::std::sync::OnceLock<$crate::__private::Registry> =
                        ::std::sync::OnceLock::new();
                    REGISTRY.get_or_init(|| $crate::__private::Registry::new($plugin))
                }
            }
            static TABLE: $crate::__private::abi::PluginTable = $crate::__private::table::<Source>();
            &TABLE
        }
    };
}
