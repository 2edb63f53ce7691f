//! Guardians in the real SVM: M-of-N thresholds, approval integrity, break-glass
//! emergency consents (scope, 72 h bound, early end, expiry) and social recovery with its
//! time lock, with the clock moved across every boundary. Every failure asserts its
//! exact error and that nothing changed.

use anchor_lang::error::ErrorCode as Anchor;
use rekam::events::{
    EmergencyApproved, EmergencyEnded, EmergencyGranted, EmergencyRequested, GuardiansSet,
    PatientRecovered, RecoveryApproved,
};
use rekam::{roles, Consent, EmergencyRequest, Patient, Purpose, RekamError};
use rekam_tests::*;
use solana_instruction::error::InstructionError;
use solana_signer::Signer;

// ---- guardian settings -----------------------------------------------------------------

/// A named change to valid guardian settings and the error it must cause.
type Case = (
    &'static str,
    Box<dyn Fn(&mut rekam::GuardiansArgs)>,
    RekamError,
);

#[test]
fn guardian_settings_are_validated() {
    let mut g = Guarded::new();
    let before = g.guardianship();
    let wallet = g.s.patient.authority.pubkey();
    let cases: Vec<Case> = vec![
        (
            "no guardians",
            Box::new(|a| a.guardians.clear()),
            RekamError::InvalidGuardians,
        ),
        (
            "eight guardians",
            Box::new(|a| a.guardians = (0..8).map(|_| random32().into()).collect()),
            RekamError::InvalidGuardians,
        ),
        (
            "threshold 0",
            Box::new(|a| a.threshold = 0),
            RekamError::InvalidGuardians,
        ),
        (
            "threshold above N",
            Box::new(|a| a.threshold = 4),
            RekamError::InvalidGuardians,
        ),
        (
            "a guardian twice",
            Box::new(|a| a.guardians[2] = a.guardians[0]),
            RekamError::InvalidGuardians,
        ),
        (
            "the patient guarding themself",
            Box::new(move |a| a.guardians[1] = wallet),
            RekamError::InvalidGuardians,
        ),
        (
            "the zero key",
            Box::new(|a| a.guardians[1] = Default::default()),
            RekamError::InvalidGuardians,
        ),
        (
            "no emergency time",
            Box::new(|a| a.emergency_max_seconds = 0),
            RekamError::InvalidEmergencyTerms,
        ),
        (
            "more than 72 hours",
            Box::new(|a| a.emergency_max_seconds = 72 * HOUR + 1),
            RekamError::InvalidEmergencyTerms,
        ),
        (
            "time lock under 24 hours",
            Box::new(|a| a.recovery_timelock_seconds = 24 * HOUR - 1),
            RekamError::InvalidTimelock,
        ),
        (
            "time lock over 30 days",
            Box::new(|a| a.recovery_timelock_seconds = 30 * 24 * HOUR + 1),
            RekamError::InvalidTimelock,
        ),
        (
            "empty emergency scope",
            Box::new(|a| a.emergency_scope = only(&[])),
            RekamError::EmptyScope,
        ),
        (
            "no key grant",
            Box::new(|a| a.key_grant.hash = [0; 32]),
            RekamError::InvalidKeyGrant,
        ),
    ];
    for (name, mutate, expected) in cases {
        let mut args = g.args(&[0, 1, 2], 2);
        mutate(&mut args);
        let (_, err) = instruction_error(g.change(args));
        assert_eq!(err, InstructionError::Custom(expected.code()), "{name}");
    }
    assert_eq!(g.guardianship(), before, "no invalid change was applied");

    // 72 hours exactly and the 24-hour time lock are allowed.
    let mut args = g.args(&[0, 1, 2], 3);
    args.emergency_max_seconds = 72 * HOUR;
    args.recovery_timelock_seconds = 24 * HOUR;
    let out = g.change(args).expect("boundaries accepted");
    let set = out.events::<GuardiansSet>(&g.pid());
    assert_eq!((set[0].guardians, set[0].threshold), (3, 3));
    // Only the patient sets guardians, and only once (then they change them).
    let stranger = g.s.w.fx.funded(SOL);
    let ix = ix::guardians_change(
        &g.pid(),
        &stranger.pubkey(),
        &g.s.patient.key,
        g.args(&[0], 1),
    );
    assert_rekam_error(
        g.s.w.fx.send(&[ix], &[&stranger]),
        RekamError::NotPatientAuthority,
    );
    let (_, err) = instruction_error(g.set(g.args(&[0], 1)));
    assert_eq!(err, InstructionError::Custom(0), "guardianship exists");
}

