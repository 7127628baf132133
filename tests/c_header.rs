//! `tool-plugins/fastmcp-abi/include/fastmcp.h` describes exactly the ABI of the fastmcp-abi
//! crate: a C program compiled with the system `cc` against the header prints the size,
//! alignment and offset of every struct and field, the type of every field, and the value of
//! every constant, and the test compares that with what the Rust definitions say.
//!
//! The lists below cannot fall behind the Rust crate unnoticed: every struct is destructured
//! field by field with each field's type (a field added, removed or retyped stops this file
//! from compiling), `TableField` is matched exhaustively, and the crate's source is scanned for
//! public items the lists do not name. Nor can the header fall behind: a field it lacks fails
//! the C compile (`offsetof`), and a field it has beyond the list, anywhere (even in padding),
//! fails it too (a positional initializer of the listed fields, under
//! `-Wmissing-field-initializers -Werror`).

use std::fmt::Write as _;
use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

use fastmcp_abi::{
    ABI_VERSION, Buf, Completion, ENTRY_SYMBOL, EntryFn, HostContext, LISTED_PROMPT, LISTED_TOOL,
    PLUGIN_TABLE_V1_SIZE, PluginTable, STATUS_CANCELLED, STATUS_ERROR, STATUS_INPUT_REQUIRED,
    STATUS_OK, STATUS_PANIC, STATUS_PENDING, STATUS_UNSUPPORTED, Str, TableField, ToolCall,
};

use crate::util;

/// The header, where the fastmcp-abi package ships it.
fn include_dir() -> PathBuf {
    util::root().join("tool-plugins/fastmcp-abi/include")
}

/// The flags every C file of this project compiles cleanly with.
const C_FLAGS: [&str; 5] = ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"];

/// A field of a `#[repr(C)]` struct as the Rust side lays it out, and its C type as the
/// header must declare it (spelled without the header's typedef names for function pointers,
/// so that the typedefs are checked too).
#[derive(Debug)]
struct Field {
    name: &'static str,
    offset: usize,
    size: usize,
    align: usize,
    c_type: &'static str,
}

#[derive(Debug)]
struct CStruct {
    c_name: &'static str,
    size: usize,
    align: usize,
    fields: Vec<Field>,
}

/// Lists `RustType => "c_name" { field: "C field type" = RustFieldType, ... }` in declaration
/// order, and checks at compile time that the list names every field with its exact type.
macro_rules! structs {
    ($($rust:ident => $c:literal { $($field:ident: $c_ty:literal = $ty:ty),* $(,)? }),* $(,)?) => {
        vec![$({
            // Compiles only while the pattern names every field and each has the listed type.
            let _exhaustive = |value: &$rust| {
                let $rust { $($field),* } = value;
                $(let _: &$ty = $field;)*
            };
            CStruct {
                c_name: $c,
                size: size_of::<$rust>(),
                align: align_of::<$rust>(),
                fields: vec![$(Field {
                    name: stringify!($field),
                    offset: offset_of!($rust, $field),
                    size: size_of::<$ty>(),
                    align: align_of::<$ty>(),
                    c_type: $c_ty,
                }),*],
            }
        }),*]
    };
}

type Void = core::ffi::c_void;

