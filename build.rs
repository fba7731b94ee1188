//! Build script of the core crate.
//!
//! Without the `bindgen-check` feature it does nothing: the hand-written
//! layouts in sys-bindings are pinned by static_assertions against values
//! read once from FreeBSD 14.2's headers (sys-bindings/LAYOUTS.md).
//!
//! With the feature it re-derives those layouts from the real headers at
//! `$FREEBSD_SYS` (default `/usr/src/sys`) with bindgen, so a FreeBSD host
//! (or an extracted 14.x sys tree) can re-verify them: every
//! `const_assert_eq!(size_of::<T>() / align_of::<T>() / offset_of!(T, f), ..)`
//! found in sys-bindings/src becomes a compile-time comparison between
//! bindgen's `T` and sys_bindings' `T`, built by tests/layout_crosscheck.rs.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "bindgen-check")]
    layout_check::run();
}

#[cfg(feature = "bindgen-check")]
mod layout_check {
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};

    /// Headers that declare every struct sys-bindings mirrors (the same set
    /// LAYOUTS.md's probe compiled).
    const HEADERS: &[&str] = &[
        "sys/param.h",
        "sys/systm.h",
        "sys/kernel.h",
        "sys/module.h",
        "sys/linker.h",
        "sys/lock.h",
        "sys/sx.h",
        "sys/malloc.h",
        "sys/mbuf.h",
        "sys/epoch.h",
        "sys/proc.h",
        "sys/ucred.h",
        "sys/jail.h",
        "sys/priv.h",
        "sys/hhook.h",
        "sys/socket.h",
        "sys/sockio.h",
        "net/if.h",
        "net/if_var.h",
        "net/if_private.h",
        "net/if_clone.h",
        "net/if_types.h",
        "net/if_enc.h",
        "net/bpf.h",
        "net/route.h",
        "net/vnet.h",
        "netinet/in.h",
        "netinet/ip_encap.h",
        "netinet6/in6_var.h",
        "netinet6/scope6_var.h",
        "netipsec/ipsec.h",
        "netipsec/keydb.h",
        "netipsec/key.h",
        "netinet/in_var.h",
        "net/pfkeyv2.h",
        "netinet/in_pcb.h",
        "sys/uio.h",
        "sys/sockopt.h",
        "sys/_task.h",
    ];

    /// Options of amd64 GENERIC (+ DEFAULTS) that live in opt_global.h.
    const GLOBAL_OPTS: &[&str] = &[
        "NUMA",
        "VIMAGE",
        "TCP_BLACKBOX",
        "TCP_HHOOK",
        "COMPAT_FREEBSD32",
        "COMPAT_FREEBSD4",
        "COMPAT_FREEBSD5",
        "COMPAT_FREEBSD6",
        "COMPAT_FREEBSD7",
        "COMPAT_FREEBSD9",
        "COMPAT_FREEBSD10",
        "COMPAT_FREEBSD11",
        "COMPAT_FREEBSD12",
        "COMPAT_FREEBSD13",
        "AUDIT",
        "MAC",
        "KDTRACE_HOOKS",
        "RACCT",
        "RACCT_DEFAULT_TO_DISABLED",
        "RCTL",
        "KDB",
        "DEBUGNET",
        "NETDUMP",
        "NETGDB",
        "SMP",
        "PCI_IOV",
        "XENHVM",
        "EARLY_AP_STARTUP",
        "CC_CUBIC",
        "NEW_PCIB",
        "NETLINK",
    ];

    /// Other option headers the included headers pull in.
    const OPT_HEADERS: &[(&str, &[&str])] = &[
        ("opt_inet.h", &["INET", "TCP_OFFLOAD"]),
        ("opt_inet6.h", &["INET6"]),
        ("opt_ipsec.h", &["IPSEC_SUPPORT"]),
        ("opt_bpf.h", &["DEV_BPF"]),
    ];

    /// Large kernel structs reached only through pointers: kept opaque so the
    /// generated file stays small.
    const OPAQUE: &[&str] = &[
        "ifnet",
        "thread",
        "proc",
        "ucred",
        "prison",
        "socket",
        "inpcb",
        "vnode",
        "m_ext",
        "if_clone",
        "lock_profile_object",
        "uma_zone",
    ];

    /// One pinned value found in sys-bindings.
    enum Check {
        Size(String, String),
        Align(String, String),
        Offset(String, String, String),
    }

    fn fail(msg: &str) -> ! {
        eprintln!("error: bindgen-check: {msg}");
        println!("cargo:warning=bindgen-check: {msg}");
        std::process::exit(1)
    }

    fn write(path: &Path, text: &str) {
        if let Err(e) = std::fs::write(path, text) {
            fail(&format!("cannot write {}: {e}", path.display()));
        }
    }

    pub fn run() {
        println!("cargo:rerun-if-env-changed=FREEBSD_SYS");
        let sys =
            PathBuf::from(std::env::var("FREEBSD_SYS").unwrap_or_else(|_| "/usr/src/sys".into()));
        if !sys.join("sys/mbuf.h").is_file() || !sys.join("amd64/include").is_dir() {
            fail(&format!(
                "FreeBSD kernel sources not found at {} (no sys/mbuf.h or \
                 amd64/include); set FREEBSD_SYS to an extracted 14.x sys tree",
                sys.display()
            ));
        }
        let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
        let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
        let sb_src = manifest.join("sys-bindings/src");
        println!("cargo:rerun-if-changed={}", sb_src.display());

        let inc = setup_includes(&out, &sys);
        let mut checks = Vec::new();
        collect_checks(&sb_src, &sb_src, &mut checks);
        let names: Vec<&str> = checks.iter().map(|(_, c)| type_of(c)).collect();
        let bindings = generate(&out, &inc, &sys, &names);
        write(&out.join("freebsd_bindings.rs"), &bindings);
        let asserts = emit_asserts(&bindings, &checks);
        write(&out.join("layout_crosscheck.rs"), &asserts);
    }

    /// `machine` and `x86` links plus the opt_*.h of a GENERIC kernel.
    fn setup_includes(out: &Path, sys: &Path) -> PathBuf {
        let inc = out.join("fbsd-inc");
        let _ = std::fs::create_dir_all(&inc);
        for (link, target) in [("machine", "amd64/include"), ("x86", "x86/include")] {
            let l = inc.join(link);
            let _ = std::fs::remove_file(&l);
            if let Err(e) = std::os::unix::fs::symlink(sys.join(target), &l) {
                fail(&format!("symlink {}: {e}", l.display()));
            }
        }
        let defs = |opts: &[&str]| {
            opts.iter()
                .map(|o| format!("#define {o} 1\n"))
                .collect::<String>()
        };
        write(&inc.join("opt_global.h"), &defs(GLOBAL_OPTS));
        for (file, opts) in OPT_HEADERS {
            write(&inc.join(file), &defs(opts));
        }
        inc
    }

    /// Walks sys-bindings/src and records every size/align/offset pin whose
    /// type is a plain identifier, with the module path that defines it.
    fn collect_checks(root: &Path, dir: &Path, acc: &mut Vec<(String, Check)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                collect_checks(root, &p, acc);
                continue;
            }
            if p.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let module = module_path(root, &p);
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            for line in text.lines() {
                if let Some(c) = parse_line(line.trim()) {
                    acc.push((module.clone(), c));
                }
            }
        }
    }

    fn module_path(root: &Path, file: &Path) -> String {
        let rel = file.strip_prefix(root).unwrap_or(file).with_extension("");
        let mut parts: Vec<String> = rel
            .iter()
            .map(|s| s.to_string_lossy().into_owned())
            .collect();
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
            parts.pop();
        }
        let mut path = String::from("sys_bindings");
        for p in parts {
            path.push_str("::");
            path.push_str(&p);
        }
        path
    }

    fn is_ident(s: &str) -> bool {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }

    fn parse_line(line: &str) -> Option<Check> {
        let rest = line.strip_prefix("const_assert_eq!(")?;
        for (pre, is_size) in [("size_of::<", true), ("align_of::<", false)] {
            if let Some(r) = rest.strip_prefix(pre) {
                let t = r.split(">()").next()?;
                if !is_ident(t) {
                    return None;
                }
                let v = r.split_once(">(),")?.1.trim().trim_end_matches(");").trim();
                return Some(if is_size {
                    Check::Size(t.into(), v.into())
                } else {
                    Check::Align(t.into(), v.into())
                });
            }
        }
        let r = rest.strip_prefix("offset_of!(")?;
        let (args, tail) = r.split_once(')')?;
        let (t, f) = args.split_once(',')?;
        let (t, f) = (t.trim(), f.trim());
        if !is_ident(t) || !is_ident(f) {
            return None;
        }
        let v = tail
            .trim_start_matches(',')
            .trim()
            .trim_end_matches(");")
            .trim();
        Some(Check::Offset(t.into(), f.into(), v.into()))
    }

    fn type_of(c: &Check) -> &str {
        match c {
            Check::Size(t, _) | Check::Align(t, _) | Check::Offset(t, _, _) => t,
        }
    }

    fn generate(out: &Path, inc: &Path, sys: &Path, names: &[&str]) -> String {
        let wrapper = out.join("freebsd_wrapper.h");
        let body: String = HEADERS
            .iter()
            .map(|h| format!("#include <{h}>\n"))
            .collect();
        write(&wrapper, &body);
        let mut b = bindgen::Builder::default()
            .header(wrapper.display().to_string())
            .clang_args([
                "--target=x86_64-unknown-freebsd14.2".to_string(),
                "-D_KERNEL".into(),
                "-DKLD_MODULE".into(),
                "-DHAVE_KERNEL_OPTION_HEADERS".into(),
                "-nostdinc".into(),
                "-ffreestanding".into(),
                format!("-I{}", inc.display()),
                format!("-I{}", sys.display()),
                format!("-I{}", sys.join("contrib/ck/include").display()),
                "-include".into(),
                inc.join("opt_global.h").display().to_string(),
            ])
            .layout_tests(true)
            .generate_comments(false)
            .derive_debug(false)
            .derive_default(false)
            .derive_copy(false)
            .use_core()
            .allowlist_recursively(true);
        for n in names {
            b = b.allowlist_type(format!("^{n}$"));
        }
        for n in OPAQUE {
            b = b.opaque_type(format!("^{n}$"));
        }
        match b.generate() {
            Ok(g) => g.to_string(),
            Err(e) => fail(&format!(
                "bindgen failed on the headers in {}: {e}",
                sys.display()
            )),
        }
    }

    /// Text of `pub struct NAME {..}` / `pub union NAME {..}` in the output.
    fn item_body<'a>(bindings: &'a str, name: &str) -> Option<&'a str> {
        for kw in ["pub struct ", "pub union "] {
            let head = format!("{kw}{name} {{");
            if let Some(i) = bindings.find(&head) {
                let rest = bindings.get(i + head.len()..)?;
                return rest.split("\n}").next();
            }
        }
        None
    }

    /// Path of C field `field` inside bindgen's `ty`, descending into the
    /// `__bindgen_anon_N` members that anonymous unions/structs become.
    fn field_path(
        bindings: &str,
        ty: &str,
        field: &str,
        depth: u32,
    ) -> Option<Vec<(String, String)>> {
        let body = item_body(bindings, ty)?;
        let mut anon = Vec::new();
        for l in body.lines() {
            let l = l.trim().trim_start_matches("pub ");
            let Some((name, fty)) = l.split_once(':') else {
                continue;
            };
            let fty = fty.trim().trim_end_matches(',');
            // Members of unions bindgen emulates are wrapped.
            let fty = fty
                .strip_prefix("__BindgenUnionField<")
                .map_or(fty, |t| t.trim_end_matches('>'));
            if name == field {
                return Some(vec![(ty.to_string(), field.to_string())]);
            }
            if name.starts_with("__bindgen_anon_") {
                anon.push((name.to_string(), fty.to_string()));
            }
        }
        if depth > 5 {
            return None;
        }
        for (name, fty) in anon {
            if let Some(mut p) = field_path(bindings, &fty, field, depth + 1) {
                p.insert(0, (ty.to_string(), name));
                return Some(p);
            }
        }
        None
    }

    /// sys-bindings names some fields by their `#define` alias.
    fn c_field<'a>(ty: &str, field: &'a str) -> &'a str {
        match (ty, field) {
            ("in_aliasreq", "ifra_dstaddr") => "ifra_broadaddr",
            _ => field,
        }
    }

    fn emit_asserts(bindings: &str, checks: &[(String, Check)]) -> String {
        let mut s = String::new();
        let (mut done, mut skipped) = (0usize, Vec::new());
        for (module, c) in checks {
            let t = type_of(c);
            let ours = format!("{module}::{t}");
            if item_body(bindings, t).is_none() {
                skipped.push(format!("{t} (no C struct of that name)"));
                continue;
            }
            let line = match c {
                Check::Size(_, v) => format!(
                    "const _: () = assert!(size_of::<fb::{t}>() == size_of::<{ours}>(), \
                     \"size_of {t}: FreeBSD headers vs sys-bindings (pinned {v})\");\n"
                ),
                Check::Align(_, v) => format!(
                    "const _: () = assert!(align_of::<fb::{t}>() == align_of::<{ours}>(), \
                     \"align_of {t}: FreeBSD headers vs sys-bindings (pinned {v})\");\n"
                ),
                Check::Offset(_, f, v) => {
                    let Some(path) = field_path(bindings, t, c_field(t, f), 0) else {
                        skipped.push(format!("{t}.{f} (no such C field; bitfield or merged)"));
                        continue;
                    };
                    let theirs: Vec<String> = path
                        .iter()
                        .map(|(ty, fl)| format!("offset_of!(fb::{ty}, {fl})"))
                        .collect();
                    format!(
                        "const _: () = assert!({} == offset_of!({ours}, {f}), \
                         \"offset_of {t}.{f}: FreeBSD headers vs sys-bindings (pinned {v})\");\n",
                        theirs.join(" + ")
                    )
                }
            };
            s.push_str(&line);
            done += 1;
        }
        let mut head = String::new();
        let _ = writeln!(
            head,
            "// Generated by build.rs (bindgen-check): {done} comparisons."
        );
        for k in &skipped {
            let _ = writeln!(head, "// not compared: {k}");
        }
        let _ = writeln!(head, "pub const CHECKS: usize = {done};");
        println!(
            "cargo:warning=bindgen-check: {done} layout comparisons, {} pins not comparable",
            skipped.len()
        );
        head + &s
    }
}
