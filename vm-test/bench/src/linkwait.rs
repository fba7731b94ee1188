//! `linkwait IFNAME up|down CMD...`: run CMD (e.g. `setkey -c` deleting
//! an SA) and time how long until the routing socket announces IFNAME's
//! link going to that state (RTM_IFINFO, as routing daemons see it), for
//! the issue 11 scenario.  The time includes CMD's own run (fork, exec,
//! the PF_KEY request); `cmd_us` says how long that took.
//!
//! Layouts: FreeBSD 14.2 sys/net/if.h (b66633d79ade) `struct if_msghdr`
//! (ifm_type at 3, ifm_index at 12, `struct if_data` at 16 whose
//! `ifi_link_state` is its fifth byte), sys/net/route.h `RTM_IFINFO`
//! 0xe, sys/sys/socket.h `PF_ROUTE` 17, `SO_RCVTIMEO` 0x1006.
use std::ffi::{c_char, c_int, c_void, CString};
use std::process::Command;
use std::time::{Duration, Instant};

extern "C" {
    fn socket(domain: c_int, ty: c_int, protocol: c_int) -> c_int;
    fn setsockopt(fd: c_int, level: c_int, name: c_int, val: *const c_void, len: u32) -> c_int;
    fn recv(fd: c_int, buf: *mut c_void, len: usize, flags: c_int) -> isize;
    fn close(fd: c_int) -> c_int;
    fn if_nametoindex(name: *const c_char) -> u32;
}

const PF_ROUTE: c_int = 17;
const SOCK_RAW: c_int = 3;
const SOL_SOCKET: c_int = 0xffff;
const SO_RCVTIMEO: c_int = 0x1006;
const RTM_IFINFO: u8 = 0xe;
const LINK_STATE_DOWN: u8 = 1;
const LINK_STATE_UP: u8 = 2;
/// Give up after this long.
const LIMIT: Duration = Duration::from_secs(10);

/// Run it; `key=value` result.
pub fn run(ifname: &str, state: &str, cmd: &[&str]) -> Result<String, String> {
    let want = match state {
        "up" => LINK_STATE_UP,
        "down" => LINK_STATE_DOWN,
        _ => return Err(format!("state {state}: up or down")),
    };
    let c = CString::new(ifname).map_err(|_| "bad interface name".to_string())?;
    // SAFETY: a NUL-terminated name.
    let index = unsafe { if_nametoindex(c.as_ptr()) };
    if index == 0 {
        return Err(format!("{ifname}: no such interface"));
    }
    let (prog, args) = cmd.split_first().ok_or("no command")?;
    let fd = route_socket()?;
    let t0 = Instant::now();
    let st = Command::new(prog).args(args).status();
    let cmd_us = t0.elapsed().as_micros();
    let r = wait(fd, index as u16, want, t0);
    // SAFETY: our descriptor.
    unsafe { close(fd) };
    st.map_err(|e| format!("{prog}: {e}"))?;
    let us = r?;
    Ok(format!(
        "linkwait_us={us} cmd_us={cmd_us} if={ifname} state={state}"
    ))
}

fn route_socket() -> Result<c_int, String> {
    // SAFETY: plain system calls.
    let fd = unsafe { socket(PF_ROUTE, SOCK_RAW, 0) };
    if fd < 0 {
        return Err(format!(
            "socket(PF_ROUTE): {}",
            std::io::Error::last_os_error()
        ));
    }
    let tv: [i64; 2] = [0, 200_000];
    // SAFETY: a struct timeval (two 64-bit fields on amd64).
    unsafe { setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv.as_ptr().cast(), 16) };
    Ok(fd)
}

/// Microseconds from `t0` to the RTM_IFINFO of `index` with `want`.
fn wait(fd: c_int, index: u16, want: u8, t0: Instant) -> Result<u128, String> {
    let mut buf = [0u8; 2048];
    while t0.elapsed() < LIMIT {
        // SAFETY: our buffer and its length.
        let n = unsafe { recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
        let Ok(n) = usize::try_from(n) else {
            continue; // timeout: look at the clock again
        };
        let msg = buf.get(..n).unwrap_or(&[]);
        let ty = msg.get(3).copied();
        let idx = msg
            .get(12..14)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_ne_bytes);
        let link = msg.get(20).copied();
        if ty == Some(RTM_IFINFO) && idx == Some(index) && link == Some(want) {
            return Ok(t0.elapsed().as_micros());
        }
    }
    Err(format!("no RTM_IFINFO for if#{index} within {LIMIT:?}"))
}
