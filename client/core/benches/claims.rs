//! Claims costs, as ratios to a baseline measured in the same run:
//!
//! 1. validate + extract the facts + build the claims tree for a whole-stay Bundle
//!    (~700 resources, built from the synthetic fixtures) against a bare
//!    `serde_json::from_slice::<Value>` of the same bytes (goal: at most 3x);
//! 2. offline verification of a 10-claim presentation (goal: at most 1 ms);
//! 3. the proof size for one claim of 1,000.
//!
//! Each figure is measured in several rounds, the two sides of a ratio interleaved in
//! every round, and printed as min-max over the rounds.
//!
//! Run: `cargo bench -p rekam-client --bench claims`.

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use rekam::{roles, Attestation, Issuer, Patient};
use rekam_client::claims::presentation::{ChainView, Expect, Presentation};
use rekam_client::claims::ClaimSet;
use rekam_client::commit::RecordSalt;
use rekam_client::fhir::{self, facts::Fact};
use serde_json::{json, Value};
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

/// A whole-stay Bundle: the emergency summary's people and encounter, then its clinical
/// entries (and the lab fixture's) repeated with fresh ids until `entries` resources.
fn whole_stay(entries: usize) -> Vec<u8> {
    let base: Value = serde_json::from_slice(&fixture("emergency-summary.json")).unwrap();
    let lab: Value = serde_json::from_slice(&fixture("lab-hba1c.json")).unwrap();
    let all = base["entry"].as_array().unwrap();
    let keep = ["Patient", "Practitioner", "Encounter"];
    let mut out: Vec<Value> = all
        .iter()
        .filter(|e| keep.contains(&e["resource"]["resourceType"].as_str().unwrap_or("")))
        .cloned()
        .collect();
    let clinical: Vec<Value> = all
        .iter()
        .chain(lab["entry"].as_array().unwrap())
        .filter(|e| {
            let rt = e["resource"]["resourceType"].as_str().unwrap_or("");
            !keep.contains(&rt) && rt != "DiagnosticReport"
        })
        .cloned()
        .collect();
    let mut n = 0u64;
    while out.len() < entries {
        let mut e = clinical[n as usize % clinical.len()].clone();
        let id = format!("00000000-0000-4000-8000-{n:012x}");
        e["fullUrl"] = json!(format!("urn:uuid:{id}"));
        e["resource"]["id"] = json!(id);
        // Lab entries point at the lab fixture's patient: re-point them at this one.
        for field in ["subject", "patient"] {
            if e["resource"].get(field).is_some() {
                e["resource"][field] = json!({"reference": out[0]["fullUrl"]});
            }
        }
        if e["resource"].get("encounter").is_some() {
            let enc = out
                .iter()
                .find(|x| x["resource"]["resourceType"] == "Encounter")
                .unwrap();
            e["resource"]["encounter"] = json!({"reference": enc["fullUrl"]});
        }
        // References to people and to other repeated entries are dropped, not dangled.
        let resource = e["resource"].as_object_mut().unwrap();
        for field in [
            "performer",
            "requester",
            "recorder",
            "asserter",
            "hasMember",
            "derivedFrom",
        ] {
            resource.remove(field);
        }
        out.push(e);
        n += 1;
    }
    let mut bundle = base.clone();
    bundle["entry"] = Value::Array(out);
    serde_json::to_vec_pretty(&bundle).unwrap()
}

fn time(mut f: impl FnMut()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

/// Median time of `f` over `n` calls.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n).map(|_| time(&mut f)).collect();
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
    // 1. Validate + extract + tree vs a bare parse.
    let bytes = whole_stay(700);
    let summary = fhir::summarize(&bytes).expect("the whole-stay Bundle is valid");
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let salt = RecordSalt::from_bytes([3; 32]);
    let mut ratios = Vec::new();
    let mut parse_ms = Vec::new();
    let mut full_ms = Vec::new();
    for _ in 0..ROUNDS {
        let parse = median(5, || {
            std::hint::black_box(serde_json::from_slice::<Value>(&bytes).unwrap());
        });
        let full = median(5, || {
            let s = fhir::summarize(std::hint::black_box(&bytes)).unwrap();
            std::hint::black_box(ClaimSet::issue(&salt, &s.facts).unwrap().root());
        });
        ratios.push(full.as_secs_f64() / parse.as_secs_f64());
        parse_ms.push(parse.as_secs_f64() * 1e3);
        full_ms.push(full.as_secs_f64() * 1e3);
    }
    let (lo, hi) = min_max(&ratios);
    let (plo, phi) = min_max(&parse_ms);
    let (flo, fhi) = min_max(&full_ms);
    println!(
        "whole-stay Bundle: {} bytes, {} resources, {} claims",
        bytes.len(),
        700,
        summary.facts.len()
    );
    println!("  serde_json parse                  {plo:.2}-{phi:.2} ms");
    println!("  validate + extract + claims tree  {flo:.2}-{fhi:.2} ms");
    println!("  ratio                             {lo:.2}-{hi:.2}x (goal <= 3x), {ROUNDS} rounds");

    // 2. Offline verification of a 10-claim presentation.
    let claims = ClaimSet::issue(&salt, &summary.facts).unwrap();
    let holder = Keypair::new();
    let mut issuer: Issuer = account(Issuer::SIZE);
    issuer.roles = roles::CLINIC;
    let mut patient: Patient = account(Patient::SIZE);
    patient.authority = holder.pubkey();
    let mut attestation: Attestation = account(Attestation::SIZE);
    attestation.kind = summary.kind;
    attestation.claims_root = claims.root();
    let view = ChainView {
        attestation,
        issuer,
        patient,
    };
    let now = 1_795_305_600;
    let indices: Vec<u32> = (0..10).map(|i| i * 37 % claims.count()).collect();
    let p = Presentation::create(
        &rekam::ID,
        &Pubkey::new_unique(),
        &claims,
        &indices,
        "pharmacy.example",
        "n",
        now,
        &holder,
    )
    .unwrap();
    let expect = Expect {
        audience: Some("pharmacy.example".into()),
        nonce: Some("n".into()),
        now,
        max_age: 600,
    };
    assert!(p.verify(&rekam::ID, &view, &expect).verified);
    let mut us = Vec::new();
    for _ in 0..ROUNDS {
        us.push(
            median(201, || {
                std::hint::black_box(p.verify(&rekam::ID, &view, &expect));
            })
            .as_secs_f64()
                * 1e6,
        );
    }
    let (lo, hi) = min_max(&us);
    println!(
        "presentation verify, 10 claims of {} (offline, no RPC): {lo:.0}-{hi:.0} us (goal <= 1000 us)",
        claims.count()
    );

    // 3. Proof size for one claim of 1,000.
    let facts: Vec<Fact> = (0..1000)
        .map(|i| Fact {
            name: format!("observation.{i}"),
            value: json!({"code": "http://loinc.org|8867-4", "value": 60 + i % 40, "unit": "/min"}),
            entry: Some(i),
        })
        .collect();
    let big = ClaimSet::issue(&salt, &facts).unwrap();
    let proof = big.proof(777).unwrap();
    println!(
        "one claim of 1000: {} siblings = {} proof bytes, disclosure {} bytes",
        proof.len(),
        32 * proof.len(),
        big.get(777).unwrap().encoded().len()
    );
}
