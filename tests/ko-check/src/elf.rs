//! ELF structure checks: what `link_elf_load_file` (sys/kern/link_elf_obj.c,
//! FreeBSD 14.2 b66633d79ade) validates before it loads anything, and the
//! relocation types `elf_reloc_internal` (sys/amd64/amd64/elf_machdep.c)
//! can apply.

use object::elf::{
    ELFCLASS64, ELFDATA2LSB, EM_X86_64, ET_REL, EV_CURRENT, R_X86_64_32S, R_X86_64_64,
    R_X86_64_NONE, R_X86_64_PC32, R_X86_64_PLT32, SHF_ALLOC, SHT_FINI_ARRAY, SHT_INIT_ARRAY,
    SHT_NOBITS, SHT_PROGBITS, SHT_STRTAB, SHT_SYMTAB, SHT_X86_64_UNWIND,
};
use object::read::elf::{ElfFile64, FileHeader, SectionHeader};
use object::{Endianness, Object, ObjectSection, RelocationFlags, RelocationTarget};

/// The parsed module.
pub type File<'data> = ElfFile64<'data, Endianness>;

/// Relocation types the amd64 kernel linker accepts that belong in a
/// relocatable module built with the static relocation model:
/// `R_X86_64_NONE`, `_64` (S + A), `_PC32` (S + A - P), `_PLT32` (treated as
/// PC32) and `_32S` (S + A sign-extended; the module is mapped above
/// KERNBASE).  elf_machdep.c also applies GLOB_DAT, JMP_SLOT, RELATIVE and
/// IRELATIVE, which only a dynamic/PIC link produces; anything else
/// (GOTPCREL = 9, REX_GOTPCRELX = 42, R_X86_64_32 = 10, ...) makes kldload
/// fail with "unexpected relocation type".
pub const ALLOWED_RELOCATIONS: [u32; 5] = [
    R_X86_64_NONE,
    R_X86_64_64,
    R_X86_64_PC32,
    R_X86_64_PLT32,
    R_X86_64_32S,
];

/// Section types link_elf_obj.c loads when they have SHF_ALLOC.
pub fn is_loaded_type(sh_type: u32) -> bool {
    matches!(
        sh_type,
        SHT_PROGBITS | SHT_NOBITS | SHT_X86_64_UNWIND | SHT_INIT_ARRAY | SHT_FINI_ARRAY
    )
}

/// ELF header and section-table checks of `link_elf_load_file`.
pub fn header_violations(file: &File<'_>) -> Vec<String> {
    let mut v = Vec::new();
    let e = file.endian();
    let h = file.elf_header();
    let ident = h.e_ident();
    if ident.class != ELFCLASS64 {
        v.push("not ELFCLASS64".into());
    }
    if ident.data != ELFDATA2LSB {
        v.push("not little-endian".into());
    }
    if ident.version != EV_CURRENT || h.e_version(e) != u32::from(EV_CURRENT) {
        v.push("ELF version is not EV_CURRENT".into());
    }
    if h.e_type(e) != ET_REL {
        v.push(format!("e_type {} is not ET_REL", h.e_type(e)));
    }
    if h.e_machine(e) != EM_X86_64 {
        v.push(format!("e_machine {} is not EM_X86_64", h.e_machine(e)));
    }
    if usize::from(h.e_shentsize(e))
        != core::mem::size_of::<object::elf::SectionHeader64<Endianness>>()
    {
        v.push("e_shentsize is not sizeof(Elf64_Shdr)".into());
    }
    let sections = file.elf_section_table();
    let symtabs: Vec<_> = sections
        .iter()
        .filter(|s| s.sh_type(e) == SHT_SYMTAB && s.sh_size(e) != 0)
        .collect();
    if symtabs.len() != 1 {
        v.push(format!(
            "{} symbol tables; the kernel linker requires exactly one",
            symtabs.len()
        ));
    }
    for st in &symtabs {
        let link = st.sh_link(e) as usize;
        let ok = sections
            .section(object::SectionIndex(link))
            .map(|s| s.sh_type(e) == SHT_STRTAB);
        if !matches!(ok, Ok(true)) {
            v.push("symbol table's sh_link is not a string table".into());
        }
    }
    let shstrndx = usize::from(h.e_shstrndx(e));
    if !matches!(
        sections
            .section(object::SectionIndex(shstrndx))
            .map(|s| s.sh_type(e)),
        Ok(SHT_STRTAB)
    ) {
        v.push("e_shstrndx does not name a string table".into());
    }
    let mut loaded = 0usize;
    for (i, s) in sections.iter().enumerate() {
        let name =
            String::from_utf8_lossy(sections.section_name(e, s).unwrap_or(b"?")).into_owned();
        let flags = s.sh_flags(e);
        if s.sh_size(e) != 0 && is_loaded_type(s.sh_type(e)) && flags & u64::from(SHF_ALLOC) != 0 {
            loaded += 1;
            // link_elf_obj.c computes `alignmask = sh_addralign - 1` and
            // masks the load address with it: 0 would zero the address.
            let align = s.sh_addralign(e);
            if align == 0 || !align.is_power_of_two() {
                v.push(format!(
                    "section {i} {name}: sh_addralign {align} is not a power of two >= 1"
                ));
            }
        }
        if s.sh_type(e) == SHT_X86_64_UNWIND || name == ".eh_frame" {
            v.push(format!("section {i} {name}: unwind tables must be dropped"));
        }
        if name.starts_with(".debug") || name.starts_with(".zdebug") {
            v.push(format!("section {i} {name}: debug info must be stripped"));
        }
        if matches!(s.sh_type(e), SHT_INIT_ARRAY | SHT_FINI_ARRAY)
            || name == ".ctors"
            || name == ".dtors"
        {
            v.push(format!(
                "section {i} {name}: static constructors/destructors are not expected"
            ));
        }
        if name == ".llvmbc" || name == ".llvmcmd" {
            v.push(format!(
                "section {i} {name}: embedded LLVM bitcode must be dropped"
            ));
        }
    }
    if loaded == 0 {
        v.push("no loadable sections (\"file has no contents\")".into());
    }
    v
}

