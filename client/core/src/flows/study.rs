//! Research studies, the two flows that move data (`docs/research.md`): a patient
//! contributes one de-identified copy of a record for payment from the study's escrow, and
//! the researcher reads a paid-for copy (access receipt first, then download, hash check,
//! decryption and verification against the attestation).

use anchor_lang::prelude::Pubkey;
use rekam::{Attestation, Config, Consent, Contribution, Patient, Study};
use solana_signer::Signer;

use super::records::{locate, OwnRecords};
use super::{block_on, Ctx, FlowError};
use crate::crypto::Identity;
use crate::research::{ResearchCopy, Verified};
use crate::storage::{content_digest, Locator};
use crate::{ix, pda};

/// The study's ethics approval and the board that issued it (re-checked on chain).
pub fn approval_of(ctx: &Ctx, study: &Study) -> Result<ix::StudyApproval, FlowError> {
    let approval: Attestation = ctx.account(&study.ethics_approval, "ethics approval")?;
    Ok(ix::StudyApproval {
        attestation: study.ethics_approval,
        board: approval.issuer,
    })
}

/// The deployment's payment mint and the token program that owns it.
pub fn payment_mint(ctx: &Ctx) -> Result<(Pubkey, Pubkey), FlowError> {
    let config: Config = ctx.account(&pda::config(&ctx.program_id()), "deployment config")?;
    let mint = config.treasury_mint;
    let owner = ctx
        .chain
        .rpc
        .get_account_with_commitment(&mint, ctx.chain.rpc.commitment())
        .map_err(|err| crate::chain::decode_error(&ctx.chain.url(), &err))?
        .value
        .ok_or_else(|| FlowError::Refused(format!("the deployment's mint {mint} does not exist")))?
        .owner;
    Ok((mint, owner))
}

/// The patient contributing: their wallet, identity and profile.
pub struct Contributor<'a> {
    pub signer: &'a dyn Signer,
    pub identity: &'a Identity,
    /// Opens the patient's own records (and caches their grants).
    pub own: &'a OwnRecords,
    pub patient_key: Pubkey,
    pub patient: Patient,
}

/// One contribution made: the copy stored, and the payment the program recorded.
pub struct Contributed {
    pub contribution_key: Pubkey,
    pub contribution: Contribution,
    pub copy: Locator,
    pub token_account: Pubkey,
    pub signature: String,
    /// Locator memos about the attestation that its issuer or patient did not sign.
    pub skipped_memos: Vec<String>,
}

/// Contributes the record of `attestation_key` to `study_key`: the patient's own record,
/// checked against its attestation, becomes an allow-list research copy sealed to the
/// study's key; the program pays for it from escrow. Nothing half-done: a refused
/// contribution deletes the stored copy.
pub fn contribute(
    ctx: &Ctx,
    who: &Contributor,
    study_key: &Pubkey,
    attestation_key: &Pubkey,
) -> Result<Contributed, FlowError> {
    let pid = ctx.program_id();
    let study: Study = ctx.account(study_key, "study")?;
    let attestation: Attestation = ctx.account(attestation_key, "attestation")?;
    if attestation.patient != who.patient_key {
        return Err(FlowError::Refused(format!(
            "attestation {attestation_key} is not about your patient profile {}",
            who.patient_key
        )));
    }
    if study.is_closed() {
        return Err(FlowError::Refused(format!("study {study_key} is closed")));
    }
    let contribution_key = pda::contribution(&pid, study_key, attestation_key);
    if ctx
        .chain
        .fetch::<Contribution>(&contribution_key)?
        .is_some()
    {
        return Err(FlowError::Refused(format!("attestation {attestation_key} was already contributed to study {study_key} (contribution {contribution_key}); a record is paid once per study")));
    }
    let (_, token_program) = payment_mint(ctx)?;

    // The patient's own record, checked against its attestation before anything is shared.
    let located =
        locate(ctx.chain, attestation_key)?.ok_or(FlowError::NoLocator(*attestation_key))?;
    let bytes = block_on(ctx.store.get(&located.locator))?.map_err(|e| {
        FlowError::Refused(format!("cannot fetch your record {}: {e}", located.locator))
    })?;
    let envelope =
        who.own
            .open_bytes(ctx, who.identity, &who.patient_key, attestation_key, &bytes)?;

    // Built from the allow-list and refused if the identifier check finds anything.
    let copy = ResearchCopy::build(&envelope, study_key)?;
    let sealed = copy.seal(&study.terms.encryption_key)?;
    let hash = content_digest(&sealed);
    let copy_locator = block_on(ctx.store.put(sealed))??;

    let authority = who.signer.pubkey();
    let ix = ix::study_contribute(
        &pid,
        ix::Contribute {
            authority: &authority,
            patient: &who.patient_key,
            consent_index: who.patient.consents_created,
            study: study_key,
            approval: approval_of(ctx, &study)?,
            mint: &study.mint,
            token_program: &token_program,
            attestation: attestation_key,
            issuer: &attestation.issuer,
        },
        rekam::KeyGrant {
            hash,
            locator: copy_locator.compact(),
        },
    );
    let signature = match ctx.chain.send(&[ix], who.signer, &[]) {
        Ok(signature) => signature,
        Err(err) => {
            let note = match block_on(ctx.store.delete(&copy_locator))? {
                Ok(()) => "the stored copy was deleted".to_string(),
                Err(e) => format!("the stored copy {copy_locator} could not be deleted: {e}"),
            };
            return Err(FlowError::Refused(format!(
                "the study refused the contribution ({note}): {err}"
            )));
        }
    };
    Ok(Contributed {
        contribution: ctx.account(&contribution_key, "contribution")?,
        contribution_key,
        copy: copy_locator,
        token_account: pda::associated_token(&authority, &study.mint, &token_program),
        signature,
        skipped_memos: located.skipped,
    })
}

