//! A research study: a researcher escrows a budget in SPL tokens and pays a fixed price
//! per accepted contribution (a patient's attestation plus a de-identified copy of the
//! record, encrypted to the researcher).
//!
//! Seeds: `["study", researcher, id_u64_le]`; its escrow is the token account
//! `["escrow", study]`, owned by the study PDA. A study opens only with an ethics
//! approval: an active `EthicsApproval` attestation whose evidence commitment is the
//! study's [`StudyTerms::hash`], issued by an ethics-board issuer.
//!
//! The study account is never closed: after `study_close` it stays as the public record
//! of what was paid, and its contributions and consents keep pointing at it.

use anchor_lang::prelude::*;

use crate::constants::{ESCROW_SEED, STUDY_SEED, STUDY_TERMS_LABEL};
use crate::state::{Attestation, Issuer, ALL_KIND_BITS};

/// Which attestations a study accepts. Zero fields mean "no restriction", except
/// `kinds`, which must name at least one record kind.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StudyCriteria {
    /// `AttestationKind::bit()` mask of accepted record kinds.
    pub kinds: u8,
    /// `roles::*` mask: the issuer must hold one of these roles; 0 = any issuer.
    pub issuer_roles: u8,
    /// Earliest accepted issue day (days since 1970-01-01); 0 = no lower bound.
    pub issued_from_day: u16,
    /// Latest accepted issue day, inclusive; 0 = no upper bound.
    pub issued_until_day: u16,
}

impl StudyCriteria {
    pub fn is_valid(&self) -> bool {
        self.kinds != 0
            && self.kinds & !ALL_KIND_BITS == 0
            && self.issuer_roles & !crate::state::roles::ALL == 0
            && (self.issued_until_day == 0 || self.issued_from_day <= self.issued_until_day)
    }

    /// Whether `attestation` (by `issuer`) is the kind of data the study asked for.
    pub fn accepts(&self, attestation: &Attestation, issuer: &Issuer) -> bool {
        let issued_day = attestation
            .issued_at
            .checked_div(crate::constants::SECONDS_PER_DAY)
            .unwrap_or(0);
        self.kinds & attestation.kind.bit() != 0
            && attestation.kind.has_patient()
            && (self.issuer_roles == 0 || self.issuer_roles & issuer.roles != 0)
            && (self.issued_from_day == 0 || issued_day >= i64::from(self.issued_from_day))
            && (self.issued_until_day == 0 || issued_day <= i64::from(self.issued_until_day))
    }
}

/// What a researcher commits to, and what an ethics board approves (through its hash).
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StudyTerms {
    /// Paid per accepted contribution, in the mint's base units (before the protocol fee).
    pub price: u64,
    pub max_contributions: u32,
    /// Paid contributions one patient profile may make (at least 1). Each attestation is
    /// paid at most once; this also bounds what re-attesting a record (a new salt, or a
    /// second issuer) can draw, since the chain cannot tell two attestations of one
    /// record apart without an unsalted record identifier (audit finding 4).
    pub max_per_patient: u16,
    /// Paid contributions whose attestation one issuer made; 0 = no cap. Bounds what a
    /// single clinic (for example one colluding with its patients) draws from a study.
    pub max_per_issuer: u32,
    pub criteria: StudyCriteria,
    /// Contributions are accepted until this Unix time (exclusive).
    pub deadline: i64,
    /// The research consents contributors grant end at this Unix time (≥ deadline).
    pub data_use_until: i64,
    /// X25519 key the de-identified copies are encrypted to.
    pub encryption_key: [u8; 32],
    /// SHA-256 of the study protocol document the ethics board reviewed.
    pub protocol_hash: [u8; 32],
}

