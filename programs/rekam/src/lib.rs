//! Rekam: patient-controlled medical record attestations and consent on Solana.
//!
//! The program never sees plaintext health data. It stores salted commitments, consent
//! grants and access receipts; records themselves are encrypted off-chain by the client.
//!
//! Layout: one instruction per file under `instructions/`, account types under `state/`,
//! seeds in `constants.rs`, the error ABI in `error.rs`, events in `events.rs`.

use anchor_lang::prelude::*;

pub mod claim_tree;
pub mod constants;
pub mod create;
pub mod error;
pub mod events;
pub mod instructions;
pub mod key_proof;
pub mod platform;
pub mod state;
pub mod token_policy;

pub use constants::*;
pub use error::RekamError;
pub use instructions::*;
pub use state::*;

declare_id!("6c6JLhPn2cgcyBvbxFk8dYuAWqJEraZA5mTZaEYzbENn");

#[program]
pub mod rekam {
    use super::*;

    /// Creates the deployment's config PDA and its protocol-fee treasury token account.
    pub fn config_initialize(
        ctx: Context<ConfigInitialize>,
        args: ConfigInitializeArgs,
    ) -> Result<()> {
        ctx.accounts.handle(args, &ctx.bumps)
    }

    /// Proposes a new governance authority (step one of two).
    pub fn config_authority_propose(
        ctx: Context<ConfigAuthorityPropose>,
        new_authority: Pubkey,
    ) -> Result<()> {
        ctx.accounts.handle(new_authority)
    }

