//! Checks of the built if_ipsec.ko (see tests/).
