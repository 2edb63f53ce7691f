//! A presentation: chosen claims of one attestation with their proofs, bound to the
//! patient's current wallet, an audience, a nonce and a time (the role of SD-JWT's
//! key-binding JWT), and its verification. Format and steps: `docs/format.md`
//! ("Presentations").
//!
//! The binding is an Ed25519 signature by the patient profile's authority over
//! [`binding_message`]; the message starts with `0xff`, so no wallet can mistake it for a
//! Solana transaction message.

use anchor_lang::prelude::Pubkey;
use rekam::claim_tree::{Hash, ProofError};
use rekam::{Attestation, Issuer, Patient};
use serde::{Deserialize, Serialize};
use solana_signature::Signature;
use solana_signer::Signer;

use super::{ClaimId, ClaimSet, Disclosure, DisclosureError};

pub const PRESENTATION_FORMAT: &str = "rekam-presentation/1";
pub const BINDING_DOMAIN: &[u8] = b"\xffrekam presentation binding v1\x00";
/// How old a binding may be by default (seconds), and how far ahead of the verifier's
/// clock it may claim to be.
pub const DEFAULT_MAX_AGE: i64 = 600;
pub const CLOCK_SKEW: i64 = 60;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct DisclosedClaim {
    pub index: u32,
    /// The SD-JWT disclosure, base64url.
    pub disclosure: String,
    /// Siblings from the leaf up, hex.
    pub proof: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct HolderBinding {
    pub audience: String,
    pub nonce: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// The patient profile's authority that signed, base58.
    pub holder: String,
    /// Ed25519 signature over the binding message, base58.
    pub signature: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Presentation {
    pub format: String,
    pub program: String,
    pub attestation: String,
    /// Leaves in the attestation's claims tree.
    pub count: u32,
    pub claims: Vec<DisclosedClaim>,
    pub binding: HolderBinding,
}

/// Why a presentation, or one of its claims, does not verify. Each has its own message.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("presentation is malformed: {0}")]
    Malformed(String),
    #[error("presentation is for program {0}, not this deployment")]
    WrongProgram(String),
    #[error("attestation {0} does not exist")]
    NoAttestation(String),
    #[error("the attestation has been revoked")]
    Revoked,
    #[error("the attestation has expired")]
    Expired,
    #[error("the issuer is suspended")]
    IssuerSuspended,
    #[error(
        "governance voided the issuer's attestations of that time when it reinstated the issuer"
    )]
    Voided,
    #[error("the issuer no longer holds a role that may attest this kind")]
    IssuerRole,
    #[error("claim {index}: {source}")]
    Disclosure { index: u32, source: DisclosureError },
    #[error("claim {0} is outside the claims tree")]
    IndexOutOfRange(u32),
    #[error("claim {index}: proof has {got} steps, its position needs {expected}")]
    ProofLength {
        index: u32,
        expected: usize,
        got: usize,
    },
    #[error("claim {0} is not under the attestation's claims root")]
    NotInRoot(u32),
    #[error("the holder binding is not signed by the patient's current wallet {0}")]
    WrongHolder(String),
    #[error("the holder binding's signature is invalid")]
    BadSignature,
    #[error("the presentation is for audience {got:?}, not {expected:?}")]
    Audience { expected: String, got: String },
    #[error("the presentation's nonce {got:?} is not {expected:?}")]
    Nonce { expected: String, got: String },
    #[error("the holder binding is {0} s old (at most {1} s)")]
    Stale(i64, i64),
    #[error("the holder binding is dated {0} s in the future")]
    FromFuture(i64),
}

/// What a verifier expects; `None` skips the check (and the report says so).
#[derive(Clone, Debug)]
pub struct Expect {
    pub audience: Option<String>,
    pub nonce: Option<String>,
    pub now: i64,
    pub max_age: i64,
}

