//! Decodes the module's linker sets the way the kernel reads them.
//!
//! `link_elf_lookup_set` (sys/kern/link_elf_obj.c) takes the FIRST loaded
//! section named `set_<name>` and walks it as an array of pointers; each
//! pointer slot is filled by an `R_X86_64_64` relocation to a record.  Here
//! each slot's relocation is followed to the record, and the record's own
//! pointer fields are followed through their relocations the same way, so
//! the result is what the kernel would see after relocation.
//! Layouts: FreeBSD 14.2 sys/sys/module.h, sys/sys/kernel.h,
//! sys/sys/malloc.h (b66633d79ade).

use crate::elf::File;
use object::elf::{R_X86_64_64, SHF_WRITE};
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionIndex,
    SymbolSection,
};

/// Where a pointer field points after relocation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ptr {
    /// Zero, no relocation.
    Null,
    /// A symbol the kernel linker must resolve (kernel or dependency).
    Undefined(String),
    /// Inside the module.
    Local {
        /// Section index.
        section: usize,
        /// Offset in the section.
        offset: u64,
    },
}

/// A decoded `struct mod_metadata` entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metadata {
    /// `MDT_DEPEND`: `MODULE_DEPEND(<self>, name, min, preferred, max)`.
    Depend {
        /// Module depended on.
        name: String,
        /// `md_ver_minimum`.
        min: i32,
        /// `md_ver_preferred`.
        preferred: i32,
        /// `md_ver_maximum`.
        max: i32,
    },
    /// `MDT_MODULE`: the `moduledata_t`.
    Module {
        /// `md_cval`.
        name: String,
        /// The record.
        data: ModuleData,
    },
    /// `MDT_VERSION`: `MODULE_VERSION(name, version)`.
    Version {
        /// `md_cval`.
        name: String,
        /// `mv_version`.
        version: i32,
    },
    /// Anything else (reported as unexpected).
    Other {
        /// `md_version`.
        md_version: i32,
        /// `md_type`.
        md_type: i32,
        /// `md_cval`, if readable.
        name: String,
    },
}

/// A decoded `moduledata_t`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleData {
    /// `name`.
    pub name: String,
    /// Symbol name of `evhand` (a function in the module).
    pub evhand: String,
    /// Whether `priv` is NULL.
    pub priv_null: bool,
}

/// What a SYSINIT's `udata` points at, decoded by the function it goes to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Udata {
    /// NULL.
    Null,
    /// A `moduledata_t` (for `module_register_init`).
    ModuleData(ModuleData),
    /// A `struct malloc_type` (for `malloc_init`/`malloc_uninit`), with
    /// whether it sits in writable memory.
    MallocType {
        /// `ks_shortdesc`.
        shortdesc: String,
        /// `ks_version`.
        version: u64,
        /// `ks_next` is NULL and `ks_mti` all zero.
        pristine: bool,
        /// In a SHF_WRITE section (the kernel writes it).
        writable: bool,
    },
    /// A `struct vnet_sysinit` (for `vnet_[de]register_sysinit` and
    /// `vnet_[de]register_sysuninit`, sys/net/vnet.h).
    VnetSysinit {
        /// `subsystem`.
        subsystem: u32,
        /// `order`.
        order: u32,
        /// `func`, demangled.
        func: String,
        /// `arg` is NULL.
        arg_null: bool,
        /// `link` (TAILQ_ENTRY, written by the kernel) is NULL.
        link_null: bool,
        /// In a SHF_WRITE section.
        writable: bool,
    },
    /// Something else, described.
    Other(String),
}

/// A decoded `struct sysinit`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SysInit {
    /// `subsystem`.
    pub subsystem: u32,
    /// `order`.
    pub order: u32,
    /// `next` is NULL.
    pub next_null: bool,
    /// In a SHF_WRITE section (the kernel links records through `next`).
    pub writable: bool,
    /// Symbol name of `func`.
    pub func: String,
    /// `udata`, decoded.
    pub udata: Udata,
}