/// Reads one paid-for copy as the study's researcher: the access receipt goes on chain
/// first, then the copy is downloaded, checked against the hash the patient was paid
/// for, opened with the researcher's identity and verified against its attestation
/// (the identifier check first: a copy with anything identifying is refused).
pub fn read_contribution(
    ctx: &Ctx,
    signer: &dyn Signer,
    identity: &Identity,
    study_key: &Pubkey,
    c: &Contribution,
) -> Result<(ResearchCopy, Verified), FlowError> {
    let consent: Consent = ctx.account(&c.consent, "research consent")?;
    // The copy paid for is on record; a key grant updated since points at another one.
    if consent.key_grant.hash != c.copy_hash {
        return Err(FlowError::Refused(format!(
            "the copy of {} was replaced after payment (the consent's key grant no longer matches the contribution); nothing was read",
            c.attestation
        )));
    }
    let attestation: Attestation = ctx.account(&c.attestation, "attestation")?;
    let receipt = ix::access_record(
        &ctx.program_id(),
        &signer.pubkey(),
        &consent.patient,
        &c.consent,
        &c.attestation,
        &attestation.issuer,
        consent.access_count,
        consent.purpose,
    );
    ctx.chain.send(&[receipt], signer, &[]).map_err(|err| {
        FlowError::Refused(format!(
            "the read of {} was refused on-chain: {err}",
            c.attestation
        ))
    })?;
    let locator = Locator::from_compact(&consent.key_grant.locator, &consent.key_grant.hash)?;
    let sealed = block_on(ctx.store.get(&locator))?
        .map_err(|e| FlowError::Refused(format!("cannot fetch the copy {locator}: {e}")))?;
    if content_digest(&sealed) != consent.key_grant.hash {
        return Err(FlowError::Refused(format!(
            "copy {locator} does not match the hash in consent {}",
            c.consent
        )));
    }
    let copy = ResearchCopy::open(&sealed, identity)?;
    let verified = copy.verify(study_key, &c.attestation, &attestation)?;
    Ok((copy, verified))
}

/// The ethics board (`board`, an issuer whose authority is `signer`) approves the terms
/// whose hash is `terms_hash`; returns the approval's address and the signature.
pub fn approve(
    ctx: &Ctx,
    signer: &dyn Signer,
    board: (&Pubkey, &rekam::Issuer),
    terms_hash: [u8; 32],
    today: u16,
    valid_days: u16,
) -> Result<(Pubkey, String), FlowError> {
    let (issuer_key, issuer) = board;
    if issuer.roles & rekam::roles::ETHICS_BOARD == 0 {
        return Err(FlowError::Refused(format!(
            "issuer {issuer_key} is not an ethics board; only ethics boards approve studies"
        )));
    }
    let pid = ctx.program_id();
    let ix = ix::ethics_approval_issue(
        &pid,
        &signer.pubkey(),
        &signer.pubkey(),
        issuer_key,
        terms_hash,
        today,
        if valid_days == 0 {
            0
        } else {
            today.saturating_add(valid_days)
        },
    );
    let signature = ctx.chain.send(&[ix], signer, &[])?;
    Ok((pda::attestation(&pid, issuer_key, &terms_hash), signature))
}

