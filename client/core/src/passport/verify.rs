//! Verifying a passport: first offline (the card parses, every disclosure parses, each
//! attestation's claims fold to one root, the holder's Ed25519 signature covers the whole
//! card for this deployment, the card is within its dates), then live for each attestation
//! (it exists, its `claims_root` is the root the claims fold to, its patient's current
//! wallet is the card's holder, and the rule of `attestation_verify`: not revoked, not
//! expired, issuer active, not voided, issuer still holding a role for the kind). One
//! green or red verdict per fact; the report lists which checks ran offline, which live,
//! and which were not made.

use anchor_lang::prelude::Pubkey;
use rekam::claim_tree::Hash;
use serde::Serialize;
use solana_signature::Signature;

use super::multiproof::{self, MultiproofError};
use super::payload::Card;
use crate::claims::presentation::{live_status, ChainView, VerifyError, CLOCK_SKEW};
use crate::claims::{words, ClaimId, Disclosure, DisclosureError};

/// Why a passport, or one of its facts, is red. Each has its own message.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum PassportError {
    #[error("claim {id}: {source}")]
    Disclosure { id: String, source: DisclosureError },
    #[error("the proof for attestation {attestation} is invalid: {source}")]
    Proof {
        attestation: Pubkey,
        source: MultiproofError,
    },
    #[error("the holder's signature does not cover this card: it was altered, or made for another deployment")]
    BadSignature,
    #[error("the passport expired on {0}")]
    CardExpired(String),
    #[error("the passport is dated {0} s in the future")]
    FromFuture(u64),
    #[error("attestation {0} does not exist on this cluster")]
    NoAttestation(Pubkey),
    #[error("the claims shown for attestation {0} are not under its on-chain claims root")]
    RootMismatch(Pubkey),
    #[error("the card's holder {holder} is not the patient of attestation {attestation} (that patient's wallet is {patient})")]
    OtherPatient {
        attestation: Pubkey,
        holder: Pubkey,
        patient: Pubkey,
    },
    #[error("attestation {attestation}: {source}")]
    Status {
        attestation: Pubkey,
        source: VerifyError,
    },
    #[error("attestation {attestation} could not be read: {reason}")]
    Unreadable { attestation: Pubkey, reason: String },
}

/// One fact of the card and its verdict.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FactVerdict {
    pub id: String,
    pub name: String,
    pub value: serde_json::Value,
    pub words: String,
    pub green: bool,
    /// Why it is red.
    pub reason: Option<String>,
}

/// One check and its outcome, for the report.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Check {
    pub check: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PassportVerdict {
    /// Every fact green.
    pub verified: bool,
    /// Whether the chain was asked; offline only when false.
    pub live: bool,
    pub holder: String,
    pub issued_on: String,
    pub valid_until: String,
    pub offline_checks: Vec<Check>,
    pub live_checks: Vec<Check>,
    pub facts: Vec<FactVerdict>,
    pub not_checked: Vec<String>,
    /// Every failure, in order, as typed errors (for callers and tests).
    #[serde(skip)]
    pub errors: Vec<PassportError>,
}

/// What the offline checks leave for the live ones.
pub struct Offline {
    pub card: Card,
    /// The root each attestation's claims fold to (`None` when they do not).
    pub roots: Vec<Option<Hash>>,
    /// Whether every card-wide check (signature, dates) passed.
    pub card_ok: bool,
    facts: Vec<(usize, FactVerdict)>,
    checks: Vec<Check>,
    errors: Vec<PassportError>,
}

fn check(name: &str, result: Result<String, &PassportError>) -> Check {
    match result {
        Ok(detail) => Check {
            check: name.into(),
            ok: true,
            detail,
        },
        Err(e) => Check {
            check: name.into(),
            ok: false,
            detail: e.to_string(),
        },
    }
}

