//! Instruction-level checks with the iced-x86 decoder.
//!
//! Kernel code must not touch FPU/SIMD state: the amd64 kernel does not
//! save user FPU/SSE state on entry, so an SSE/AVX/MMX/x87 instruction in
//! a module corrupts the interrupted thread's registers (code that needs
//! them brackets itself with fpu_kern_enter(9)).  And kernel stacks are 16
//! KiB (KSTACK_PAGES 4): frames stay small.
//!
//! Why a decoder rather than `objdump -d` text: iced-x86 gives each
//! instruction's explicit and implicit registers and its CPUID feature set
//! exactly, independent of the installed binutils version and its syntax.

use crate::elf::File;
use iced_x86::{
    CpuidFeature, Decoder, DecoderOptions, Instruction, InstructionInfoFactory, Mnemonic, OpKind,
    Register,
};
use object::elf::SHF_EXECINSTR;
use object::{Object, ObjectSection, SectionIndex};

/// Largest stack frame allowed for one function, in bytes.
pub const MAX_FRAME: u64 = 2048;

/// CPUID features whose instructions use FPU/MMX/SSE/AVX state.
fn is_fp_simd_feature(f: CpuidFeature) -> bool {
    let name = format!("{f:?}");
    [
        "FPU",
        "MMX",
        "SSE",
        "AVX",
        "FMA",
        "F16C",
        "XOP",
        "3DNOW",
        "FXSR",
        "XSAVE",
        "KNC",
        "AMX",
        "VAES",
        "VPCLMUL",
        "GFNI",
        "SHA",
        "AES",
        "PCLMUL",
        "CMOVFPU",
        "D3NOW",
        "EMMI",
        "CYRIX_FPU",
    ]
    .iter()
    .any(|p| name.contains(p))
}

fn is_fp_simd_register(r: Register) -> bool {
    r.is_xmm() || r.is_ymm() || r.is_zmm() || r.is_mm() || r.is_st() || r.is_k() || r.is_tmm()
}

/// The executable sections: (index, name, bytes).
fn exec_sections<'a>(file: &'a File<'_>) -> Vec<(usize, String, &'a [u8])> {
    file.sections()
        .filter(|s| matches!(s.flags(), object::SectionFlags::Elf { sh_flags } if sh_flags & u64::from(SHF_EXECINSTR) != 0))
        .filter_map(|s| Some((s.index().0, s.name().ok()?.to_owned(), s.data().ok()?)))
        .collect()
}

/// FPU/MMX/SSE/AVX instructions in `code` (decoded from address 0).
pub fn fp_simd_in(code: &[u8]) -> Vec<(u64, String)> {
    let mut v = Vec::new();
    let mut info = InstructionInfoFactory::new();
    let mut instr = Instruction::default();
    let mut d = Decoder::with_ip(64, code, 0, DecoderOptions::NONE);
    while d.can_decode() {
        d.decode_out(&mut instr);
        if instr.is_invalid() {
            continue;
        }
        let feats: Vec<_> = instr
            .cpuid_features()
            .iter()
            .copied()
            .filter(|f| is_fp_simd_feature(*f))
            .collect();
        let regs: Vec<Register> = info
            .info(&instr)
            .used_registers()
            .iter()
            .map(|u| u.register())
            .filter(|r| is_fp_simd_register(*r))
            .collect();
        if !feats.is_empty() || !regs.is_empty() {
            v.push((
                instr.ip(),
                format!(
                    "{:?} (features {feats:?}, registers {regs:?})",
                    instr.mnemonic()
                ),
            ));
        }
    }
    v
}

/// Every FPU/MMX/SSE/AVX instruction in the executable sections.
pub fn fp_simd_violations(file: &File<'_>) -> Vec<String> {
    exec_sections(file)
        .into_iter()
        .flat_map(|(_, name, data)| {
            fp_simd_in(data)
                .into_iter()
                .map(move |(ip, what)| format!("{name}+{ip:#x}: {what}"))
        })
        .collect()
}

/// Stack use of one function as its prologue sets it up: pushes, then
/// `sub rsp, imm`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Function symbol.
    pub name: String,
    /// Bytes below the return address after the prologue.
    pub prologue: u64,
    /// Largest single `sub rsp, imm` anywhere in the function.
    pub largest_sub: u64,
    /// Whether rsp is lowered by a register amount (dynamic allocation).
    pub dynamic: bool,
}

