//! ioctls (C: ipsec_ioctl, FreeBSD 14.2 sys/net/if_ipsec.c, b66633d79ade).
//! The core decodes (`if_ipsec::ioctl::decode`) with C's errnos; here:
//! the requests C answers without its sx (SIOCSIFADDR, no-ops, MTU), and
//! under [`CONFIG`] the tunnel, fib and reqid requests with C's privilege
//! checks, copyin/copyout through `ifr_data_get_ptr` (as C: right for
//! 32-bit callers too), scope embedding/recovery
//! and prison_if.  Bad input is rejected before anything changes.
use core::ffi::{c_int, c_ulong};
use core::sync::atomic::Ordering;

use super::config::{self, Aftermath, Target};
use super::linkstate;
use super::softc::Softc;
use super::state::{locked, CONFIG};
use crate::kpi::epoch::Sleepable;
use crate::kpi::if_handler::{IoctlData, OurIfnet};
use crate::kpi::ifnet::IfFlags;
use crate::kpi::inet::{embed_scope, prison_if_cur, recover_scope};
use crate::kpi::sx::ConfigGuard;
use crate::kpi::thread::{copyin_array, copyout_bytes, priv_check_cur, UserAddr};
use crate::kpi::vnet::{rt_numfibs, with_vnet, CurVnet};
use if_ipsec::addr::{Addr, Family};
use if_ipsec::endpoint::Tunnel;
use if_ipsec::ioctl::{decode, encode_addr, encode_fib, encode_media, reply_addr, Command, End};
use sys_bindings::errno::{EINVAL, ENXIO};
use sys_bindings::thread::{PRIV_NET_SETIFCAP, PRIV_NET_SETIFFIB};

/// if_ioctl.
pub fn handle(
    ifp: OurIfnet<'_, Softc>,
    cmd: c_ulong,
    mut data: IoctlData,
    s: &mut Sleepable,
) -> Result<(), c_int> {
    let c = decode(cmd, data.bytes()).map_err(|e| e.get())?;
    match c {
        Command::SetIfAddr => {
            ifp.set_flag_bits(IfFlags::UP, IfFlags::empty());
            return Ok(());
        }
        Command::Nop => return Ok(()),
        Command::SetMtu(m) => {
            ifp.set_mtu(m);
            return Ok(());
        }
        _ => {}
    }
    let mut g = CONFIG.lock(s);
    let Some(v) = ifp.softc_locked(&g).and_then(|sc| sc.vnet()) else {
        return Err(ENXIO); // destroyed meanwhile (C: sc == NULL)
    };
    with_vnet(v, |cv| {
        let mut after = Aftermath::default();
        let r = locked_cmd(c, &ifp, &mut data, cv, &g, s, &mut after);
        after.finish(&mut g, s);
        r
    })
}

fn locked_cmd(
    c: Command,
    ifp: &OurIfnet<'_, Softc>,
    data: &mut IoctlData,
    cv: &CurVnet,
    g: &ConfigGuard<'_>,
    s: &mut Sleepable,
    after: &mut Aftermath,
) -> Result<(), c_int> {
    let sc = ifp.softc_locked(g).ok_or(ENXIO)?;
    let st = locked(cv, g).ok_or(ENXIO)?;
    let h = sc.handle;
    let cur = st.core.lock().state(h).copied().ok_or(ENXIO)?;
    let t = Target { st, ifp, sc };
    let tx = match c {
        Command::SetTunnel(tun) => {
            let tun = Tunnel::new(embed_scope(tun.src())?, embed_scope(tun.dst())?)
                .map_err(|e| e.get())?;
            st.core
                .lock()
                .prepare_set_tunnel(&st.tables.locked(g), h, tun, None)
        }
        Command::DeleteTunnel => st
            .core
            .lock()
            .prepare_delete_tunnel(&st.tables.locked(g), h),
        Command::SetReqid { .. } => {
            priv_check_cur(PRIV_NET_SETIFCAP)?;
            let v = u32::from_ne_bytes(copyin_array::<4>(s, data.ifr_data())?);
            st.core
                .lock()
                .prepare_set_reqid(&st.tables.locked(g), h, v, None)
        }
        Command::GetReqid { .. } => {
            let r = cur.reqid.map_or(0, |r| r.get());
            return copyout_bytes(s, &r.to_ne_bytes(), data.ifr_data());
        }
        Command::GetAddr(end, fam) => return get_addr(cur.tunnel.as_ref(), end, fam, data),
        Command::GetFib => return encode_fib(data.bytes_mut(), cur.fib).map_err(|e| e.get()),
        Command::SetFib(f) => return set_fib(f, &t, cv),
        Command::SetFlags => {
            linkstate::refresh(st, h, g);
            return Ok(());
        }
        Command::GetMedia => return get_media(&t, data, g, s),
        Command::SetIfAddr | Command::Nop | Command::SetMtu(_) => return Ok(()),
    }
    .map_err(|e| e.get())?;
    config::run(tx, &t, &[], g, s, after)?;
    linkstate::refresh(st, h, g);
    Ok(())
}

/// SIOCGIFMEDIA: the carrier is the SA-driven link state; EINVAL (as C)
/// where it is not tracked or `link0` opts out.
fn get_media(
    t: &Target<'_>,
    data: &mut IoctlData,
    g: &ConfigGuard<'_>,
    s: &mut Sleepable,
) -> Result<(), c_int> {
    let up = linkstate::media(t.st, t.ifp, t.sc.handle, g).ok_or(EINVAL)?;
    let word = encode_media(data.bytes_mut(), up).map_err(|e| e.get())?;
    match word {
        Some((ulist, w)) => copyout_bytes(s, &w.to_ne_bytes(), UserAddr(ulist as usize)),
        None => Ok(()),
    }
}

/// SIOCSTUNFIB: C's priv_check(PRIV_NET_SETIFFIB), then `fib <
/// rt_numfibs` (EINVAL).
fn set_fib(f: u32, t: &Target<'_>, cv: &CurVnet) -> Result<(), c_int> {
    priv_check_cur(PRIV_NET_SETIFFIB)?;
    if f >= rt_numfibs(cv) {
        return Err(EINVAL);
    }
    t.st.core
        .lock()
        .set_fib(t.sc.handle, f)
        .map_err(|e| e.get())?;
    t.sc.fib.store(f, Ordering::Relaxed);
    Ok(())
}

/// SIOCGIFPSRCADDR/PDSTADDR[_IN6]: the address, prison_if, v6 scope
/// recovered; on error the reply sockaddr is zeroed (C's memset).
fn get_addr(
    tun: Option<&Tunnel>,
    end: End,
    fam: Family,
    data: &mut IoctlData,
) -> Result<(), c_int> {
    let r = reply_addr(tun, end, fam)
        .map_err(|e| e.get())
        .and_then(visible);
    match r {
        Ok(a) => encode_addr(data.bytes_mut(), fam, Some(&a)).map_err(|e| e.get()),
        Err(e) => {
            let _ = encode_addr(data.bytes_mut(), fam, None);
            Err(e)
        }
    }
}

fn visible(a: Addr) -> Result<Addr, c_int> {
    prison_if_cur(&a)?;
    recover_scope(a)
}
