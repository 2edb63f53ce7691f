//! claim-gate: an example program that gates an action on one verified Rekam claim.
//!
//! A venue admits a patient who shows the claim `age_over_18 = true` of an active Rekam
//! attestation. The program never sees the rest of the record: the patient passes one
//! SD-JWT disclosure and its proof; the program checks the disclosure says exactly that,
//! hashes it, and asks Rekam (CPI into `attestation_verify_claim`) whether that digest is
//! under the attestation's claims root while the attestation is active. On success it
//! records an `Admission`.
//!
//! Checks:
//! - `holder` signs and is the current authority of `patient` (`NotHolder`), and the
//!   attestation is about `patient` (`WrongPatient`).
//! - the disclosure is exactly `["<salt>","age_over_18",true]` (`WrongClaim`).
//! - Rekam's verdict is present, from Rekam, and names this digest (`NoVerdict`).
//!
//! `admit_from_batch` admits on the same claim anchored as one fact of a Rekam batch
//! (CPI into `batch_verify_fact`), with the same checks against the batch's patient.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program::invoke;
use anchor_lang::{InstructionData, ToAccountMetas};
use rekam::{
    Attestation, AttestationVerifyClaimArgs, Batch, BatchVerifyFactArgs, Patient, VerifiedClaim,
    VerifiedFact,
};

declare_id!("9Swz8DF7m8p4zsJizZGoAJstsbb61LxXQtXetr7TjpAP");

/// Seed of an admission: `["admission", attestation]`.
pub const ADMISSION_SEED: &[u8] = b"admission";
/// The claim this gate requires, as it ends a disclosure's JSON.
pub const REQUIRED_TAIL: &[u8] = br#"","age_over_18",true]"#;

#[error_code]
pub enum GateError {
    #[msg("Signer is not the patient's current authority")]
    NotHolder,
    #[msg("The attestation is about another patient")]
    WrongPatient,
    #[msg("The disclosure is not the claim age_over_18 = true")]
    WrongClaim,
    #[msg("Rekam returned no verdict for this claim")]
    NoVerdict,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AdmitArgs {
    /// The SD-JWT disclosure as the patient holds it (base64url text).
    pub disclosure: String,
    pub index: u32,
    pub count: u32,
    pub proof: Vec<[u8; 32]>,
}

#[account]
#[derive(InitSpace, Debug)]
pub struct Admission {
    /// The attestation (`admit`) or the batch (`admit_from_batch`) the claim is under.
    pub attestation: Pubkey,
    pub holder: Pubkey,
    pub digest: [u8; 32],
    pub treatment_day: u16,
    pub admitted_at: i64,
}

#[derive(Accounts)]
pub struct Admit<'info> {
    #[account(mut)]
    pub holder: Signer<'info>,
    #[account(constraint = patient.authority == holder.key() @ GateError::NotHolder)]
    pub patient: Account<'info, Patient>,
    #[account(constraint = attestation.patient == patient.key() @ GateError::WrongPatient)]
    pub attestation: Account<'info, Attestation>,
    /// CHECK: passed through to Rekam, which checks it is the attestation's issuer.
    pub issuer: UncheckedAccount<'info>,
    #[account(
        init,
        payer = holder,
        space = 8 + Admission::INIT_SPACE,
        seeds = [ADMISSION_SEED, attestation.key().as_ref()],
        bump,
    )]
    pub admission: Account<'info, Admission>,
    /// CHECK: the Rekam program, by address.
    #[account(address = rekam::ID)]
    pub rekam_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AdmitFromBatchArgs {
    /// The SD-JWT disclosure as the patient holds it (base64url text).
    pub disclosure: String,
    pub index: u32,
    pub proof: Vec<[u8; 32]>,
}

#[derive(Accounts)]
pub struct AdmitFromBatch<'info> {
    #[account(mut)]
    pub holder: Signer<'info>,
    #[account(constraint = patient.authority == holder.key() @ GateError::NotHolder)]
    pub patient: Account<'info, Patient>,
    #[account(constraint = batch.patient == patient.key() @ GateError::WrongPatient)]
    pub batch: Account<'info, Batch>,
    /// CHECK: passed through to Rekam, which checks it is the batch's issuer.
    pub issuer: UncheckedAccount<'info>,
    #[account(
        init,
        payer = holder,
        space = 8 + Admission::INIT_SPACE,
        seeds = [ADMISSION_SEED, batch.key().as_ref()],
        bump,
    )]
    pub admission: Account<'info, Admission>,
    /// CHECK: the Rekam program, by address.
    #[account(address = rekam::ID)]
    pub rekam_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