// ---- break-glass -----------------------------------------------------------------------

#[test]
fn exactly_m_approvals_grant_emergency_access() {
    for m in 1..=3u8 {
        let mut g = Guarded::new();
        g.change(g.args(&[0, 1, 2], m)).expect("threshold");
        let request = g.request();
        for i in 0..usize::from(m) - 1 {
            g.approve(i, &request).expect("approve");
        }
        if m > 1 {
            let last = usize::from(m) - 2;
            assert_rekam_error(g.activate(last, &request), RekamError::ThresholdNotMet);
        }
        g.approve(usize::from(m) - 1, &request)
            .expect("M-th approval");
        let consents = g.s.w.fx.fetch::<Patient>(&g.s.patient.key).consents_created;
        let out = g
            .activate(usize::from(m) - 1, &request)
            .expect("activate at M");
        let granted = out.events::<EmergencyGranted>(&g.pid());
        assert_eq!(granted.len(), 1, "m = {m}");
        let consent: Consent = g.s.w.fx.fetch(&granted[0].consent);
        assert_eq!(
            granted[0].consent,
            pda::consent(&g.pid(), &g.s.patient.key, consents)
        );
        assert_eq!(consent.grantee, g.s.clinic.authority.pubkey());
        assert_eq!(consent.purpose, Purpose::EmergencyTreatment);
        assert_eq!(consent.scope, only(&[g.summary]));
        assert_eq!(consent.expires_at - consent.starts_at, 12 * HOUR);
        let r: EmergencyRequest = g.s.w.fx.fetch(&request);
        assert_eq!(r.consent, granted[0].consent);
        // Granted once only.
        assert_rekam_error(
            g.activate(usize::from(m) - 1, &request),
            RekamError::EmergencyAlreadyGranted,
        );
    }
}

#[test]
fn approvals_count_once_and_only_from_current_guardians() {
    let mut g = Guarded::new();
    let request = g.request();
    // The same guardian twice: refused, and it still counts once.
    let out = g.approve(0, &request).expect("first");
    assert_eq!(out.events::<EmergencyApproved>(&g.pid())[0].approvals, 1);
    assert_rekam_error(g.approve(0, &request), RekamError::AlreadyApproved);
    assert_rekam_error(g.activate(0, &request), RekamError::ThresholdNotMet);
    // A stranger cannot approve or activate.
    let stranger = g.s.w.fx.funded(SOL);
    assert_rekam_error(g.approve_as(&stranger, &request), RekamError::NotGuardian);
    assert_rekam_error(g.activate_as(&stranger, &request), RekamError::NotGuardian);
    // Guardian 0 is removed (guardian 2 stays, a new one joins): their approval stops
    // counting at once.
    let newcomer = g.s.w.fx.funded(10 * SOL);
    g.guardians.push(newcomer.insecure_clone());
    g.change(g.args(&[1, 2, 3], 2)).expect("change guardians");
    g.approve(1, &request).expect("guardian 1");
    assert_rekam_error(g.activate(1, &request), RekamError::ThresholdNotMet);
    assert_rekam_error(g.approve(0, &request), RekamError::NotGuardian);
    let out = g.approve(3, &request).expect("the new guardian");
    assert_eq!(out.events::<EmergencyApproved>(&g.pid())[0].approvals, 2);
    g.activate(3, &request).expect("two current guardians");
}

