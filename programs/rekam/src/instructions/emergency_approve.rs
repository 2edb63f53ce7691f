//! `emergency_approve`: a guardian approves a pending emergency request.
//!
//! Checks:
//! - `guardian` signs and is one of the patient's current guardians (`NotGuardian`),
//!   approving for the first time (`AlreadyApproved`), and not the requesting clinic's
//!   wallet (`RequesterCannotApprove`: a clinic that is also a guardian cannot approve
//!   its own emergency).
//! - `guardianship` and `request` are the patient's (canonical PDAs, `PatientMismatch`).
//! - The request is not granted yet (`EmergencyAlreadyGranted`) and its approval window
//!   is open (`RequestExpired`): an approval after expiry is rejected.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, EMERGENCY_SEED, GUARDIANS_SEED};
use crate::error::RekamError;
use crate::events::{self, EmergencyApproved};
use crate::state::{add_approval, valid_approvals, EmergencyRequest, Guardianship};

#[event_cpi]
#[derive(Accounts)]
pub struct EmergencyApprove<'info> {
    pub guardian: Signer<'info>,

    #[account(
        seeds = [GUARDIANS_SEED, guardianship.patient.as_ref()],
        bump = guardianship.bump,
        constraint = guardianship.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub guardianship: Account<'info, Guardianship>,

    #[account(
        mut,
        seeds = [EMERGENCY_SEED, request.patient.as_ref(), &request.index.to_le_bytes()],
        bump = request.bump,
        constraint = request.patient == guardianship.patient @ RekamError::PatientMismatch,
        constraint = request.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub request: Account<'info, EmergencyRequest>,
}

impl EmergencyApprove<'_> {
    pub fn handle(&mut self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        require!(
            self.guardianship.is_guardian(&self.guardian.key()),
            RekamError::NotGuardian
        );
        require!(
            self.guardian.key() != self.request.requester,
            RekamError::RequesterCannotApprove
        );
        require!(
            !self.request.is_granted(),
            RekamError::EmergencyAlreadyGranted
        );
        require!(now < self.request.approve_by, RekamError::RequestExpired);
        add_approval(
            &mut self.request.approvals,
            &self.guardianship.guardians,
            self.guardian.key(),
            now,
        )?;
        let count = valid_approvals(&self.request.approvals, &self.guardianship.guardians);
        events::emit(
            &self.event_authority,
            &EmergencyApproved {
                request: self.request.key(),
                guardian: self.guardian.key(),
                approvals: count as u8,
            },
        )
    }
}
