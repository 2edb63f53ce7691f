//! Events for every lifecycle change an auditor needs. They are emitted with a self-CPI
//! (Anchor's `emit_cpi` wire format: the event travels in instruction data), which, unlike
//! program logs, cannot be truncated. Events name pseudonymous accounts only: no patient
//! identifier, no diagnosis, no record content.

use anchor_lang::prelude::*;

use crate::state::{AttestationKind, BatchKind, EmergencyReason, IssuerStatus, Purpose};

#[event]
pub struct ConfigInitialized {
    pub config: Pubkey,
    pub authority: Pubkey,
    pub treasury: Pubkey,
    pub treasury_mint: Pubkey,
    pub protocol_fee_bps: u16,
    /// Governance accepted the mint's freeze authority (`token_policy`).
    pub freeze_authority_accepted: bool,
}

#[event]
pub struct TreasuryWithdrawn {
    pub config: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
}

#[event]
pub struct GovernanceProposed {
    pub config: Pubkey,
    pub proposed: Pubkey,
}

#[event]
pub struct GovernanceRotated {
    pub config: Pubkey,
    pub previous: Pubkey,
    pub current: Pubkey,
}

#[event]
pub struct IssuerAccredited {
    pub issuer: Pubkey,
    pub authority: Pubkey,
    pub roles: u8,
}

#[event]
pub struct IssuerStatusChanged {
    pub issuer: Pubkey,
    pub status: IssuerStatus,
    pub at: i64,
    /// The issuer's void window after the change (see `Issuer::void_from`).
    pub void_from: i64,
    pub void_until: i64,
}

#[event]
pub struct IssuerKeysRotated {
    pub issuer: Pubkey,
    pub authority: Pubkey,
}

/// An issuer anchored a SMART Health Card signing key.
#[event]
pub struct ShcKeyAnchored {
    pub issuer: Pubkey,
    pub shc_key: Pubkey,
}

#[event]
pub struct ShcKeyRetired {
    pub issuer: Pubkey,
    pub shc_key: Pubkey,
    pub at: i64,
}

#[event]
pub struct PatientKeyRotated {
    pub patient: Pubkey,
}

#[event]
pub struct PatientRegistered {
    pub patient: Pubkey,
}

#[event]
pub struct AttestationIssued {
    pub attestation: Pubkey,
    pub issuer: Pubkey,
    pub patient: Pubkey,
    pub kind: AttestationKind,
}

#[event]
pub struct AttestationRevoked {
    pub attestation: Pubkey,
    pub issuer: Pubkey,
    pub at: i64,
}

/// A batch root anchored. Like `AttestationIssued`, it names the pseudonymous profile and
/// the kind, never what the facts say; the time window is on the account.
#[event]
pub struct BatchAnchored {
    pub batch: Pubkey,
    pub issuer: Pubkey,
    pub patient: Pubkey,
    pub kind: BatchKind,
    pub count: u32,
}

#[event]
pub struct BatchRevoked {
    pub batch: Pubkey,
    pub issuer: Pubkey,
    pub at: i64,
}

/// One fact of a batch revoked (by its index; the fact itself stays off-chain).
#[event]
pub struct BatchFactRevoked {
    pub batch: Pubkey,
    pub issuer: Pubkey,
    pub index: u32,
    pub at: i64,
}

#[event]
pub struct ConsentGranted {
    pub consent: Pubkey,
    pub patient: Pubkey,
    pub grantee: Pubkey,
    pub purpose: Purpose,
    pub starts_at: i64,
    pub expires_at: i64,
}

#[event]
pub struct ConsentKeyGrantUpdated {
    pub consent: Pubkey,
    pub key_grant_hash: [u8; 32],
}

#[event]
pub struct ConsentExtended {
    pub consent: Pubkey,
    pub expires_at: i64,
}

#[event]
pub struct ConsentRevoked {
    pub consent: Pubkey,
    pub at: i64,
}

/// A consent closed for its rent: what the audit trail needs of it.
#[event]
pub struct ConsentClosed {
    pub consent: Pubkey,
    pub patient: Pubkey,
    pub grantee: Pubkey,
    pub purpose: Purpose,
    pub starts_at: i64,
    pub expires_at: i64,
    pub revoked_at: i64,
    pub access_count: u64,
    pub closed_at: i64,
}

