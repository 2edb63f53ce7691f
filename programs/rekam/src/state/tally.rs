//! A study tally: how many paid contributions one subject (a patient profile, or an
//! issuer) has in one study, so the terms' per-patient limit and per-issuer cap hold
//! however many attestations the subject brings (audit finding 4).
//!
//! Seeds: `["participant", study, patient]` or `["study_issuer", study, issuer]`. Created
//! by the first contribution that needs it (with `create::pda`, so a pre-funded address
//! cannot block it), never closed: it is part of the study's public record.

use anchor_lang::prelude::*;

use crate::constants::{ACCOUNT_VERSION, PARTICIPANT_SEED, STUDY_ISSUER_SEED};
use crate::error::RekamError;

#[account(discriminator = [12])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct StudyTally {
    pub version: u8,
    pub bump: u8,
    pub study: Pubkey,
    /// The patient profile or the issuer counted.
    pub subject: Pubkey,
    pub contributions: u32,
}

impl StudyTally {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_participant(program_id: &Pubkey, study: &Pubkey, patient: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(
            &[PARTICIPANT_SEED, study.as_ref(), patient.as_ref()],
            program_id,
        )
    }

    pub fn find_issuer(program_id: &Pubkey, study: &Pubkey, issuer: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(
            &[STUDY_ISSUER_SEED, study.as_ref(), issuer.as_ref()],
            program_id,
        )
    }

    /// The tally at `account` (its address already pinned by seeds, so an existing tally
    /// there counts this study and subject), or a fresh one when the account does not
    /// exist yet. Anything else there (another owner, another discriminator) is refused.
    pub fn load(account: &AccountInfo, study: &Pubkey, subject: &Pubkey, bump: u8) -> Result<Self> {
        if account.data_is_empty() && account.owner == &anchor_lang::system_program::ID {
            return Ok(StudyTally {
                version: ACCOUNT_VERSION,
                bump,
                study: *study,
                subject: *subject,
                contributions: 0,
            });
        }
        if account.owner != &crate::ID {
            return Err(error!(ErrorCode::AccountOwnedByWrongProgram)
                .with_pubkeys((*account.owner, crate::ID)));
        }
        let data = account.try_borrow_data()?;
        let tally = StudyTally::try_deserialize(&mut &data[..])?;
        require!(
            tally.version == ACCOUNT_VERSION,
            RekamError::UnsupportedVersion
        );
        Ok(tally)
    }

    /// Whether this tally was just made by [`StudyTally::load`] (nothing on-chain yet).
    pub fn is_new(account: &AccountInfo) -> bool {
        account.owner != &crate::ID
    }

    /// One more contribution, refused as `error` once `limit` is reached.
    pub fn count_one(&mut self, limit: u32, error: RekamError) -> Result<()> {
        if self.contributions >= limit {
            return Err(error.into());
        }
        self.contributions = self
            .contributions
            .checked_add(1)
            .ok_or(RekamError::ArithmeticOverflow)?;
        Ok(())
    }
}
