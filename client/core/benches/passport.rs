//! Passport sizes and verification cost, from the synthetic fixtures split and salted as
//! `rekam attest` does:
//!
//! 1. payload bytes and QR version (error correction M) for 1, 3 and 5 claims (the same
//!    claims as `client/cli/tests/passport.rs`: a vaccination, its date, the 18-or-older
//!    band, two lab values), with the margin below version 22 (779 bytes), against a SMART
//!    Health Card of the same facts (the same records' Immunization and lab Observations,
//!    built and signed as `rekam passport shc` does; SMART has no age band, so its card
//!    carries the birth date, as every SMART card does);
//! 2. offline verification of the 3-claim card (proofs, signature, dates);
//! 3. the live step's own work once the accounts are read (root, holder, status; the RPC
//!    reads themselves are three account fetches per attestation and the clock).
//!
//! Each time is a median over many calls, in several rounds, printed as min-max.
//!
//! Run: `cargo bench -p rekam-client --bench passport`.

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use rekam::{roles, Attestation, Issuer, Patient};
use rekam_client::claims::presentation::ChainView;
use rekam_client::claims::ClaimSet;
use rekam_client::commit::RecordSalt;
use rekam_client::passport::qr::{byte_capacity, Qr};
use rekam_client::passport::shc::{to_numeric, SigningKey, MAX_SINGLE_QR_JWS};
use rekam_client::passport::shc_payload::card_payload;
use rekam_client::passport::verify;
use rekam_client::passport::{issue, Selection};
use rekam_client::{fhir, parts};
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;

const ROUNDS: usize = 5;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/fhir/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(path).expect("fixture")
}

/// The record holding claim `name`, among the parts of a fixture, salted with `salt`, and
/// its Bundle.
fn record_with(file: &str, name: &str, salt: u8) -> (ClaimSet, rekam::AttestationKind, Value) {
    for part in parts::split(&fixture(file)).unwrap() {
        let summary = fhir::summarize_part(&part.bundle, part.kind).unwrap();
        let set = ClaimSet::issue(&RecordSalt::from_bytes([salt; 32]), &summary.facts).unwrap();
        if set.position(name).is_some() {
            let bundle = serde_json::from_slice(&part.bundle).unwrap();
            return (set, part.kind, bundle);
        }
    }
    panic!("no record of {file} holds {name}");
}

/// `bundle` with only its first `n` Observations (the facts `observation.0..n`).
fn first_observations(bundle: &Value, n: usize) -> Value {
    let mut seen = 0;
    let mut out = bundle.clone();
    out["entry"].as_array_mut().unwrap().retain(|e| {
        if e["resource"]["resourceType"] != "Observation" {
            return true;
        }
        seen += 1;
        seen <= n
    });
    out
}

/// JWS characters and QR version (error correction L, as SMART asks) of the SMART Health
/// Card of `bundles`.
fn smart_card(key: &SigningKey, bundles: &[Value], now: u64) -> (usize, i16, usize) {
    let card = card_payload(bundles, "https://clinic.example", now as i64).unwrap();
    let jws = key.sign_card(&card.payload);
    let qr = Qr::encode_shc(&to_numeric(&jws)).unwrap();
    (
        jws.len(),
        qr.version(),
        card.immunizations + card.lab_results,
    )
}

fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[n / 2]
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)))
}

fn account<T: anchor_lang::AccountDeserialize + Discriminator>(size: usize) -> T {
    let mut data = vec![0u8; size];
    data[..T::DISCRIMINATOR.len()].copy_from_slice(T::DISCRIMINATOR);
    T::try_deserialize_unchecked(&mut &data[..]).unwrap()
}

