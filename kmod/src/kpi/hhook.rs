//! The IPsec input hook (where decrypted tunnel packets are claimed).
//!
//! FreeBSD 14.2 (b66633d79ade): netipsec's ipsec4/6_common_input_cb run
//! `ipsec_run_hhooks(ctx, HHOOK_TYPE_IPSEC_IN)` with IPSEC_ENC_AFTER inside
//! the net epoch, on the head `V_ipsec_hhh_in[inner family]` of curvnet,
//! then call ipsec.ko's own ipsec_if_input and netisr_queue_src.  A hook
//! may rewrite the packet in place (rcvif, FIB, flags) or consume it
//! (free and set `*ctx->mp = NULL`: netipsec then stops, EACCES).
//! sys/kern/kern_hhook.c: hhook_add_hook (EEXIST, ENOENT for no head),
//! hhook_remove_hook waits for running hooks (rmlock write).  enc(4)
//! (sys/net/if_enc.c) registers its hooks the same way, per vnet.
use super::bpf;
use super::epoch::{assume_in_epoch, InEpoch, Sleepable};
use super::ifnet::Ifnet;
use super::mbuf::Mbuf;
use super::vnet::{CurVnet, VnetPod, VnetVar};
use core::ffi::{c_int, c_void};
use core::mem::ManuallyDrop;
use if_ipsec::addr::{Addr, Family};
use sys_bindings::hhook::{
    hhook_add_hook, hhook_head, hhook_remove_hook, hookinfo, osd, vnet_entry_ipsec_hhh_in,
    vnet_entry_ipsec_hhh_out, HHOOK_IPSEC_INET, HHOOK_IPSEC_INET6, HHOOK_TYPE_IPSEC_IN,
    HHOOK_TYPE_IPSEC_OUT, HHOOK_WAITOK,
};
use sys_bindings::ipsec::{ipsec_ctx_data, sockaddr_union, IPSEC_ENC_AFTER};
use sys_bindings::mbuf::mbuf;
use sys_bindings::net::AF_UNSPEC;

/// What the module does with decrypted packets.
pub trait IpsecInput: 'static {
    /// Called for every packet decrypted in this vnet for the hook's
    /// family, inside the net epoch.
    fn input(pkt: InPacket<'_>, e: &InEpoch);
}

/// A hook handed its vnet's copy of a VNET variable: registration
/// ([`InputHook::add_vnet`], [`InputHook::add_out_vnet`]) makes that
/// copy's address the hook's udata, so the packet path needs no curvnet
/// lookup.
pub trait VnetHook: 'static {
    /// The variable's type.
    type State: VnetPod + Sync + 'static;
    /// The variable.
    fn var() -> &'static VnetVar<Self::State>;
}

/// As [`IpsecInput`], with its vnet's state ([`VnetHook`]).
pub trait IpsecInputVnet: VnetHook {
    /// Called for every packet decrypted in this vnet for the hook's
    /// family, inside the net epoch; `st` is this vnet's copy of `var()`.
    fn input(st: &Self::State, pkt: InPacket<'_>, e: &InEpoch);
}

/// One decrypted packet and its SA, as the hook sees it.  The packet
/// still belongs to netipsec unless [`InPacket::consume`] is called.
pub struct InPacket<'a> {
    ctx: &'a mut ipsec_ctx_data,
    m: ManuallyDrop<Mbuf>,
}

fn addr_of(u: &sockaddr_union) -> Option<Addr> {
    // SAFETY: plain bytes; the family tells which view is valid.  Ports are
    // ignored (key_sockaddrcmp(.., 0)), so NAT-T SAs match.
    unsafe {
        match u.sa.sa_family {
            f if f == Family::Inet.af() => Some(Addr::V4(u.sin.sin_addr.s_addr)),
            f if f == Family::Inet6.af() => Some(Addr::V6 {
                addr: u.sin6.sin6_addr.s6_addr,
                scope_id: u.sin6.sin6_scope_id,
            }),
            _ => None,
        }
    }
}

