//! `rekam audit`: the patient's trail of who read what, when and why, of every consent
//! granted and revoked, of break-glass access and of social recovery, rebuilt from
//! program accounts and (for recoveries, whose account closes) program events.

use anchor_lang::prelude::Pubkey;
use serde::Serialize;

use crate::app::{pubkey_arg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  rekam audit\n  rekam audit --patient <PATIENT> --output json")]
pub struct Args {
    /// Patient profile address (default: this wallet's).
    #[arg(long, value_parser = pubkey_arg)]
    pub patient: Option<Pubkey>,
}

#[derive(Serialize, Clone)]
pub struct Event {
    pub at: i64,
    pub event: &'static str,
    pub who: String,
    pub purpose: String,
    pub record: Option<String>,
    pub consent: String,
}

#[derive(Serialize)]
pub struct Trail {
    pub patient: String,
    pub events: Vec<Event>,
}

impl Render for Trail {
    fn text(&self) -> String {
        let mut out = format!("Audit trail of patient {}\n", self.patient);
        out.push_str(&format!(
            "  {:<20} {:<17} {:<45} {:<8} {}\n",
            "time (UTC)", "event", "who", "why", "record"
        ));
        for e in &self.events {
            out.push_str(&format!(
                "  {:<20} {:<17} {:<45} {:<8} {}\n",
                utc(e.at),
                e.event,
                e.who,
                e.purpose,
                e.record.as_deref().unwrap_or("-")
            ));
        }
        out.trim_end().to_string()
    }
}

/// Builds the trail from chain state: consents (grant, revoke) and access receipts.
pub fn trail(app: &App, patient: &Pubkey) -> anyhow::Result<Trail> {
    let mut events = Vec::new();
    for (consent_key, consent) in app.consents_of(patient)? {
        let purpose = consent.purpose.code().to_string();
        events.push(Event {
            at: consent.created_at,
            event: "grant",
            who: consent.grantee.to_string(),
            purpose: purpose.clone(),
            record: None,
            consent: consent_key.to_string(),
        });
        for (_, receipt) in app.receipts_of(&consent_key)? {
            events.push(Event {
                at: receipt.accessed_at,
                event: "read",
                who: receipt.accessor.to_string(),
                purpose: receipt.purpose.code().to_string(),
                record: Some(receipt.attestation.to_string()),
                consent: consent_key.to_string(),
            });
        }
        if consent.revoked_at != 0 {
            events.push(Event {
                at: consent.revoked_at,
                event: "revoke",
                who: consent.grantee.to_string(),
                purpose: purpose.clone(),
                record: None,
                consent: consent_key.to_string(),
            });
        }
    }
    // Break-glass steps, loudly: every request, approval, grant and early end.
    let requests = app
        .chain
        .list::<rekam::EmergencyRequest>(Some((crate::app::offsets::AFTER_HEADER, *patient)))?;
    for (key, r) in requests {
        let reason = r.reason.code().to_string();
        let mut push = |at: i64, event: &'static str, who: String| {
            events.push(Event {
                at,
                event,
                who,
                purpose: reason.clone(),
                record: None,
                consent: if r.granted_at != 0 {
                    r.consent.to_string()
                } else {
                    key.to_string()
                },
            })
        };
        push(r.requested_at, "EMERGENCY-REQUEST", r.requester.to_string());
        for a in &r.approvals {
            push(a.at, "EMERGENCY-APPROVE", a.guardian.to_string());
        }
        if r.granted_at != 0 {
            push(r.granted_at, "EMERGENCY-GRANT", r.requester.to_string());
        }
        if r.ended_at != 0 {
            push(r.ended_at, "EMERGENCY-END", r.requester.to_string());
        }
    }
    events.extend(recovery_events(app, patient)?);
    // Stable: events of one source within the same second keep their causal order.
    events.sort_by_key(|e| e.at);
    Ok(Trail {
        patient: patient.to_string(),
        events,
    })
}

/// Social recovery, from the history of the patient's recovery address: the account is
/// closed when a recovery is cancelled or executed, but the events stay in the
/// transactions (proposal, approvals, cancellation, the move to a new wallet).
fn recovery_events(app: &App, patient: &Pubkey) -> anyhow::Result<Vec<Event>> {
    use rekam::events::{PatientRecovered, RecoveryApproved, RecoveryCancelled, RecoveryProposed};

    let recovery = rekam_client::pda::recovery(&app.chain.program_id, patient);
    let mut events = Vec::new();
    for emitted in app.chain.events_touching(&recovery)? {
        let event = |event: &'static str, who: String| Event {
            at: emitted.block_time.unwrap_or_default(),
            event,
            who,
            purpose: "-".into(),
            record: None,
            consent: recovery.to_string(),
        };
        if let Some(e) = emitted.decode::<RecoveryProposed>() {
            if e.patient == *patient {
                events.push(event("RECOVERY-PROPOSE", e.proposer.to_string()));
            }
        } else if let Some(e) = emitted.decode::<RecoveryApproved>() {
            if e.recovery == recovery {
                events.push(event("RECOVERY-APPROVE", e.guardian.to_string()));
            }
        } else if let Some(e) = emitted.decode::<RecoveryCancelled>() {
            if e.patient == *patient {
                let by = emitted.fee_payer.map(|k| k.to_string());
                events.push(event("RECOVERY-CANCEL", by.unwrap_or_else(|| "-".into())));
            }
        } else if let Some(e) = emitted.decode::<PatientRecovered>() {
            if e.patient == *patient {
                events.push(event("RECOVERED", e.current.to_string()));
            }
        }
    }
    Ok(events)
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let patient = match args.patient {
        Some(key) => key,
        None => app.own_patient()?.0,
    };
    output::print(settings.output, &trail(&app, &patient)?)
}

/// `YYYY-MM-DD hh:mm:ss` of a Unix time (UTC), without a date-time dependency.
pub fn utc(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_unix_times_as_utc() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_795_305_600), "2026-11-22 00:00:00");
        assert_eq!(super::utc(951_782_400 + 3_661), "2000-02-29 01:01:01");
    }
}
