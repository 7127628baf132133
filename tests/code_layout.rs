//! The code layout of the `fastmcp` binary: build.rs links it with `link/fastmcp.ld`, which
//! places the functions it runs to start and serve at the front of its code, so that an idle
//! server keeps fewer pages of its 12 MB binary resident (docs/performance.md, "Code layout").
//! If the script stops reaching the linker, the section is gone and this fails; the memory
//! figure itself is a benchmark's (`bench/run.sh`, idle RSS).

/// The output section the script makes.
const HOT: &str = ".text.fastmcp_hot";

/// A section of an ELF64 little-endian file: name, address, size.
struct Section {
    name: String,
    addr: u64,
    size: u64,
    kind: u32,
    offset: u64,
    link: u32,
    entsize: u64,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn c_str(b: &[u8], at: usize) -> String {
    let end = b[at..]
        .iter()
        .position(|&c| c == 0)
        .map_or(b.len(), |n| at + n);
    String::from_utf8_lossy(&b[at..end]).into_owned()
}

fn sections(elf: &[u8]) -> Vec<Section> {
    assert_eq!(&elf[..4], b"\x7fELF", "an ELF file");
    assert_eq!((elf[4], elf[5]), (2, 1), "ELF64, little-endian");
    let (shoff, shentsize) = (u64_at(elf, 0x28) as usize, u16_at(elf, 0x3a) as usize);
    let (shnum, shstrndx) = (u16_at(elf, 0x3c) as usize, u16_at(elf, 0x3e) as usize);
    let header = |i: usize| shoff + i * shentsize;
    let names = u64_at(elf, header(shstrndx) + 0x18) as usize;
    (0..shnum)
        .map(|i| {
            let h = header(i);
            Section {
                name: c_str(elf, names + u32_at(elf, h) as usize),
                kind: u32_at(elf, h + 4),
                addr: u64_at(elf, h + 0x10),
                offset: u64_at(elf, h + 0x18),
                size: u64_at(elf, h + 0x20),
                link: u32_at(elf, h + 0x28),
                entsize: u64_at(elf, h + 0x38),
            }
        })
        .collect()
}

/// The address of the first function symbol whose name starts with `prefix`.
fn symbol(elf: &[u8], sections: &[Section], prefix: &str) -> Option<u64> {
    const SYMTAB: u32 = 2;
    let symtab = sections.iter().find(|s| s.kind == SYMTAB)?;
    let strtab = &sections[symtab.link as usize];
    (0..symtab.size / symtab.entsize).find_map(|i| {
        let at = (symtab.offset + i * symtab.entsize) as usize;
        let name = c_str(elf, strtab.offset as usize + u32_at(elf, at) as usize);
        name.starts_with(prefix).then(|| u64_at(elf, at + 8))
    })
}

#[test]
#[cfg(target_os = "linux")]
fn fastmcp_is_linked_with_its_hot_functions_first() {
    if std::env::var("FASTMCP_LINK_ORDER").is_ok_and(|v| v == "0") {
        return; // switched off on purpose (build.rs)
    }
    let path = env!("CARGO_BIN_EXE_fastmcp");
    let elf = std::fs::read(path).expect("read the fastmcp binary");
    let sections = sections(&elf);
    let hot = sections.iter().find(|s| s.name == HOT).unwrap_or_else(|| {
        let names: Vec<&str> = sections.iter().map(|s| s.name.as_str()).collect();
        panic!("{path} has no {HOT} section: build.rs did not pass link/fastmcp.ld? {names:?}")
    });
    let text = sections
        .iter()
        .find(|s| s.name == ".text")
        .expect("a .text");
    assert!(hot.addr < text.addr, "{HOT} comes before .text");
    // `fastmcp::main` (legacy mangling) runs in every process: the script must hold it.
    let main = symbol(&elf, &sections, "_ZN7fastmcp4main17h").expect("fastmcp::main");
    assert!(
        (hot.addr..hot.addr + hot.size).contains(&main),
        "fastmcp::main at {main:#x}, {HOT} at {:#x}..{:#x}",
        hot.addr,
        hot.addr + hot.size
    );
}
