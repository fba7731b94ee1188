//! Reads the built `if_ipsec.ko` the way FreeBSD 14.2's kernel linker does
//! (sys/kern/link_elf_obj.c, sys/amd64/amd64/elf_machdep.c, b66633d79ade)
//! and reports what would make it refuse or misload the module.  The
//! assertions are in `tests/`; every check returns its findings as a list of
//! human-readable violations (empty = pass) so a failure names them all.
//!
//! Where the .ko comes from: `IF_IPSEC_KO`, else `<repo>/build/if_ipsec.ko`.
//! When `IF_IPSEC_KO` is set (as `make check` does) a missing file is an
//! error; without it, a missing default file makes the tests pass with a
//! note (so `cargo test --workspace` works before `make`).

pub mod elf;
pub mod insn;
pub mod sets;
pub mod symbols;

use std::path::PathBuf;

/// The module file, read into memory.
pub struct Ko {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its bytes.
    pub data: Vec<u8>,
}

impl Ko {
    /// Parses the ELF file.
    pub fn elf(&self) -> Result<elf::File<'_>, String> {
        elf::File::parse(&self.data)
            .map_err(|e| format!("{}: not an ELF64 file: {e}", self.path.display()))
    }
}

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent()
        .and_then(|p| p.parent())
        .map(PathBuf::from)
        .unwrap_or(here)
}

/// Loads the .ko; `Ok(None)` only when `IF_IPSEC_KO` is unset and the
/// default file does not exist.
pub fn load() -> Result<Option<Ko>, String> {
    let (path, required) = match std::env::var_os("IF_IPSEC_KO") {
        Some(p) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (repo_root().join("build").join("if_ipsec.ko"), false),
    };
    match std::fs::read(&path) {
        Ok(data) => Ok(Some(Ko { path, data })),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!(
                "note: {} absent and IF_IPSEC_KO unset: .ko checks not run (run `make` or `make check`)",
                path.display()
            );
            Ok(None)
        }
        Err(e) => Err(format!("{}: {e} (build it with `make`)", path.display())),
    }
}

/// Turns a list of violations into a test result.
pub fn verdict(what: &str, violations: Vec<String>) -> Result<(), String> {
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{what}: {} violation(s):\n  {}",
            violations.len(),
            violations.join("\n  ")
        ))
    }
}

/// Runs `f` on the parsed module (see [`load`] for when it is skipped).
pub fn with_ko(f: impl FnOnce(&elf::File<'_>) -> Result<(), String>) -> Result<(), String> {
    let Some(ko) = load()? else {
        return Ok(());
    };
    let file = ko.elf()?;
    f(&file)
}