/// Every struct of the ABI, with its C twin.
fn abi_structs() -> Vec<CStruct> {
    structs! {
        Buf => "fastmcp_buf" {
            ptr: "uint8_t *" = *mut u8,
            len: "size_t" = usize,
            cap: "size_t" = usize,
        },
        Str => "fastmcp_str" {
            ptr: "const uint8_t *" = *const u8,
            len: "size_t" = usize,
        },
        ToolCall => "fastmcp_tool_call" {
            size: "uint32_t" = u32,
            name: "fastmcp_str" = Str,
            arguments: "fastmcp_str" = Str,
            params: "fastmcp_str" = Str,
            context: "fastmcp_str" = Str,
        },
        Completion => "fastmcp_completion" {
            size: "uint32_t" = u32,
            call_id: "uint64_t" = u64,
            data: "const void *" = *const Void,
            complete: "void (*)(const void *, uint64_t, int32_t, fastmcp_buf)"
                = unsafe extern "C" fn(*const Void, u64, i32, Buf),
        },
        HostContext => "fastmcp_host_context" {
            abi_version: "uint32_t" = u32,
            size: "uint32_t" = u32,
            data: "const void *" = *const Void,
            notify: "int32_t (*)(const void *, const uint8_t *, size_t)"
                = unsafe extern "C" fn(*const Void, *const u8, usize) -> i32,
            is_cancelled: "uint8_t (*)(const void *)" = unsafe extern "C" fn(*const Void) -> u8,
            request: "int32_t (*)(const void *, const uint8_t *, size_t, fastmcp_buf *)"
                = unsafe extern "C" fn(*const Void, *const u8, usize, *mut Buf) -> i32,
            free_buf: "void (*)(fastmcp_buf)" = unsafe extern "C" fn(Buf),
            set_listed: "int32_t (*)(const void *, uint32_t, const uint8_t *, size_t, uint8_t)"
                = unsafe extern "C" fn(*const Void, u32, *const u8, usize, u8) -> i32,
        },
        PluginTable => "fastmcp_plugin_table" {
            abi_version: "uint32_t" = u32,
            size: "uint32_t" = u32,
            manifest: "int32_t (*)(fastmcp_buf *)" = unsafe extern "C" fn(*mut Buf) -> i32,
            call: "int32_t (*)(const fastmcp_host_context *, const uint8_t *, size_t, fastmcp_buf *)"
                = unsafe extern "C" fn(*const HostContext, *const u8, usize, *mut Buf) -> i32,
            free_buf: "void (*)(fastmcp_buf)" = unsafe extern "C" fn(Buf),
            unload: "void (*)(void)" = unsafe extern "C" fn(),
            call_tool: "int32_t (*)(const fastmcp_host_context *, const fastmcp_tool_call *, fastmcp_buf *)"
                = unsafe extern "C" fn(*const HostContext, *const ToolCall, *mut Buf) -> i32,
            start_tool: "int32_t (*)(const fastmcp_host_context *, const fastmcp_tool_call *, const fastmcp_completion *, fastmcp_buf *)"
                = unsafe extern "C" fn(
                *const HostContext, *const ToolCall, *const Completion, *mut Buf,
            ) -> i32,
            cancel_call: "void (*)(uint64_t)" = unsafe extern "C" fn(u64),
        },
    }
}

/// The header's function pointer typedefs and the type each must name. The entry point's is
/// checked against the crate's `EntryFn` below; the others are the types of fields above.
const TYPEDEFS: [(&str, &str); 12] = [
    ("fastmcp_entry_fn", "const fastmcp_plugin_table *(*)(void)"),
    ("fastmcp_manifest_fn", "int32_t (*)(fastmcp_buf *)"),
    (
        "fastmcp_call_fn",
        "int32_t (*)(const fastmcp_host_context *, const uint8_t *, size_t, fastmcp_buf *)",
    ),
    ("fastmcp_free_buf_fn", "void (*)(fastmcp_buf)"),
    ("fastmcp_unload_fn", "void (*)(void)"),
    (
        "fastmcp_call_tool_fn",
        "int32_t (*)(const fastmcp_host_context *, const fastmcp_tool_call *, fastmcp_buf *)",
    ),
    (
        "fastmcp_start_tool_fn",
        "int32_t (*)(const fastmcp_host_context *, const fastmcp_tool_call *, const fastmcp_completion *, fastmcp_buf *)",
    ),
    ("fastmcp_cancel_call_fn", "void (*)(uint64_t)"),
    (
        "fastmcp_notify_fn",
        "int32_t (*)(const void *, const uint8_t *, size_t)",
    ),
    ("fastmcp_is_cancelled_fn", "uint8_t (*)(const void *)"),
    (
        "fastmcp_set_listed_fn",
        "int32_t (*)(const void *, uint32_t, const uint8_t *, size_t, uint8_t)",
    ),
    (
        "fastmcp_complete_fn",
        "void (*)(const void *, uint64_t, int32_t, fastmcp_buf)",
    ),
];

/// `EntryFn` is the type `TYPEDEFS` says `fastmcp_entry_fn` is (compile-time check).
const _: fn(EntryFn) -> unsafe extern "C" fn() -> *const PluginTable = |f| f;

/// The integer constants: C macro, Rust value.
fn constants() -> Vec<(&'static str, i64)> {
    vec![
        ("FASTMCP_ABI_VERSION", ABI_VERSION.into()),
        ("FASTMCP_STATUS_OK", STATUS_OK.into()),
        ("FASTMCP_STATUS_ERROR", STATUS_ERROR.into()),
        ("FASTMCP_STATUS_PANIC", STATUS_PANIC.into()),
        (
            "FASTMCP_STATUS_INPUT_REQUIRED",
            STATUS_INPUT_REQUIRED.into(),
        ),
        ("FASTMCP_STATUS_UNSUPPORTED", STATUS_UNSUPPORTED.into()),
        ("FASTMCP_STATUS_CANCELLED", STATUS_CANCELLED.into()),
        ("FASTMCP_STATUS_PENDING", STATUS_PENDING.into()),
        (
            "FASTMCP_PLUGIN_TABLE_V1_SIZE",
            PLUGIN_TABLE_V1_SIZE.try_into().unwrap(),
        ),
        (
            "FASTMCP_HOST_CONTEXT_V1_SIZE",
            HostContext::V1_SIZE.try_into().unwrap(),
        ),
        ("FASTMCP_LISTED_TOOL", LISTED_TOOL.into()),
        ("FASTMCP_LISTED_PROMPT", LISTED_PROMPT.into()),
    ]
}

