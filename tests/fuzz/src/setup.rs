//! The template world's extra cast (guardians for the first patient) and the model's
//! starting state, written out by hand from what the `rekam-tests` helpers document
//! (a Scene, a Market): the periodic state comparison catches any mistake here at once.

use std::collections::{HashMap, HashSet};

use anchor_lang::prelude::Pubkey;
use rekam_tests::{ix, Market, TestIssuer, TestPatient, BUDGET, DAY, RESEARCHER_FUNDS, T0};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::model::*;

/// The first patient's guardians in the template: guardians 0, 1, 2 of the pool, 2 of 3,
/// over diagnoses and "other" records, 24 h emergencies, a 48 h recovery time lock.
fn template_guardians(keys: &[Keypair]) -> Guardians {
    Guardians {
        guardians: (0..3)
            .map(|i| keys[wallet::GUARDIAN0 + i].pubkey())
            .collect(),
        threshold: 2,
        scope_kinds: kind_bit(0) | kind_bit(5),
        scope_atts: vec![],
        max_secs: 24 * HOUR,
        timelock: 48 * HOUR,
        updated_at: T0,
        requested: 0,
    }
}

pub fn initial_model(
    m: &mut Market,
    keys: &[Keypair],
    lab: &TestIssuer,
    more: [&TestPatient; 2],
) -> Model {
    let pid = m.pid();
    assert_eq!(m.s.w.fx.now(), T0, "the template is built at T0");
    let g = template_guardians(keys);
    let args = rekam::GuardiansArgs {
        guardians: g.guardians.clone(),
        threshold: g.threshold,
        emergency_scope: rekam::ConsentScope {
            kinds: g.scope_kinds,
            attestations: vec![],
        },
        emergency_max_seconds: g.max_secs,
        recovery_timelock_seconds: g.timelock,
        key_grant: rekam::KeyGrant {
            hash: [7; 32],
            locator: "fuzz:guardians".into(),
        },
    };
    let p0 = m.s.patient_clone();
    let set = ix::guardians_set(&pid, &p0.authority.pubkey(), &p0.key, args);
    m.s.w
        .fx
        .send(&[set], &[&p0.authority])
        .expect("template guardians_set");

    let study: rekam::Study = m.s.w.fx.fetch(&m.study);
    let t = study.terms;
    let terms = Terms {
        price: t.price,
        max: t.max_contributions,
        per_patient: t.max_per_patient,
        per_issuer: t.max_per_issuer,
        kinds: t.criteria.kinds,
        roles: t.criteria.issuer_roles,
        from_day: t.criteria.issued_from_day,
        until_day: t.criteria.issued_until_day,
        deadline: t.deadline,
        data_use_until: t.data_use_until,
        key_set: true,
    };
    let scene_consent: rekam::Consent = m.s.w.fx.fetch(&m.s.consent);

    let mut patients = Vec::new();
    let all = [&m.s.patient, more[0], more[1]];
    for (i, p) in all.iter().enumerate() {
        patients.push(Patient {
            key: p.key,
            pseudonym: p.pseudonym,
            auth: wallet::PATIENT0 + i,
            old: vec![],
            consents: u64::from(i == 0),
            accesses: 0,
            guardians: (i == 0).then(|| g.clone()),
            recovery: None,
        });
    }
    let issuer = |key: Pubkey, auth: usize, roles: u8, issued: u64| Issuer {
        key,
        auth,
        roles,
        active: true,
        issued,
        changed_at: T0,
        void_from: 0,
        void_until: 0,
    };
    // The Scene's record treats yesterday; the Market's approval is dated today.
    let today = (T0 / DAY) as u16;
    Model {
        now: T0,
        wallets: keys.iter().map(|k| k.pubkey()).collect(),
        issuers: vec![
            issuer(m.s.clinic.key, wallet::CLINIC, role::CLINIC, 1),
            issuer(m.board.key, wallet::BOARD, role::ETHICS_BOARD, 1),
            issuer(lab.key, wallet::LAB, role::LAB, 0),
        ],
        patients,
        atts: vec![
            Att {
                key: m.s.record,
                kind: 0,
                issuer: 0,
                patient: Some(0),
                evidence: [0; 32],
                expires_on_day: 0,
                treatment_day: today - 1,
                issued_at: T0,
                revoked: false,
            },
            Att {
                key: study.ethics_approval,
                kind: ETHICS,
                issuer: 1,
                patient: None,
                evidence: [0; 32],
                expires_on_day: 0,
                treatment_day: today,
                issued_at: T0,
                revoked: false,
            },
        ],
        consents: vec![Consent::new(
            m.s.consent,
            0,
            0,
            m.s.doctor.pubkey(),
            0,
            (kind_bit(0), vec![]),
            (T0, T0 + 30 * DAY),
            scene_consent.key_grant.hash,
        )],
        studies: vec![Study {
            key: m.study,
            id: 1,
            approval: 1,
            terms,
            contributions: 0,
            closed: false,
            deposited: BUDGET,
            paid: 0,
            fees: 0,
            refunded: 0,
            escrow: BUDGET,
            paid_atts: HashSet::new(),
            per_patient: HashMap::new(),
            per_issuer: HashMap::new(),
        }],
        requests: vec![],
        ata: HashMap::new(),
        researcher_tokens: RESEARCHER_FUNDS - BUDGET,
        treasury: 0,
        fee_bps: 100,
        next_study_id: 2,
        gone: HashSet::new(),
    }
}
