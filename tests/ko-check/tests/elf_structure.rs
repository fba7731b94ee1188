//! The ELF checks sys/kern/link_elf_obj.c (`link_elf_load_file`) and
//! sys/amd64/amd64/elf_machdep.c (`elf_reloc_internal`) make, FreeBSD 14.2
//! b66633d79ade.

use ko_check::{elf, verdict, with_ko};

/// mirrors link_elf_obj.c link_elf_load_file: ELF64 LE, EV_CURRENT, ET_REL,
/// EM_X86_64, Elf64_Shdr entries, exactly one SHT_SYMTAB with a string
/// table, loadable sections with usable alignment; plus no unwind tables,
/// debug info, constructors or embedded bitcode.
#[test]
fn header_and_sections_as_link_elf_obj_reads_them() -> Result<(), String> {
    with_ko(|f| verdict("ELF structure", elf::header_violations(f)))
}

/// mirrors elf_machdep.c elf_reloc_internal: only NONE, 64, PC32, PLT32,
/// 32S relocations in allocated sections (GOTPCREL = 9 would fail with
/// "kldload: unexpected relocation type 9").
#[test]
fn only_relocation_types_the_amd64_kernel_linker_applies() -> Result<(), String> {
    with_ko(|f| {
        eprintln!(
            "relocation types in allocated sections: {:?}",
            elf::relocation_histogram(f)
        );
        verdict("relocations", elf::relocation_violations(f))
    })
}
