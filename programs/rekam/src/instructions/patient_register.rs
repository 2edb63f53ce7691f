//! `patient_register`: a patient creates their pseudonymous profile.
//!
//! Checks:
//! - `authority` signs and pays; it becomes the profile's controlling wallet.
//! - `patient` is the canonical `["patient", pseudonym]` PDA and new (`init`).
//! - The pseudonym and the encryption key are not zero.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, PATIENT_SEED};
use crate::error::RekamError;
use crate::events::{self, PatientRegistered};
use crate::state::Patient;

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct PatientRegisterArgs {
    /// 32 random bytes chosen by the client. Never a real-world identifier.
    pub pseudonym: [u8; 32],
    pub encryption_key: [u8; 32],
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: PatientRegisterArgs)]
pub struct PatientRegister<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        init,
        payer = authority,
        space = Patient::SIZE,
        seeds = [PATIENT_SEED, args.pseudonym.as_ref()],
        bump,
    )]
    pub patient: Account<'info, Patient>,

    pub system_program: Program<'info, System>,
}

impl PatientRegister<'_> {
    pub fn handle(&mut self, args: PatientRegisterArgs, bump: u8) -> Result<()> {
        require!(args.pseudonym != [0; 32], RekamError::InvalidPseudonym);
        require!(
            args.encryption_key != [0; 32],
            RekamError::InvalidEncryptionKey
        );
        self.patient.set_inner(Patient {
            version: ACCOUNT_VERSION,
            bump,
            authority: self.authority.key(),
            encryption_key: args.encryption_key,
            pseudonym: args.pseudonym,
            consents_created: 0,
            accesses: 0,
        });
        events::emit(
            &self.event_authority,
            &PatientRegistered {
                patient: self.patient.key(),
            },
        )
    }
}
