//! The passport flows: the patient makes a card of chosen facts from their records
//! (`rekam passport create`), anyone reads one from an image or text and verifies it
//! offline, then live (`rekam passport verify`). The format is `crate::passport`.

use std::fmt;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use rekam::{Issuer, Patient};
use serde::Serialize;
use solana_signer::Signer;

use super::present::chain_view;
use super::records::{OpenedRecord, OwnRecords};
use super::{Ctx, FlowError};
use crate::chain::ChainClient;
use crate::claims::presentation::{live_status, ChainView, VerifyError};
use crate::claims::{words, ClaimError};
use crate::crypto::Identity;
use crate::passport::payload::{Card, PayloadError, TEXT_PREFIX};
use crate::passport::qr::QrError;
use crate::passport::verify::{self, PassportError, PassportVerdict};
use crate::passport::{self as pp, Selection};

/// The longest a card may be valid, in days.
pub const MAX_VALID_DAYS: u32 = 366;

/// Which claim to show: `<attestation>#<index>` (from `rekam claims`) or
/// `<attestation>#<claim name>` (for example `...#age_over_18`, `...#immunization.0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    pub attestation: Pubkey,
    pub claim: Which,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Which {
    Index(u32),
    Name(String),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.claim {
            Which::Index(i) => write!(f, "{}#{i}", self.attestation),
            Which::Name(n) => write!(f, "{}#{n}", self.attestation),
        }
    }
}

impl FromStr for Selector {
    type Err = ClaimError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ClaimError::BadId(s.to_string());
        let (attestation, claim) = s.split_once('#').ok_or_else(bad)?;
        let attestation = attestation.parse().map_err(|_| bad())?;
        let claim = match claim.parse::<u32>() {
            Ok(i) => Which::Index(i),
            Err(_) if !claim.is_empty() => Which::Name(claim.to_string()),
            Err(_) => return Err(bad()),
        };
        Ok(Self { attestation, claim })
    }
}

pub struct CreateRequest<'a> {
    pub selectors: &'a [Selector],
    /// Unix seconds (the holder's clock).
    pub now: u64,
    pub valid_days: u32,
}

/// One fact as the card shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ShownFact {
    pub id: String,
    pub name: String,
    pub words: String,
    pub issuer: String,
}

pub struct Created {
    pub card: Card,
    pub facts: Vec<ShownFact>,
}