/// An access receipt closed for its rent: its whole content.
#[event]
pub struct ReceiptClosed {
    pub receipt: Pubkey,
    pub consent: Pubkey,
    pub attestation: Pubkey,
    pub accessor: Pubkey,
    pub purpose: Purpose,
    pub index: u64,
    pub accessed_at: i64,
    pub closed_at: i64,
}

#[event]
pub struct AccessRecorded {
    pub receipt: Pubkey,
    pub consent: Pubkey,
    pub attestation: Pubkey,
    pub accessor: Pubkey,
    pub purpose: Purpose,
    pub at: i64,
}
#[event]
pub struct StudyOpened {
    pub study: Pubkey,
    pub researcher: Pubkey,
    pub ethics_approval: Pubkey,
    pub mint: Pubkey,
    pub budget: u64,
    pub price: u64,
    pub max_contributions: u32,
    pub deadline: i64,
}

#[event]
pub struct StudyFunded {
    pub study: Pubkey,
    pub amount: u64,
    pub deposited: u64,
}

/// A study paid for a contribution. It names the study, the attestation and the
/// pseudonymous patient profile, never what the record says.
#[event]
pub struct ContributionPaid {
    pub study: Pubkey,
    pub contribution: Pubkey,
    pub attestation: Pubkey,
    pub consent: Pubkey,
    pub payout: u64,
    pub fee: u64,
}

#[event]
pub struct StudyFinished {
    pub study: Pubkey,
    pub closed_by: Pubkey,
    pub contributions: u32,
    pub refunded: u64,
    pub at: i64,
}

/// A patient named or changed their guardians. The guardians' wallets are in the
/// Guardianship account; the event carries only their number.
#[event]
pub struct GuardiansSet {
    pub guardianship: Pubkey,
    pub patient: Pubkey,
    pub guardians: u8,
    pub threshold: u8,
}

#[event]
pub struct EmergencyRequested {
    pub request: Pubkey,
    pub patient: Pubkey,
    pub issuer: Pubkey,
    pub requester: Pubkey,
    pub reason: EmergencyReason,
    pub duration_seconds: i64,
    pub approve_by: i64,
}

#[event]
pub struct EmergencyApproved {
    pub request: Pubkey,
    pub guardian: Pubkey,
    /// Approvals that count now.
    pub approvals: u8,
}

#[event]
pub struct EmergencyGranted {
    pub request: Pubkey,
    pub consent: Pubkey,
    pub grantee: Pubkey,
    pub expires_at: i64,
}

#[event]
pub struct EmergencyEnded {
    pub request: Pubkey,
    pub consent: Pubkey,
    pub ended_by: Pubkey,
    pub at: i64,
}

#[event]
pub struct RecoveryProposed {
    pub recovery: Pubkey,
    pub patient: Pubkey,
    pub proposer: Pubkey,
    pub new_authority: Pubkey,
}

#[event]
pub struct RecoveryApproved {
    pub recovery: Pubkey,
    pub guardian: Pubkey,
    /// 0 until the threshold is met; then when the recovery may execute.
    pub unlocks_at: i64,
}

#[event]
pub struct RecoveryCancelled {
    pub recovery: Pubkey,
    pub patient: Pubkey,
}

#[event]
pub struct PatientRecovered {
    pub patient: Pubkey,
    pub previous: Pubkey,
    pub current: Pubkey,
}

/// Emits `event` as a self-CPI signed by the event-authority PDA: the same wire format as
/// Anchor's `emit_cpi!`, callable from handlers written as methods on their accounts struct.
pub fn emit<'info, E: anchor_lang::Event>(
    event_authority: &AccountInfo<'info>,
    event: &E,
) -> Result<()> {
    let data: Vec<u8> = anchor_lang::event::EVENT_IX_TAG_LE
        .iter()
        .copied()
        .chain(event.data())
        .collect();
    let ix = anchor_lang::solana_program::instruction::Instruction::new_with_bytes(
        crate::ID,
        &data,
        vec![
            anchor_lang::solana_program::instruction::AccountMeta::new_readonly(
                event_authority.key(),
                true,
            ),
        ],
    );
    anchor_lang::solana_program::program::invoke_signed(
        &ix,
        std::slice::from_ref(event_authority),
        &[&[
            crate::constants::EVENT_AUTHORITY_SEED,
            &[crate::EVENT_AUTHORITY_AND_BUMP.1],
        ]],
    )
    .map_err(Into::into)
}
