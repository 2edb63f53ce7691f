//! `study_contribute`: a patient contributes one of their attestations to a study and is
//! paid from escrow. In the same instruction they grant the researcher a research consent
//! scoped to that attestation, whose key grant locates the de-identified copy (encrypted
//! to the researcher's key).
//!
//! Checks:
//! - `authority` signs and is `patient.authority` (`NotPatientAuthority`).
//! - `study` is at its canonical PDA, open (`StudyClosed`), before its deadline
//!   (`StudyDeadlinePassed`), not full (`StudyFull`); `escrow` is the study's
//!   (`EscrowMismatch`) and holds at least the price (`EscrowShort`); `mint` is the
//!   study's (`MintMismatch`) and owned by `token_program`.
//! - `attestation` is about this patient (`PatientMismatch`), by `issuer`
//!   (`IssuerMismatch`), active (`AttestationRevoked`, `AttestationExpired`,
//!   `IssuerSuspended`) and meets the criteria (`CriteriaNotMet`).
//! - The study's ethics approval is still active (`StudyApprovalWithdrawn`): after the
//!   board revokes it, it expires or the board is suspended, the study pays nothing and
//!   collects no research consent (audit finding 3).
//! - `contribution` is the canonical `["contribution", study, attestation]` PDA and new:
//!   the same attestation is never paid twice for a study. It and the research consent
//!   are created with `create::pda` before any other handler check, so lamports sent to
//!   either address first cannot block the contribution (audit finding 9).
//! - `participant` (`["participant", study, patient]`) counts the patient's paid
//!   contributions: at most `terms.max_per_patient` (`PatientContributionLimit`), however
//!   many attestations (re-attested with a new salt, or by a second issuer) they bring;
//!   `issuer_tally` (`["study_issuer", study, issuer]`) counts the issuer's, at most
//!   `terms.max_per_issuer` when it is not 0 (`IssuerContributionCap`) (audit finding 4).
//!   Both are created by the first contribution that needs them.
//! - `consent` is the canonical `["consent", patient, consents_created]` PDA, new.
//! - `config.treasury` receives the fee; `patient_token` is the patient wallet's
//!   associated token account (`AccountNotAssociatedTokenAccount`), created when missing.
//! - Fee (rounded up) and counters use checked math (`ArithmeticOverflow`).
//! - The contribution records the copy's hash, so a copy replaced after payment (the
//!   patient can update a consent's key grant) is detected by the researcher.

use anchor_lang::prelude::*;
use anchor_spl::associated_token::{
    self, get_associated_token_address_with_program_id, AssociatedToken,
};
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::constants::{
    ACCOUNT_VERSION, BPS_DENOMINATOR, CONFIG_SEED, CONSENT_SEED, CONTRIBUTION_SEED,
    PARTICIPANT_SEED, PATIENT_SEED, STUDY_ISSUER_SEED, STUDY_SEED,
};
use crate::error::RekamError;
use crate::events::{self, ConsentGranted, ContributionPaid};
use crate::instructions::check_active;
use crate::state::{
    Attestation, Config, Consent, ConsentScope, Contribution, Issuer, KeyGrant, Patient, Purpose,
    Study, StudyTally,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudyContributeArgs {
    /// Where the de-identified copy (encrypted to the researcher) is stored, and its hash.
    pub copy: KeyGrant,
}

#[event_cpi]
#[derive(Accounts)]
pub struct StudyContribute<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [PATIENT_SEED, patient.pseudonym.as_ref()],
        bump = patient.bump,
        has_one = authority @ RekamError::NotPatientAuthority,
        constraint = patient.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub patient: Box<Account<'info, Patient>>,

    #[account(
        seeds = [CONFIG_SEED],
        bump = config.bump,
        has_one = treasury,
        constraint = config.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub config: Box<Account<'info, Config>>,

    #[account(
        mut,
        seeds = [STUDY_SEED, study.researcher.as_ref(), &study.id.to_le_bytes()],
        bump = study.bump,
        constraint = study.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub study: Box<Account<'info, Study>>,

    /// CHECK: pinned to `study.escrow`; read after the study's status (see `escrow_balance`).
    #[account(mut, address = study.escrow @ RekamError::EscrowMismatch)]
    pub escrow: UncheckedAccount<'info>,

    #[account(address = study.mint @ RekamError::MintMismatch, mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        constraint = attestation.patient == patient.key() @ RekamError::PatientMismatch,
        has_one = issuer @ RekamError::IssuerMismatch,
        constraint = attestation.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub attestation: Box<Account<'info, Attestation>>,

    #[account(constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion)]
    pub issuer: Box<Account<'info, Issuer>>,

    /// CHECK: the canonical `["contribution", study, attestation]` PDA (seeds); created
    /// first thing in the handler with `create::pda` (audit finding 9: a pre-funded address
    /// cannot block it), which refuses an address in use: an attestation already paid.
    #[account(
        mut,
        seeds = [CONTRIBUTION_SEED, study.key().as_ref(), attestation.key().as_ref()],
        bump,
    )]
    pub contribution: UncheckedAccount<'info>,

    /// CHECK: the patient's next consent PDA (seeds); created like `contribution`.
    #[account(
        mut,
        seeds = [CONSENT_SEED, patient.key().as_ref(), &patient.consents_created.to_le_bytes()],
        bump,
    )]
    pub consent: UncheckedAccount<'info>,

    /// CHECK: the patient wallet's associated token account for the study mint (address
    /// pinned here); created or validated by the Associated Token program in the handler,
    /// after every other check, so no CPI runs on behalf of an invalid contribution.
    #[account(
        mut,
        address = get_associated_token_address_with_program_id(
            &authority.key(),
            &mint.key(),
            &token_program.key(),
        ) @ anchor_lang::error::ErrorCode::AccountNotAssociatedTokenAccount,
    )]
    pub patient_token: UncheckedAccount<'info>,

    #[account(mut)]
    pub treasury: Box<InterfaceAccount<'info, TokenAccount>>,

    pub token_program: Interface<'info, TokenInterface>,
    pub associated_token_program: Program<'info, AssociatedToken>,
    pub system_program: Program<'info, System>,

    /// The study's ethics approval, re-checked on every use (audit finding 3).
    #[account(
        address = study.ethics_approval @ RekamError::ApprovalMismatch,
        constraint = ethics_approval.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub ethics_approval: Box<Account<'info, Attestation>>,

    /// The ethics board that issued the approval.
    #[account(
        address = ethics_approval.issuer @ RekamError::IssuerMismatch,
        constraint = ethics_board.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub ethics_board: Box<Account<'info, Issuer>>,

    /// CHECK: the patient's tally in this study (seeds pinned here); read or created by
    /// `StudyTally::load` and `create::pda` in the handler.
    #[account(mut, seeds = [PARTICIPANT_SEED, study.key().as_ref(), patient.key().as_ref()], bump)]
    pub participant: UncheckedAccount<'info>,

    /// CHECK: the attesting issuer's tally in this study (seeds pinned here); used only
    /// when the terms cap payouts per issuer.
    #[account(mut, seeds = [STUDY_ISSUER_SEED, study.key().as_ref(), issuer.key().as_ref()], bump)]
    pub issuer_tally: UncheckedAccount<'info>,
}

