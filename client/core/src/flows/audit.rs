//! The patient's audit trail: who read what, when and why, every consent granted,
//! revoked and closed, break-glass access and social recovery. Rebuilt from program
//! accounts where they exist (so a pruned transaction history loses nothing), and from
//! program events where the accounts were closed: a recovery (closed when cancelled or
//! executed), a consent the patient closed for its rent, or receipts closed under a
//! consent that still exists. Events are read from the transactions that touched the
//! address, and only the program's own event self-CPIs count (`ChainClient::events_touching`).

use std::collections::BTreeSet;

use anchor_lang::prelude::Pubkey;
use rekam::events::{
    AccessRecorded, ConsentClosed, ConsentGranted, ConsentRevoked, PatientRecovered,
    RecoveryApproved, RecoveryCancelled, RecoveryProposed,
};
use rekam::{AccessReceipt, Consent, EmergencyRequest, Patient};
use serde::Serialize;

use super::{offsets, FlowError};
use crate::chain::ChainClient;
use crate::pda;

#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub at: i64,
    pub event: &'static str,
    pub who: String,
    pub purpose: String,
    pub record: Option<String>,
    pub consent: String,
}

#[derive(Serialize, Debug)]
pub struct Trail {
    pub patient: String,
    pub events: Vec<Event>,
}

/// The trail of `patient`, in time order.
pub fn trail(chain: &ChainClient, patient: &Pubkey) -> Result<Trail, FlowError> {
    let profile: Patient = chain.fetch(patient)?.ok_or(FlowError::Missing {
        what: "patient profile",
        key: *patient,
        url: chain.url(),
    })?;
    let mut events = Vec::new();
    let live = chain.list::<Consent>(Some((offsets::AFTER_HEADER, *patient)))?;
    let live_keys: BTreeSet<Pubkey> = live.iter().map(|(k, _)| *k).collect();
    for (key, consent) in &live {
        events.extend(live_consent(chain, key, consent)?);
    }
    // Consents the patient closed: their addresses follow from the index, their story
    // from their events.
    for index in 0..profile.consents_created {
        let key = pda::consent(&chain.program_id, patient, index);
        if !live_keys.contains(&key) {
            events.extend(closed_consent(chain, &key)?);
        }
    }
    events.extend(emergencies(chain, patient)?);
    events.extend(recoveries(chain, patient)?);
    // Stable: events of one source within the same second keep their causal order.
    events.sort_by_key(|e| e.at);
    Ok(Trail {
        patient: patient.to_string(),
        events,
    })
}

fn event(
    at: i64,
    event: &'static str,
    who: &Pubkey,
    purpose: &str,
    record: Option<&Pubkey>,
    consent: &Pubkey,
) -> Event {
    Event {
        at,
        event,
        who: who.to_string(),
        purpose: purpose.to_string(),
        record: record.map(|r| r.to_string()),
        consent: consent.to_string(),
    }
}

/// A consent that exists: grant and revocation from the account, reads from its
/// receipts, or from its events when some receipts were closed.
fn live_consent(chain: &ChainClient, key: &Pubkey, c: &Consent) -> Result<Vec<Event>, FlowError> {
    let purpose = c.purpose.code();
    let mut out = vec![event(c.created_at, "grant", &c.grantee, purpose, None, key)];
    let receipts = chain.list::<AccessReceipt>(Some((offsets::AFTER_HEADER, *key)))?;
    if receipts.len() as u64 == c.access_count {
        for (_, r) in receipts {
            out.push(event(
                r.accessed_at,
                "read",
                &r.accessor,
                r.purpose.code(),
                Some(&r.attestation),
                key,
            ));
        }
    } else {
        for emitted in chain.events_touching(key)? {
            if let Some(e) = emitted.decode::<AccessRecorded>() {
                if e.consent == *key {
                    out.push(event(
                        e.at,
                        "read",
                        &e.accessor,
                        e.purpose.code(),
                        Some(&e.attestation),
                        key,
                    ));
                }
            }
        }
    }
    if c.revoked_at != 0 {
        out.push(event(
            c.revoked_at,
            "revoke",
            &c.grantee,
            purpose,
            None,
            key,
        ));
    }
    Ok(out)
}