/// Indices of the sections named `name`.
pub fn sections_named(file: &File<'_>, name: &str) -> Vec<usize> {
    file.sections()
        .filter(|s| s.name() == Ok(name))
        .map(|s| s.index().0)
        .collect()
}

struct Reader<'a, 'data> {
    file: &'a File<'data>,
}

impl Reader<'_, '_> {
    fn bytes(&self, section: usize, offset: u64, len: u64) -> Result<Vec<u8>, String> {
        let s = self
            .file
            .section_by_index(SectionIndex(section))
            .map_err(|e| e.to_string())?;
        let data = s.data().map_err(|e| e.to_string())?;
        let start = usize::try_from(offset).map_err(|e| e.to_string())?;
        let end = start
            .checked_add(usize::try_from(len).map_err(|e| e.to_string())?)
            .ok_or("overflow")?;
        data.get(start..end)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| format!("section {section}: {offset:#x}+{len} out of bounds"))
    }

    fn u32_at(&self, section: usize, offset: u64) -> Result<u32, String> {
        let b = self.bytes(section, offset, 4)?;
        let arr: [u8; 4] = b.try_into().map_err(|_| "short read")?;
        Ok(u32::from_le_bytes(arr))
    }

    fn i32_at(&self, section: usize, offset: u64) -> Result<i32, String> {
        self.u32_at(section, offset)
            .map(|v| i32::from_le_bytes(v.to_le_bytes()))
    }

    fn u64_at(&self, section: usize, offset: u64) -> Result<u64, String> {
        let b = self.bytes(section, offset, 8)?;
        let arr: [u8; 8] = b.try_into().map_err(|_| "short read")?;
        Ok(u64::from_le_bytes(arr))
    }

    fn writable(&self, section: usize) -> bool {
        self.file.section_by_index(SectionIndex(section)).is_ok_and(
            |s| matches!(s.flags(), object::SectionFlags::Elf { sh_flags } if sh_flags & u64::from(SHF_WRITE) != 0),
        )
    }

    /// The 8-byte pointer at `section + offset`, after relocation.
    fn ptr_at(&self, section: usize, offset: u64) -> Result<Ptr, String> {
        let s = self
            .file
            .section_by_index(SectionIndex(section))
            .map_err(|e| e.to_string())?;
        let rel = s.relocations().find(|(o, _)| *o == offset);
        let Some((_, rel)) = rel else {
            return match self.u64_at(section, offset)? {
                0 => Ok(Ptr::Null),
                v => Err(format!(
                    "section {section}+{offset:#x}: absolute pointer {v:#x} without relocation"
                )),
            };
        };
        if rel.flags()
            != (RelocationFlags::Elf {
                r_type: R_X86_64_64,
            })
        {
            return Err(format!(
                "section {section}+{offset:#x}: pointer slot relocated by {:?}",
                rel.flags()
            ));
        }
        let RelocationTarget::Symbol(i) = rel.target() else {
            return Err(format!(
                "section {section}+{offset:#x}: relocation without symbol"
            ));
        };
        let sym = self.file.symbol_by_index(i).map_err(|e| e.to_string())?;
        match sym.section() {
            SymbolSection::Undefined => Ok(Ptr::Undefined(
                sym.name().map_err(|e| e.to_string())?.to_owned(),
            )),
            SymbolSection::Section(idx) => {
                let off = sym
                    .address()
                    .checked_add_signed(rel.addend())
                    .ok_or("addend overflow")?;
                Ok(Ptr::Local {
                    section: idx.0,
                    offset: off,
                })
            }
            other => Err(format!(
                "section {section}+{offset:#x}: pointer to symbol in {other:?}"
            )),
        }
    }

    fn cstr(&self, p: &Ptr) -> Result<String, String> {
        let Ptr::Local { section, offset } = *p else {
            return Err(format!("string pointer {p:?} is not inside the module"));
        };
        let s = self
            .file
            .section_by_index(SectionIndex(section))
            .map_err(|e| e.to_string())?;
        let data = s.data().map_err(|e| e.to_string())?;
        let tail = data
            .get(usize::try_from(offset).map_err(|e| e.to_string())?..)
            .ok_or("string out of bounds")?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or("unterminated string")?;
        Ok(String::from_utf8_lossy(tail.get(..end).unwrap_or_default()).into_owned())
    }

    /// Name of the function a pointer designates; Rust names demangled
    /// without their hash (`if_ipsec_kmod::glue::vnet::lock_uninit`).
    fn func_name(&self, p: &Ptr) -> Result<String, String> {
        self.raw_func_name(p)
            .map(|n| format!("{:#}", rustc_demangle::demangle(&n)))
    }

    fn raw_func_name(&self, p: &Ptr) -> Result<String, String> {
        match p {
            Ptr::Undefined(n) => Ok(n.clone()),
            Ptr::Local { section, offset } => self
                .file
                .symbols()
                .find(|s| {
                    s.kind() == object::SymbolKind::Text
                        && s.section() == SymbolSection::Section(SectionIndex(*section))
                        && s.address() == *offset
                })
                .and_then(|s| s.name().ok().map(str::to_owned))
                .ok_or_else(|| format!("no function symbol at section {section}+{offset:#x}")),
            Ptr::Null => Err("NULL function pointer".into()),
        }
    }

    fn module_data(&self, p: &Ptr) -> Result<ModuleData, String> {
        let Ptr::Local { section, offset } = *p else {
            return Err(format!("moduledata pointer {p:?} is not inside the module"));
        };
        Ok(ModuleData {
            name: self.cstr(&self.ptr_at(section, offset)?)?,
            evhand: self.func_name(&self.ptr_at(section, offset + 8)?)?,
            priv_null: self.ptr_at(section, offset + 16)? == Ptr::Null,
        })
    }

    fn malloc_type(&self, p: &Ptr) -> Result<Udata, String> {
        let Ptr::Local { section, offset } = *p else {
            return Err(format!(
                "malloc_type pointer {p:?} is not inside the module"
            ));
        };
        // ks_next @0, ks_version @8, ks_shortdesc @16, ks_mti @24 (88 bytes)
        let next_null = self.ptr_at(section, offset)? == Ptr::Null;
        let version = self.u64_at(section, offset + 8)?;
        let shortdesc = self.cstr(&self.ptr_at(section, offset + 16)?)?;
        let mti = self.bytes(section, offset + 24, 88)?;
        let mti_reloc = self
            .file
            .section_by_index(SectionIndex(section))
            .map(|s| {
                s.relocations()
                    .any(|(o, _)| o >= offset + 24 && o < offset + 112)
            })
            .unwrap_or(true);
        Ok(Udata::MallocType {
            shortdesc,
            version,
            pristine: next_null && mti.iter().all(|&b| b == 0) && !mti_reloc,
            writable: self.writable(section),
        })
    }

    fn vnet_sysinit(&self, p: &Ptr) -> Result<Udata, String> {
        let Ptr::Local { section, offset } = *p else {
            return Err(format!(
                "vnet_sysinit pointer {p:?} is not inside the module"
            ));
        };
        // subsystem @0, order @4, func @8, arg @16, link @24 (2 pointers);
        // 40 bytes (sys/net/vnet.h)
        Ok(Udata::VnetSysinit {
            subsystem: self.u32_at(section, offset)?,
            order: self.u32_at(section, offset + 4)?,
            func: self.func_name(&self.ptr_at(section, offset + 8)?)?,
            arg_null: self.ptr_at(section, offset + 16)? == Ptr::Null,
            link_null: self.ptr_at(section, offset + 24)? == Ptr::Null
                && self.ptr_at(section, offset + 32)? == Ptr::Null,
            writable: self.writable(section),
        })
    }

    fn sysinit(&self, p: &Ptr) -> Result<SysInit, String> {
        let Ptr::Local { section, offset } = *p else {
            return Err(format!("sysinit pointer {p:?} is not inside the module"));
        };
        let func = self.func_name(&self.ptr_at(section, offset + 16)?)?;
        let udata_ptr = self.ptr_at(section, offset + 24)?;
        let udata = match (func.as_str(), &udata_ptr) {
            (_, Ptr::Null) => Udata::Null,
            ("module_register_init", p) => Udata::ModuleData(self.module_data(p)?),
            ("malloc_init" | "malloc_uninit", p) => self.malloc_type(p)?,
            (
                "vnet_register_sysinit"
                | "vnet_deregister_sysinit"
                | "vnet_register_sysuninit"
                | "vnet_deregister_sysuninit",
                p,
            ) => self.vnet_sysinit(p)?,
            (_, p) => Udata::Other(format!("{p:?}")),
        };
        Ok(SysInit {
            subsystem: self.u32_at(section, offset)?,
            order: self.u32_at(section, offset + 4)?,
            next_null: self.ptr_at(section, offset + 8)? == Ptr::Null,
            writable: self.writable(section),
            func,
            udata,
        })
    }

    fn metadata(&self, p: &Ptr) -> Result<Metadata, String> {
        let Ptr::Local { section, offset } = *p else {
            return Err(format!(
                "mod_metadata pointer {p:?} is not inside the module"
            ));
        };
        let md_version = self.i32_at(section, offset)?;
        let md_type = self.i32_at(section, offset + 4)?;
        let data = self.ptr_at(section, offset + 8)?;
        let name = self.cstr(&self.ptr_at(section, offset + 16)?)?;
        let at = |d: &Ptr| match *d {
            Ptr::Local { section, offset } => Ok((section, offset)),
            _ => Err(format!(
                "metadata {name}: data pointer {d:?} is not inside the module"
            )),
        };
        Ok(match (md_version, md_type) {
            (1, 1) => {
                let (s, o) = at(&data)?;
                Metadata::Depend {
                    name,
                    min: self.i32_at(s, o)?,
                    preferred: self.i32_at(s, o + 4)?,
                    max: self.i32_at(s, o + 8)?,
                }
            }
            (1, 2) => Metadata::Module {
                name,
                data: self.module_data(&data)?,
            },
            (1, 3) => {
                let (s, o) = at(&data)?;
                Metadata::Version {
                    name,
                    version: self.i32_at(s, o)?,
                }
            }
            _ => Metadata::Other {
                md_version,
                md_type,
                name,
            },
        })
    }

    /// The record pointers of the set section `section`.
    fn slots(&self, section: usize) -> Result<Vec<Ptr>, String> {
        let s = self
            .file
            .section_by_index(SectionIndex(section))
            .map_err(|e| e.to_string())?;
        let size = s.size();
        if size % 8 != 0 {
            return Err(format!("set section size {size} is not a multiple of 8"));
        }
        (0..size / 8).map(|i| self.ptr_at(section, i * 8)).collect()
    }
}