/// Is `u` the address `a` (ports ignored, as [`addr_of`])?  The same
/// answer as `addr_of(u) == Some(*a)`, without building an [`Addr`].
#[inline(always)]
fn addr_is(u: &sockaddr_union, a: &Addr) -> bool {
    // SAFETY: plain bytes; the family tells which view is valid.
    unsafe {
        match a {
            Addr::V4(x) => u.sa.sa_family == Family::Inet.af() && u.sin.sin_addr.s_addr == *x,
            Addr::V6 { addr, scope_id } => {
                u.sa.sa_family == Family::Inet6.af()
                    && u.sin6.sin6_addr.s6_addr == *addr
                    && u.sin6.sin6_scope_id == *scope_id
            }
        }
    }
}

/// The packet's SA (`sav->state` and `sav->sah->saidx`), read once.
pub struct SaView<'a> {
    /// `sav->state` (SADB_SASTATE_*).
    pub state: u8,
    x: &'a sys_bindings::ipsec::secasindex,
}

impl SaView<'_> {
    /// saidx (proto, mode, reqid).
    #[inline(always)]
    pub fn kind(&self) -> (u8, u8, u32) {
        (self.x.proto, self.x.mode, self.x.reqid)
    }

    /// Are the saidx outer addresses (`src`, `dst`), ports ignored?  As
    /// [`InPacket::sa_addrs_are`].
    #[inline(always)]
    pub fn addrs_are(&self, src: &Addr, dst: &Addr) -> bool {
        addr_is(&self.x.dst, dst) && addr_is(&self.x.src, src)
    }
}

impl InPacket<'_> {
    /// The SA, when it has its SA head (always, from netipsec).
    #[inline(always)]
    pub fn sa(&self) -> Option<SaView<'_>> {
        sa_view(self.ctx)
    }

    #[inline(always)]
    fn saidx(&self) -> Option<&sys_bindings::ipsec::secasindex> {
        // SAFETY: netipsec passes a referenced SA with its SA head for the
        // duration of the hook.
        unsafe {
            self.ctx
                .sav
                .as_ref()
                .and_then(|s| s.sah.as_ref())
                .map(|h| &h.saidx)
        }
    }

    /// The inner family (`ctx->af`).
    pub fn family(&self) -> Option<Family> {
        Family::from_af(self.ctx.af)
    }

    /// `sav->state` (SADB_SASTATE_*).
    pub fn sa_state(&self) -> Option<u8> {
        // SAFETY: as saidx.
        unsafe { self.ctx.sav.as_ref().map(|s| s.state) }
    }

    /// saidx (proto, mode, reqid).
    pub fn sa_kind(&self) -> Option<(u8, u8, u32)> {
        self.saidx().map(|x| (x.proto, x.mode, x.reqid))
    }

    /// saidx outer (src, dst), ports dropped.
    pub fn sa_addrs(&self) -> Option<(Addr, Addr)> {
        let x = self.saidx()?;
        Some((addr_of(&x.src)?, addr_of(&x.dst)?))
    }

    /// Are the saidx outer addresses (`src`, `dst`), ports ignored?  The
    /// same as `sa_addrs() == Some((*src, *dst))` (key_sockaddrcmp with
    /// port 0), compared in place.
    #[inline(always)]
    pub fn sa_addrs_are(&self, src: &Addr, dst: &Addr) -> bool {
        self.saidx()
            .is_some_and(|x| addr_is(&x.dst, dst) && addr_is(&x.src, src))
    }

    /// The packet (read-only).
    pub fn mbuf(&self) -> &Mbuf {
        &self.m
    }

    /// The packet, to rewrite in place (MSS clamping): the pointer stays
    /// netipsec's.
    pub fn mbuf_mut(&mut self) -> &mut Mbuf {
        &mut self.m
    }

    /// Deliver it as received on `ifp` (C ipsec_if_input): rcvif, clear
    /// the protocol flags, the interface FIB.
    #[inline(always)]
    pub fn claim(&mut self, ifp: &Ifnet) {
        self.m.set_rcvif(ifp);
        self.m.clear_proto_flags();
        self.m.set_fib(u16::try_from(ifp.fib()).unwrap_or(0));
    }

    /// BPF tap on `ifp` with the DLT_NULL header.
    #[inline(always)]
    pub fn tap(&self, ifp: &Ifnet, af: u32) {
        bpf::tap_af(ifp, af, &self.m);
    }

    /// Drop the packet: free it and tell netipsec (`*mp = NULL`).
    ///
    /// hhook_run_hooks (kern_hhook.c) still calls every hook registered
    /// after ours on this head, whatever we did, and enc(4)'s enc_hhook
    /// (if_enc.c) dereferences `*ctx->mp` when its "after" masks are set:
    /// a bare NULL there is a page fault (issue 8, seen on 14.2).  So the
    /// context is first marked as no packet of any family: `ctx->af =
    /// AF_UNSPEC`.  enc_hhook answers `ctx->af != hhook_id` with
    /// EPFNOSUPPORT before it looks at the packet, and netipsec reads
    /// neither `ctx->af` after the hooks (ipsec_run_hhooks switched on it
    /// before running them; the callers use their own `af`) nor anything
    /// but `*mp == NULL` (EACCES, packet gone).
    pub fn consume(self) {
        let m = ManuallyDrop::into_inner(self.m);
        self.ctx.af = AF_UNSPEC;
        // SAFETY: ctx.mp points at netipsec's packet pointer.
        unsafe { *self.ctx.mp = core::ptr::null_mut() };
        drop(m);
    }
}