    /// The proposed governance authority accepts (step two).
    pub fn config_authority_accept(ctx: Context<ConfigAuthorityAccept>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// Moves protocol fees out of the treasury; governance authority only.
    pub fn treasury_withdraw(ctx: Context<TreasuryWithdraw>, amount: u64) -> Result<()> {
        ctx.accounts.handle(amount)
    }

    /// Accredits an issuer (clinic, lab, pharmacy, ethics board, device operator).
    pub fn issuer_accredit(ctx: Context<IssuerAccredit>, args: IssuerAccreditArgs) -> Result<()> {
        ctx.accounts.handle(args, ctx.bumps.issuer)
    }

    /// Suspends an issuer: its attestations stop verifying.
    pub fn issuer_suspend(ctx: Context<IssuerGovern>) -> Result<()> {
        ctx.accounts.suspend()
    }

    /// Reinstates a suspended issuer, restoring or voiding (from `void_from`) what it
    /// attested before the suspension.
    pub fn issuer_reinstate(ctx: Context<IssuerGovern>, args: IssuerReinstateArgs) -> Result<()> {
        ctx.accounts.reinstate(args)
    }

    /// The issuer moves to a new signing wallet and encryption key.
    pub fn issuer_rotate_keys(
        ctx: Context<IssuerRotateKeys>,
        encryption_key: [u8; 32],
    ) -> Result<()> {
        ctx.accounts.handle(encryption_key)
    }

    /// The issuer anchors the P-256 key that signs its SMART Health Cards, proving
    /// possession with a secp256r1 instruction right before this one.
    pub fn shc_key_anchor(ctx: Context<ShcKeyAnchor>, args: ShcKeyAnchorArgs) -> Result<()> {
        ctx.accounts.handle(args, ctx.bumps.shc_key)
    }

    /// The issuer retires a SMART Health Card key; the cards it signed stop verifying.
    pub fn shc_key_retire(ctx: Context<ShcKeyRetire>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// A patient registers a pseudonymous profile.
    pub fn patient_register(
        ctx: Context<PatientRegister>,
        args: PatientRegisterArgs,
    ) -> Result<()> {
        ctx.accounts.handle(args, ctx.bumps.patient)
    }

    /// A patient moves to a new encryption key (after re-keying every record).
    pub fn patient_rotate_key(
        ctx: Context<PatientRotateKey>,
        encryption_key: [u8; 32],
    ) -> Result<()> {
        ctx.accounts.handle(encryption_key)
    }

    /// An accredited issuer attests a care event.
    pub fn attestation_issue(
        ctx: Context<AttestationIssue>,
        args: AttestationIssueArgs,
    ) -> Result<()> {
        ctx.accounts.handle(args, ctx.bumps.attestation)
    }

    /// The issuer revokes an attestation.
    pub fn attestation_revoke(ctx: Context<AttestationRevoke>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// Succeeds only for an active attestation; returns `VerifiedAttestation` as return data.
    pub fn attestation_verify(ctx: Context<AttestationVerify>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// Succeeds only for an active attestation whose claims root holds the given claim;
    /// returns `VerifiedClaim` as return data.
    pub fn attestation_verify_claim(
        ctx: Context<AttestationVerifyClaim>,
        args: AttestationVerifyClaimArgs,
    ) -> Result<()> {
        ctx.accounts.handle(args)
    }

    /// An accredited issuer anchors the Merkle root of a batch of a patient's facts.
    pub fn batch_anchor(ctx: Context<BatchAnchor>, args: BatchAnchorArgs) -> Result<()> {
        ctx.accounts.handle(args, ctx.bumps.batch)
    }

    /// The issuer revokes a whole batch.
    pub fn batch_revoke(ctx: Context<BatchRevoke>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// The issuer revokes one fact of a batch.
    pub fn batch_revoke_fact(ctx: Context<BatchRevokeFact>, index: u32) -> Result<()> {
        ctx.accounts.handle(index)
    }

    /// Succeeds only for an active, unrevoked fact under an active batch's root;
    /// returns `VerifiedFact` as return data.
    pub fn batch_verify_fact(
        ctx: Context<BatchVerifyFact>,
        args: BatchVerifyFactArgs,
    ) -> Result<()> {
        ctx.accounts.handle(args)
    }

    /// The patient grants a consent.
    pub fn consent_grant(ctx: Context<ConsentGrant>, args: ConsentGrantArgs) -> Result<()> {
        ctx.accounts.handle(args, ctx.bumps.consent)
    }

    /// The patient replaces the consent's key grant (e.g. after re-keying records).
    pub fn consent_update_key_grant(
        ctx: Context<ConsentChange>,
        key_grant: KeyGrant,
    ) -> Result<()> {
        ctx.accounts.update_key_grant(key_grant)
    }

    /// The patient moves the consent's expiry later.
    pub fn consent_extend(ctx: Context<ConsentChange>, expires_at: i64) -> Result<()> {
        ctx.accounts.extend(expires_at)
    }

    /// The patient revokes the consent, effective immediately.
    pub fn consent_revoke(ctx: Context<ConsentChange>) -> Result<()> {
        ctx.accounts.revoke()
    }

    /// The patient closes an ended consent and takes its rent back.
    pub fn consent_close(ctx: Context<ConsentClose>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// The patient closes an access receipt of an ended or closed consent; the rent goes
    /// back to the reader who paid it.
    pub fn receipt_close(ctx: Context<ReceiptClose>, consent_index: u64) -> Result<()> {
        let _ = consent_index; // used by the accounts' seeds
        ctx.accounts.handle()
    }

    /// A researcher opens an ethics-approved study and escrows its budget.
    pub fn study_open(ctx: Context<StudyOpen>, args: StudyOpenArgs) -> Result<()> {
        ctx.accounts.handle(args, &ctx.bumps)
    }

    /// Adds tokens to an open study's escrow.
    pub fn study_top_up(ctx: Context<StudyTopUp>, amount: u64) -> Result<()> {
        ctx.accounts.handle(amount)
    }

    /// A patient contributes an attestation to a study, grants the research consent and
    /// is paid from escrow.
    pub fn study_contribute(
        ctx: Context<StudyContribute>,
        args: StudyContributeArgs,
    ) -> Result<()> {
        ctx.accounts.handle(args, &ctx.bumps)
    }

    /// Closes a study and refunds what is left in escrow to the researcher.
    pub fn study_close(ctx: Context<StudyClose>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// The patient names guardians (first time).
    pub fn guardians_set(ctx: Context<GuardiansInit>, args: GuardiansArgs) -> Result<()> {
        ctx.accounts.handle(args, ctx.bumps.guardianship)
    }

    /// The patient changes guardians, threshold or emergency settings.
    pub fn guardians_change(ctx: Context<GuardiansChange>, args: GuardiansArgs) -> Result<()> {
        ctx.accounts.handle(args)
    }

    /// An accredited clinic asks the patient's guardians for emergency access.
    pub fn emergency_request(
        ctx: Context<EmergencyRequestOpen>,
        args: EmergencyRequestArgs,
    ) -> Result<()> {
        ctx.accounts.handle(args, ctx.bumps.request)
    }

    /// A guardian approves an emergency request.
    pub fn emergency_approve(ctx: Context<EmergencyApprove>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// With M approvals, a guardian creates the emergency consent (≤ 72 h).
    pub fn emergency_activate(ctx: Context<EmergencyActivate>, key_grant: KeyGrant) -> Result<()> {
        ctx.accounts.handle(key_grant, ctx.bumps.consent)
    }

    /// The patient or a guardian ends emergency access early.
    pub fn emergency_end(ctx: Context<EmergencyEnd>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// A guardian proposes moving the patient's authority to a new wallet.
    pub fn recovery_propose(ctx: Context<RecoveryPropose>, new_authority: Pubkey) -> Result<()> {
        ctx.accounts.handle(new_authority, ctx.bumps.recovery)
    }

    /// A guardian approves the pending recovery.
    pub fn recovery_approve(ctx: Context<RecoveryApprove>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// The patient's current wallet cancels the pending recovery.
    pub fn recovery_cancel(ctx: Context<RecoveryCancel>) -> Result<()> {
        ctx.accounts.handle()
    }

    /// After the time lock, the new wallet takes over the patient profile.
    pub fn recovery_execute(ctx: Context<RecoveryExecute>, encryption_key: [u8; 32]) -> Result<()> {
        ctx.accounts.handle(encryption_key)
    }

    /// The grantee records a read before decrypting.
    pub fn access_record(ctx: Context<AccessRecord>, purpose: Purpose) -> Result<()> {
        ctx.accounts.handle(purpose, ctx.bumps.receipt)
    }
}