/// A consent closed for its rent: grant, reads, revocation and the close, from events.
fn closed_consent(chain: &ChainClient, key: &Pubkey) -> Result<Vec<Event>, FlowError> {
    let mut out = Vec::new();
    let mut grantee = None;
    for emitted in chain.events_touching(key)? {
        let at = emitted.block_time.unwrap_or_default();
        if let Some(e) = emitted.decode::<ConsentGranted>() {
            if e.consent == *key {
                grantee = Some((e.grantee, e.purpose.code()));
                out.push(event(at, "grant", &e.grantee, e.purpose.code(), None, key));
            }
        } else if let Some(e) = emitted.decode::<AccessRecorded>() {
            if e.consent == *key {
                out.push(event(
                    e.at,
                    "read",
                    &e.accessor,
                    e.purpose.code(),
                    Some(&e.attestation),
                    key,
                ));
            }
        } else if let Some(e) = emitted.decode::<ConsentRevoked>() {
            if let (true, Some((who, purpose))) = (e.consent == *key, grantee) {
                out.push(event(e.at, "revoke", &who, purpose, None, key));
            }
        } else if let Some(e) = emitted.decode::<ConsentClosed>() {
            if e.consent == *key {
                out.push(event(
                    e.closed_at,
                    "close",
                    &e.grantee,
                    e.purpose.code(),
                    None,
                    key,
                ));
            }
        }
    }
    Ok(out)
}

/// Break-glass steps, loudly: every request, approval, grant and early end.
fn emergencies(chain: &ChainClient, patient: &Pubkey) -> Result<Vec<Event>, FlowError> {
    let mut out = Vec::new();
    for (key, r) in chain.list::<EmergencyRequest>(Some((offsets::AFTER_HEADER, *patient)))? {
        let reason = r.reason.code();
        let consent = if r.granted_at != 0 { r.consent } else { key };
        out.push(event(
            r.requested_at,
            "EMERGENCY-REQUEST",
            &r.requester,
            reason,
            None,
            &consent,
        ));
        for a in &r.approvals {
            out.push(event(
                a.at,
                "EMERGENCY-APPROVE",
                &a.guardian,
                reason,
                None,
                &consent,
            ));
        }
        if r.granted_at != 0 {
            out.push(event(
                r.granted_at,
                "EMERGENCY-GRANT",
                &r.requester,
                reason,
                None,
                &consent,
            ));
        }
        if r.ended_at != 0 {
            out.push(event(
                r.ended_at,
                "EMERGENCY-END",
                &r.requester,
                reason,
                None,
                &consent,
            ));
        }
    }
    Ok(out)
}

/// Social recovery, from the history of the patient's recovery address: the account is
/// closed when a recovery is cancelled or executed, but the events stay in the
/// transactions (proposal, approvals, cancellation, the move to a new wallet).
fn recoveries(chain: &ChainClient, patient: &Pubkey) -> Result<Vec<Event>, FlowError> {
    let recovery = pda::recovery(&chain.program_id, patient);
    let mut out = Vec::new();
    for emitted in chain.events_touching(&recovery)? {
        let at = emitted.block_time.unwrap_or_default();
        let mut push = |name: &'static str, who: Option<Pubkey>| {
            out.push(Event {
                at,
                event: name,
                who: who.map_or_else(|| "-".into(), |k| k.to_string()),
                purpose: "-".into(),
                record: None,
                consent: recovery.to_string(),
            })
        };
        if let Some(e) = emitted.decode::<RecoveryProposed>() {
            if e.patient == *patient {
                push("RECOVERY-PROPOSE", Some(e.proposer));
            }
        } else if let Some(e) = emitted.decode::<RecoveryApproved>() {
            if e.recovery == recovery {
                push("RECOVERY-APPROVE", Some(e.guardian));
            }
        } else if let Some(e) = emitted.decode::<RecoveryCancelled>() {
            if e.patient == *patient {
                push("RECOVERY-CANCEL", emitted.fee_payer);
            }
        } else if let Some(e) = emitted.decode::<PatientRecovered>() {
            if e.patient == *patient {
                push("RECOVERED", Some(e.current));
            }
        }
    }
    Ok(out)
}
