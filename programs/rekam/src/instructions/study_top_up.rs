//! `study_top_up`: anyone (usually the researcher) adds tokens to an open study's escrow.
//!
//! Checks:
//! - `funder` signs; `source` is a token account of the study's mint that the funder
//!   controls (the token program enforces the authority).
//! - `study` is at its canonical PDA, not closed (`StudyClosed`), not past its deadline
//!   (`StudyDeadlinePassed`); `escrow` is the study's (`EscrowMismatch`); `mint` is the
//!   study's and `token_program` owns it.
//! - The study's ethics approval is still active (`StudyApprovalWithdrawn`): a study
//!   whose board revoked its approval, whose approval expired or whose board is suspended
//!   takes no more money (audit finding 3); `ethics_approval` is the study's
//!   (`ApprovalMismatch`) and `ethics_board` its issuer (`IssuerMismatch`).
//! - The amount is non-zero (`ZeroAmount`); the deposit total uses checked math.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::constants::{ACCOUNT_VERSION, STUDY_SEED};
use crate::error::RekamError;
use crate::events::{self, StudyFunded};
use crate::state::{Attestation, Issuer, Study};

#[event_cpi]
#[derive(Accounts)]
pub struct StudyTopUp<'info> {
    pub funder: Signer<'info>,

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

    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub token_program: Interface<'info, TokenInterface>,

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
}

impl StudyTopUp<'_> {
    pub fn handle(&mut self, amount: u64) -> Result<()> {
        require!(!self.study.is_closed(), RekamError::StudyClosed);
        let now = Clock::get()?.unix_timestamp;
        require!(
            now < self.study.terms.deadline,
            RekamError::StudyDeadlinePassed
        );
        require!(
            self.study
                .approval_active(&self.ethics_approval, &self.ethics_board, now),
            RekamError::StudyApprovalWithdrawn
        );
        require!(amount > 0, RekamError::ZeroAmount);
        crate::state::escrow_balance(&self.escrow, &self.token_program.key())?;

        token_interface::transfer_checked(
            CpiContext::new(
                self.token_program.key(),
                TransferChecked {
                    from: self.source.to_account_info(),
                    mint: self.mint.to_account_info(),
                    to: self.escrow.to_account_info(),
                    authority: self.funder.to_account_info(),
                },
            ),
            amount,
            self.mint.decimals,
        )?;
        self.study.deposited = self
            .study
            .deposited
            .checked_add(amount)
            .ok_or(RekamError::ArithmeticOverflow)?;
        events::emit(
            &self.event_authority,
            &StudyFunded {
                study: self.study.key(),
                amount,
                deposited: self.study.deposited,
            },
        )
    }
}
