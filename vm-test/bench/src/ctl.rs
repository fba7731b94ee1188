//! Control plane: the ioctls of `ifconfig ipsecN create tunnel A B reqid R`
//! and `ifconfig ipsecN destroy`, issued directly and timed.
use std::ffi::{c_int, c_ulong};
use std::time::{Duration, Instant};
use sys_bindings::net::ioctl::{IPSECSREQID, SIOCIFCREATE2, SIOCIFDESTROY, SIOCSIFPHYADDR};
use sys_bindings::net::{ifreq, in_addr, in_aliasreq, sockaddr_in};
use zerocopy::IntoBytes;

extern "C" {
    fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
    fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
    fn close(fd: c_int) -> c_int;
}

/// AF_INET and SOCK_DGRAM (sys/sys/socket.h); any socket serves ifioctl.
const AF_INET: c_int = 2;
const SOCK_DGRAM: c_int = 2;
/// The local tunnel address of every benchmark interface.
const LOCAL: [u8; 4] = [192, 0, 2, 1];
/// Reqids stay manual (<= IPSEC_MANUAL_REQID_MAX 0x3fff) for both drivers.
const REQID_MAX: u32 = 0x3fff;

/// A datagram socket to issue ioctls on, closed on drop.
struct Sock(c_int);

impl Sock {
    fn open() -> Result<Sock, String> {
        // SAFETY: plain system call; a negative result is an error.
        let fd = unsafe { socket(AF_INET, SOCK_DGRAM, 0) };
        if fd < 0 {
            return Err(format!("socket: {}", std::io::Error::last_os_error()));
        }
        Ok(Sock(fd))
    }

    /// ioctl(fd, req, arg): `arg` is the request's argument struct.
    fn ioctl<T: IntoBytes + zerocopy::FromBytes>(
        &self,
        req: u64,
        arg: &mut T,
    ) -> Result<(), String> {
        // SAFETY: `arg` is a live, exclusively borrowed struct of the size
        // encoded in `req` (sys-bindings pins both).
        let rc = unsafe { ioctl(self.0, req as c_ulong, (arg as *mut T).cast::<u8>()) };
        if rc < 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        Ok(())
    }
}

impl Drop for Sock {
    fn drop(&mut self) {
        // SAFETY: our descriptor, closed once.
        unsafe { close(self.0) };
    }
}

/// `ipsec<unit>` as an ifreq name.
fn name(unit: u32) -> [u8; 16] {
    name_of("ipsec", unit)
}

/// `<prefix><unit>` as an ifreq name.
fn name_of(prefix: &str, unit: u32) -> [u8; 16] {
    let mut out = [0u8; 16];
    let s = format!("{prefix}{unit}");
    for (o, b) in out.iter_mut().zip(s.bytes().take(15)) {
        *o = b;
    }
    out
}

fn sin(a: [u8; 4]) -> sockaddr_in {
    sockaddr_in {
        sin_len: 16,
        sin_family: AF_INET as u8,
        sin_addr: in_addr { s_addr: a },
        ..Default::default()
    }
}

/// The remote address of interface `i`: 198.18.0.0/15 (RFC 2544's
/// benchmarking range), one per interface.
fn remote(i: u32) -> [u8; 4] {
    let [_, b, c, d] = i.to_be_bytes();
    [198, 18 + (b & 1), c, d]
}

/// Time spent in each of the three requests, summed over interfaces.
#[derive(Default)]
struct Phases {
    clone: Duration,
    tunnel: Duration,
    reqid: Duration,
}

fn create_one(
    s: &Sock,
    unit: u32,
    remote: [u8; 4],
    reqid: u32,
    p: &mut Phases,
) -> Result<(), String> {
    let t = Instant::now();
    let mut r = ifreq {
        ifr_name: name(unit),
        ..Default::default()
    };
    s.ioctl(SIOCIFCREATE2, &mut r)
        .map_err(|e| format!("create ipsec{unit}: {e}"))?;
    let t1 = Instant::now();
    set_tunnel(s, unit, remote)?;
    let t2 = Instant::now();
    set_reqid(s, unit, reqid)?;
    p.clone += t1 - t;
    p.tunnel += t2 - t1;
    p.reqid += t2.elapsed();
    Ok(())
}

fn set_tunnel(s: &Sock, unit: u32, remote: [u8; 4]) -> Result<(), String> {
    let mut a = in_aliasreq {
        ifra_name: name(unit),
        ifra_addr: sin(LOCAL),
        ifra_dstaddr: sin(remote),
        ..Default::default()
    };
    s.ioctl(SIOCSIFPHYADDR, &mut a)
        .map_err(|e| format!("tunnel ipsec{unit}: {e}"))
}

fn set_reqid(s: &Sock, unit: u32, reqid: u32) -> Result<(), String> {
    let mut v = reqid;
    let mut r = ifreq {
        ifr_name: name(unit),
        ..Default::default()
    };
    r.set_data_ptr(&mut v as *mut u32 as u64);
    s.ioctl(IPSECSREQID, &mut r)
        .map_err(|e| format!("reqid ipsec{unit}: {e}"))
}

