//! The Rekam client library: everything the CLI, the app and the tests share.
//!
//! - [`pda`]: addresses, derived through the program crate's own seeds.
//! - [`ix`]: typed instruction builders.
//! - [`errors`]: program error codes decoded into their messages.

pub mod errors;
pub mod ix;
pub mod pda;

pub use rekam;
