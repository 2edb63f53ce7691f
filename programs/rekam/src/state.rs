//! Account types. Each owns its seeds (`find_address`), its size (`InitSpace` plus its
//! discriminator) and its rules. Every type has a distinct one-byte discriminator, so no
//! account can be passed off as another (type cosplay), and a version byte.

pub mod access_receipt;
pub mod attestation;
pub mod batch;
pub mod config;
pub mod consent;
pub mod contribution;
pub mod guardians;
pub mod issuer;
pub mod patient;
pub mod shc_key;
pub mod study;
pub mod tally;

pub use access_receipt::*;
pub use attestation::*;
pub use batch::*;
pub use config::*;
pub use consent::*;
pub use contribution::*;
pub use guardians::*;
pub use issuer::*;
pub use patient::*;
pub use shc_key::*;
pub use study::*;
pub use tally::*;