fn frame_of(name: &str, code: &[u8], ip: u64) -> Frame {
    let mut d = Decoder::with_ip(64, code, ip, DecoderOptions::NONE);
    let mut instr = Instruction::default();
    let mut f = Frame {
        name: name.to_owned(),
        prologue: 0,
        largest_sub: 0,
        dynamic: false,
    };
    let mut in_prologue = true;
    while d.can_decode() {
        d.decode_out(&mut instr);
        let sub_rsp = instr.mnemonic() == Mnemonic::Sub
            && instr.op0_kind() == OpKind::Register
            && instr.op0_register() == Register::RSP;
        let imm = if sub_rsp && instr.op1_kind() != OpKind::Register {
            Some(instr.immediate(1))
        } else {
            None
        };
        if sub_rsp && imm.is_none() {
            f.dynamic = true;
        }
        if let Some(n) = imm {
            f.largest_sub = f.largest_sub.max(n);
        }
        if in_prologue {
            match instr.mnemonic() {
                Mnemonic::Push if instr.op0_kind() == OpKind::Register => f.prologue += 8,
                Mnemonic::Sub if imm.is_some() => f.prologue += imm.unwrap_or(0),
                Mnemonic::Mov
                    if instr.op0_register() == Register::RBP
                        && instr.op1_register() == Register::RSP => {}
                Mnemonic::And
                    if instr.op0_kind() == OpKind::Register
                        && instr.op0_register() == Register::RSP =>
                {
                    // realignment: at most (alignment - 8) more bytes
                    f.prologue += instr.immediate(1).wrapping_neg().saturating_sub(8);
                }
                _ => in_prologue = false,
            }
        }
    }
    f
}

/// Frames of every function symbol in the executable sections.
pub fn frames(file: &File<'_>) -> Vec<Frame> {
    let mut out = Vec::new();
    for (idx, name, size, addr) in crate::symbols::functions(file)
        .into_iter()
        .map(|(n, i, a, s)| (i, n, s, a))
    {
        let Ok(sec) = file.section_by_index(SectionIndex(idx)) else {
            continue;
        };
        let Ok(data) = sec.data() else { continue };
        let (Ok(start), Ok(len)) = (usize::try_from(addr), usize::try_from(size)) else {
            continue;
        };
        let Some(code) = start.checked_add(len).and_then(|end| data.get(start..end)) else {
            continue;
        };
        out.push(frame_of(&name, code, addr));
    }
    out
}

/// Functions whose frame exceeds [`MAX_FRAME`] or that allocate on the
/// stack dynamically.
pub fn frame_violations(file: &File<'_>) -> Vec<String> {
    frames(file)
        .into_iter()
        .filter(|f| f.prologue > MAX_FRAME || f.largest_sub > MAX_FRAME || f.dynamic)
        .map(|f| {
            format!(
                "{}: prologue frame {} bytes, largest `sub rsp` {}{} (limit {MAX_FRAME})",
                f.name,
                f.prologue,
                f.largest_sub,
                if f.dynamic {
                    ", dynamic stack allocation"
                } else {
                    ""
                }
            )
        })
        .collect()
}

/// Direct near calls and jumps between function symbols, as
/// (caller, callee) demangled names (without hashes).  A branch's rel32
/// usually carries a relocation (the `ld -r` output is still relocatable):
/// the callee is the relocation's symbol + addend + 4; branches without
/// one (resolved by the compiler) use the decoded target.
pub fn call_edges(file: &File<'_>) -> Vec<(String, String)> {
    use object::{ObjectSymbol, RelocationTarget, SymbolSection};
    use std::collections::BTreeMap;
    let funcs = crate::symbols::functions(file);
    let name_at = |sec: usize, target: u64| {
        funcs
            .iter()
            .find(|(_, s, a, z)| *s == sec && *a <= target && target < a.saturating_add(*z))
            .map(|(n, _, _, _)| n.clone())
    };
    let mut edges = Vec::new();
    let mut instr = Instruction::default();
    for (sec, _, data) in exec_sections(file) {
        let Ok(section) = file.section_by_index(SectionIndex(sec)) else {
            continue;
        };
        // offset of a rel32 field -> callee name
        let mut rel_callee: BTreeMap<u64, String> = BTreeMap::new();
        for (off, rel) in section.relocations() {
            let RelocationTarget::Symbol(i) = rel.target() else {
                continue;
            };
            let Ok(sym) = file.symbol_by_index(i) else {
                continue;
            };
            let callee = match sym.section() {
                SymbolSection::Undefined => sym.name().ok().map(str::to_owned),
                SymbolSection::Section(t) => sym
                    .address()
                    .checked_add_signed(rel.addend())
                    .and_then(|a| a.checked_add(4))
                    .and_then(|a| name_at(t.0, a)),
                _ => None,
            };
            if let Some(c) = callee {
                rel_callee.insert(off, c);
            }
        }
        for (name, fsec, addr, size) in funcs.iter().filter(|f| f.1 == sec) {
            let (Ok(start), Ok(len)) = (usize::try_from(*addr), usize::try_from(*size)) else {
                continue;
            };
            let Some(code) = start.checked_add(len).and_then(|end| data.get(start..end)) else {
                continue;
            };
            let mut d = Decoder::with_ip(64, code, *addr, DecoderOptions::NONE);
            while d.can_decode() {
                d.decode_out(&mut instr);
                if !(instr.is_call_near() || instr.is_jmp_near() || instr.is_jcc_short_or_near()) {
                    continue;
                }
                let field = instr.next_ip().saturating_sub(4);
                let callee = rel_callee
                    .get(&field)
                    .cloned()
                    .or_else(|| name_at(*fsec, instr.near_branch_target()));
                if let Some(callee) = callee.filter(|c| c != name) {
                    edges.push((demangle(name), demangle(&callee)));
                }
            }
        }
    }
    edges.sort();
    edges.dedup();
    edges
}

