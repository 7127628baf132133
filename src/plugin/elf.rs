//! A sanity check of a shared library file before `dlopen` sees it.
//!
//! `dlopen` maps segments straight from the file; a truncated file (a build or copy caught
//! half-way) can map pages past the end of the file, and touching them kills the process with
//! SIGBUS. Checking that the ELF header, the program headers and every loadable segment lie
//! within the file turns that into an ordinary error.

/// Checks the file at `path` is a complete 64-bit little-endian ELF shared object, reading only
/// its ELF and program headers; returns why not.
pub(crate) fn check_file(path: &std::path::Path) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let len = f.metadata().map_err(|e| format!("cannot read: {e}"))?.len();
    let mut head = vec![0u8; 64.min(len as usize)];
    f.read_exact(&mut head)
        .map_err(|e| format!("cannot read: {e}"))?;
    if head.len() < 64 {
        return check_shared_object(&head);
    }
    let phoff = u64::from_le_bytes(head[32..40].try_into().unwrap_or_default());
    let phentsize = u64::from(u16::from_le_bytes([head[54], head[55]]));
    let phnum = u64::from(u16::from_le_bytes([head[56], head[57]]));
    let table = phentsize.saturating_mul(phnum);
    // Read the program header table too (bounded: at most 64K entries of 56 bytes).
    let mut bytes = head.clone();
    if phoff >= 64 && table <= 4 * 1024 * 1024 && phoff.saturating_add(table) <= len {
        bytes.resize((phoff + table) as usize, 0);
        f.seek(SeekFrom::Start(64))
            .map_err(|e| format!("cannot read: {e}"))?;
        f.read_exact(&mut bytes[64..])
            .map_err(|e| format!("cannot read: {e}"))?;
    }
    check_with_len(&bytes, len)
}

/// Checks `bytes` is a complete 64-bit little-endian ELF shared object; returns why not.
pub(crate) fn check_shared_object(bytes: &[u8]) -> Result<(), String> {
    check_with_len(bytes, bytes.len() as u64)
}

/// Checks the headers in `bytes` against a file of `len` bytes (`bytes` holds at least the ELF
/// header and, when it fits in the file, the program header table).
fn check_with_len(bytes: &[u8], len: u64) -> Result<(), String> {
    const EHDR_LEN: usize = 64;
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if bytes.len() < EHDR_LEN {
        return Err(format!(
            "truncated: {} bytes is shorter than an ELF header",
            bytes.len()
        ));
    }
    if bytes[4] != 2 {
        return Err("not a 64-bit ELF file".into());
    }
    if bytes[5] != 1 {
        return Err("not a little-endian ELF file".into());
    }
    let u16_at = |off: usize| u16::from_le_bytes([bytes[off], bytes[off + 1]]);
    let u64_at = |off: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&bytes[off..off + 8]);
        u64::from_le_bytes(b)
    };
    const ET_DYN: u16 = 3;
    if u16_at(16) != ET_DYN {
        return Err("not a shared library (ELF type is not ET_DYN)".into());
    }
    let phoff = u64_at(32);
    let phentsize = u64::from(u16_at(54));
    let phnum = u64::from(u16_at(56));
    let ph_end = phoff
        .checked_add(phentsize.saturating_mul(phnum))
        .ok_or("corrupt program header table")?;
    if phentsize < 56 || ph_end > len || ph_end > bytes.len() as u64 {
        return Err(format!(
            "truncated: program headers end at byte {ph_end}, file has {len} bytes"
        ));
    }
    const PT_LOAD: u32 = 1;
    for i in 0..phnum {
        let base = (phoff + i * phentsize) as usize;
        let p_type = u32::from_le_bytes([
            bytes[base],
            bytes[base + 1],
            bytes[base + 2],
            bytes[base + 3],
        ]);
        if p_type != PT_LOAD {
            continue;
        }
        let offset = u64_at(base + 8);
        let filesz = u64_at(base + 32);
        let end = offset.checked_add(filesz).ok_or("corrupt segment size")?;
        if end > len {
            return Err(format!(
                "truncated: a loadable segment ends at byte {end}, file has {len} bytes"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path of the C library this very process maps: a real shared object.
    fn mapped_libc() -> String {
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        maps.lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .find(|p| p.contains("libc.so") || p.contains("libc-"))
            .expect("libc mapped")
            .to_owned()
    }

    #[test]
    fn checks_files_by_their_headers() {
        let libc = mapped_libc();
        assert_eq!(check_file(std::path::Path::new(&libc)), Ok(()));
        let dir = std::env::temp_dir().join(format!("fastmcp-elf-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cut = dir.join("cut.so");
        std::fs::write(&cut, &std::fs::read(&libc).unwrap()[..64 * 1024]).unwrap();
        assert!(check_file(&cut).unwrap_err().starts_with("truncated"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rejects_non_elf_and_short_files() {
        assert_eq!(
            check_shared_object(b"hello").unwrap_err(),
            "not an ELF file"
        );
        assert!(
            check_shared_object(b"\x7fELF\x02\x01")
                .unwrap_err()
                .starts_with("truncated")
        );
    }

    #[test]
    fn accepts_a_real_library_and_rejects_it_truncated() {
        // The C library of this very process is a real shared object.
        let libc = mapped_libc();
        let bytes = std::fs::read(&libc).unwrap();
        assert_eq!(check_shared_object(&bytes), Ok(()));
        let err = check_shared_object(&bytes[..bytes.len() / 2]).unwrap_err();
        assert!(err.starts_with("truncated"), "{err}");
    }
}
