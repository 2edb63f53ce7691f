//! The patient closes an ended consent for its rent: first its access receipts (each
//! receipt's rent goes back to the reader who paid it), then the consent itself. The
//! audit trail stays in the ledger (`AccessRecorded`, and `ReceiptClosed` and
//! `ConsentClosed`, which repeat what the accounts held). Receipts already closed are
//! skipped, so a run cut short resumes.

use anchor_lang::prelude::Pubkey;
use rekam::{AccessReceipt, Consent, Patient};
use solana_signer::Signer;

use super::FlowError;
use crate::chain::ChainClient;
use crate::{ix, pda};

/// Receipts closed per transaction (each adds two accounts and an instruction).
pub const RECEIPTS_PER_TX: usize = 6;

#[derive(Debug)]
pub struct Closed {
    pub consent: Pubkey,
    /// Receipts closed now (their rent went to their readers).
    pub receipts_closed: usize,
    /// Receipts found already closed.
    pub receipts_already_closed: usize,
    pub signatures: Vec<String>,
}

/// Closes `consent_key` and its receipts as the patient whose wallet is `signer`.
pub fn close_consent(
    chain: &ChainClient,
    signer: &dyn Signer,
    consent_key: &Pubkey,
) -> Result<Closed, FlowError> {
    let pid = chain.program_id;
    let consent: Consent = chain.fetch(consent_key)?.ok_or(FlowError::Missing {
        what: "consent",
        key: *consent_key,
        url: chain.url(),
    })?;
    let patient: Patient = chain.fetch(&consent.patient)?.ok_or(FlowError::Missing {
        what: "patient profile",
        key: consent.patient,
        url: chain.url(),
    })?;
    if patient.authority != signer.pubkey() {
        return Err(FlowError::Refused(format!(
            "consent {consent_key} is not a consent of this wallet's patient profile; nothing was closed"
        )));
    }
    let now = chain.now()?;
    if consent.revoked_at == 0 && now < consent.expires_at {
        return Err(FlowError::Refused(format!(
            "consent {consent_key} has not ended (it expires at {}): revoke it first with `rekam consent revoke`; nothing was closed",
            consent.expires_at
        )));
    }
    let mut closes = Vec::new();
    let mut already = 0;
    for index in 0..consent.access_count {
        let key = pda::access_receipt(&pid, consent_key, index);
        match chain.fetch::<AccessReceipt>(&key)? {
            Some(receipt) => closes.push(ix::receipt_close(
                &pid,
                &signer.pubkey(),
                &consent.patient,
                consent.index,
                index,
                &receipt.accessor,
            )),
            None => already += 1,
        }
    }
    let mut signatures = Vec::new();
    for batch in closes.chunks(RECEIPTS_PER_TX) {
        signatures.push(chain.send(batch, signer, &[])?);
    }
    let close = ix::consent_close(&pid, &signer.pubkey(), &consent.patient, consent_key);
    signatures.push(chain.send(&[close], signer, &[])?);
    Ok(Closed {
        consent: *consent_key,
        receipts_closed: closes.len(),
        receipts_already_closed: already,
        signatures,
    })
}