#[test]
fn emergency_requests_and_consents_follow_the_clock() {
    let mut g = Guarded::new();
    // The approval window: open until approve_by (exclusive).
    let request = g.try_request(6 * HOUR, HOUR).expect("request");
    let approve_by = g.s.w.fx.fetch::<EmergencyRequest>(&request).approve_by;
    g.approve(0, &request).expect("in time");
    g.s.w.fx.set_time(approve_by - 1);
    g.approve(1, &request)
        .expect("one second before the window closes");
    g.s.w.fx.set_time(approve_by);
    assert_rekam_error(g.approve(2, &request), RekamError::RequestExpired);
    assert_rekam_error(g.activate(1, &request), RekamError::RequestExpired);
    assert_eq!(
        g.s.w.fx.fetch::<EmergencyRequest>(&request).granted_at,
        0,
        "an unapproved request expires without access"
    );

    // A granted consent ends by itself at its expiry.
    let (request, consent) = g.granted();
    let expires = g.s.w.fx.fetch::<Consent>(&consent).expires_at;
    let clinic = g.s.clinic.authority.insecure_clone();
    let (patient, summary) = (g.s.patient.key, g.summary);
    g.s.w.fx.set_time(expires - 1);
    g.s.w
        .access(
            &clinic,
            &patient,
            &consent,
            &summary,
            Purpose::EmergencyTreatment,
        )
        .expect("read before expiry, with a receipt");
    g.s.w.fx.set_time(expires);
    assert_rekam_error(
        g.s.w.access(
            &clinic,
            &patient,
            &consent,
            &summary,
            Purpose::EmergencyTreatment,
        ),
        RekamError::ConsentExpired,
    );
    let p = g.s.patient_clone();
    assert_rekam_error(
        g.end_as(&p.authority, &request, &consent),
        RekamError::EmergencyNotActive,
    );
    assert_eq!(g.s.w.fx.fetch::<Consent>(&consent).access_count, 1);
}

#[test]
fn emergency_access_is_bounded_in_time_and_scope() {
    let mut g = Guarded::new();
    // At most the patient's limit (24 h here), which is at most 72 h.
    assert_rekam_error(
        g.try_request(24 * HOUR + 1, HOUR),
        RekamError::InvalidEmergencyTerms,
    );
    assert_rekam_error(g.try_request(0, HOUR), RekamError::InvalidEmergencyTerms);
    assert_rekam_error(
        g.try_request(HOUR, 24 * HOUR + 1),
        RekamError::InvalidEmergencyTerms,
    );
    let long = g
        .try_request(24 * HOUR, 24 * HOUR)
        .expect("limits are inclusive");
    // The patient lowers the limit before the guardians approve: the grant follows it.
    let mut args = g.args(&[0, 1, 2], 2);
    args.emergency_max_seconds = 2 * HOUR;
    g.change(args).expect("lower the limit");
    g.approve(0, &long).expect("approve");
    g.approve(1, &long).expect("approve");
    let out = g.activate(1, &long).expect("activate");
    let granted = out.events::<EmergencyGranted>(&g.pid());
    let consent: Consent = g.s.w.fx.fetch(&granted[0].consent);
    assert_eq!(consent.expires_at - consent.starts_at, 2 * HOUR);
    g.change(g.args(&[0, 1, 2], 2)).expect("restore the limit");

    let (_, consent) = g.granted();
    let clinic = g.s.clinic.authority.insecure_clone();
    let (patient, summary, record) = (g.s.patient.key, g.summary, g.s.record);
    g.s.w
        .access(
            &clinic,
            &patient,
            &consent,
            &summary,
            Purpose::EmergencyTreatment,
        )
        .expect("the emergency summary");
    assert_rekam_error(
        g.s.w.access(
            &clinic,
            &patient,
            &consent,
            &record,
            Purpose::EmergencyTreatment,
        ),
        RekamError::OutOfScope,
    );
    assert_rekam_error(
        g.s.w
            .access(&clinic, &patient, &consent, &summary, Purpose::Treatment),
        RekamError::PurposeMismatch,
    );
    // Break-glass reads are not blocked by the record's status (docs/program.md,
    // access_record): the summary revoked by its issuer, then the issuer suspended.
    let pid = g.pid();
    let issuer = g.s.clinic.insecure_clone();
    g.s.w
        .fx
        .send(
            &[ix::attestation_revoke(
                &pid,
                &issuer.authority.pubkey(),
                &issuer.key,
                &summary,
            )],
            &[&issuer.authority],
        )
        .unwrap();
    let gov = g.s.w.governance.insecure_clone();
    g.s.w
        .fx
        .send(
            &[ix::issuer_suspend(&pid, &gov.pubkey(), &issuer.key)],
            &[&gov],
        )
        .unwrap();
    let before = g.s.w.fx.fetch::<Consent>(&consent).access_count;
    g.s.w
        .access(
            &clinic,
            &patient,
            &consent,
            &summary,
            Purpose::EmergencyTreatment,
        )
        .expect("an emergency read of a revoked record of a suspended issuer");
    assert_eq!(
        g.s.w.fx.fetch::<Consent>(&consent).access_count,
        before + 1,
        "with a receipt"
    );
    // Guardians cannot use it: the consent is the clinic's.
    let guardian = g.guardians[0].insecure_clone();
    assert_rekam_error(
        g.s.w.access(
            &guardian,
            &patient,
            &consent,
            &summary,
            Purpose::EmergencyTreatment,
        ),
        RekamError::NotGrantee,
    );
}