/// The decrypted packet of an IPSEC_IN hook call (None when it is not
/// an IPSEC_ENC_AFTER call with a packet).
///
/// # Safety
/// `ctx_data` must be what hhook passes an IPSEC hook: NULL or a struct
/// ipsec_ctx_data valid for `'a`.
#[inline(always)]
unsafe fn in_packet<'a>(ctx_data: *mut c_void) -> Option<InPacket<'a>> {
    // SAFETY: caller: IPSEC hooks get a struct ipsec_ctx_data (hhook.h /
    // ipsec.h).
    let ctx = unsafe { ctx_data.cast::<ipsec_ctx_data>().as_mut() }?;
    if ctx.enc != IPSEC_ENC_AFTER || ctx.mp.is_null() {
        return None;
    }
    // SAFETY: *mp is netipsec's live packet (or NULL).
    let raw: *mut mbuf = unsafe { *ctx.mp };
    // SAFETY: borrowed, never dropped unless consumed.
    let m = unsafe { Mbuf::from_raw_borrowed(raw) }?;
    Some(InPacket {
        ctx,
        m: ManuallyDrop::new(m),
    })
}

unsafe extern "C" fn hook_tramp<H: IpsecInput>(
    _ty: i32,
    _id: i32,
    _udata: *mut c_void,
    ctx_data: *mut c_void,
    _hdata: *mut c_void,
    _hosd: *mut osd,
) -> c_int {
    // SAFETY: hhook passes IPSEC hooks their ipsec_ctx_data.
    if let Some(pkt) = unsafe { in_packet(ctx_data) } {
        // SAFETY: ipsec_run_hhooks runs inside NET_EPOCH_ENTER.
        let e = unsafe { assume_in_epoch() };
        H::input(pkt, &e);
    }
    0
}

/// The vnet state a [`VnetHook`]'s udata points at.
///
/// # Safety
/// `udata` must be what registration set: the registering vnet's copy of
/// `H::var()`.  The hook hangs on that vnet's own head and runs only for
/// its packets, so while the vnet, and thus its copy, lives; NULL gives
/// `None`.
#[inline(always)]
unsafe fn state_of<'a, H: VnetHook>(udata: *mut c_void) -> Option<&'a H::State> {
    // SAFETY: caller.
    unsafe { udata.cast_const().cast::<H::State>().as_ref() }
}

unsafe extern "C" fn vnet_hook_tramp<H: IpsecInputVnet>(
    _ty: i32,
    _id: i32,
    udata: *mut c_void,
    ctx_data: *mut c_void,
    _hdata: *mut c_void,
    _hosd: *mut osd,
) -> c_int {
    // SAFETY: udata as registered by add_vnet.
    let Some(st) = (unsafe { state_of::<H>(udata) }) else {
        return 0;
    };
    // SAFETY: hhook passes IPSEC hooks their ipsec_ctx_data.
    if let Some(pkt) = unsafe { in_packet(ctx_data) } {
        // SAFETY: ipsec_run_hhooks runs inside NET_EPOCH_ENTER.
        let e = unsafe { assume_in_epoch() };
        H::input(st, pkt, &e);
    }
    0
}