/// The C name of each appended table field (an exhaustive match: a new variant needs one).
fn c_table_field(field: TableField) -> &'static str {
    match field {
        TableField::CallTool => "FASTMCP_TABLE_FIELD_CALL_TOOL",
        TableField::StartTool => "FASTMCP_TABLE_FIELD_START_TOOL",
    }
}

/// Every `TableField`, in order. Each variant's arm names the next one, so a new variant cannot
/// compile without joining the list.
fn table_fields() -> Vec<TableField> {
    let after = |field: Option<TableField>| match field {
        None => Some(TableField::CallTool),
        Some(TableField::CallTool) => Some(TableField::StartTool),
        Some(TableField::StartTool) => None,
    };
    std::iter::successors(after(None), |&field| after(Some(field))).collect()
}

/// Table sizes `fastmcp_table_has` is asked about: every size from 0 to past the whole table.
fn probed_sizes() -> std::ops::RangeInclusive<u32> {
    0..=u32::try_from(size_of::<PluginTable>() + 16).unwrap()
}

/// The public items of the crate's source that the lists above cover. A new `pub const`,
/// `pub struct`, `pub enum` or `pub type` must be added to them (and to the header).
const COVERED: [&str; 20] = [
    "ABI_VERSION",
    "ENTRY_SYMBOL",
    "EntryFn",
    "STATUS_OK",
    "STATUS_ERROR",
    "STATUS_PANIC",
    "STATUS_INPUT_REQUIRED",
    "STATUS_UNSUPPORTED",
    "STATUS_CANCELLED",
    "STATUS_PENDING",
    "Buf",
    "PluginTable",
    "PLUGIN_TABLE_V1_SIZE",
    "TableField",
    "Str",
    "ToolCall",
    "Completion",
    "HostContext",
    "LISTED_TOOL",
    "LISTED_PROMPT",
];

/// The C program: one line per fact, in the format of [`expected_report`].
fn c_program(structs: &[CStruct]) -> String {
    let mut c = String::from(
        "#include <fastmcp.h>\n#include <stdio.h>\n\n\
         #define HAS_TYPE(expr, type) _Generic((expr), type: 1, default: 0)\n\n",
    );
    // Positional initializers: a field the header has beyond the list is left uninitialised,
    // which -Wmissing-field-initializers turns into an error.
    for s in structs {
        let values: Vec<&str> = s
            .fields
            .iter()
            .map(|f| match f.c_type {
                "fastmcp_str" => "{NULL, 0}",
                _ => "0",
            })
            .collect();
        let _ = writeln!(
            c,
            "static const {0} all_fields_of_{0} = {{{1}}};",
            s.c_name,
            values.join(", ")
        );
    }
    c.push_str("\nint main(void) {\n");
    for s in structs {
        let n = s.c_name;
        let _ = writeln!(
            c,
            "    (void)all_fields_of_{n};\n    \
             printf(\"struct {n} size %zu align %zu\\n\", sizeof({n}), _Alignof({n}));"
        );
        for f in &s.fields {
            let (field, ty) = (f.name, f.c_type);
            let _ = writeln!(
                c,
                "    printf(\"field {n}.{field} offset %zu size %zu align %zu type %d\\n\", \
                 offsetof({n}, {field}), sizeof((({n} *)0)->{field}), _Alignof({ty}), \
                 HAS_TYPE((({n} *)0)->{field}, {ty}));"
            );
        }
    }
    for (name, ty) in TYPEDEFS {
        let _ = writeln!(
            c,
            "    printf(\"typedef {name} %d\\n\", HAS_TYPE(({name})0, {ty}));"
        );
    }
    c.push_str(
        "    printf(\"entry %s %d\\n\", FASTMCP_ENTRY_SYMBOL, \
         HAS_TYPE(&fastmcp_plugin_entry, fastmcp_entry_fn));\n",
    );
    for (name, _) in constants() {
        let _ = writeln!(
            c,
            "    printf(\"const {name} %lld\\n\", (long long)({name}));"
        );
    }
    for field in table_fields() {
        let name = c_table_field(field);
        let (start, end) = probed_sizes().into_inner();
        let _ = writeln!(
            c,
            "    printf(\"has {name} \");\n    \
             for (uint32_t size = {start}; size <= {end}; size++) \
             putchar(fastmcp_table_has(size, {name}) ? '1' : '0');\n    \
             putchar('\\n');"
        );
    }
    let (start, end) = probed_sizes().into_inner();
    let _ = writeln!(
        c,
        "    printf(\"has set_listed \");\n    \
         for (uint32_t size = {start}; size <= {end}; size++) \
         putchar(fastmcp_host_has_set_listed(size) ? '1' : '0');\n    \
         putchar('\\n');"
    );
    c.push_str("    return 0;\n}\n");
    c
}