#[test]
fn the_patient_or_any_guardian_ends_emergency_access_early() {
    for ender in ["patient", "guardian"] {
        let mut g = Guarded::new();
        let (request, consent) = g.granted();
        let stranger = g.s.w.fx.funded(SOL);
        assert_rekam_error(
            g.end_as(&stranger, &request, &consent),
            RekamError::NotPatientOrGuardian,
        );
        let signer = match ender {
            "patient" => g.s.patient.authority.insecure_clone(),
            _ => g.guardians[2].insecure_clone(),
        };
        let out = g.end_as(&signer, &request, &consent).expect("end");
        let ended = out.events::<EmergencyEnded>(&g.pid());
        assert_eq!(ended[0].ended_by, signer.pubkey());
        let clinic = g.s.clinic.authority.insecure_clone();
        let (patient, summary) = (g.s.patient.key, g.summary);
        assert_rekam_error(
            g.s.w.access(
                &clinic,
                &patient,
                &consent,
                &summary,
                Purpose::EmergencyTreatment,
            ),
            RekamError::ConsentRevoked,
        );
        assert_rekam_error(
            g.end_as(&signer, &request, &consent),
            RekamError::EmergencyNotActive,
        );
    }
    // Ending a request that was never granted, or with another consent, is refused.
    let mut g = Guarded::new();
    let request = g.request();
    let p = g.s.patient_clone();
    let other = g.s.consent;
    assert_rekam_error(
        g.end_as(&p.authority, &request, &other),
        RekamError::EmergencyNotActive,
    );
}

#[test]
fn only_an_active_accredited_clinic_requests_emergency_access() {
    let mut g = Guarded::new();
    let pid = g.pid();
    let patient = g.s.patient.key;
    let index = g.guardianship().emergencies_requested;
    let args = rekam::EmergencyRequestArgs {
        reason: rekam::EmergencyReason::BreakTheGlass,
        duration_seconds: HOUR,
        approval_window_seconds: HOUR,
    };
    // A lab is accredited but is not a clinic.
    let lab = g.s.w.accredit(roles::LAB);
    let ix = ix::emergency_request(
        &pid,
        &lab.authority.pubkey(),
        &lab.key,
        &patient,
        index,
        args.clone(),
    );
    assert_rekam_error(
        g.s.w.fx.send(&[ix], &[&lab.authority]),
        RekamError::NotAClinic,
    );
    // Someone signing for the clinic without being its authority.
    let stranger = g.s.w.fx.funded(SOL);
    let ix = ix::emergency_request(
        &pid,
        &stranger.pubkey(),
        &g.s.clinic.key,
        &patient,
        index,
        args.clone(),
    );
    assert_rekam_error(
        g.s.w.fx.send(&[ix], &[&stranger]),
        RekamError::NotIssuerAuthority,
    );
    // A suspended clinic.
    let gov = g.s.w.governance.insecure_clone();
    g.s.w
        .fx
        .send(
            &[ix::issuer_suspend(&pid, &gov.pubkey(), &g.s.clinic.key)],
            &[&gov],
        )
        .expect("suspend");
    assert_rekam_error(g.try_request(HOUR, HOUR), RekamError::IssuerSuspended);
    // Suspended between the request and the approvals: no access is granted.
    g.s.w
        .fx
        .send(
            &[ix::issuer_reinstate(&pid, &gov.pubkey(), &g.s.clinic.key)],
            &[&gov],
        )
        .expect("reinstate");
    let request = g.request();
    g.approve(0, &request).expect("approve");
    g.approve(1, &request).expect("approve");
    g.s.w
        .fx
        .send(
            &[ix::issuer_suspend(&pid, &gov.pubkey(), &g.s.clinic.key)],
            &[&gov],
        )
        .expect("suspend again");
    assert_rekam_error(g.activate(1, &request), RekamError::IssuerSuspended);
    // A patient without guardians.
    let lonely = g.s.w.register_patient();
    let clinic2 = g.s.w.accredit(roles::CLINIC);
    let ix = ix::emergency_request(
        &pid,
        &clinic2.authority.pubkey(),
        &clinic2.key,
        &lonely.key,
        0,
        args,
    );
    assert_anchor_error(
        g.s.w.fx.send(&[ix], &[&clinic2.authority]),
        Anchor::AccountNotInitialized,
    );
    assert_eq!(
        g.guardianship().emergencies_requested,
        index + 1,
        "only the request made while the clinic was active"
    );
}

