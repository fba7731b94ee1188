//! Symbol-table checks: what the module leaves for the kernel linker to
//! resolve, and what it must not contain.

use crate::elf::File;
use object::{Object, ObjectSymbol, SymbolKind, SymbolSection};
use std::collections::BTreeMap;

/// One line of `kmod/link/undefined-symbols.txt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowed {
    /// Who exports it: `kernel` or `ipsec.ko`.
    pub provider: String,
    /// Header declaring it (path under sys/).
    pub header: String,
    /// File defining it (path under sys/).
    pub defined_in: String,
}

/// Parses the allowlist: `symbol provider header defined-in`, `#` comments.
pub fn parse_allowlist(text: &str) -> Result<BTreeMap<String, Allowed>, String> {
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [sym, provider, header, defined_in] = fields.as_slice() else {
            return Err(format!(
                "line {}: want `symbol provider header defined-in`",
                n + 1
            ));
        };
        if !matches!(*provider, "kernel" | "ipsec.ko") {
            return Err(format!(
                "line {}: provider {provider:?} is neither kernel nor ipsec.ko",
                n + 1
            ));
        }
        if !header.starts_with("sys/") || !defined_in.starts_with("sys/") {
            return Err(format!(
                "line {}: header and defining file are paths under sys/",
                n + 1
            ));
        }
        let entry = Allowed {
            provider: (*provider).to_owned(),
            header: (*header).to_owned(),
            defined_in: (*defined_in).to_owned(),
        };
        if map.insert((*sym).to_owned(), entry).is_some() {
            return Err(format!("line {}: {sym} listed twice", n + 1));
        }
    }
    Ok(map)
}

/// Names of the undefined symbols (what the kernel linker must resolve).
pub fn undefined(file: &File<'_>) -> Vec<String> {
    let mut v: Vec<String> = file
        .symbols()
        .filter(|s| s.section() == SymbolSection::Undefined)
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| !n.is_empty())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Symbol binding problems: defined globals (EXPORT_SYMS=NO localizes
/// all), common symbols, weak undefined symbols (a missing one would
/// silently resolve to address 0: elf_obj_lookup).
pub fn binding_violations(file: &File<'_>) -> Vec<String> {
    let mut v = Vec::new();
    for s in file.symbols() {
        let name = s.name().unwrap_or("?");
        match s.section() {
            SymbolSection::Undefined => {
                if s.is_weak() {
                    v.push(format!("{name}: weak undefined symbol"));
                }
                if s.is_local() && !name.is_empty() {
                    v.push(format!("{name}: local undefined symbol"));
                }
            }
            SymbolSection::Common => v.push(format!("{name}: common symbol")),
            _ => {
                if s.is_global() {
                    v.push(format!(
                        "{name}: defined global symbol (the link must localize it)"
                    ));
                }
            }
        }
    }
    v
}

/// C libm names compiler_builtins defines; none may be defined in the
/// module (a kernel call to `log` would have bound to libm's `log`).
pub const LIBM_NAMES: &[&str] = &[
    "acos", "asin", "atan", "atan2", "cbrt", "ceil", "copysign", "cos", "cosh", "erf", "erfc",
    "exp", "exp2", "expm1", "fabs", "fdim", "floor", "fma", "fmax", "fmin", "fmod", "hypot",
    "ldexp", "lgamma_r", "log", "log10", "log1p", "log2", "pow", "rint", "round", "sin", "sinh",
    "sqrt", "tan", "tanh", "tgamma", "trunc", "logf", "sqrtf", "expf", "powf", "sinf", "cosf",
    "floorf", "ceilf", "fabsf", "roundf", "truncf",
];

/// Defined symbols whose names are libm's.
pub fn defined_libm(file: &File<'_>) -> Vec<String> {
    file.symbols()
        .filter(|s| s.section() != SymbolSection::Undefined)
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| LIBM_NAMES.contains(&n.as_str()))
        .collect()
}

/// Symbols (defined or not) whose name contains one of `needles`; works
/// for legacy and v0 Rust mangling, which keep identifiers verbatim.
pub fn names_containing(file: &File<'_>, needles: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = file
        .symbols()
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| needles.iter().any(|x| n.contains(x)))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Out-of-memory paths of `alloc`: reached only by infallible allocation.
pub const ALLOC_ERROR_NAMES: &[&str] = &[
    "handle_alloc_error",
    "alloc_error_handler",
    "__rdl_oom",
    "__rg_oom",
    "__rust_alloc_error_handler",
];

/// Panic machinery of `core` (and our handler, `rust_begin_unwind`).
pub const PANIC_NAMES: &[&str] = &[
    "panicking",
    "panic_fmt",
    "panic_bounds_check",
    "rust_begin_unwind",
    "capacity_overflow",
    "unwrap_failed",
    "expect_failed",
    "slice_index_fail",
    "slice_start_index_len_fail",
    "slice_end_index_len_fail",
    "str_index_overflow_fail",
];

/// Function symbols: (name, section index, offset, size).
pub fn functions(file: &File<'_>) -> Vec<(String, usize, u64, u64)> {
    file.symbols()
        .filter(|s| s.kind() == SymbolKind::Text)
        .filter_map(|s| match s.section() {
            SymbolSection::Section(i) => Some((
                s.name().unwrap_or("?").to_owned(),
                i.0,
                s.address(),
                s.size(),
            )),
            _ => None,
        })
        .collect()
}

/// Undefined symbols that the module itself also defines (as a local).
/// sys/kern/kern_linker.c linker_file_lookup_symbol_internal looks in the
/// module's own symbol table first, and with debug.link_elf_obj_leak_locals
/// (default 1 in 14.2) link_elf_lookup_symbol1 returns local definitions
/// too: such a reference would bind to the module's own definition, not to
/// the kernel's (the `log` vs libm `log` trap).
pub fn shadowing_violations(file: &File<'_>) -> Vec<String> {
    let undefined = undefined(file);
    let mut v: Vec<String> = file
        .symbols()
        .filter(|s| s.section() != SymbolSection::Undefined && s.kind() != SymbolKind::Section)
        .filter_map(|s| s.name().ok().map(str::to_owned))
        .filter(|n| undefined.binary_search(n).is_ok())
        .map(|n| format!("{n}: undefined and also defined in the module; the kernel would bind it to the module's own"))
        .collect();
    v.sort();
    v.dedup();
    v
}