/// A symbol name, demangled without hash if it is a Rust one.
pub fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// The module's own functions (crates `if_ipsec_kmod`, `if_ipsec`) that
/// directly call into a chain of library functions ending in one whose
/// name contains one of `needles`: where to look to remove a panic or
/// out-of-memory path.
pub fn own_callers_of(file: &File<'_>, needles: &[&str]) -> Vec<String> {
    use std::collections::BTreeSet;
    let edges = call_edges(file);
    let raw_names: Vec<String> = crate::symbols::functions(file)
        .into_iter()
        .map(|f| f.0)
        .collect();
    let mut bad: BTreeSet<String> = raw_names
        .iter()
        .filter(|n| needles.iter().any(|x| n.contains(x)))
        .map(|n| demangle(n))
        .collect();
    let own = |n: &str| {
        [
            "if_ipsec_kmod::",
            "if_ipsec::",
            "<if_ipsec_kmod::",
            "<if_ipsec::",
        ]
        .iter()
        .any(|p| n.starts_with(p))
    };
    // Library functions that reach a bad one are bad too.
    loop {
        let before = bad.len();
        for (caller, callee) in &edges {
            if bad.contains(callee) && !own(caller) {
                bad.insert(caller.clone());
            }
        }
        if bad.len() == before {
            break;
        }
    }
    let mut v: Vec<String> = edges
        .iter()
        .filter(|(caller, callee)| own(caller) && bad.contains(callee))
        .map(|(caller, callee)| format!("{caller} -> {callee}"))
        .collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The decoder flags each class of forbidden instruction.
    #[test]
    fn fp_simd_instructions_are_detected() {
        let cases: &[(&str, &[u8])] = &[
            ("movaps xmm0, xmm1", &[0x0f, 0x28, 0xc1]),
            ("vmovdqu ymm0, [rax]", &[0xc5, 0xfe, 0x6f, 0x00]),
            ("emms", &[0x0f, 0x77]),
            ("fld st(0)", &[0xd9, 0xc0]),
            ("fxsave [rax]", &[0x0f, 0xae, 0x00]),
            ("ldmxcsr [rax]", &[0x0f, 0xae, 0x10]),
        ];
        for (what, code) in cases {
            assert_eq!(fp_simd_in(code).len(), 1, "{what} not flagged");
        }
    }

    /// Integer code, including what the compiler emits for memset, passes.
    #[test]
    fn integer_instructions_pass() {
        // push rbp; mov rbp,rsp; rep stosb; imul rax,rcx; pop rbp; ret
        let code = [
            0x55, 0x48, 0x89, 0xe5, 0xf3, 0xaa, 0x48, 0x0f, 0xaf, 0xc1, 0x5d, 0xc3,
        ];
        assert!(fp_simd_in(&code).is_empty());
    }

    /// push rbp; mov rbp,rsp; push rbx; sub rsp,0x118 -> 8 + 8 + 0x118.
    #[test]
    fn prologue_frame_is_pushes_plus_sub() {
        let code = [
            0x55, 0x48, 0x89, 0xe5, 0x53, 0x48, 0x81, 0xec, 0x18, 0x01, 0x00, 0x00, 0xc3,
        ];
        let f = frame_of("f", &code, 0);
        assert_eq!(f.prologue, 8 + 8 + 0x118);
        assert_eq!(f.largest_sub, 0x118);
        assert!(!f.dynamic);
    }

    /// A stack probe loop's `sub rsp, 0x1000` is over the limit; `sub rsp,
    /// rax` is dynamic allocation.
    #[test]
    fn big_and_dynamic_frames_are_detected() {
        let probe = [
            0x55, 0x48, 0x89, 0xe5, 0x48, 0x81, 0xec, 0x00, 0x10, 0x00, 0x00, 0xc3,
        ];
        assert!(frame_of("p", &probe, 0).largest_sub > MAX_FRAME);
        let dynamic = [0x55, 0x48, 0x89, 0xe5, 0x48, 0x29, 0xc4, 0xc3];
        assert!(frame_of("d", &dynamic, 0).dynamic);
    }
}