#[test]
fn every_emergency_step_is_an_event() {
    let mut g = Guarded::new();
    let pid = g.pid();
    let index = g.guardianship().emergencies_requested;
    let clinic = g.s.clinic.authority.insecure_clone();
    let ix = ix::emergency_request(
        &pid,
        &clinic.pubkey(),
        &g.s.clinic.key,
        &g.s.patient.key,
        index,
        rekam::EmergencyRequestArgs {
            reason: rekam::EmergencyReason::EmergencyTreatment,
            duration_seconds: HOUR,
            approval_window_seconds: HOUR,
        },
    );
    let out = g.s.w.fx.send(&[ix], &[&clinic]).expect("request");
    let requested = out.events::<EmergencyRequested>(&pid);
    assert_eq!(requested[0].patient, g.s.patient.key);
    assert_eq!(requested[0].reason.code(), "ETREAT");
    let request = requested[0].request;
    g.approve(0, &request).expect("approve");
    // The last approval and the activation in one transaction, as the CLI sends them.
    let last = g.guardians[1].insecure_clone();
    let consents = g.s.w.fx.fetch::<Patient>(&g.s.patient.key).consents_created;
    let ixs = [
        ix::emergency_approve(&pid, &last.pubkey(), &g.s.patient.key, &request),
        ix::emergency_activate(
            &pid,
            &last.pubkey(),
            &g.s.patient.key,
            &request,
            &g.s.clinic.key,
            consents,
            Market::copy_grant(),
        ),
    ];
    let out = g.s.w.fx.send(&ixs, &[&last]).expect("approve + activate");
    assert_eq!(out.events::<EmergencyApproved>(&pid).len(), 1);
    assert_eq!(out.events::<EmergencyGranted>(&pid).len(), 1);
    assert_eq!(
        out.events::<rekam::events::ConsentGranted>(&pid)[0].purpose,
        Purpose::EmergencyTreatment
    );
}

// ---- social recovery -------------------------------------------------------------------

