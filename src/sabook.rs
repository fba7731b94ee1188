//! The usable SAs of one VNET as the key layer announced them, and the
//! link state they give an interface (issue 11: Cisco VTI "line protocol",
//! Juniper st0; C if_ipsec has no such thing).
//!
//! What the key layer sends every PF_KEY socket, FreeBSD 14.2
//! sys/netipsec/key.c (b66633d79ade):
//! - SADB_ADD / SADB_UPDATE (key_add, key_update -> key_getmsgbuf_x1,
//!   KEY_SENDUP_ALL): SA, X_SA2 (mode, reqid), ADDRESS_SRC/DST; the SA is
//!   MATURE once the request succeeded;
//! - SADB_DELETE (key_delete, KEY_SENDUP_ALL): SA + addresses, no X_SA2,
//!   hence the book keeps (SPI, dst) -> reqid; without an SA extension
//!   (key_delete_all) every SA between the two addresses;
//! - SADB_EXPIRE (key_expire, KEY_SENDUP_REGISTERED): soft (SA goes DYING,
//!   still usable) or hard (LIFETIME_HARD present: the SA is gone);
//! - SADB_FLUSH (key_flush, KEY_SENDUP_ALL): every SA of the type;
//! - SADB_DUMP replies (key_dump, only to the asking socket): one message
//!   per SA with its real state, `sadb_msg_seq` counting down to 0.
//!
//! Usable = MATURE or DYING, the states key_allocsa_policy picks from
//! (`savtree_alive`).  An interface with tunnel A->B and reqid R is up when
//! the book has a usable ESP SA A->B and one B->A, both mode tunnel (or
//! "any", which key_cmpsaidx lets a tunnel policy use) with reqid R;
//! addresses compare as key_sockaddrcmp(.., 0) does: ports ignored (NAT-T).

use crate::addr::Addr;
use crate::endpoint::Tunnel;
use crate::errno::Result;
use crate::overhead::Transform;
use crate::reqid::Reqid;
use crate::sadb::KeyMsg;
use crate::tables::CowMap;
use sys_bindings::ipsec_consts::{IPSEC_MODE_TUNNEL, SADB_SASTATE_DYING, SADB_SASTATE_MATURE};
use sys_bindings::net::pfkeyv2::{
    SADB_ADD, SADB_DELETE, SADB_DUMP, SADB_EXPIRE, SADB_FLUSH, SADB_SATYPE_ESP, SADB_SATYPE_UNSPEC,
    SADB_UPDATE,
};

/// `IPSEC_MODE_ANY` (netipsec/ipsec.h): an SA usable in either mode.
const MODE_ANY: u8 = 0;

/// One usable SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaRec {
    /// Outer source.
    pub src: Addr,
    /// Outer destination.
    pub dst: Addr,
    /// reqid (0: none).
    pub reqid: u32,
    /// Algorithms and NAT-T (for the ESP overhead, issue 12).
    pub xf: Transform,
}

/// The usable SAs of one flow: how many, and the transform of the newest
/// (the one a rekey just installed: what output uses next).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Flow {
    n: u32,
    xf: Transform,
}

/// Which interfaces an event may have changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Touched {
    /// None.
    Nothing,
    /// The one owning this reqid.
    Reqid(u32),
    /// Any (flush, resync, a delete of every SA between two addresses).
    All,
}

/// The link state the SAs give an interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `LINK_STATE_UNKNOWN`: not tracked (opt-out: C's behaviour).
    Unknown,
    /// `LINK_STATE_DOWN`: no tunnel, or an SA missing in one direction.
    Down,
    /// `LINK_STATE_UP`: usable SAs both ways.
    Up,
}

/// Where a resynchronisation (SADB_DUMP) stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resync {
    Idle,
    /// Asked; the book is replaced when the first reply arrives.
    Requested,
    /// Replies arriving.
    Dumping,
}

/// Key of the SA map: (SPI, destination), unique per SA type in key.c.
type SaKey = (u32, Addr);
/// Key of the count map: (reqid, (src, dst)).
type FlowKey = (u32, (Addr, Addr));

/// The book.
#[derive(Debug)]
pub struct SaBook {
    seed: u64,
    sas: CowMap<SaKey, SaRec>,
    counts: CowMap<FlowKey, Flow>,
    resync: Resync,
}

impl SaBook {
    /// Empty.
    pub fn new(seed: u64) -> Result<SaBook> {
        Ok(SaBook {
            seed,
            sas: CowMap::new(seed)?,
            counts: CowMap::new(seed.rotate_left(31))?,
            resync: Resync::Idle,
        })
    }

    /// Number of usable SAs known.
    pub fn len(&self) -> usize {
        self.sas.len()
    }

    /// True if none.
    pub fn is_empty(&self) -> bool {
        self.sas.is_empty()
    }

    /// Is there a usable SA src -> dst with `reqid`?
    pub fn usable(&self, reqid: u32, src: Addr, dst: Addr) -> bool {
        self.counts
            .get(&(reqid, (src, dst)))
            .is_some_and(|f| f.n > 0)
    }

    /// The transform of the newest usable SA src -> dst with `reqid`.
    pub fn transform(&self, reqid: u32, src: Addr, dst: Addr) -> Option<Transform> {
        self.counts.get(&(reqid, (src, dst))).map(|f| f.xf)
    }

    /// The link state of an interface with this tunnel and reqid.
    pub fn link(&self, tunnel: Option<Tunnel>, reqid: Option<Reqid>) -> Link {
        let (Some(t), Some(r)) = (tunnel, reqid) else {
            return Link::Down;
        };
        let r = r.get();
        if self.usable(r, t.src(), t.dst()) && self.usable(r, t.dst(), t.src()) {
            Link::Up
        } else {
            Link::Down
        }
    }