/// Relocation checks: every relocation applied to an allocated section has
/// an accepted type and a valid symbol.
pub fn relocation_violations(file: &File<'_>) -> Vec<String> {
    let mut v = Vec::new();
    // link_elf_obj.c ignores relocation sections of unallocated sections.
    for section in file.sections() {
        let alloc = matches!(section.flags(), object::SectionFlags::Elf { sh_flags } if sh_flags & u64::from(SHF_ALLOC) != 0);
        if !alloc {
            continue;
        }
        let name = section.name().unwrap_or("?").to_owned();
        for (offset, rel) in section.relocations() {
            let r_type = match rel.flags() {
                RelocationFlags::Elf { r_type } => r_type,
                other => {
                    v.push(format!("{name}+{offset:#x}: non-ELF relocation {other:?}"));
                    continue;
                }
            };
            if !ALLOWED_RELOCATIONS.contains(&r_type) {
                let sym = match rel.target() {
                    RelocationTarget::Symbol(i) => file
                        .symbol_by_index(i)
                        .ok()
                        .and_then(|s| object::ObjectSymbol::name(&s).ok().map(str::to_owned)),
                    _ => None,
                };
                v.push(format!(
                    "{name}+{offset:#x}: relocation type {r_type} ({}) against {} is refused by the amd64 kernel linker",
                    reloc_name(r_type),
                    sym.unwrap_or_else(|| "?".into())
                ));
            }
            if let RelocationTarget::Symbol(i) = rel.target() {
                match file.symbol_by_index(i) {
                    Ok(sym) => {
                        use object::ObjectSymbol;
                        if sym.is_undefined() && sym.is_local() {
                            v.push(format!(
                                "{name}+{offset:#x}: relocation against a local undefined symbol"
                            ));
                        }
                    }
                    Err(_) => v.push(format!("{name}+{offset:#x}: bad symbol index {}", i.0)),
                }
            }
        }
    }
    v
}

/// Name of an x86-64 relocation type, for messages.
pub fn reloc_name(r_type: u32) -> &'static str {
    match r_type {
        0 => "R_X86_64_NONE",
        1 => "R_X86_64_64",
        2 => "R_X86_64_PC32",
        3 => "R_X86_64_GOT32",
        4 => "R_X86_64_PLT32",
        6 => "R_X86_64_GLOB_DAT",
        7 => "R_X86_64_JUMP_SLOT",
        8 => "R_X86_64_RELATIVE",
        9 => "R_X86_64_GOTPCREL",
        10 => "R_X86_64_32",
        11 => "R_X86_64_32S",
        41 => "R_X86_64_GOTPCRELX",
        42 => "R_X86_64_REX_GOTPCRELX",
        _ => "other",
    }
}

/// Counts relocation types in allocated sections (for reports).
pub fn relocation_histogram(file: &File<'_>) -> std::collections::BTreeMap<u32, usize> {
    let mut h = std::collections::BTreeMap::new();
    for section in file.sections() {
        if !matches!(section.flags(), object::SectionFlags::Elf { sh_flags } if sh_flags & u64::from(SHF_ALLOC) != 0)
        {
            continue;
        }
        for (_, rel) in section.relocations() {
            if let RelocationFlags::Elf { r_type } = rel.flags() {
                *h.entry(r_type).or_insert(0) += 1;
            }
        }
    }
    h
}
