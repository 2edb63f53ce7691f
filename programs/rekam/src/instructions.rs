//! One instruction per file, named `noun_verb`. Instructions that share their accounts
//! exactly (issuer suspend/reinstate; consent update/extend/revoke) share one file.

pub mod access_record;
pub mod attestation_issue;
pub mod attestation_revoke;
pub mod attestation_verify;
pub mod config_authority_accept;
pub mod config_authority_propose;
pub mod config_initialize;
pub mod consent_change;
pub mod consent_grant;
pub mod issuer_accredit;
pub mod issuer_govern;
pub mod issuer_rotate_keys;
pub mod patient_register;
pub mod study_close;
pub mod study_contribute;
pub mod study_open;
pub mod study_top_up;
pub mod treasury_withdraw;

pub use access_record::*;
pub use attestation_issue::*;
pub use attestation_revoke::*;
pub use attestation_verify::*;
pub use config_authority_accept::*;
pub use config_authority_propose::*;
pub use config_initialize::*;
pub use consent_change::*;
pub use consent_grant::*;
pub use issuer_accredit::*;
pub use issuer_govern::*;
pub use issuer_rotate_keys::*;
pub use patient_register::*;
pub use study_close::*;
pub use study_contribute::*;
pub use study_open::*;
pub use study_top_up::*;
pub use treasury_withdraw::*;
