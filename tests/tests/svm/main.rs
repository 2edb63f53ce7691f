//! The Rekam program, compiled natively, inside a real SVM beside the real SPL programs.
//! One binary; one module per area.

// Helpers return LiteSVM's own failure type unchanged, so tests can inspect it.
#![allow(clippy::result_large_err)]

mod access;
mod attack_coverage;
mod attacks;
mod attacks_more;
mod attestations;
mod batch_attacks;
mod batch_figures;
mod batches;
mod claims;
mod closing;
mod config;
mod consent;
mod errors;
mod frames;
mod governance;
mod guardians;
mod host;
mod prefund;
mod properties;
mod recovery_liveness;
mod refusal_gaps;
mod reinstatement;
mod rotation;
mod shc_keys;
mod sizes;
mod studies;
mod study_approval;
mod study_limits;
mod study_properties;
mod token_policy;
mod tx_sizes;
