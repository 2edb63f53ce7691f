//! `receipt_close`: the patient closes an access receipt of one of their ended (or
//! closed) consents; its rent goes back to the grantee who paid it (audit finding 8).
//!
//! Receipts are the patient's audit trail, kept as accounts so it can be rebuilt from
//! chain state alone. Closing one trades that for rent: the read stays in the ledger as
//! `AccessRecorded`, and `ReceiptClosed` repeats its whole content, so an archive or an
//! indexer rebuilds the trail. Only the patient decides: the grantee, who would like its
//! rent back, cannot erase the record of its own reads. A closed receipt's address is
//! never reused: its index is below the consent's `access_count`, and an ended or closed
//! consent records no more reads.
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`).
//! - `receipt` is a program-owned receipt at its canonical PDA under this patient's
//!   consent number `consent_index` (`["access", ["consent", patient, consent_index],
//!   index]`, `ConstraintSeeds` otherwise), which holds even after the consent account
//!   was closed: another patient's receipt never matches.
//! - `consent` is the receipt's; if it still exists it has ended (`ConsentStillActive`).
//! - `accessor` is the receipt's reader (`AccessorMismatch`) and receives the rent.

use anchor_lang::prelude::*;

use crate::constants::{ACCESS_SEED, ACCOUNT_VERSION, CONSENT_SEED, PATIENT_SEED};
use crate::error::RekamError;
use crate::events::{self, ReceiptClosed};
use crate::state::{AccessReceipt, Consent, ConsentState, Patient};

#[event_cpi]
#[derive(Accounts)]
#[instruction(consent_index: u64)]
pub struct ReceiptClose<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        has_one = authority @ RekamError::NotPatientAuthority,
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Account<'info, Patient>,

    /// CHECK: the patient's consent number `consent_index` (seeds); it may have been
    /// closed already, so it is read in the handler only when it exists.
    #[account(
        seeds = [CONSENT_SEED, patient.key().as_ref(), &consent_index.to_le_bytes()],
        bump,
    )]
    pub consent: UncheckedAccount<'info>,

    #[account(
        mut,
        close = accessor,
        seeds = [ACCESS_SEED, consent.key().as_ref(), &receipt.index.to_le_bytes()],
        bump = receipt.bump,
        constraint = receipt.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub receipt: Account<'info, AccessReceipt>,

    /// CHECK: only receives the rent; pinned to the receipt's reader.
    #[account(mut, address = receipt.accessor @ RekamError::AccessorMismatch)]
    pub accessor: UncheckedAccount<'info>,
}

impl ReceiptClose<'_> {
    pub fn handle(&mut self) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        if self.consent.owner == &crate::ID {
            let data = self.consent.try_borrow_data()?;
            let consent = Consent::try_deserialize(&mut &data[..])?;
            require!(
                consent.version == ACCOUNT_VERSION,
                RekamError::UnsupportedVersion
            );
            require!(
                matches!(
                    consent.state(now),
                    ConsentState::Revoked | ConsentState::Expired
                ),
                RekamError::ConsentStillActive
            );
        }
        let r = &self.receipt;
        events::emit(
            &self.event_authority,
            &ReceiptClosed {
                receipt: r.key(),
                consent: r.consent,
                attestation: r.attestation,
                accessor: r.accessor,
                purpose: r.purpose,
                index: r.index,
                accessed_at: r.accessed_at,
                closed_at: now,
            },
        )
    }
}