/// What the module does with outbound packets just encapsulated in their
/// outer IPv4 header (IPSEC_OUT, IPSEC_ENC_AFTER: ipsec4/6_perform_request,
/// sys/netipsec/ipsec_output.c, run the hooks after ipsec_encap and before
/// the ESP transform, on the head of the OUTER family).
pub trait IpsecOutputVnet: VnetHook {
    /// Called inside the net epoch for every such packet of this vnet.
    fn output(st: &Self::State, pkt: OutPacket<'_>, e: &InEpoch);
}

/// An outbound packet with its new outer IPv4 header (and its SA).  It
/// stays netipsec's: only header bits may be changed.
pub struct OutPacket<'a> {
    ctx: &'a mut ipsec_ctx_data,
    m: ManuallyDrop<Mbuf>,
}

impl OutPacket<'_> {
    /// The SA the packet is being encapsulated for.
    #[inline(always)]
    pub fn sa(&self) -> Option<SaView<'_>> {
        sa_view(self.ctx)
    }

    /// Whether the inner packet may not be fragmented: IPv4 with DF, or
    /// IPv6 (routers never fragment it).  `None` if unreadable.
    pub fn inner_df(&self) -> Option<bool> {
        let hl = usize::from(self.m.byte_at(0)? & 0x0f) * 4;
        match self.m.byte_at(hl)? >> 4 {
            4 => Some(self.m.byte_at(hl + 6)? & 0x40 != 0),
            6 => Some(true),
            _ => None,
        }
    }

    /// Set or clear DF in the outer IPv4 header (ip_output recomputes the
    /// header checksum: ipsec_process_done sends with IP_RAWOUTPUT, and
    /// ip_output zeroes and fills ip_sum).  Left alone if the header is
    /// not writable in place.
    pub fn set_outer_df(&mut self, df: bool) {
        if let Some(b) = self.m.head_mut(8).and_then(|h| h.get_mut(6)) {
            *b = if df { *b | 0x40 } else { *b & !0x40 };
        }
    }
}

/// The SA of an IPsec hook call, when it has its SA head.
fn sa_view(ctx: &ipsec_ctx_data) -> Option<SaView<'_>> {
    // SAFETY: netipsec's referenced SA and its SA head, alive for the
    // call.
    let sav = unsafe { ctx.sav.as_ref() }?;
    // SAFETY: as above.
    let sah = unsafe { sav.sah.as_ref() }?;
    Some(SaView {
        state: sav.state,
        x: &sah.saidx,
    })
}

unsafe extern "C" fn vnet_out_tramp<H: IpsecOutputVnet>(
    _ty: i32,
    _id: i32,
    udata: *mut c_void,
    ctx_data: *mut c_void,
    _hdata: *mut c_void,
    _hosd: *mut osd,
) -> c_int {
    // SAFETY: udata as registered by add_out_vnet.
    let Some(st) = (unsafe { state_of::<H>(udata) }) else {
        return 0;
    };
    // SAFETY: hhook passes IPSEC hooks their ipsec_ctx_data.
    let Some(ctx) = (unsafe { ctx_data.cast::<ipsec_ctx_data>().as_mut() }) else {
        return 0;
    };
    if ctx.enc != IPSEC_ENC_AFTER || ctx.mp.is_null() || ctx.af != Family::Inet.af() {
        return 0;
    }
    // SAFETY: *mp is netipsec's live packet (or NULL); borrowed, never
    // dropped (ManuallyDrop) nor consumed.
    let Some(m) = (unsafe { Mbuf::from_raw_borrowed(*ctx.mp) }) else {
        return 0;
    };
    // SAFETY: ipsec4/6_perform_request run the hooks in the net epoch
    // (their callers, ip_output/ip6_output and if_transmit, are in it).
    let e = unsafe { assume_in_epoch() };
    H::output(
        st,
        OutPacket {
            ctx,
            m: ManuallyDrop::new(m),
        },
        &e,
    );
    0
}

