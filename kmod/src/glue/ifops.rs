//! What the kernel calls on one of our interfaces: if_ioctl and
//! if_transmit/if_output (C: ipsec_ioctl, ipsec_transmit, ipsec_output).
use core::ffi::{c_int, c_ulong};

use super::ioctl;
use super::output;
use super::softc::Softc;
use crate::kpi::epoch::{InEpoch, Sleepable};
use crate::kpi::if_handler::{IfHandler, IoctlData, OurIfnet};
use crate::kpi::mbuf::Mbuf;

/// The interface callbacks.
pub struct IfOps;

impl IfHandler for IfOps {
    type Softc = Softc;

    fn ioctl(
        ifp: OurIfnet<'_, Softc>,
        cmd: c_ulong,
        data: IoctlData,
        s: &mut Sleepable,
    ) -> Result<(), c_int> {
        ioctl::handle(ifp, cmd, data, s)
    }

    #[inline(always)]
    fn transmit(ifp: OurIfnet<'_, Softc>, m: Mbuf, e: &InEpoch) -> Result<(), c_int> {
        output::transmit(ifp, m, e)
    }
}
