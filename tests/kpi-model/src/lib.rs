//! Host model of the FreeBSD KPIs that if_ipsec.ko calls.
