//! One subcommand per file.

pub mod access;
pub mod attest;
pub mod attestation;
pub mod audit;
pub mod balance;
pub mod claims;
pub mod consent;
pub mod demo;
pub mod emergency;
pub mod guardians;
pub mod identity;
pub mod init;
pub mod issuer;
pub mod localnet;
pub mod passport;
pub mod patient;
pub mod records;
pub mod recovery;
pub mod shc;
pub mod study;
pub mod verify;
pub mod wallet;