fn main() {
    let (vax, vax_kind, vax_bundle) =
        record_with("vaccination-influenza.json", "immunization.0", 1);
    let (lab, lab_kind, lab_bundle) = record_with("lab-hba1c.json", "observation.0", 2);
    let shc_key = SigningKey::generate();
    let smart_bundles = |n: usize| match n {
        1 => vec![vax_bundle.clone()],
        3 => vec![vax_bundle.clone(), first_observations(&lab_bundle, 1)],
        _ => vec![vax_bundle.clone(), first_observations(&lab_bundle, 2)],
    };
    let (vax_at, lab_at) = (Pubkey::new_unique(), Pubkey::new_unique());
    let at = |set: &ClaimSet, name: &str| set.position(name).unwrap();
    let holder = Keypair::new();
    let now = 1_795_305_600u64;
    let cards: Vec<(usize, Vec<Selection>)> = vec![
        (
            1,
            vec![Selection {
                attestation: vax_at,
                claims: &vax,
                indices: vec![at(&vax, "immunization.0")],
            }],
        ),
        (
            3,
            vec![
                Selection {
                    attestation: vax_at,
                    claims: &vax,
                    indices: vec![at(&vax, "immunization.0"), at(&vax, "age_over_18")],
                },
                Selection {
                    attestation: lab_at,
                    claims: &lab,
                    indices: vec![at(&lab, "observation.0")],
                },
            ],
        ),
        (
            5,
            vec![
                Selection {
                    attestation: vax_at,
                    claims: &vax,
                    indices: vec![
                        at(&vax, "immunization.0"),
                        at(&vax, "immunization.0.date"),
                        at(&vax, "age_over_18"),
                    ],
                },
                Selection {
                    attestation: lab_at,
                    claims: &lab,
                    indices: vec![at(&lab, "observation.0"), at(&lab, "observation.1")],
                },
            ],
        ),
    ];
    println!(
        "records: vaccination {} claims, lab {} claims; version 22 at M holds {} bytes",
        vax.count(),
        lab.count(),
        byte_capacity(22)
    );
    let mut three = None;
    for (n, selections) in &cards {
        let card = issue(&rekam::ID, selections, now, now + 30 * 86_400, &holder).unwrap();
        let bytes = card.to_bytes();
        let plain = card.body.to_bytes().len() + 64;
        let qr = Qr::encode(&bytes).unwrap();
        let nodes: usize = card.body.attestations.iter().map(|a| a.proof.len()).sum();
        println!(
            "{n} claim(s): {} bytes ({plain} before deflate, {nodes} proof nodes), QR version {} ({} modules), margin {} bytes below version 22",
            bytes.len(),
            qr.version(),
            qr.width(),
            qr.margin()
        );
        let (jws, version, resources) = smart_card(&shc_key, &smart_bundles(*n), now);
        println!(
            "  the SMART Health Card of the same facts: JWS {jws} characters, numeric QR version {version} at L ({resources} resources besides the Patient; {})",
            if jws <= MAX_SINGLE_QR_JWS { "one QR" } else { "over the single-QR limit" }
        );
        if *n == 3 {
            three = Some(card);
        }
    }

    let card = three.unwrap();
    let offline = verify::offline(card.clone(), &rekam::ID, now);
    assert!(offline.card_ok);
    let mut us = Vec::new();
    for _ in 0..ROUNDS {
        us.push(
            median(201, || {
                std::hint::black_box(verify::offline(card.clone(), &rekam::ID, now));
            })
            .as_secs_f64()
                * 1e6,
        );
    }
    let (lo, hi) = min_max(&us);
    println!("offline verify, 3 claims of 2 records: {lo:.0}-{hi:.0} us");

    let view = |set: &ClaimSet, kind| {
        let mut issuer: Issuer = account(Issuer::SIZE);
        issuer.roles = roles::CLINIC | roles::LAB;
        let mut patient: Patient = account(Patient::SIZE);
        patient.authority = holder.pubkey();
        let mut attestation: Attestation = account(Attestation::SIZE);
        attestation.kind = kind;
        attestation.claims_root = set.root();
        Ok(ChainView {
            attestation,
            issuer,
            patient,
        })
    };
    let views = [view(&vax, vax_kind), view(&lab, lab_kind)];
    let v = verify::offline(card.clone(), &rekam::ID, now).finish_live(&views, now as i64);
    assert!(v.verified, "{:?}", v.errors);
    let mut us = Vec::new();
    for _ in 0..ROUNDS {
        us.push(
            median(201, || {
                let o = verify::offline(card.clone(), &rekam::ID, now);
                std::hint::black_box(o.finish_live(&views, now as i64));
            })
            .as_secs_f64()
                * 1e6,
        );
    }
    let (lo, hi) = min_max(&us);
    println!("offline + live checks once the accounts are read (no RPC): {lo:.0}-{hi:.0} us");
}
