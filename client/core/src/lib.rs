//! The Rekam client library: everything the CLI, the app and the tests share.
//!
//! - [`chain`]: send/confirm with compute-budget options, typed fetch and listing.
//! - [`crypto`]: client-side record encryption (`docs/format.md`).
//! - [`commit`]: the salted commitments attestations carry.
//! - [`storage`]: content-addressed local / IPFS / S3 stores.
//! - [`pda`]: addresses, derived through the program crate's own seeds.
//! - [`ix`]: typed instruction builders.
//! - [`errors`]: program error codes decoded into their messages.
//! - [`passport`]: the health passport, one QR code of chosen facts (`docs/passport.md`).
//! - [`research`]: de-identified, verifiable research copies (`docs/research.md`).

pub mod chain;
pub mod claims;
pub mod commit;
pub mod crypto;
pub mod errors;
pub mod fhir;
pub mod flows;
pub mod ix;
pub mod monitoring;
pub mod parts;
pub mod passport;
pub mod pda;
pub mod private_file;
pub mod record;
pub mod research;
pub mod storage;

pub use rekam;