impl<'info> StudyContribute<'info> {
    pub fn handle(
        &mut self,
        args: StudyContributeArgs,
        bumps: &StudyContributeBumps,
    ) -> Result<()> {
        self.create_accounts(bumps)?;
        let now = Clock::get()?.unix_timestamp;
        let study = &self.study;
        require!(!study.is_closed(), RekamError::StudyClosed);
        require!(now < study.terms.deadline, RekamError::StudyDeadlinePassed);
        require!(
            study.approval_active(&self.ethics_approval, &self.ethics_board, now),
            RekamError::StudyApprovalWithdrawn
        );
        require!(
            study.contributions < study.terms.max_contributions,
            RekamError::StudyFull
        );
        let price = study.terms.price;
        let balance = crate::state::escrow_balance(&self.escrow, &self.token_program.key())?;
        require!(balance >= price, RekamError::EscrowShort);
        check_active(&self.attestation, &self.issuer, now)?;
        require!(
            study
                .terms
                .criteria
                .accepts(&self.attestation, &self.issuer),
            RekamError::CriteriaNotMet
        );
        args.copy.validate()?;

        // Per-patient limit and per-issuer cap (audit finding 4), before any transfer.
        let study_key = study.key();
        let mut participant = StudyTally::load(
            &self.participant,
            &study_key,
            &self.patient.key(),
            bumps.participant,
        )?;
        participant.count_one(
            u32::from(study.terms.max_per_patient),
            RekamError::PatientContributionLimit,
        )?;
        let issuer_cap = study.terms.max_per_issuer;
        let mut issuer_tally = None;
        if issuer_cap != 0 {
            let mut tally = StudyTally::load(
                &self.issuer_tally,
                &study_key,
                &self.issuer.key(),
                bumps.issuer_tally,
            )?;
            tally.count_one(issuer_cap, RekamError::IssuerContributionCap)?;
            issuer_tally = Some(tally);
        }

        // Rounded up: a price below 10000 / bps still pays its fee (rounding down let
        // small prices, or many small studies, skip the protocol fee entirely).
        let fee = u64::try_from(
            u128::from(price)
                .checked_mul(u128::from(self.config.protocol_fee_bps))
                .map(|x| x.div_ceil(u128::from(BPS_DENOMINATOR)))
                .ok_or(RekamError::ArithmeticOverflow)?,
        )
        .map_err(|_| RekamError::ArithmeticOverflow)?;
        let payout = price
            .checked_sub(fee)
            .ok_or(RekamError::ArithmeticOverflow)?;

        // Create the payout account if missing; an existing one is validated (owner,
        // mint) by the Associated Token program.
        associated_token::create_idempotent(CpiContext::new(
            self.associated_token_program.key(),
            associated_token::Create {
                payer: self.authority.to_account_info(),
                associated_token: self.patient_token.to_account_info(),
                authority: self.authority.to_account_info(),
                mint: self.mint.to_account_info(),
                system_program: self.system_program.to_account_info(),
                token_program: self.token_program.to_account_info(),
            },
        ))?;

        let researcher = study.researcher;
        let id = study.id.to_le_bytes();
        let signer_seeds: &[&[&[u8]]] = &[&[STUDY_SEED, researcher.as_ref(), &id, &[study.bump]]];
        self.pay(self.patient_token.to_account_info(), payout, signer_seeds)?;
        self.pay(self.treasury.to_account_info(), fee, signer_seeds)?;

        let study = &mut self.study;
        study.contributions = study
            .contributions
            .checked_add(1)
            .ok_or(RekamError::ArithmeticOverflow)?;
        study.paid = study
            .paid
            .checked_add(payout)
            .ok_or(RekamError::ArithmeticOverflow)?;
        study.fees = study
            .fees
            .checked_add(fee)
            .ok_or(RekamError::ArithmeticOverflow)?;

        self.save_tally(
            &self.participant,
            &participant,
            PARTICIPANT_SEED,
            &self.patient.key(),
        )?;
        if let Some(tally) = &issuer_tally {
            self.save_tally(
                &self.issuer_tally,
                tally,
                STUDY_ISSUER_SEED,
                &self.issuer.key(),
            )?;
        }

        let index = self.patient.consents_created;
        self.patient.consents_created =
            index.checked_add(1).ok_or(RekamError::ArithmeticOverflow)?;
        let expires_at = self.study.terms.data_use_until;
        let copy_hash = args.copy.hash;
        let consent = Consent {
            version: ACCOUNT_VERSION,
            bump: bumps.consent,
            patient: self.patient.key(),
            grantee: researcher,
            index,
            purpose: Purpose::Research,
            scope: ConsentScope {
                kinds: 0,
                attestations: vec![self.attestation.key()],
            },
            starts_at: now,
            expires_at,
            revoked_at: 0,
            key_grant: args.copy,
            created_at: now,
            updated_at: now,
            access_count: 0,
            last_access_at: 0,
        };
        crate::create::write(&self.consent.to_account_info(), &consent)?;
        let contribution = Contribution {
            version: ACCOUNT_VERSION,
            bump: bumps.contribution,
            study: self.study.key(),
            attestation: self.attestation.key(),
            patient: self.patient.key(),
            consent: self.consent.key(),
            payout,
            fee,
            contributed_at: now,
            copy_hash,
        };
        crate::create::write(&self.contribution.to_account_info(), &contribution)?;
        events::emit(
            &self.event_authority,
            &ConsentGranted {
                consent: self.consent.key(),
                patient: self.patient.key(),
                grantee: researcher,
                purpose: Purpose::Research,
                starts_at: now,
                expires_at,
            },
        )?;
        events::emit(
            &self.event_authority,
            &ContributionPaid {
                study: self.study.key(),
                contribution: self.contribution.key(),
                attestation: self.attestation.key(),
                consent: self.consent.key(),
                payout,
                fee,
            },
        )
    }

