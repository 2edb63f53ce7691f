//! One instruction per file, named `noun_verb`.

pub mod config_initialize;
pub mod treasury_withdraw;

pub use config_initialize::*;
pub use treasury_withdraw::*;
