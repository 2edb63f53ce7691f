//! Account types. Each owns its seeds (`find_address`), its size (`InitSpace` plus the
//! discriminator) and its rules.

pub mod config;

pub use config::*;
