//! `ipsec-bench`: the load generator of `make vm-bench` (issue 14), a
//! FreeBSD userland program cross-built on Linux against the shared
//! sysroot.  It issues the interface ioctls itself, so fork/exec of
//! ifconfig(8) does not hide the kernel's cost, and blasts UDP through a
//! tunnel without waiting for replies.  It works the same against the
//! stock C if_ipsec and ours: both answer the same requests.
//!
//! ```text
//! ipsec-bench create N BASE      ipsec<BASE>..: create, tunnel, reqid
//! ipsec-bench change BASE [K]    K (1) reqid and tunnel changes of ipsec<BASE>: medians
//! ipsec-bench destroy N BASE     destroy them again
//! ipsec-bench clone PREFIX N BASE    <PREFIX><BASE>..: create only (lo: the kernel's share)
//! ipsec-bench unclone PREFIX N BASE  destroy them again
//! ipsec-bench blast ADDR:PORT SECONDS SIZE   UDP as fast as it goes
//! ipsec-bench sink PORT SECONDS              count what arrives
//! ipsec-bench linkwait IFNAME up|down CMD...  CMD, then time to RTM_IFINFO
//! ```
//! Every command prints one `key=value` line.
mod ctl;
mod linkwait;
mod udp;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args.iter().map(String::as_str).collect::<Vec<_>>()) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ipsec-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(words: &[&str]) -> Result<String, String> {
    match words {
        ["create", n, base] => ctl::create(num(n)?, num(base)?),
        ["destroy", n, base] => ctl::destroy(num(n)?, num(base)?),
        ["change", base] => ctl::change(num(base)?, 1),
        ["change", base, k] => ctl::change(num(base)?, num(k)?),
        ["clone", prefix, n, base] => ctl::create_of(prefix, num(n)?, num(base)?),
        ["unclone", prefix, n, base] => ctl::destroy_of(prefix, num(n)?, num(base)?),
        ["blast", dst, secs, size] => udp::blast(dst, num(secs)?, num(size)?),
        ["sink", port, secs] => udp::sink(num(port)?, num(secs)?),
        ["linkwait", ifname, state, cmd @ ..] => linkwait::run(ifname, state, cmd),
        _ => Err(
            "usage: ipsec-bench create|destroy N BASE | change BASE [K] | \
                  clone|unclone PREFIX N BASE | \
                  blast ADDR:PORT SECONDS SIZE | sink PORT SECONDS | \
                  linkwait IFNAME up|down CMD..."
                .to_string(),
        ),
    }
}

/// A decimal argument.
fn num(s: &str) -> Result<u32, String> {
    s.parse().map_err(|_| format!("not a number: {s}"))
}