impl StudyTerms {
    /// `SHA-256(label ‖ program ‖ researcher ‖ id ‖ mint ‖ borsh(terms))`: the evidence
    /// commitment of the study's ethics approval. It binds every term, the payment mint
    /// and the study's address inputs, so an approval covers exactly one study.
    pub fn hash(
        &self,
        program_id: &Pubkey,
        researcher: &Pubkey,
        id: u64,
        mint: &Pubkey,
    ) -> [u8; 32] {
        let mut terms = Vec::with_capacity(Self::INIT_SPACE);
        self.serialize(&mut terms).expect("serialize into a Vec");
        solana_sha256_hasher::hashv(&[
            STUDY_TERMS_LABEL,
            program_id.as_ref(),
            researcher.as_ref(),
            &id.to_le_bytes(),
            mint.as_ref(),
            &terms,
        ])
        .to_bytes()
    }

    pub fn is_valid(&self, now: i64) -> bool {
        self.price > 0
            && self.max_contributions > 0
            && self.max_per_patient > 0
            && self.criteria.is_valid()
            && self.deadline > now
            && self.data_use_until >= self.deadline
            && self.encryption_key != [0; 32]
    }
}

#[account(discriminator = [7])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Study {
    pub version: u8,
    pub bump: u8,
    pub escrow_bump: u8,
    pub researcher: Pubkey,
    /// The seed id, chosen by the researcher.
    pub id: u64,
    pub mint: Pubkey,
    /// The escrow token account (`["escrow", study]`).
    pub escrow: Pubkey,
    /// The ethics approval attestation.
    pub ethics_approval: Pubkey,
    pub terms_hash: [u8; 32],
    pub terms: StudyTerms,
    pub contributions: u32,
    pub opened_at: i64,
    /// 0 = open.
    pub closed_at: i64,
    /// Tokens put into escrow (opening budget plus top-ups).
    pub deposited: u64,
    /// Tokens paid to patients.
    pub paid: u64,
    /// Protocol fees sent to the treasury.
    pub fees: u64,
    /// Tokens returned to the researcher on close.
    pub refunded: u64,
}

impl Study {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey, researcher: &Pubkey, id: u64) -> (Pubkey, u8) {
        Pubkey::find_program_address(
            &[STUDY_SEED, researcher.as_ref(), &id.to_le_bytes()],
            program_id,
        )
    }

    pub fn find_escrow_address(program_id: &Pubkey, study: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[ESCROW_SEED, study.as_ref()], program_id)
    }

    /// Whether the study's ethics approval still holds: not revoked, not expired, and
    /// its board not suspended. Checked on every top-up, contribution and close.
    pub fn approval_active(&self, approval: &Attestation, board: &Issuer, now: i64) -> bool {
        !approval.is_revoked()
            && !approval.is_expired(now)
            && board.is_active()
            && !board.voids(approval.issued_at)
    }

    pub fn is_closed(&self) -> bool {
        self.closed_at != 0
    }

    /// Token conservation: everything deposited is paid, charged as fees, refunded, or
    /// still in escrow (`escrow_balance`).
    pub fn conserves(&self, escrow_balance: u64) -> bool {
        let out = u128::from(self.paid) + u128::from(self.fees) + u128::from(self.refunded);
        u128::from(self.deposited) == out + u128::from(escrow_balance)
    }
}

/// The balance of a study's escrow token account. The caller has already pinned the
/// address (`address = study.escrow`); this checks the owner is the token program in use
/// and decodes the account (SPL Token and Token-2022 share the base layout). The escrow is
/// read here rather than as a typed account so that a closed study (whose escrow is gone)
/// reports `StudyClosed` instead of a missing-account error.
pub fn escrow_balance(escrow: &AccountInfo, token_program: &Pubkey) -> Result<u64> {
    use anchor_spl::token_interface::TokenAccount;
    if escrow.owner != token_program {
        return Err(error!(ErrorCode::AccountOwnedByWrongProgram)
            .with_pubkeys((*escrow.owner, *token_program)));
    }
    let data = escrow.try_borrow_data()?;
    Ok(TokenAccount::try_deserialize(&mut &data[..])?.amount)
}
