//! `study_open`: a researcher opens a study, approved by an ethics board, and escrows its
//! opening budget.
//!
//! Checks:
//! - `researcher` signs and pays; the budget moves from `source` with the researcher's
//!   authority (the token program enforces it).
//! - The terms are valid (`InvalidStudyTerms`): price and size non-zero, criteria name
//!   defined record kinds and roles with an ordered window, the deadline is in the future
//!   and the data-use period outlasts it, the researcher's key is set.
//! - `mint` is the deployment's fee mint (`TreasuryMintMismatch`), so every fee has a
//!   treasury to go to; `token_program` owns the mint (SPL Token or Token-2022); the mint
//!   meets the token policy again (`MintExtensionNotAllowed`; its freeze authority was
//!   accepted, or refused, when the deployment was initialized).
//! - `ethics_approval` is an `EthicsApproval` attestation (`NotEthicsApproval`) by
//!   `approval_issuer` (`IssuerMismatch`), an ethics-board issuer (`NotEthicsBoard`), at
//!   the address derived from these exact terms (`ApprovalMismatch`), and active now
//!   (`AttestationRevoked`, `AttestationExpired`, `IssuerSuspended`).
//! - `study` is the canonical `["study", researcher, id]` PDA and `escrow` the canonical
//!   `["escrow", study]` token account, both new, created first thing in the handler with
//!   `create::pda` and `create::token_account` (audit finding 9: lamports sent to either
//!   address first cannot block the study; an address in use is refused).
//! - The budget is non-zero (`ZeroAmount`).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::constants::{ACCOUNT_VERSION, ATTESTATION_SEED, CONFIG_SEED, ESCROW_SEED, STUDY_SEED};
use crate::error::RekamError;
use crate::events::{self, StudyOpened};
use crate::instructions::check_active;
use crate::state::{roles, Attestation, AttestationKind, Config, Issuer, Study, StudyTerms};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct StudyOpenArgs {
    /// Seed id, unique per researcher.
    pub id: u64,
    pub terms: StudyTerms,
    /// Tokens moved into escrow now.
    pub budget: u64,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: StudyOpenArgs)]
pub struct StudyOpen<'info> {
    #[account(mut)]
    pub researcher: Signer<'info>,

    #[account(
        seeds = [CONFIG_SEED],
        bump = config.bump,
        constraint = config.treasury_mint == mint.key() @ RekamError::TreasuryMintMismatch,
        constraint = config.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub config: Box<Account<'info, Config>>,

    #[account(
        has_one = issuer @ RekamError::IssuerMismatch,
        constraint = ethics_approval.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion,
    )]
    pub ethics_approval: Box<Account<'info, Attestation>>,

    #[account(constraint = issuer.version == ACCOUNT_VERSION @ RekamError::UnsupportedVersion)]
    pub issuer: Box<Account<'info, Issuer>>,

    /// CHECK: the canonical `["study", researcher, id]` PDA (seeds); created first thing
    /// in the handler with `create::pda` (audit finding 9: prefund-safe), which refuses an
    /// address in use (a study id reused).
    #[account(
        mut,
        seeds = [STUDY_SEED, researcher.key().as_ref(), &args.id.to_le_bytes()],
        bump,
    )]
    pub study: UncheckedAccount<'info>,

    #[account(mint::token_program = token_program)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,

    /// CHECK: the canonical `["escrow", study]` token account (seeds); created right after
    /// the study with `create::token_account` (prefund-safe, owned by the study PDA).
    #[account(mut, seeds = [ESCROW_SEED, study.key().as_ref()], bump)]
    pub escrow: UncheckedAccount<'info>,

    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl StudyOpen<'_> {
    pub fn handle(&mut self, args: StudyOpenArgs, bumps: &StudyOpenBumps) -> Result<()> {
        self.create_accounts(&args, bumps)?;
        let now = Clock::get()?.unix_timestamp;
        require!(args.terms.is_valid(now), RekamError::InvalidStudyTerms);
        require!(args.budget > 0, RekamError::ZeroAmount);
        crate::token_policy::check_mint(&self.mint.to_account_info(), true)?;

        let approval = &self.ethics_approval;
        require!(
            approval.kind == AttestationKind::EthicsApproval,
            RekamError::NotEthicsApproval
        );
        require!(
            self.issuer.roles & roles::ETHICS_BOARD != 0,
            RekamError::NotEthicsBoard
        );
        let researcher = self.researcher.key();
        let mint = self.mint.key();
        let terms_hash = args.terms.hash(&crate::ID, &researcher, args.id, &mint);
        let expected = Pubkey::create_program_address(
            &[
                ATTESTATION_SEED,
                approval.issuer.as_ref(),
                &terms_hash,
                &[approval.bump],
            ],
            &crate::ID,
        )
        .map_err(|_| RekamError::ApprovalMismatch)?;
        require_keys_eq!(expected, approval.key(), RekamError::ApprovalMismatch);
        check_active(approval, &self.issuer, now)?;

        token_interface::transfer_checked(
            CpiContext::new(
                self.token_program.key(),
                TransferChecked {
                    from: self.source.to_account_info(),
                    mint: self.mint.to_account_info(),
                    to: self.escrow.to_account_info(),
                    authority: self.researcher.to_account_info(),
                },
            ),
            args.budget,
            self.mint.decimals,
        )?;

        let study = Study {
            version: ACCOUNT_VERSION,
            bump: bumps.study,
            escrow_bump: bumps.escrow,
            researcher,
            id: args.id,
            mint,
            escrow: self.escrow.key(),
            ethics_approval: approval.key(),
            terms_hash,
            terms: args.terms,
            contributions: 0,
            opened_at: now,
            closed_at: 0,
            deposited: args.budget,
            paid: 0,
            fees: 0,
            refunded: 0,
        };
        crate::create::write(&self.study.to_account_info(), &study)?;
        events::emit(
            &self.event_authority,
            &StudyOpened {
                study: self.study.key(),
                researcher,
                ethics_approval: approval.key(),
                mint,
                budget: args.budget,
                price: args.terms.price,
                max_contributions: args.terms.max_contributions,
                deadline: args.terms.deadline,
            },
        )
    }

    /// Creates the study account (written at the end) and its escrow.
    fn create_accounts(&self, args: &StudyOpenArgs, bumps: &StudyOpenBumps) -> Result<()> {
        let researcher = self.researcher.key();
        let id = args.id.to_le_bytes();
        crate::create::pda(
            &self.researcher.to_account_info(),
            &self.study.to_account_info(),
            &self.system_program.to_account_info(),
            Study::SIZE,
            &[STUDY_SEED, researcher.as_ref(), &id, &[bumps.study]],
        )?;
        let study = self.study.key();
        crate::create::token_account(
            &self.researcher.to_account_info(),
            &self.escrow.to_account_info(),
            &self.system_program.to_account_info(),
            &self.token_program.to_account_info(),
            &self.mint.to_account_info(),
            &self.study.to_account_info(),
            &[ESCROW_SEED, study.as_ref(), &[bumps.escrow]],
        )
    }
}
