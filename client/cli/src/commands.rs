//! One subcommand per file.

pub mod demo;
pub mod init;
pub mod localnet;