#[test]
fn recovery_moves_authority_after_the_time_lock() {
    let mut g = Guarded::new();
    let pid = g.pid();
    let old = g.s.patient_clone();
    let new = g.s.w.fx.funded(SOL);
    let proposer = g.guardians[0].pubkey();

    assert_rekam_error(
        g.propose(0, &old.authority.pubkey()),
        RekamError::SameWallet,
    );
    let stranger = g.s.w.fx.funded(SOL);
    let ix = ix::recovery_propose(&pid, &stranger.pubkey(), &old.key, new.pubkey());
    assert_rekam_error(g.s.w.fx.send(&[ix], &[&stranger]), RekamError::NotGuardian);

    let out = g.propose(0, &new.pubkey()).expect("propose");
    assert_eq!(out.events::<RecoveryApproved>(&pid)[0].unlocks_at, 0);
    assert_rekam_error(g.execute(&new, &proposer), RekamError::ThresholdNotMet);
    let (_, err) = instruction_error(g.propose(1, &new.pubkey()));
    assert_eq!(err, InstructionError::Custom(0), "one recovery at a time");
    assert_rekam_error(g.approve_recovery(0), RekamError::AlreadyApproved);
    let out = g.approve_recovery(1).expect("second guardian");
    let unlocks_at = out.events::<RecoveryApproved>(&pid)[0].unlocks_at;
    assert_eq!(unlocks_at, g.s.w.fx.now() + 48 * HOUR);
    // A third approval does not restart the clock.
    g.approve_recovery(2).expect("third guardian");
    assert_eq!(g.recovery().unwrap().unlocks_at, unlocks_at);

    g.s.w.fx.set_time(unlocks_at - 1);
    assert_rekam_error(g.execute(&new, &proposer), RekamError::TimelockActive);
    assert_rekam_error(g.execute(&stranger, &proposer), RekamError::NotNewAuthority);
    g.s.w.fx.set_time(unlocks_at);
    let rent =
        g.s.w
            .fx
            .account(&pda::recovery(&pid, &old.key))
            .unwrap()
            .lamports;
    let proposer_before = g.s.w.fx.account(&proposer).unwrap().lamports;
    let out = g.execute(&new, &proposer).expect("execute");
    let recovered = out.events::<PatientRecovered>(&pid);
    assert_eq!(
        (recovered[0].previous, recovered[0].current),
        (old.authority.pubkey(), new.pubkey())
    );
    let profile: Patient = g.s.w.fx.fetch(&old.key);
    assert_eq!(profile.authority, new.pubkey());
    assert!(g.recovery().is_none(), "recovery closed");
    assert_eq!(
        g.s.w.fx.account(&proposer).unwrap().lamports,
        proposer_before + rent
    );

    // The old wallet lost control; the new one has it, over the same profile.
    let (doctor, consent) = (g.s.doctor.pubkey(), g.s.consent);
    let args = g.s.w.grant_args(
        &doctor,
        Purpose::Treatment,
        kinds(&[rekam::AttestationKind::Other]),
    );
    let ix = ix::consent_grant(
        &pid,
        &old.authority.pubkey(),
        &old.key,
        profile.consents_created,
        args.clone(),
    );
    assert_rekam_error(
        g.s.w.fx.send(&[ix], &[&old.authority]),
        RekamError::NotPatientAuthority,
    );
    let ix = ix::consent_grant(
        &pid,
        &new.pubkey(),
        &old.key,
        profile.consents_created,
        args,
    );
    g.s.w
        .fx
        .send(&[ix], &[&new])
        .expect("the new wallet grants");
    let ix = ix::consent_revoke(&pid, &new.pubkey(), &old.key, &consent);
    // Existing consents and attestations keep working: the doctor still reads, then the
    // new wallet can revoke the old consent.
    let doctor_kp = g.s.doctor.insecure_clone();
    let (patient, record) = (g.s.patient.key, g.s.record);
    g.s.w
        .access(&doctor_kp, &patient, &consent, &record, Purpose::Treatment)
        .expect("an existing consent survives recovery");
    g.s.w
        .fx
        .send(&[ix], &[&new])
        .expect("the new wallet revokes");
}

#[test]
fn the_current_wallet_cancels_a_recovery_during_its_time_lock() {
    let mut g = Guarded::new();
    let new = g.s.w.fx.funded(SOL);
    let proposer = g.guardians[1].pubkey();
    g.propose(1, &new.pubkey()).expect("propose");
    g.approve_recovery(2).expect("approve");
    let guardian = g.guardians[0].insecure_clone();
    assert_rekam_error(
        g.cancel_as(&guardian, &proposer),
        RekamError::RecoveryStillPending,
    );
    let stranger = g.s.w.fx.funded(SOL);
    assert_rekam_error(
        g.cancel_as(&stranger, &proposer),
        RekamError::NotPatientOrGuardian,
    );
    g.s.w.fx.advance(47 * HOUR);
    let p = g.s.patient_clone();
    g.cancel_as(&p.authority, &proposer).expect("cancel");
    assert!(g.recovery().is_none());
    g.s.w.fx.advance(2 * HOUR);
    // Closed: nothing left to approve or execute, and the patient keeps their wallet.
    assert_anchor_error(g.approve_recovery(0), Anchor::AccountNotInitialized);
    assert_anchor_error(g.execute(&new, &proposer), Anchor::AccountNotInitialized);
    assert_eq!(
        g.s.w.fx.fetch::<Patient>(&p.key).authority,
        p.authority.pubkey()
    );
    // A fresh proposal starts from zero approvals.
    g.propose(0, &new.pubkey()).expect("new proposal");
    assert_eq!(g.recovery().unwrap().approvals.len(), 1);
    assert_eq!(g.recovery().unwrap().unlocks_at, 0);
}

