//! `study_close`: ends a study. The researcher may close it at any time; after the
//! deadline anyone may (so a budget is never stuck behind an absent researcher), and so
//! may anyone once the study's ethics approval is no longer active (revoked, expired, or
//! its board suspended): the permissionless halt of audit finding 3. The
//! remaining escrow goes back to the researcher's token account and the emptied escrow
//! account is closed, its rent returned to the researcher. Research consents already
//! granted keep their terms; the study account stays as the public record.
//!
//! Checks:
//! - `closer` signs; before the deadline, while the ethics approval is active, it must be
//!   the researcher (`StudyNotEnded`). `ethics_approval` is the study's
//!   (`ApprovalMismatch`) and `ethics_board` its issuer (`IssuerMismatch`).
//! - `study` is at its canonical PDA and not closed yet (`StudyClosed`): closing twice
//!   fails and cannot refund twice.
//! - `escrow` is the study's (`EscrowMismatch`); `mint` the study's (`MintMismatch`);
//!   `refund_to` is a token account of that mint owned by the researcher (whoever closes),
//!   and `researcher` is the study's researcher wallet, which receives the escrow's rent.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{
    self, CloseAccount, Mint, TokenAccount, TokenInterface, TransferChecked,
};

use crate::constants::{ACCOUNT_VERSION, STUDY_SEED};
use crate::error::RekamError;
use crate::events::{self, StudyFinished};
use crate::state::{Attestation, Issuer, Study};

#[event_cpi]
#[derive(Accounts)]
pub struct StudyClose<'info> {
    pub closer: Signer<'info>,

    #[account(
        mut,
        seeds = [STUDY_SEED, study.researcher.as_ref(), &study.id.to_le_bytes()],
        bump = study.bump,
        has_one = researcher @ RekamError::NotResearcher,
        constraint = study.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub study: Box<Account<'info, Study>>,

    /// CHECK: the study's researcher wallet (has_one above); receives the escrow's rent.
    #[account(mut)]
    pub researcher: UncheckedAccount<'info>,

    /// CHECK: pinned to `study.escrow`; read after the study's status (see `escrow_balance`).
    #[account(mut, address = study.escrow @ RekamError::EscrowMismatch)]
    pub escrow: UncheckedAccount<'info>,

    #[account(address = study.mint @ RekamError::MintMismatch, mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,

    #[account(
        mut,
        token::mint = mint,
        token::authority = study.researcher,
        token::token_program = token_program,
    )]
    pub refund_to: Box<InterfaceAccount<'info, TokenAccount>>,

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

impl StudyClose<'_> {
    pub fn handle(&mut self) -> Result<()> {
        require!(!self.study.is_closed(), RekamError::StudyClosed);
        let now = Clock::get()?.unix_timestamp;
        let halted = !self
            .study
            .approval_active(&self.ethics_approval, &self.ethics_board, now);
        require!(
            self.closer.key() == self.study.researcher
                || now >= self.study.terms.deadline
                || halted,
            RekamError::StudyNotEnded
        );
        let refund = crate::state::escrow_balance(&self.escrow, &self.token_program.key())?;

        let researcher = self.study.researcher;
        let id = self.study.id.to_le_bytes();
        let signer_seeds: &[&[&[u8]]] =
            &[&[STUDY_SEED, researcher.as_ref(), &id, &[self.study.bump]]];
        if refund > 0 {
            token_interface::transfer_checked(
                CpiContext::new_with_signer(
                    self.token_program.key(),
                    TransferChecked {
                        from: self.escrow.to_account_info(),
                        mint: self.mint.to_account_info(),
                        to: self.refund_to.to_account_info(),
                        authority: self.study.to_account_info(),
                    },
                    signer_seeds,
                ),
                refund,
                self.mint.decimals,
            )?;
        }
        token_interface::close_account(CpiContext::new_with_signer(
            self.token_program.key(),
            CloseAccount {
                account: self.escrow.to_account_info(),
                destination: self.researcher.to_account_info(),
                authority: self.study.to_account_info(),
            },
            signer_seeds,
        ))?;

        let study = &mut self.study;
        study.refunded = study
            .refunded
            .checked_add(refund)
            .ok_or(RekamError::ArithmeticOverflow)?;
        study.closed_at = now;
        events::emit(
            &self.event_authority,
            &StudyFinished {
                study: study.key(),
                closed_by: self.closer.key(),
                contributions: study.contributions,
                refunded: refund,
                at: now,
            },
        )
    }
}