/// An input hook registered on one IPSEC_IN head of one vnet; removed on
/// drop (hhook_remove_hook waits for running hooks).
pub struct InputHook {
    head: *mut hhook_head,
    hki: hookinfo,
}

// SAFETY: a registration record; removal may happen on any thread.
unsafe impl Send for InputHook {}
// SAFETY: no shared-reference operations.
unsafe impl Sync for InputHook {}

impl InputHook {
    /// hhook_add_hook on V_ipsec_hhh_in[family] of the current vnet, as
    /// enc(4)'s enc_add_hhooks does (hook_id = AF_INET/AF_INET6).
    pub fn add<H: IpsecInput>(
        family: Family,
        cv: &CurVnet,
        s: &mut Sleepable,
    ) -> Result<Self, c_int> {
        Self::add_raw(
            HHOOK_TYPE_IPSEC_IN,
            family,
            cv,
            hook_tramp::<H>,
            core::ptr::null_mut(),
            s,
        )
    }

    /// hhook_add_hook on V_ipsec_hhh_out[INET] (outer IPv4) of the current
    /// vnet for an [`IpsecOutputVnet`] (udata as [`InputHook::add_vnet`]).
    pub fn add_out_vnet<H: IpsecOutputVnet>(
        cv: &CurVnet,
        s: &mut Sleepable,
    ) -> Result<Self, c_int> {
        let st: *const H::State = H::var().get(cv);
        let f = vnet_out_tramp::<H>;
        Self::add_raw(
            HHOOK_TYPE_IPSEC_OUT,
            Family::Inet,
            cv,
            f,
            st.cast_mut().cast(),
            s,
        )
    }

    /// As [`InputHook::add`] for an [`IpsecInputVnet`]: the udata is this
    /// vnet's copy of `H::var()` (valid as long as the vnet, which
    /// outlives every call of a hook on its head).
    pub fn add_vnet<H: IpsecInputVnet>(
        family: Family,
        cv: &CurVnet,
        s: &mut Sleepable,
    ) -> Result<Self, c_int> {
        let st: *const H::State = H::var().get(cv);
        let f = vnet_hook_tramp::<H>;
        Self::add_raw(HHOOK_TYPE_IPSEC_IN, family, cv, f, st.cast_mut().cast(), s)
    }

    fn add_raw(
        ty: i32,
        family: Family,
        cv: &CurVnet,
        func: unsafe extern "C" fn(
            i32,
            i32,
            *mut c_void,
            *mut c_void,
            *mut c_void,
            *mut osd,
        ) -> c_int,
        udata: *mut c_void,
        _: &mut Sleepable,
    ) -> Result<Self, c_int> {
        let idx = match family {
            Family::Inet => HHOOK_IPSEC_INET,
            Family::Inet6 => HHOOK_IPSEC_INET6,
        };
        let var = if ty == HHOOK_TYPE_IPSEC_OUT {
            &raw const vnet_entry_ipsec_hhh_out
        } else {
            &raw const vnet_entry_ipsec_hhh_in
        };
        // SAFETY: the kernel's VNET array of two head pointers.
        let heads: [*mut hhook_head; 2] = unsafe { super::vnet::kernel_var(var, cv) };
        let head = heads.get(idx).copied().unwrap_or(core::ptr::null_mut());
        let hki = hookinfo {
            hook_func: Some(func),
            hook_helper: core::ptr::null_mut(),
            hook_udata: udata,
            hook_id: i32::from(family.af()),
            hook_type: ty,
        };
        // SAFETY: head is this vnet's registered head (or NULL: ENOENT);
        // hki is copied by the kernel.
        match unsafe { hhook_add_hook(head, &hki, HHOOK_WAITOK) } {
            0 => Ok(Self { head, hki }),
            e => Err(e),
        }
    }
}

impl Drop for InputHook {
    fn drop(&mut self) {
        // SAFETY: added by us on this head, which lives as long as the
        // vnet (deregistered after our VNET_SYSUNINIT).
        unsafe { hhook_remove_hook(self.head, &self.hki) };
    }
}