/// Opens each named record, checks that the holder is its patient's current wallet and
/// that the attestation is in force now, and signs a card of the chosen claims.
pub fn create(
    ctx: &Ctx,
    own: &OwnRecords,
    identity: &Identity,
    holder: &dyn Signer,
    request: &CreateRequest,
) -> Result<Created, FlowError> {
    if request.selectors.is_empty() {
        return Err(FlowError::Refused(
            "name at least one claim to show (--claim)".into(),
        ));
    }
    if request.valid_days == 0 || request.valid_days > MAX_VALID_DAYS {
        return Err(FlowError::Refused(format!(
            "--valid-days must be 1 to {MAX_VALID_DAYS}, not {}",
            request.valid_days
        )));
    }
    let mut order: Vec<Pubkey> = Vec::new();
    for s in request.selectors {
        if !order.contains(&s.attestation) {
            order.push(s.attestation);
        }
    }
    let mut opened: Vec<OpenedRecord> = Vec::with_capacity(order.len());
    for attestation in &order {
        let record = own.open(ctx, identity, attestation, None)?;
        let patient: Patient = ctx.account(&record.attestation.patient, "patient profile")?;
        if patient.authority != holder.pubkey() {
            return Err(FlowError::Refused(format!(
                "only the patient's current wallet {} can put claims of {attestation} on a passport",
                patient.authority
            )));
        }
        let issuer: Issuer = ctx.account(&record.attestation.issuer, "issuer")?;
        let view = ChainView {
            attestation: record.attestation.clone(),
            issuer,
            patient,
        };
        if let Err(e) = live_status(&view, request.now as i64) {
            return Err(FlowError::Refused(format!(
                "attestation {attestation} cannot go on a passport: {e}"
            )));
        }
        opened.push(record);
    }
    let sets = opened
        .iter()
        .map(|r| r.envelope.claim_set())
        .collect::<Result<Vec<_>, _>>()?;
    let mut selections = Vec::with_capacity(order.len());
    let mut facts = Vec::new();
    for ((attestation, set), record) in order.iter().zip(&sets).zip(&opened) {
        let mut indices = Vec::new();
        for s in request
            .selectors
            .iter()
            .filter(|s| s.attestation == *attestation)
        {
            let index = match &s.claim {
                Which::Index(i) => {
                    set.get(*i)?;
                    *i
                }
                Which::Name(name) => set.position(name).ok_or_else(|| {
                    FlowError::Refused(format!(
                        "attestation {attestation} has no claim named {name:?} (rekam claims {attestation} lists them)"
                    ))
                })?,
            };
            if !indices.contains(&index) {
                indices.push(index);
            }
        }
        indices.sort_unstable();
        for &index in &indices {
            let d = set.get(index)?;
            facts.push(ShownFact {
                id: format!("{attestation}#{index}"),
                name: d.name().into(),
                words: words::describe(d.name(), d.value()),
                issuer: record.attestation.issuer.to_string(),
            });
        }
        selections.push(Selection {
            attestation: *attestation,
            claims: set,
            indices,
        });
    }
    let valid_until = request.now + u64::from(request.valid_days) * 86_400;
    let card = pp::issue(
        &ctx.program_id(),
        &selections,
        request.now,
        valid_until,
        holder,
    )
    .map_err(|e| FlowError::Refused(e.to_string()))?;
    Ok(Created { card, facts })
}

/// Why an input is not a card that can be verified.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error(transparent)]
    Image(#[from] QrError),
    #[error(transparent)]
    Payload(#[from] PayloadError),
    #[error("this QR code holds a SMART Health Card (shc:/), not a Rekam passport")]
    SmartHealthCard,
    #[error("the QR code does not hold a Rekam passport")]
    OtherQr,
}

/// What a verifier was given: a PNG (its QR code is read), the text form, or the raw card.
pub fn read_card(input: &[u8]) -> Result<Card, ReadError> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if input.starts_with(PNG) {
        let content = pp::qr::decode_png(input)?;
        return parse_content(&content).map_err(|e| match e {
            ReadError::Payload(PayloadError::NotAPassport) => ReadError::OtherQr,
            other => other,
        });
    }
    parse_content(input)
}

fn parse_content(content: &[u8]) -> Result<Card, ReadError> {
    let trimmed = content.trim_ascii();
    if trimmed.starts_with(b"shc:/") {
        return Err(ReadError::SmartHealthCard);
    }
    if trimmed.starts_with(TEXT_PREFIX.as_bytes()) {
        let text = std::str::from_utf8(trimmed).map_err(|_| PayloadError::NotAPassport)?;
        return Ok(Card::from_text(text)?);
    }
    Ok(Card::from_bytes(content)?)
}

/// Verifies a card: offline always (by the verifier's clock `now`); live for every
/// attestation when `chain` is given, deciding expiry by the cluster's clock as the
/// program does.
pub fn verify_card(
    program: &Pubkey,
    chain: Option<&ChainClient>,
    card: Card,
    now: u64,
) -> PassportVerdict {
    let offline = verify::offline(card, program, now);
    let Some(chain) = chain else {
        return offline.finish_offline();
    };
    let views: Vec<Result<ChainView, PassportError>> = offline
        .card
        .body
        .attestations
        .iter()
        .map(|a| {
            chain_view(chain, &a.address).map_err(|e| match e {
                VerifyError::NoAttestation(_) => PassportError::NoAttestation(a.address),
                other => PassportError::Unreadable {
                    attestation: a.address,
                    reason: other.to_string(),
                },
            })
        })
        .collect();
    let cluster_now = chain.now().unwrap_or(now as i64);
    offline.finish_live(&views, cluster_now)
}