    /// Creates the contribution and the research consent (empty until written).
    fn create_accounts(&self, bumps: &StudyContributeBumps) -> Result<()> {
        let (study, attestation) = (self.study.key(), self.attestation.key());
        crate::create::pda(
            &self.authority.to_account_info(),
            &self.contribution.to_account_info(),
            &self.system_program.to_account_info(),
            Contribution::SIZE,
            &[
                CONTRIBUTION_SEED,
                study.as_ref(),
                attestation.as_ref(),
                &[bumps.contribution],
            ],
        )?;
        let patient = self.patient.key();
        let index = self.patient.consents_created.to_le_bytes();
        crate::create::pda(
            &self.authority.to_account_info(),
            &self.consent.to_account_info(),
            &self.system_program.to_account_info(),
            Consent::SIZE,
            &[CONSENT_SEED, patient.as_ref(), &index, &[bumps.consent]],
        )
    }

    /// Creates the tally account when it is new (paid by the patient's wallet), then
    /// writes the counted tally into it.
    fn save_tally(
        &self,
        account: &UncheckedAccount<'info>,
        tally: &StudyTally,
        seed: &[u8],
        subject: &Pubkey,
    ) -> Result<()> {
        if StudyTally::is_new(account) {
            let study = self.study.key();
            crate::create::pda(
                &self.authority.to_account_info(),
                &account.to_account_info(),
                &self.system_program.to_account_info(),
                StudyTally::SIZE,
                &[seed, study.as_ref(), subject.as_ref(), &[tally.bump]],
            )?;
        }
        crate::create::write(&account.to_account_info(), tally)
    }

    /// `transfer_checked` of `amount` from escrow to `to`, signed by the study PDA.
    fn pay(&self, to: AccountInfo<'info>, amount: u64, signer_seeds: &[&[&[u8]]]) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        token_interface::transfer_checked(
            CpiContext::new_with_signer(
                self.token_program.key(),
                TransferChecked {
                    from: self.escrow.to_account_info(),
                    mint: self.mint.to_account_info(),
                    to,
                    authority: self.study.to_account_info(),
                },
                signer_seeds,
            ),
            amount,
            self.mint.decimals,
        )
    }
}