#[test]
fn removing_guardians_stops_a_recovery_and_a_recovery_reads_nothing() {
    let mut g = Guarded::new();
    let new = g.s.w.fx.funded(SOL);
    let proposer = g.guardians[0].pubkey();
    g.propose(0, &new.pubkey()).expect("propose");
    g.approve_recovery(1).expect("approve");
    let unlocks_at = g.recovery().unwrap().unlocks_at;
    // The patient (who still has the wallet) removes guardian 1.
    g.change(g.args(&[0, 2], 2)).expect("change");
    g.s.w.fx.set_time(unlocks_at);
    assert_rekam_error(g.execute(&new, &proposer), RekamError::RecoveryLockVoid);
    let outsider = g.guardians[1].insecure_clone();
    assert_rekam_error(g.approve_recovery_as(&outsider), RekamError::NotGuardian);
    // A recovery creates no consent: neither the guardians nor the new wallet can read.
    let consents_before = g.s.w.fx.fetch::<Patient>(&g.s.patient.key).consents_created;
    g.approve_recovery(2).expect("approve");
    g.s.w.fx.advance(48 * HOUR);
    g.execute(&new, &proposer).expect("execute");
    assert_eq!(
        g.s.w.fx.fetch::<Patient>(&g.s.patient.key).consents_created,
        consents_before
    );
    let (patient, consent, record) = (g.s.patient.key, g.s.consent, g.s.record);
    for reader in [new.insecure_clone(), g.guardians[0].insecure_clone()] {
        assert_rekam_error(
            g.s.w
                .access(&reader, &patient, &consent, &record, Purpose::Treatment),
            RekamError::NotGrantee,
        );
    }
}

#[test]
fn a_lone_guardian_cannot_block_recovery_with_a_wrong_proposal() {
    let mut g = Guarded::new();
    let wrong = g.s.w.fx.funded(SOL);
    let right = g.s.w.fx.funded(SOL);
    let rogue = g.guardians[2].pubkey();
    g.propose(2, &wrong.pubkey()).expect("a rogue proposal");
    let proposed_at = g.recovery().unwrap().proposed_at;
    // While it may still gather approvals, honest guardians cannot clear it...
    let honest = g.guardians[0].insecure_clone();
    g.s.w.fx.set_time(proposed_at + 48 * HOUR - 1);
    assert_rekam_error(
        g.cancel_as(&honest, &rogue),
        RekamError::RecoveryStillPending,
    );
    // ...once it has failed to reach the threshold within one time lock, they can.
    g.s.w.fx.set_time(proposed_at + 48 * HOUR);
    g.cancel_as(&honest, &rogue)
        .expect("clear the stale proposal");
    assert!(g.recovery().is_none());
    g.propose(0, &right.pubkey()).expect("the honest proposal");
    g.approve_recovery(1).expect("second honest guardian");
    g.s.w.fx.advance(48 * HOUR);
    let proposer = g.guardians[0].pubkey();
    g.execute(&right, &proposer)
        .expect("recovered to the right wallet");
    assert_eq!(
        g.s.w.fx.fetch::<Patient>(&g.s.patient.key).authority,
        right.pubkey()
    );
    // A proposal that reached the threshold is never stale for guardians.
    let mut g = Guarded::new();
    let new = g.s.w.fx.funded(SOL);
    g.propose(0, &new.pubkey()).expect("propose");
    g.approve_recovery(1).expect("approve");
    g.s.w.fx.advance(100 * HOUR);
    let other = g.guardians[2].insecure_clone();
    let proposer = g.guardians[0].pubkey();
    assert_rekam_error(
        g.cancel_as(&other, &proposer),
        RekamError::RecoveryStillPending,
    );
}

// ---- attack classes on guardian accounts -------------------------------------------------