/// What the C program must print: the same facts, from the Rust definitions.
fn expected_report(structs: &[CStruct]) -> String {
    let mut r = String::new();
    for s in structs {
        let _ = writeln!(r, "struct {} size {} align {}", s.c_name, s.size, s.align);
        for f in &s.fields {
            let _ = writeln!(
                r,
                "field {}.{} offset {} size {} align {} type 1",
                s.c_name, f.name, f.offset, f.size, f.align
            );
        }
    }
    for (name, _) in TYPEDEFS {
        let _ = writeln!(r, "typedef {name} 1");
    }
    let entry = std::str::from_utf8(ENTRY_SYMBOL.strip_suffix(b"\0").unwrap()).unwrap();
    let _ = writeln!(r, "entry {entry} 1");
    for (name, value) in constants() {
        let _ = writeln!(r, "const {name} {value}");
    }
    for field in table_fields() {
        let bits: String = probed_sizes()
            .map(|size| {
                if PluginTable::has(size, field) {
                    '1'
                } else {
                    '0'
                }
            })
            .collect();
        let _ = writeln!(r, "has {} {bits}", c_table_field(field));
    }
    let bits: String = probed_sizes()
        .map(|size| {
            if HostContext::has_set_listed(size) {
                '1'
            } else {
                '0'
            }
        })
        .collect();
    let _ = writeln!(r, "has set_listed {bits}");
    r
}

/// Compiles `source` with `cc` and the project's C flags into `dir/name`; panics with the
/// compiler's messages when it fails.
fn compile_c(dir: &Path, name: &str, source: &str) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let out = dir.join(name);
    let result = Command::new("cc")
        .args(C_FLAGS)
        .arg("-I")
        .arg(include_dir())
        .arg("-o")
        .arg(&out)
        .arg(&src)
        .output()
        .expect("run cc (the system C compiler)");
    assert!(
        result.status.success(),
        "cc failed on {name}.c:\n{}\n--- source ---\n{source}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

#[test]
fn the_c_header_matches_the_rust_definitions() {
    let structs = abi_structs();
    let dir = tempfile::tempdir().unwrap();
    let program = compile_c(dir.path(), "layout", &c_program(&structs));
    let run = Command::new(&program)
        .output()
        .expect("run the layout program");
    assert!(run.status.success(), "{run:?}");
    let printed = String::from_utf8(run.stdout).unwrap();
    let expected = expected_report(&structs);
    for (c_line, rust_line) in printed.lines().zip(expected.lines()) {
        assert_eq!(
            c_line, rust_line,
            "fastmcp.h (left) differs from fastmcp-abi (right)"
        );
    }
    assert_eq!(printed.lines().count(), expected.lines().count());
}

#[test]
fn every_public_item_of_the_abi_crate_is_checked_against_the_header() {
    let source =
        std::fs::read_to_string(util::root().join("tool-plugins/fastmcp-abi/src/lib.rs")).unwrap();
    let public: Vec<&str> = source
        .lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("pub ")?;
            let rest = [
                "const fn ",
                "const ",
                "struct ",
                "enum ",
                "type ",
                "static ",
                "fn ",
            ]
            .iter()
            .find_map(|kind| rest.strip_prefix(kind))?;
            rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
        })
        .collect();
    // Methods (`Str::new`, `PluginTable::has`) are indented inside `impl` blocks and are Rust
    // conveniences, except those the header mirrors and the report checks: `has` as
    // `fastmcp_table_has`, `has_set_listed` as `fastmcp_host_has_set_listed`, `V1_SIZE` as
    // `FASTMCP_HOST_CONTEXT_V1_SIZE`.
    let methods = ["new", "has", "EMPTY", "has_set_listed", "V1_SIZE"];
    let missing: Vec<&&str> = public
        .iter()
        .filter(|name| !COVERED.contains(name) && !methods.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "fastmcp-abi items the header test does not check: {missing:?}"
    );
    assert!(public.len() >= COVERED.len(), "{public:?}");
}
