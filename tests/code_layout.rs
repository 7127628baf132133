//! Each binary's hot code is linked together: `build.rs` passes `link/fastmcp.ld` to the link
//! of `fastmcp` and `src/bin/plugin_host.ld` to that of `fastmcp-plugin-host`; each puts the
//! functions the process runs to start, serve and idle in one section before the rest of its
//! text, so an idle process maps fewer 64 KiB fault-around windows of code
//! (docs/performance.md, "Code layout" and "Memory of an idle child"). Nothing else would
//! notice if that stopped (a build that drops a script, patterns that match nothing, a
//! mangling change): the process would only cost more memory (an idle server ~3 MiB, a child
//! ~0.4 MiB). These tests read the built binaries' section and symbol tables and fail instead.
#![cfg(all(
    target_os = "linux",
    target_pointer_width = "64",
    target_endian = "little"
))]

/// The output section `src/bin/plugin_host.ld` declares.
const CHILD_HOT: &str = ".text.child_hot";

/// The output section `link/fastmcp.ld` declares.
const HOST_HOT: &str = ".text.fastmcp_hot";

/// Functions every child runs, by the start of their (legacy-mangled) symbol: the serve loop
/// and the sandbox, which the script names by module, so they are grouped in debug builds too.
const CHILD_FUNCTIONS: &[&str] = &[
    "_ZN7fastmcp6plugin7isolate5child5serve17h",
    "_ZN7fastmcp6plugin7isolate5child7confine17h",
];

/// A function every server runs and no build inlines: `fastmcp::main`.
const HOST_FUNCTIONS: &[&str] = &["_ZN7fastmcp4main17h"];

/// Asserts that `binary` has the code section `hot`, a part of its text, and that every
/// function named by `prefixes` lies in it; `status` is what build.rs said.
fn assert_grouped(binary: &str, hot_name: &str, prefixes: &[&str], status: &str) {
    let bytes = std::fs::read(binary).unwrap();
    let elf = Elf::parse(&bytes);
    let Some(hot) = elf.section(hot_name) else {
        panic!("{binary} has no {hot_name} section; build.rs: {status}");
    };
    let text = elf.section(".text").expect("a .text section");
    assert!(hot.flags & SHF_EXECINSTR != 0, "{hot_name} is not code");
    assert!(
        hot.size > 0 && hot.size < text.size,
        "{hot_name} holds {} bytes, .text {}: it must hold a part of the code",
        hot.size,
        text.size
    );
    let symbols = elf.functions();
    for prefix in prefixes {
        let found: Vec<_> = symbols.iter().filter(|s| s.0.starts_with(prefix)).collect();
        assert!(!found.is_empty(), "no symbol {prefix}... in {binary}");
        for (name, addr) in found {
            assert!(
                (hot.addr..hot.addr + hot.size).contains(addr),
                "{name} at {addr:#x} lies outside {hot_name} ({:#x}..{:#x})",
                hot.addr,
                hot.addr + hot.size
            );
        }
    }
}

#[test]
fn the_childs_serve_loop_is_linked_with_the_rest_of_its_hot_code() {
    assert_grouped(
        env!("CARGO_BIN_EXE_fastmcp-plugin-host"),
        CHILD_HOT,
        CHILD_FUNCTIONS,
        env!("FASTMCP_CHILD_LINK_ORDER"),
    );
}

#[test]
fn the_servers_main_is_linked_with_the_rest_of_its_hot_code() {
    assert_grouped(
        env!("CARGO_BIN_EXE_fastmcp"),
        HOST_HOT,
        HOST_FUNCTIONS,
        env!("FASTMCP_HOST_LINK_ORDER"),
    );
}

#[test]
fn the_fastmcp_binary_is_linked_without_the_childs_script() {
    let bytes = std::fs::read(env!("CARGO_BIN_EXE_fastmcp")).unwrap();
    assert!(Elf::parse(&bytes).section(CHILD_HOT).is_none());
}

const SHT_SYMTAB: u32 = 2;
const SHF_EXECINSTR: u64 = 4;
const STT_FUNC: u8 = 2;

/// A section header's fields these tests read.
#[derive(Debug, Clone, Copy)]
struct Section {
    name: u32,
    kind: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
}

/// Just enough of a 64-bit little-endian ELF file: section headers and the symbol table.
struct Elf<'a> {
    bytes: &'a [u8],
    sections: Vec<Section>,
    names: Section,
}

impl<'a> Elf<'a> {
    fn parse(bytes: &'a [u8]) -> Self {
        assert_eq!(&bytes[..4], b"\x7fELF", "not an ELF file");
        assert_eq!(bytes[4], 2, "not a 64-bit ELF file");
        let (shoff, count) = (u64_at(bytes, 0x28), u16_at(bytes, 0x3c));
        let sections: Vec<Section> = (0..u64::from(count))
            .map(|i| {
                let at = usize::try_from(shoff + i * 64).unwrap();
                Section {
                    name: u32_at(bytes, at),
                    kind: u32_at(bytes, at + 4),
                    flags: u64_at(bytes, at + 8),
                    addr: u64_at(bytes, at + 16),
                    offset: u64_at(bytes, at + 24),
                    size: u64_at(bytes, at + 32),
                    link: u32_at(bytes, at + 40),
                }
            })
            .collect();
        let names = sections[usize::from(u16_at(bytes, 0x3e))];
        Elf {
            bytes,
            sections,
            names,
        }
    }

    fn section(&self, name: &str) -> Option<Section> {
        let names = self.names;
        self.sections
            .iter()
            .find(|s| self.string(names, s.name) == name)
            .copied()
    }

    /// Every function symbol of `.symtab`, with its address.
    fn functions(&self) -> Vec<(&'a str, u64)> {
        let symtab = self.sections.iter().find(|s| s.kind == SHT_SYMTAB);
        let symtab = *symtab.expect("a symbol table (is the binary stripped?)");
        let strings = self.sections[symtab.link as usize];
        (0..symtab.size / 24)
            .map(|i| usize::try_from(symtab.offset + i * 24).unwrap())
            .filter(|&at| self.bytes[at + 4] & 0xf == STT_FUNC)
            .map(|at| {
                let name = self.string(strings, u32_at(self.bytes, at));
                (name, u64_at(self.bytes, at + 8))
            })
            .collect()
    }

    fn string(&self, table: Section, at: u32) -> &'a str {
        let start = usize::try_from(table.offset).unwrap() + at as usize;
        let len = self.bytes[start..].iter().position(|&b| b == 0).unwrap();
        std::str::from_utf8(&self.bytes[start..start + len]).unwrap_or("")
    }
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes[at..at + 2].try_into().unwrap())
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}