    /// A SADB_DUMP was sent: its replies replace the book.
    pub fn resync_requested(&mut self) {
        self.resync = Resync::Requested;
    }

    /// Is a resynchronisation under way?
    pub fn resyncing(&self) -> bool {
        self.resync != Resync::Idle
    }

    /// Learn from one message; what it may have changed.  On error (no
    /// memory) the book may miss an SA: the caller resynchronises.
    pub fn apply(&mut self, m: &KeyMsg) -> Result<Touched> {
        if m.kind == SADB_DUMP {
            return self.dump_reply(m);
        }
        if m.errno != 0 || !(m.satype == SADB_SATYPE_ESP || m.satype == SADB_SATYPE_UNSPEC) {
            return Ok(Touched::Nothing);
        }
        match m.kind {
            SADB_ADD | SADB_UPDATE => self.learn(m),
            SADB_DELETE => self.delete(m),
            SADB_EXPIRE if m.hard => self.delete(m),
            SADB_FLUSH => self.clear().map(|()| Touched::All),
            _ => Ok(Touched::Nothing),
        }
    }

    /// A reply to our SADB_DUMP (key_dump / key_setdumpsa).
    fn dump_reply(&mut self, m: &KeyMsg) -> Result<Touched> {
        if self.resync == Resync::Idle {
            return Ok(Touched::Nothing); // not ours to act on
        }
        if self.resync == Resync::Requested {
            self.clear()?;
            self.resync = Resync::Dumping;
        }
        if m.errno != 0 {
            // ENOENT: the SAD is empty (key_dump: "if (cnt == 0) return
            // key_senderror(so, m, ENOENT)").
            self.resync = Resync::Idle;
            return Ok(Touched::All);
        }
        let alive =
            m.sa.is_some_and(|s| s.state == SADB_SASTATE_MATURE || s.state == SADB_SASTATE_DYING);
        if alive && m.satype == SADB_SATYPE_ESP {
            self.learn(m)?;
        }
        if m.seq == 0 {
            self.resync = Resync::Idle;
            return Ok(Touched::All);
        }
        Ok(Touched::Nothing)
    }

    /// A usable SA (ADD, UPDATE, a dumped MATURE/DYING one).
    fn learn(&mut self, m: &KeyMsg) -> Result<Touched> {
        let (Some(sa), Some(src), Some(dst)) = (m.sa, m.src, m.dst) else {
            return Ok(Touched::Nothing);
        };
        let (mode, reqid) = m.sa2.unwrap_or((MODE_ANY, 0));
        let old = self.forget(sa.spi, dst)?;
        if mode != MODE_ANY && mode != IPSEC_MODE_TUNNEL {
            return Ok(old.map_or(Touched::Nothing, |o| Touched::Reqid(o.reqid)));
        }
        let xf = Transform {
            enc: sa.enc,
            auth: sa.auth,
            natt: m.natt,
        };
        let rec = SaRec {
            src,
            dst,
            reqid,
            xf,
        };
        self.sas.insert((sa.spi, dst), rec)?;
        self.count(&rec, 1)?;
        Ok(match old {
            Some(o) if o.reqid != reqid => Touched::All,
            _ => Touched::Reqid(reqid),
        })
    }

    /// SADB_DELETE, hard SADB_EXPIRE.
    fn delete(&mut self, m: &KeyMsg) -> Result<Touched> {
        let (Some(src), Some(dst)) = (m.src, m.dst) else {
            return Ok(Touched::Nothing);
        };
        if let Some(sa) = m.sa {
            let old = self.forget(sa.spi, dst)?;
            return Ok(old.map_or(Touched::Nothing, |o| Touched::Reqid(o.reqid)));
        }
        // key_delete_all: every SA src -> dst.  Rare: walk.
        let mut any = false;
        loop {
            let hit = self
                .sas
                .iter()
                .find(|(_, r)| r.src == src && r.dst == dst)
                .map(|(k, _)| *k);
            let Some((spi, d)) = hit else { break };
            self.forget(spi, d)?;
            any = true;
        }
        Ok(if any { Touched::All } else { Touched::Nothing })
    }

    /// Drop the SA (spi, dst) if known; returns it.
    fn forget(&mut self, spi: u32, dst: Addr) -> Result<Option<SaRec>> {
        let Some(old) = self.sas.get(&(spi, dst)).copied() else {
            return Ok(None);
        };
        self.sas.remove_in_place(&(spi, dst));
        self.count(&old, -1)?;
        Ok(Some(old))
    }

    /// Adjust the usable count of `r`'s flow.
    fn count(&mut self, r: &SaRec, by: i32) -> Result<()> {
        let k = (r.reqid, (r.src, r.dst));
        let old = self.counts.get(&k).copied();
        let n = old.map_or(0, |f| f.n);
        // A new SA's transform wins; a removal keeps the newest's.
        let xf = match old {
            Some(f) if by < 0 => f.xf,
            _ => r.xf,
        };
        match n.saturating_add_signed(by) {
            0 => self.counts.remove_in_place(&k),
            n => self.counts.insert(k, Flow { n, xf })?,
        }
        Ok(())
    }

    /// Forget everything (flush, resync).
    fn clear(&mut self) -> Result<()> {
        self.sas = CowMap::new(self.seed)?;
        self.counts = CowMap::new(self.seed.rotate_left(31))?;
        Ok(())
    }
}