/// The disclosure decoded: `["<base64url salt>","age_over_18",true]` and nothing else.
fn is_required_claim(disclosure: &str) -> bool {
    let Some(json) = base64url_decode(disclosure) else {
        return false;
    };
    let Some(salt) = json
        .strip_prefix(br#"[""#)
        .and_then(|rest| rest.strip_suffix(REQUIRED_TAIL))
    else {
        return false;
    };
    !salt.is_empty()
        && salt
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.as_bytes();
    if bytes.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let n = chunk.len() - 1;
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

#[program]
pub mod claim_gate {
    use super::*;

    /// Admits the holder on a verified `age_over_18 = true` claim.
    pub fn admit(ctx: Context<Admit>, args: AdmitArgs) -> Result<()> {
        require!(is_required_claim(&args.disclosure), GateError::WrongClaim);
        let digest = solana_sha256_hasher::hash(args.disclosure.as_bytes()).to_bytes();
        let a = &ctx.accounts;
        let verify = Instruction {
            program_id: rekam::ID,
            accounts: rekam::accounts::AttestationVerifyClaim {
                attestation: a.attestation.key(),
                issuer: a.issuer.key(),
            }
            .to_account_metas(None),
            data: rekam::instruction::AttestationVerifyClaim {
                args: AttestationVerifyClaimArgs {
                    digest,
                    index: args.index,
                    count: args.count,
                    proof: args.proof,
                },
            }
            .data(),
        };
        invoke(
            &verify,
            &[
                a.attestation.to_account_info(),
                a.issuer.to_account_info(),
                a.rekam_program.to_account_info(),
            ],
        )?;
        let (from, data) = rekam::platform::get_return_data().ok_or(GateError::NoVerdict)?;
        require_keys_eq!(from, rekam::ID, GateError::NoVerdict);
        let verdict = VerifiedClaim::try_from_slice(&data).map_err(|_| GateError::NoVerdict)?;
        require!(verdict.digest == digest, GateError::NoVerdict);
        let holder = a.holder.key();
        let attestation = a.attestation.key();
        ctx.accounts.admission.set_inner(Admission {
            attestation,
            holder,
            digest,
            treatment_day: verdict.treatment_day,
            admitted_at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }

    /// Admits the holder on a verified `age_over_18 = true` fact of a Rekam batch. The
    /// admission's `attestation` is then the batch and `treatment_day` the day of the
    /// batch's last fact.
    pub fn admit_from_batch(ctx: Context<AdmitFromBatch>, args: AdmitFromBatchArgs) -> Result<()> {
        require!(is_required_claim(&args.disclosure), GateError::WrongClaim);
        let digest = solana_sha256_hasher::hash(args.disclosure.as_bytes()).to_bytes();
        let a = &ctx.accounts;
        let verify = Instruction {
            program_id: rekam::ID,
            accounts: rekam::accounts::BatchVerifyFact {
                batch: a.batch.key(),
                issuer: a.issuer.key(),
            }
            .to_account_metas(None),
            data: rekam::instruction::BatchVerifyFact {
                args: BatchVerifyFactArgs {
                    digest,
                    index: args.index,
                    proof: args.proof,
                },
            }
            .data(),
        };
        invoke(
            &verify,
            &[
                a.batch.to_account_info(),
                a.issuer.to_account_info(),
                a.rekam_program.to_account_info(),
            ],
        )?;
        let (from, data) = rekam::platform::get_return_data().ok_or(GateError::NoVerdict)?;
        require_keys_eq!(from, rekam::ID, GateError::NoVerdict);
        let verdict = VerifiedFact::try_from_slice(&data).map_err(|_| GateError::NoVerdict)?;
        require!(
            verdict.digest == digest && verdict.index == args.index,
            GateError::NoVerdict
        );
        let day = verdict.last_at.div_euclid(86_400);
        let treatment_day = u16::try_from(day).map_err(|_| GateError::NoVerdict)?;
        let holder = a.holder.key();
        let batch = a.batch.key();
        ctx.accounts.admission.set_inner(Admission {
            attestation: batch,
            holder,
            digest,
            treatment_day,
            admitted_at: Clock::get()?.unix_timestamp,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_claim_passes() {
        let enc = |s: &str| {
            // Test-side encoder: standard base64url without padding.
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let b = s.as_bytes();
            let mut out = String::new();
            for chunk in b.chunks(3) {
                let mut n = 0u32;
                for (i, c) in chunk.iter().enumerate() {
                    n |= (*c as u32) << (16 - 8 * i);
                }
                for i in 0..=chunk.len() {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        };
        assert!(is_required_claim(&enc(
            r#"["c2FsdHNhbHRzYWx0c2FsdA","age_over_18",true]"#
        )));
        assert!(!is_required_claim(&enc(
            r#"["c2FsdA","age_over_18",false]"#
        )));
        assert!(!is_required_claim(&enc(r#"["c2FsdA","age_over_65",true]"#)));
        assert!(!is_required_claim(&enc(
            r#"["x\",\"y","age_over_18",true]"#
        )));
        assert!(!is_required_claim("not base64!"));
        assert_eq!(base64url_decode(&enc("hello")).unwrap(), b"hello");
    }
}