fn check(n: u32, base: u32) -> Result<(), String> {
    if n == 0 || base.checked_add(n).is_none_or(|top| top > REQID_MAX) {
        return Err(format!("N + BASE must be 1..={REQID_MAX} (reqid = unit)"));
    }
    Ok(())
}

/// Create ipsec<base>..ipsec<base+n-1>, each with a tunnel and reqid = unit.
pub fn create(n: u32, base: u32) -> Result<String, String> {
    check(n, base)?;
    let s = Sock::open()?;
    let mut p = Phases::default();
    let t = Instant::now();
    for i in 0..n {
        create_one(&s, base + i, remote(i), base + i, &mut p)?;
    }
    Ok(format!(
        "{} clone_s={:.3} tunnel_s={:.3} reqid_s={:.3}",
        rate("create", n, t),
        p.clone.as_secs_f64(),
        p.tunnel.as_secs_f64(),
        p.reqid.as_secs_f64()
    ))
}

/// Destroy them again.
pub fn destroy(n: u32, base: u32) -> Result<String, String> {
    check(n, base)?;
    destroy_of("ipsec", n, base)
}

/// Destroy `<prefix><base>`.. (n interfaces of any cloner).
pub fn destroy_of(prefix: &str, n: u32, base: u32) -> Result<String, String> {
    each("destroy", SIOCIFDESTROY, prefix, n, base)
}

/// Create `<prefix><base>`.. with SIOCIFCREATE2 alone: the kernel's own
/// share of a create (if_clone, if_attach) with a cloner that does almost
/// nothing else, `lo` say; the baseline both drivers sit on.
pub fn create_of(prefix: &str, n: u32, base: u32) -> Result<String, String> {
    each("create", SIOCIFCREATE2, prefix, n, base)
}

/// Request `req` (an ifreq carrying only the name) for each of
/// `<prefix><base>`.., timed as `op`.
fn each(op: &str, req: u64, prefix: &str, n: u32, base: u32) -> Result<String, String> {
    let s = Sock::open()?;
    let t = Instant::now();
    for unit in base..base.saturating_add(n) {
        let mut r = ifreq {
            ifr_name: name_of(prefix, unit),
            ..Default::default()
        };
        s.ioctl(req, &mut r)
            .map_err(|e| format!("{op} {prefix}{unit}: {e}"))?;
    }
    Ok(rate(op, n, t))
}

/// `k` reqid changes and `k` tunnel changes of ipsec<base> (each to a
/// spare value and back), in microseconds: the median of each kind, what
/// one reconfiguration costs with everything else present.  One sample
/// alone is at the mercy of the emulator's noise.
pub fn change(base: u32, k: u32) -> Result<String, String> {
    let s = Sock::open()?;
    let spare = REQID_MAX;
    let mut reqid = Vec::new();
    let mut tunnel = Vec::new();
    for _ in 0..k.max(1) {
        reqid.push(timed(|| set_reqid(&s, base, spare))?);
        reqid.push(timed(|| set_reqid(&s, base, base))?);
        tunnel.push(timed(|| set_tunnel(&s, base, [198, 51, 100, 200]))?);
        tunnel.push(timed(|| set_tunnel(&s, base, remote(0)))?);
    }
    Ok(format!(
        "op=change reqid_us={} tunnel_us={}",
        median(&mut reqid),
        median(&mut tunnel)
    ))
}

/// Microseconds `f` took.
fn timed(f: impl FnOnce() -> Result<(), String>) -> Result<u128, String> {
    let t = Instant::now();
    f()?;
    Ok(t.elapsed().as_micros())
}

/// The median (upper middle) of a non-empty sample.
fn median(v: &mut [u128]) -> u128 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

fn rate(op: &str, n: u32, t: Instant) -> String {
    let secs = t.elapsed().as_secs_f64();
    let per = if n == 0 {
        0.0
    } else {
        secs * 1e6 / f64::from(n)
    };
    format!("op={op} n={n} seconds={secs:.3} per_if_us={per:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_ifnamsiz() {
        assert_eq!(&name(1000)[..10], b"ipsec1000\0");
        assert_eq!(name(u32::MAX)[15], 0, "always NUL-terminated");
    }

    #[test]
    fn remotes_are_unique_up_to_the_reqid_limit() {
        let mut seen = std::collections::HashSet::new();
        assert!((0..=REQID_MAX).all(|i| seen.insert(remote(i))));
        assert!(seen
            .iter()
            .all(|a| a[0] == 198 && (a[1] == 18 || a[1] == 19)));
    }

    #[test]
    fn median_is_the_middle_sample() {
        assert_eq!(median(&mut [5, 1, 9]), 5);
        assert_eq!(median(&mut [4, 1, 9, 7]), 7);
        assert_eq!(median(&mut []), 0);
    }

    #[test]
    fn sizes_are_checked_before_any_ioctl() {
        assert!(check(0, 1000).is_err());
        assert!(check(REQID_MAX, 1).is_err());
        assert!(check(10_000, 1000).is_ok());
    }
}