/// What a researcher opens a study with: the terms as proposed and approved.
pub struct Opening<'a> {
    pub researcher: &'a Pubkey,
    pub id: u64,
    pub mint: &'a Pubkey,
    pub terms: rekam::StudyTerms,
    pub terms_hash: [u8; 32],
    pub budget: u64,
    /// The token account the budget comes from (default: the researcher's associated one).
    pub source: Option<Pubkey>,
}

/// Opens the study of approved terms, moving `budget` into its escrow; returns the
/// signature. The approval is found among the ethics boards' attestations.
pub fn open(ctx: &Ctx, signer: &dyn Signer, o: &Opening) -> Result<String, FlowError> {
    let pid = ctx.program_id();
    if *o.researcher != signer.pubkey() {
        return Err(FlowError::Refused(format!(
            "the terms name researcher {}; sign with that wallet",
            o.researcher
        )));
    }
    let (mint, token_program) = payment_mint(ctx)?;
    if *o.mint != mint {
        return Err(FlowError::Refused(format!(
            "the terms pay in {}, but this deployment pays in {mint}",
            o.mint
        )));
    }
    // The approval: an EthicsApproval over this hash by one of the ethics boards.
    let mut approval = None;
    for (board, issuer) in ctx.chain.list::<rekam::Issuer>(None)? {
        if issuer.roles & rekam::roles::ETHICS_BOARD == 0 {
            continue;
        }
        let key = pda::attestation(&pid, &board, &o.terms_hash);
        if let Some(a) = ctx.chain.fetch::<Attestation>(&key)? {
            approval = Some((key, a));
            break;
        }
    }
    let (approval_key, approval) = approval.ok_or_else(|| {
        FlowError::Refused(format!(
            "no ethics board has approved these terms (hash {}) yet",
            hex::encode(o.terms_hash)
        ))
    })?;
    let source = o
        .source
        .unwrap_or_else(|| pda::associated_token(&signer.pubkey(), &mint, &token_program));
    let ix = ix::study_open(
        &pid,
        &signer.pubkey(),
        &mint,
        &token_program,
        &source,
        &approval_key,
        &approval.issuer,
        rekam::StudyOpenArgs {
            id: o.id,
            terms: o.terms,
            budget: o.budget,
        },
    );
    Ok(ctx.chain.send(&[ix], signer, &[])?)
}

/// Adds `amount` to an open study's escrow; returns the signature.
pub fn top_up(
    ctx: &Ctx,
    signer: &dyn Signer,
    study_key: &Pubkey,
    amount: u64,
    source: Option<Pubkey>,
) -> Result<String, FlowError> {
    let study: Study = ctx.account(study_key, "study")?;
    let (_, token_program) = payment_mint(ctx)?;
    let source = source
        .unwrap_or_else(|| pda::associated_token(&signer.pubkey(), &study.mint, &token_program));
    let ix = ix::study_top_up(
        &ctx.program_id(),
        &signer.pubkey(),
        study_key,
        approval_of(ctx, &study)?,
        &study.mint,
        &token_program,
        &source,
        amount,
    );
    Ok(ctx.chain.send(&[ix], signer, &[])?)
}

/// Closes a study; the refund goes to the researcher's associated token account (created
/// first if missing). Returns the refund account and the signature.
pub fn close(
    ctx: &Ctx,
    signer: &dyn Signer,
    study_key: &Pubkey,
) -> Result<(Pubkey, String), FlowError> {
    use anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent;
    let study: Study = ctx.account(study_key, "study")?;
    if study.is_closed() {
        return Err(FlowError::Refused(format!(
            "study {study_key} is already closed"
        )));
    }
    let (_, token_program) = payment_mint(ctx)?;
    let refund_to = pda::associated_token(&study.researcher, &study.mint, &token_program);
    let create = create_associated_token_account_idempotent(
        &signer.pubkey(),
        &study.researcher,
        &study.mint,
        &token_program,
    );
    let ix = ix::study_close(
        &ctx.program_id(),
        &signer.pubkey(),
        &study.researcher,
        study_key,
        approval_of(ctx, &study)?,
        &study.mint,
        &token_program,
        &refund_to,
    );
    Ok((refund_to, ctx.chain.send(&[create, ix], signer, &[])?))
}
