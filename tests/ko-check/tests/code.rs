//! Code checks: no FPU/SIMD instruction, small stack frames.

use ko_check::{insn, verdict, with_ko};

/// The amd64 kernel does not preserve user FPU/SSE state for kernel code
/// (sys/amd64/amd64/fpu.c: fpu_kern_enter is required): no x87, MMX, SSE
/// or AVX instruction or register anywhere in executable sections.
#[test]
fn no_fpu_or_simd_instructions() -> Result<(), String> {
    with_ko(|f| verdict("FPU/SIMD instructions", insn::fp_simd_violations(f)))
}

/// 16 KiB kernel stacks (sys/amd64/include/param.h KSTACK_PAGES 4): no
/// function frame over 2 KiB, no dynamic stack allocation.
#[test]
fn stack_frames_at_most_2k() -> Result<(), String> {
    with_ko(|f| {
        let frames = insn::frames(f);
        if frames.is_empty() {
            return Err("no function symbols found".into());
        }
        let biggest = frames.iter().max_by_key(|fr| fr.prologue);
        eprintln!(
            "{} functions; largest prologue frame: {biggest:?}",
            frames.len()
        );
        verdict("stack frames", insn::frame_violations(f))
    })
}
