//! `attestation_verify`: succeeds only for an attestation that is active now (not revoked,
//! not expired, issuer not suspended), and returns `VerifiedAttestation { kind,
//! treatment_day }` (Borsh) as return data. Read-only; meant for CPI from other programs.
//!
//! Checks:
//! - `attestation` is a program-owned Attestation; `issuer` is the one it names.

use anchor_lang::prelude::*;

use crate::constants::ACCOUNT_VERSION;
use crate::error::RekamError;
use crate::platform;
use crate::state::{Attestation, Issuer, VerifiedAttestation};

#[derive(Accounts)]
pub struct AttestationVerify<'info> {
    #[account(
        has_one = issuer @ RekamError::IssuerMismatch,
        constraint = attestation.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub attestation: Account<'info, Attestation>,
    #[account(constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion)]
    pub issuer: Account<'info, Issuer>,
}

impl AttestationVerify<'_> {
    pub fn handle(&self) -> Result<()> {
        let verified = check_active(
            &self.attestation,
            &self.issuer,
            Clock::get()?.unix_timestamp,
        )?;
        let mut data = Vec::with_capacity(3);
        verified.serialize(&mut data)?;
        platform::set_return_data(&data);
        Ok(())
    }
}

/// The rule every consumer of attestations applies (verify, contributions, access).
pub fn check_active(
    attestation: &Attestation,
    issuer: &Issuer,
    now: i64,
) -> Result<VerifiedAttestation> {
    require!(!attestation.is_revoked(), RekamError::AttestationRevoked);
    require!(!attestation.is_expired(now), RekamError::AttestationExpired);
    require!(issuer.is_active(), RekamError::IssuerSuspended);
    require!(
        !issuer.voids(attestation.issued_at),
        RekamError::AttestationVoided
    );
    Ok(VerifiedAttestation {
        kind: attestation.kind,
        treatment_day: attestation.treatment_day,
    })
}