#[test]
fn guardian_accounts_are_not_interchangeable() {
    let mut g = Guarded::new();
    let pid = g.pid();
    let request = g.request();
    // Another patient's guardianship with this patient's request.
    let other = g.s.w.register_patient();
    let args = g.args(&[0, 1], 1);
    let ix = ix::guardians_set(&pid, &other.authority.pubkey(), &other.key, args);
    g.s.w
        .fx
        .send(&[ix], &[&other.authority])
        .expect("other guardians");
    let mut ix = ix::emergency_approve(&pid, &g.guardians[0].pubkey(), &g.s.patient.key, &request);
    ix.accounts[1].pubkey = pda::guardianship(&pid, &other.key);
    let g0 = g.guardians[0].insecure_clone();
    assert_rekam_error(g.s.w.fx.send(&[ix], &[&g0]), RekamError::PatientMismatch);
    // Missing signature.
    let mut ix = ix::emergency_approve(&pid, &g0.pubkey(), &g.s.patient.key, &request);
    ix.accounts[0].is_signer = false;
    assert_anchor_error(g.s.w.fx.send(&[ix], &[]), Anchor::AccountNotSigner);
    // Type cosplay: a consent where the request goes, a request where the guardianship goes.
    let consent = g.s.consent;
    let ix = ix::emergency_approve(&pid, &g0.pubkey(), &g.s.patient.key, &consent);
    assert_anchor_error(
        g.s.w.fx.send(&[ix], &[&g0]),
        Anchor::AccountDiscriminatorMismatch,
    );
    let mut ix = ix::emergency_approve(&pid, &g0.pubkey(), &g.s.patient.key, &request);
    ix.accounts[1].pubkey = request;
    assert_anchor_error(
        g.s.w.fx.send(&[ix], &[&g0]),
        Anchor::AccountDiscriminatorMismatch,
    );
    // Wrong owner.
    let key = pda::guardianship(&pid, &g.s.patient.key);
    let mut forged = g.s.w.fx.account(&key).unwrap();
    forged.owner = anchor_lang::system_program::ID;
    g.s.w.fx.put(key, forged);
    assert_anchor_error(g.approve(0, &request), Anchor::AccountOwnedByWrongProgram);
    assert!(g
        .s
        .w
        .fx
        .fetch::<EmergencyRequest>(&request)
        .approvals
        .is_empty());
}

/// Audit finding 6: a clinic that is also one of the patient's guardians could approve its
/// own emergency, and after the clinic rotated its keys the emergency consent went to the
/// old wallet. Both are refused now, and nothing is granted.
#[test]
fn a_clinic_cannot_approve_its_own_emergency_nor_activate_for_an_old_wallet() {
    let mut g = Guarded::new();
    let clinic = g.s.clinic.authority.insecure_clone();
    // The clinic's wallet is named a guardian (with two others, threshold 2).
    let mut args = g.args(&[0, 1], 2);
    args.guardians.push(clinic.pubkey());
    g.change(args).expect("the clinic guards too");
    let request = g.request();
    assert_rekam_error(
        g.approve_as(&clinic, &request),
        RekamError::RequesterCannotApprove,
    );
    g.approve(0, &request).expect("approve");
    assert_rekam_error(
        g.activate_as(&clinic, &request),
        RekamError::ThresholdNotMet,
    );
    g.approve(1, &request).expect("approve");
    assert_rekam_error(
        g.activate_as(&clinic, &request),
        RekamError::RequesterCannotApprove,
    );
    let r: EmergencyRequest = g.s.w.fx.fetch(&request);
    assert!(!r.is_granted());

    // The clinic rotates to a new wallet: activation for the old one is refused.
    let pid = g.pid();
    let new_wallet = g.s.w.fx.funded(SOL);
    let issuer = g.s.clinic.key;
    g.s.w
        .fx
        .send(
            &[ix::issuer_rotate_keys(
                &pid,
                &clinic.pubkey(),
                &new_wallet.pubkey(),
                &issuer,
                random32(),
            )],
            &[&clinic, &new_wallet],
        )
        .expect("rotate");
    assert_rekam_error(
        g.activate(0, &request),
        RekamError::RequesterNotIssuerAuthority,
    );
    let r: EmergencyRequest = g.s.w.fx.fetch(&request);
    assert!(!r.is_granted(), "nothing granted");
}
