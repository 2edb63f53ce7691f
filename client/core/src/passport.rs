//! The digital health passport: chosen facts of a patient's records in one QR code, with
//! their proofs, the attestation addresses and the holder's signature, checked offline and
//! then live against the chain. Format and verification steps: `docs/passport.md`.
//!
//! - [`payload`]: the compact binary card and its text form.
//! - [`multiproof`]: one proof for several claims of the same tree.
//! - [`verify`]: the offline checks and the live ones, as one verdict per fact.
//! - [`qr`]: the card as a QR code (PNG, SVG) and back from an image.
//! - [`card`]: a printable SVG card with the facts in words.
//! - [`shc`]: SMART Health Cards (ES256 JWS, `shc:/` numeric QR), for export;
//!   [`shc_payload`]: the FHIR content such a card carries.

pub mod card;
pub mod multiproof;
pub mod payload;
pub mod qr;
pub mod shc;
pub mod shc_payload;
pub mod verify;

use anchor_lang::prelude::Pubkey;
use solana_signer::Signer;

use crate::claims::{ClaimError, ClaimSet, Disclosure};
pub use payload::{Body, Card, PayloadError, ShownAttestation, ShownClaim};

/// The claims to show from one attestation's record.
pub struct Selection<'a> {
    pub attestation: Pubkey,
    pub claims: &'a ClaimSet,
    /// Indices into `claims`, any order; repeats are shown once.
    pub indices: Vec<u32>,
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error(transparent)]
    Claims(#[from] ClaimError),
    #[error(transparent)]
    Proof(#[from] multiproof::MultiproofError),
    #[error("attestation {0} is named twice; name all its claims under one selection")]
    Repeated(Pubkey),
    #[error("the holder's wallet could not sign: {0}")]
    Signer(String),
}

/// Builds and signs a card (the patient's side): `holder` must be the patient profile's
/// current authority, or the live check turns every fact red.
pub fn issue(
    program: &Pubkey,
    selections: &[Selection],
    issued_at: u64,
    valid_until: u64,
    holder: &dyn Signer,
) -> Result<Card, IssueError> {
    let mut attestations: Vec<ShownAttestation> = Vec::with_capacity(selections.len());
    for s in selections {
        if attestations.iter().any(|a| a.address == s.attestation) {
            return Err(IssueError::Repeated(s.attestation));
        }
        let mut indices = s.indices.clone();
        indices.sort_unstable();
        indices.dedup();
        let claims = indices
            .iter()
            .map(|&index| {
                let d = s.claims.get(index)?;
                Ok(ShownClaim {
                    index,
                    json: disclosure_json(d),
                })
            })
            .collect::<Result<Vec<_>, ClaimError>>()?;
        let digests: Vec<_> = s
            .claims
            .disclosures()
            .iter()
            .map(Disclosure::digest)
            .collect();
        attestations.push(ShownAttestation {
            address: s.attestation,
            count: s.claims.count(),
            claims,
            proof: multiproof::prove(&digests, &indices)?,
        });
    }
    let body = Body {
        holder: holder.pubkey(),
        issued_at,
        valid_until,
        attestations,
    };
    let signature = holder
        .try_sign_message(&body.signing_message(program))
        .map_err(|e| IssueError::Signer(e.to_string()))?;
    Ok(Card {
        body,
        signature: signature.into(),
    })
}

/// The JSON text inside a disclosure (its base64url decoded): what a card carries.
fn disclosure_json(d: &Disclosure) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(d.encoded())
        .expect("a parsed disclosure is base64url")
}

/// `YYYY-MM-DD` (UTC) of unix seconds, for people reading a card.
pub fn date(unix: u64) -> String {
    // Days to a civil date (the proleptic Gregorian calendar), after H. Hinnant.
    let z = (unix / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        assert_eq!(super::date(0), "1970-01-01");
        assert_eq!(super::date(951_782_400), "2000-02-29");
        assert_eq!(super::date(1_798_761_599), "2026-12-31");
        assert_eq!(super::date(1_798_761_600), "2027-01-01");
    }
}