/// Whether section `index` has SHF_WRITE.
pub fn section_writable(file: &File<'_>, index: usize) -> bool {
    Reader { file }.writable(index)
}

/// The single section named `name`, or an error naming how many exist.
pub fn single_section(file: &File<'_>, name: &str) -> Result<usize, String> {
    match sections_named(file, name).as_slice() {
        [one] => Ok(*one),
        many => Err(format!(
            "{} sections named {name}; the kernel uses only the first",
            many.len()
        )),
    }
}

/// Decoded entries of `set_modmetadata_set`, sorted.
pub fn modmetadata(file: &File<'_>) -> Result<Vec<Metadata>, String> {
    let r = Reader { file };
    let sec = single_section(file, "set_modmetadata_set")?;
    let mut v = r
        .slots(sec)?
        .iter()
        .map(|p| r.metadata(p))
        .collect::<Result<Vec<_>, _>>()?;
    v.sort();
    Ok(v)
}

/// Decoded entries of `set_sysinit_set` or `set_sysuninit_set`, sorted.
pub fn sysinits(file: &File<'_>, set_section: &str) -> Result<Vec<SysInit>, String> {
    let r = Reader { file };
    let sec = single_section(file, set_section)?;
    let mut v = r
        .slots(sec)?
        .iter()
        .map(|p| r.sysinit(p))
        .collect::<Result<Vec<_>, _>>()?;
    v.sort();
    Ok(v)
}
