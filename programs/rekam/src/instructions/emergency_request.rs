//! `emergency_request`: an accredited clinic asks a patient's guardians for emergency
//! access (break-glass), with a reason code, how long the access should last, and how
//! long the guardians have to approve.
//!
//! Checks:
//! - `requester` signs and is `issuer.authority` (`NotIssuerAuthority`); the issuer is
//!   active (`IssuerSuspended`) and holds the clinic role (`NotAClinic`).
//! - `guardianship` is the patient's (canonical PDA; the patient must have guardians).
//! - `request` is the canonical `["emergency", patient, emergencies_requested]` PDA, new.
//! - 0 < duration ≤ the patient's emergency limit (≤ 72 h) and 0 < approval window ≤ 24 h
//!   (`InvalidEmergencyTerms`).

use anchor_lang::prelude::*;

use crate::constants::{
    ACCOUNT_VERSION, EMERGENCY_SEED, GUARDIANS_SEED, MAX_APPROVAL_WINDOW_SECONDS, PATIENT_SEED,
};
use crate::error::RekamError;
use crate::events::{self, EmergencyRequested};
use crate::state::{roles, EmergencyReason, EmergencyRequest, Guardianship, Issuer, Patient};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct EmergencyRequestArgs {
    pub reason: EmergencyReason,
    pub duration_seconds: i64,
    pub approval_window_seconds: i64,
}

#[event_cpi]
#[derive(Accounts)]
pub struct EmergencyRequestOpen<'info> {
    #[account(mut)]
    pub requester: Signer<'info>,

    #[account(
        constraint = issuer.authority == requester.key() @ RekamError::NotIssuerAuthority,
        constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub issuer: Account<'info, Issuer>,

    #[account(
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Account<'info, Patient>,

    #[account(
        mut,
        seeds = [GUARDIANS_SEED, patient.key().as_ref()],
        bump = guardianship.bump,
        has_one = patient @ RekamError::PatientMismatch,
        constraint = guardianship.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub guardianship: Account<'info, Guardianship>,

    /// CHECK: the canonical PDA (seeds); created and written in the handler
    /// (`create::pda`: lamports sent there first cannot block the patient's next
    /// emergency, audit finding 9).
    #[account(
        mut,
        seeds = [
            EMERGENCY_SEED,
            patient.key().as_ref(),
            &guardianship.emergencies_requested.to_le_bytes(),
        ],
        bump,
    )]
    pub request: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

impl EmergencyRequestOpen<'_> {
    pub fn handle(&mut self, args: EmergencyRequestArgs, bump: u8) -> Result<()> {
        require!(self.issuer.is_active(), RekamError::IssuerSuspended);
        require!(
            self.issuer.roles & roles::CLINIC != 0,
            RekamError::NotAClinic
        );
        require!(
            args.duration_seconds > 0
                && args.duration_seconds <= self.guardianship.emergency_max_seconds
                && args.approval_window_seconds > 0
                && args.approval_window_seconds <= MAX_APPROVAL_WINDOW_SECONDS,
            RekamError::InvalidEmergencyTerms
        );
        let now = Clock::get()?.unix_timestamp;
        let approve_by = now
            .checked_add(args.approval_window_seconds)
            .ok_or(RekamError::ArithmeticOverflow)?;
        let index = self.guardianship.emergencies_requested;
        self.guardianship.emergencies_requested =
            index.checked_add(1).ok_or(RekamError::ArithmeticOverflow)?;
        let patient = self.patient.key();
        let index_bytes = index.to_le_bytes();
        crate::create::pda(
            &self.requester.to_account_info(),
            &self.request.to_account_info(),
            &self.system_program.to_account_info(),
            EmergencyRequest::SIZE,
            &[EMERGENCY_SEED, patient.as_ref(), &index_bytes, &[bump]],
        )?;
        let request = EmergencyRequest {
            version: ACCOUNT_VERSION,
            bump,
            patient: self.patient.key(),
            index,
            requester: self.requester.key(),
            issuer: self.issuer.key(),
            reason: args.reason,
            duration_seconds: args.duration_seconds,
            requested_at: now,
            approve_by,
            approvals: vec![],
            consent: Pubkey::default(),
            granted_at: 0,
            ended_at: 0,
        };
        crate::create::write(&self.request.to_account_info(), &request)?;
        events::emit(
            &self.event_authority,
            &EmergencyRequested {
                request: self.request.key(),
                patient: self.patient.key(),
                issuer: self.issuer.key(),
                requester: self.requester.key(),
                reason: args.reason,
                duration_seconds: args.duration_seconds,
                approve_by,
            },
        )
    }
}