/// The accounts a presentation is checked against, read live from the chain.
pub struct ChainView {
    pub attestation: Attestation,
    pub issuer: Issuer,
    pub patient: Patient,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ClaimVerdict {
    pub id: String,
    pub name: String,
    pub value: serde_json::Value,
    pub words: String,
    pub verified: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Verdict {
    pub attestation: String,
    pub verified: bool,
    /// Why the attestation's live status fails (revocation, expiry, issuer), if it does.
    pub status_error: Option<String>,
    /// Why the holder binding fails, if it does.
    pub binding_error: Option<String>,
    pub claims: Vec<ClaimVerdict>,
    /// Every failure, in order, as typed errors (for tests and callers).
    #[serde(skip)]
    pub errors: Vec<VerifyError>,
    /// Checks that were not made because the verifier did not ask for them.
    pub skipped: Vec<String>,
}

/// The bytes the holder signs.
pub fn binding_message(
    program: &Pubkey,
    attestation: &Pubkey,
    audience: &str,
    nonce: &str,
    issued_at: i64,
    claims: &[(u32, Hash)],
) -> Vec<u8> {
    let mut m = BINDING_DOMAIN.to_vec();
    m.extend_from_slice(program.as_ref());
    m.extend_from_slice(attestation.as_ref());
    for text in [audience, nonce] {
        m.extend_from_slice(&(text.len() as u32).to_be_bytes());
        m.extend_from_slice(text.as_bytes());
    }
    m.extend_from_slice(&issued_at.to_be_bytes());
    m.extend_from_slice(&(claims.len() as u32).to_be_bytes());
    for (index, digest) in claims {
        m.extend_from_slice(&index.to_be_bytes());
        m.extend_from_slice(digest);
    }
    m
}

fn hex32(text: &str) -> Option<Hash> {
    hex::decode(text).ok()?.try_into().ok()
}

impl Presentation {
    /// Builds a presentation of `indices` of `claims` (the patient's side).
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        program: &Pubkey,
        attestation: &Pubkey,
        claims: &ClaimSet,
        indices: &[u32],
        audience: &str,
        nonce: &str,
        issued_at: i64,
        holder: &dyn Signer,
    ) -> Result<Self, super::ClaimError> {
        let mut disclosed = Vec::with_capacity(indices.len());
        let mut bound = Vec::with_capacity(indices.len());
        for &index in indices {
            let d = claims.get(index)?;
            bound.push((index, d.digest()));
            disclosed.push(DisclosedClaim {
                index,
                disclosure: d.encoded().to_string(),
                proof: claims.proof(index)?.iter().map(hex::encode).collect(),
            });
        }
        let message = binding_message(program, attestation, audience, nonce, issued_at, &bound);
        Ok(Self {
            format: PRESENTATION_FORMAT.into(),
            program: program.to_string(),
            attestation: attestation.to_string(),
            count: claims.count(),
            claims: disclosed,
            binding: HolderBinding {
                audience: audience.into(),
                nonce: nonce.into(),
                issued_at,
                holder: holder.pubkey().to_string(),
                signature: super::sign_offchain(
                    holder,
                    "the presentation's holder binding",
                    &message,
                )?
                .to_string(),
            },
        })
    }

    pub fn attestation_key(&self) -> Result<Pubkey, VerifyError> {
        self.attestation
            .parse()
            .map_err(|_| VerifyError::Malformed("attestation is not a public key".into()))
    }

    pub fn from_json(bytes: &[u8]) -> Result<Self, VerifyError> {
        let p: Presentation = serde_json::from_slice(bytes)
            .map_err(|e| VerifyError::Malformed(format!("not a presentation: {e}")))?;
        if p.format != PRESENTATION_FORMAT {
            return Err(VerifyError::Malformed(format!(
                "unknown format {:?}",
                p.format
            )));
        }
        Ok(p)
    }

    /// Checks every claim, the binding and the attestation's live status.
    pub fn verify(&self, program: &Pubkey, view: &ChainView, expect: &Expect) -> Verdict {
        let mut errors = Vec::new();
        let mut skipped = Vec::new();
        if self.program != program.to_string() {
            errors.push(VerifyError::WrongProgram(self.program.clone()));
        }
        let status = live_status(view, expect.now);
        if let Err(e) = &status {
            errors.push(e.clone());
        }
        let mut claims = Vec::with_capacity(self.claims.len());
        let mut bound = Vec::with_capacity(self.claims.len());
        for c in &self.claims {
            let id = ClaimId {
                attestation: self.attestation_key().unwrap_or_default(),
                index: c.index,
            };
            let (verdict, digest) = self.verify_claim(c, &view.attestation.claims_root);
            let (name, value) = match &verdict {
                Ok(d) => (d.name().to_string(), d.value().clone()),
                Err(_) => (String::new(), serde_json::Value::Null),
            };
            if let Some(digest) = digest {
                bound.push((c.index, digest));
            }
            claims.push(ClaimVerdict {
                id: id.to_string(),
                words: if name.is_empty() {
                    String::new()
                } else {
                    super::words::describe(&name, &value)
                },
                name,
                value,
                verified: verdict.is_ok(),
                error: verdict.as_ref().err().map(ToString::to_string),
            });
            if let Err(e) = verdict {
                errors.push(e);
            }
        }
        let binding = self.verify_binding(program, view, expect, &bound, &mut skipped);
        if let Err(e) = &binding {
            errors.push(e.clone());
        }
        Verdict {
            attestation: self.attestation.clone(),
            verified: errors.is_empty(),
            status_error: status.err().map(|e| e.to_string()),
            binding_error: binding.err().map(|e| e.to_string()),
            claims,
            errors,
            skipped,
        }
    }

    /// One claim: its disclosure parses and it sits at its index under the root. Returns
    /// the digest whenever the disclosure text could be hashed (the binding covers it).
    fn verify_claim(
        &self,
        c: &DisclosedClaim,
        root: &Hash,
    ) -> (Result<Disclosure, VerifyError>, Option<Hash>) {
        let disclosure = match Disclosure::parse(&c.disclosure) {
            Ok(d) => d,
            Err(source) => {
                return (
                    Err(VerifyError::Disclosure {
                        index: c.index,
                        source,
                    }),
                    None,
                )
            }
        };
        let digest = disclosure.digest();
        let proof: Option<Vec<Hash>> = c.proof.iter().map(|s| hex32(s)).collect();
        let Some(proof) = proof else {
            return (
                Err(VerifyError::Malformed(format!(
                    "claim {}: proof nodes must be 32 hex bytes",
                    c.index
                ))),
                Some(digest),
            );
        };
        let result = super::verify(root, c.index, self.count, &disclosure, &proof)
            .map(|()| disclosure)
            .map_err(|e| match e {
                ProofError::IndexOutOfRange => VerifyError::IndexOutOfRange(c.index),
                ProofError::WrongLength { expected, got } => VerifyError::ProofLength {
                    index: c.index,
                    expected,
                    got,
                },
                ProofError::NotInRoot => VerifyError::NotInRoot(c.index),
            });
        (result, Some(digest))
    }

    fn verify_binding(
        &self,
        program: &Pubkey,
        view: &ChainView,
        expect: &Expect,
        bound: &[(u32, Hash)],
        skipped: &mut Vec<String>,
    ) -> Result<(), VerifyError> {
        let b = &self.binding;
        if b.holder != view.patient.authority.to_string() {
            return Err(VerifyError::WrongHolder(view.patient.authority.to_string()));
        }
        let signature: Signature = b
            .signature
            .parse()
            .map_err(|_| VerifyError::Malformed("binding signature is not base58".into()))?;
        let message = binding_message(
            program,
            &self.attestation_key()?,
            &b.audience,
            &b.nonce,
            b.issued_at,
            bound,
        );
        if bound.len() != self.claims.len()
            || !signature.verify(view.patient.authority.as_ref(), &message)
        {
            return Err(VerifyError::BadSignature);
        }
        match &expect.audience {
            Some(a) if *a != b.audience => {
                return Err(VerifyError::Audience {
                    expected: a.clone(),
                    got: b.audience.clone(),
                })
            }
            Some(_) => {}
            None => skipped.push("audience (none expected)".into()),
        }
        match &expect.nonce {
            Some(n) if *n != b.nonce => {
                return Err(VerifyError::Nonce {
                    expected: n.clone(),
                    got: b.nonce.clone(),
                })
            }
            Some(_) => {}
            None => skipped.push("nonce (none expected)".into()),
        }
        let age = expect.now - b.issued_at;
        if age < -CLOCK_SKEW {
            return Err(VerifyError::FromFuture(-age));
        }
        if age > expect.max_age {
            return Err(VerifyError::Stale(age, expect.max_age));
        }
        Ok(())
    }
}

/// The attestation's status now: not revoked, not expired, issuer active, not in a
/// window governance voided, and the issuer still holding a role for the kind (the same rule `attestation_verify` applies on-chain).
pub fn live_status(view: &ChainView, now: i64) -> Result<(), VerifyError> {
    let a = &view.attestation;
    if a.is_revoked() {
        return Err(VerifyError::Revoked);
    }
    if a.is_expired(now) {
        return Err(VerifyError::Expired);
    }
    if !view.issuer.is_active() {
        return Err(VerifyError::IssuerSuspended);
    }
    if view.issuer.voids(a.issued_at) {
        return Err(VerifyError::Voided);
    }
    if !view.issuer.may_issue(a.kind) {
        return Err(VerifyError::IssuerRole);
    }
    Ok(())
}
