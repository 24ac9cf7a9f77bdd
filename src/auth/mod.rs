//! Authentication: everything a router needs to decide who a joining
//! client is. `crypto` holds the pure primitives of the WAMP methods.

pub mod crypto;