/// The checks that need nothing but the card, the program id and a clock.
pub fn offline(card: Card, program: &Pubkey, now: u64) -> Offline {
    let mut errors = Vec::new();
    let mut checks = Vec::new();
    let mut facts = Vec::new();
    let mut roots = Vec::with_capacity(card.body.attestations.len());
    for (a_i, a) in card.body.attestations.iter().enumerate() {
        let mut leaves = Vec::with_capacity(a.claims.len());
        let mut parsed_all = true;
        for c in &a.claims {
            let id = ClaimId {
                attestation: a.address,
                index: c.index,
            }
            .to_string();
            match Disclosure::parse(&c.encoded()) {
                Ok(d) => {
                    leaves.push((c.index, d.digest()));
                    facts.push((
                        a_i,
                        FactVerdict {
                            id,
                            name: d.name().into(),
                            value: d.value().clone(),
                            words: words::describe(d.name(), d.value()),
                            green: true,
                            reason: None,
                        },
                    ));
                }
                Err(source) => {
                    parsed_all = false;
                    let e = PassportError::Disclosure {
                        id: id.clone(),
                        source,
                    };
                    facts.push((a_i, red_fact(id, &e)));
                    errors.push(e);
                }
            }
        }
        let root = if parsed_all {
            match multiproof::root(a.count, &leaves, &a.proof) {
                Ok(root) => Some(root),
                Err(source) => {
                    errors.push(PassportError::Proof {
                        attestation: a.address,
                        source,
                    });
                    None
                }
            }
        } else {
            None
        };
        roots.push(root);
    }
    let first_new = |errors: &[PassportError], from: usize| errors.get(from).cloned();
    checks.push(check(
        "proofs",
        match first_new(&errors, 0) {
            None => Ok(format!(
                "{} fact(s) fold to {} claims root(s)",
                facts.len(),
                roots.len()
            )),
            Some(ref e) => Err(e),
        },
    ));
    let mark = errors.len();
    let body = &card.body;
    let signed = Signature::from(card.signature)
        .verify(body.holder.as_ref(), &body.signing_message(program));
    if !signed {
        errors.push(PassportError::BadSignature);
    }
    checks.push(check(
        "holder signature",
        match first_new(&errors, mark) {
            None => Ok(format!("Ed25519 by {} over the whole card", body.holder)),
            Some(ref e) => Err(e),
        },
    ));
    let mark = errors.len();
    if body.issued_at > now + CLOCK_SKEW as u64 {
        errors.push(PassportError::FromFuture(body.issued_at - now));
    } else if now > body.valid_until {
        errors.push(PassportError::CardExpired(super::date(body.valid_until)));
    }
    checks.push(check(
        "card dates",
        match first_new(&errors, mark) {
            None => Ok(format!(
                "issued {}, valid until {}",
                super::date(body.issued_at),
                super::date(body.valid_until)
            )),
            Some(ref e) => Err(e),
        },
    ));
    let card_error = errors
        .iter()
        .find(|e| {
            matches!(
                e,
                PassportError::BadSignature
                    | PassportError::CardExpired(_)
                    | PassportError::FromFuture(_)
            )
        })
        .cloned();
    // A card-wide failure turns every fact red; a proof failure its attestation's.
    for (a_i, fact) in facts.iter_mut().filter(|(_, f)| f.green) {
        let address = card.body.attestations[*a_i].address;
        let reason = match &card_error {
            Some(e) => Some(e.to_string()),
            None if roots[*a_i].is_none() => errors
                .iter()
                .find(|e| matches!(e, PassportError::Proof { attestation, .. } if *attestation == address))
                .map(ToString::to_string),
            None => None,
        };
        if reason.is_some() {
            fact.green = false;
            fact.reason = reason;
        }
    }
    Offline {
        card,
        roots,
        card_ok: card_error.is_none(),
        facts,
        checks,
        errors,
    }
}

fn red_fact(id: String, e: &PassportError) -> FactVerdict {
    FactVerdict {
        id,
        name: String::new(),
        value: serde_json::Value::Null,
        words: String::new(),
        green: false,
        reason: Some(e.to_string()),
    }
}

/// The live checks of one attestation against what the chain holds now.
fn live_one(
    address: &Pubkey,
    root: Option<Hash>,
    holder: &Pubkey,
    view: Result<&ChainView, &PassportError>,
    now: i64,
) -> Result<String, PassportError> {
    let view = view.map_err(Clone::clone)?;
    if root != Some(view.attestation.claims_root) {
        return Err(PassportError::RootMismatch(*address));
    }
    if view.patient.authority != *holder {
        return Err(PassportError::OtherPatient {
            attestation: *address,
            holder: *holder,
            patient: view.patient.authority,
        });
    }
    live_status(view, now).map_err(|source| PassportError::Status {
        attestation: *address,
        source,
    })?;
    Ok(format!(
        "{address}: claims root matches, holder is the patient's current wallet, not revoked, not expired, issuer active with a role for the kind"
    ))
}

impl Offline {
    /// The verdict with no chain: what could not be checked is listed.
    pub fn finish_offline(self) -> PassportVerdict {
        let not_checked = vec![
            "that the issuer attested these claims (the roots are matched on-chain)".into(),
            "that the holder is the patient's current wallet".into(),
            "revocation, expiry, the issuer's status and role (revocation was not checked)".into(),
        ];
        self.verdict(false, Vec::new(), not_checked)
    }

    /// The verdict with each attestation's accounts as read live (`views` in the card's
    /// order); `now` is the verifier's clock.
    pub fn finish_live(
        mut self,
        views: &[Result<ChainView, PassportError>],
        now: i64,
    ) -> PassportVerdict {
        let mut live_checks = Vec::new();
        let holder = self.card.body.holder;
        for (a_i, a) in self.card.body.attestations.iter().enumerate() {
            let result = live_one(
                &a.address,
                self.roots[a_i],
                &holder,
                views[a_i].as_ref(),
                now,
            );
            // An attestation whose proof already failed offline gets no root comparison.
            let result = match (self.roots[a_i], result) {
                (None, Err(PassportError::RootMismatch(_))) => {
                    Ok("not compared: the proof failed offline".into())
                }
                (_, r) => r,
            };
            live_checks.push(check(
                &format!("attestation {}", a_i + 1),
                result.as_ref().cloned(),
            ));
            if let Err(e) = result {
                for (_, fact) in self.facts.iter_mut().filter(|(i, _)| *i == a_i) {
                    if fact.green {
                        fact.green = false;
                        fact.reason = Some(e.to_string());
                    }
                }
                self.errors.push(e);
            }
        }
        self.verdict(true, live_checks, Vec::new())
    }

    fn verdict(
        self,
        live: bool,
        live_checks: Vec<Check>,
        not_checked: Vec<String>,
    ) -> PassportVerdict {
        let facts: Vec<FactVerdict> = self.facts.into_iter().map(|(_, f)| f).collect();
        PassportVerdict {
            verified: self.errors.is_empty() && facts.iter().all(|f| f.green),
            live,
            holder: self.card.body.holder.to_string(),
            issued_on: super::date(self.card.body.issued_at),
            valid_until: super::date(self.card.body.valid_until),
            offline_checks: self.checks,
            live_checks,
            facts,
            not_checked,
            errors: self.errors,
        }
    }
}
