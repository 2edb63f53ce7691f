//! The health passport end to end through the real `rekam` binary against `rekam
//! localnet`: the patient puts one vaccination, an age band and a lab value on one QR
//! code; a verifier reads it from the PNG, from a photo-like copy and from its text, and
//! sees green; then every refusal with its own message (an unreadable image, a QR code
//! that is not a passport, a truncated or altered payload, a claim of another patient, an
//! expired card, a revoked or expired attestation, a suspended issuer).

mod common;

use std::path::Path;
use std::process::Command;

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;

use common::refusals::{accredit, start_net};
use common::*;
use rekam_client::passport::qr::{read_grey_png, write_grey_png, Qr};
use rekam_client::passport::Card;
use serde_json::Value;
use solana_signer::Signer;

/// A copy of a QR PNG as a phone camera might deliver it: colour, on a larger grey
/// background with uneven light, turned by 5 degrees, scaled to 80 %, lower contrast,
/// noise and a slight blur.
fn photo_like(png: &[u8]) -> Vec<u8> {
    let (w, h, src) = read_grey_png(png).unwrap();
    let side = w * 13 / 10;
    let (theta, scale) = (5f64.to_radians(), 0.8);
    let (cx, cy) = (side as f64 / 2.0, side as f64 / 2.0);
    let sample = |x: f64, y: f64| -> Option<f64> {
        if x < 0.0 || y < 0.0 || x >= (w - 1) as f64 || y >= (h - 1) as f64 {
            return None;
        }
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (fx, fy) = (x - x0 as f64, y - y0 as f64);
        let p = |xx: usize, yy: usize| src[yy * w + xx] as f64;
        Some(
            p(x0, y0) * (1.0 - fx) * (1.0 - fy)
                + p(x0 + 1, y0) * fx * (1.0 - fy)
                + p(x0, y0 + 1) * (1.0 - fx) * fy
                + p(x0 + 1, y0 + 1) * fx * fy,
        )
    };
    let mut seed: u32 = 12345;
    let mut grey = vec![0f64; side * side];
    for v in 0..side {
        for u in 0..side {
            let (dx, dy) = (u as f64 - cx, v as f64 - cy);
            let sx = (dx * theta.cos() + dy * theta.sin()) / scale + w as f64 / 2.0;
            let sy = (-dx * theta.sin() + dy * theta.cos()) / scale + h as f64 / 2.0;
            let light = 0.8 + 0.2 * (u as f64 / side as f64);
            let value = match sample(sx, sy) {
                Some(s) => 45.0 + s * (205.0 - 45.0) / 255.0,
                None => 150.0,
            } * light;
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let noise = ((seed >> 16) % 21) as f64 - 10.0;
            grey[v * side + u] = value + noise;
        }
    }
    let mut rgb = Vec::with_capacity(side * side * 3);
    for v in 0..side {
        for u in 0..side {
            let mut sum = 0.0;
            let mut n = 0.0;
            for (du, dv) in [(0i64, 0i64), (1, 0), (-1, 0), (0, 1), (0, -1)] {
                let (uu, vv) = (u as i64 + du, v as i64 + dv);
                if uu >= 0 && vv >= 0 && (uu as usize) < side && (vv as usize) < side {
                    sum += grey[vv as usize * side + uu as usize];
                    n += 1.0;
                }
            }
            let g = (sum / n).clamp(0.0, 255.0);
            // A warm tint, as indoor light gives.
            rgb.extend_from_slice(&[
                (g * 1.0).min(255.0) as u8,
                (g * 0.93) as u8,
                (g * 0.82) as u8,
            ]);
        }
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&rgb).unwrap();
    writer.finish().unwrap();
    out
}

/// The claim id of the claim named `name` in `listing` (from `rekam claims`).
fn claim_named(listing: &Value, name: &str) -> String {
    let claims = listing["claims"].as_array().unwrap();
    s(
        claims
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| {
                panic!("no claim {name} in {listing}");
            }),
        "id",
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

#[test]
fn passport_create_verify_and_every_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let (validator, url, rpc, env, _store) = start_net(dir.path());
    let (gov_kp, gov) = actor(dir.path(), "governance", &rpc, &url, &env);
    let (clinic_kp, clinic) = actor(dir.path(), "clinic", &rpc, &url, &env);
    let (patient_kp, patient) = actor(dir.path(), "patient", &rpc, &url, &env);
    let (_, verifier) = actor(dir.path(), "verifier", &rpc, &url, &env);
    let (mallory_kp, mallory) = actor(dir.path(), "mallory", &rpc, &url, &env);

    let (mint, _) = create_mint_and_account(&rpc, &gov_kp);
    gov.ok(&[
        "init",
        "--treasury-mint",
        &mint.to_string(),
        "--fee-bps",
        "100",
    ]);
    let issuer = accredit(&gov, "CLINIC-P", &clinic_kp, &clinic, "clinic,lab");
    let patient_profile = s(&patient.ok(&["patient", "register"]), "patient");
    mallory.ok(&["patient", "register"]);
    let attest = |file: &str, extra: &[&str]| -> Vec<String> {
        let path = fixtures().join(file);
        let mut args = vec![
            "attest",
            path.to_str().unwrap(),
            "--patient",
            &patient_profile,
        ];
        args.extend_from_slice(extra);
        clinic.ok(&args)["attested"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| s(a, "attestation"))
            .collect()
    };
    // The vaccination Bundle splits by kind; the immunization is in one of its records.
    let vax_records = attest("vaccination-influenza.json", &[]);
    let (vax, vax_claims) = vax_records
        .iter()
        .map(|a| (a.clone(), patient.ok(&["claims", a])))
        .find(|(_, l)| {
            l["claims"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "immunization.0")
        })
        .expect("a record with the immunization");
    let lab = attest("lab-hba1c.json", &[])[0].clone();
    let lab_claims = patient.ok(&["claims", &lab]);

    // Create: one vaccination, the 18-or-older band (by name), one lab value (by id).
    let card_png = dir.path().join("card.png");
    let selectors = [
        format!("{vax}#immunization.0"),
        format!("{vax}#age_over_18"),
        claim_named(&lab_claims, "observation.0"),
    ];
    let mut create = vec!["passport", "create"];
    for sel in &selectors {
        create.extend_from_slice(&["--claim", sel]);
    }
    create.extend_from_slice(&["--out", card_png.to_str().unwrap()]);
    let created = patient.ok(&create);
    assert_eq!(created["facts"].as_array().unwrap().len(), 3, "{created}");
    assert_eq!(created["attestations"], 2);
    let version = created["qr_version"].as_i64().unwrap();
    assert!(
        version <= 22,
        "three claims need version {version}: {created}"
    );
    assert_eq!(created["error_correction"], "M");
    let bytes = created["payload_bytes"].as_i64().unwrap();
    assert_eq!(created["margin_bytes"].as_i64().unwrap(), 779 - bytes);
    let text = s(&created, "text");
    assert!(text.starts_with("RKP1:"));
    let text_file = dir.path().join("card.txt");
    assert_eq!(
        std::fs::read_to_string(&text_file).unwrap().trim_end(),
        text
    );
    let words = s(&created["facts"][0], "words");
    assert!(words.starts_with("Immunization 0: "), "{words}");
    eprintln!("passport of 3 claims: {bytes} bytes, QR version {version}");

    // Verify: from the PNG it wrote, from a photo-like copy, from the text file and the text.
    let png_path = card_png.to_str().unwrap().to_string();
    let photo = write(
        dir.path(),
        "photo.png",
        &photo_like(&std::fs::read(&card_png).unwrap()),
    );
    for input in [&png_path, &photo, &text_file.display().to_string(), &text] {
        let v = verifier.ok(&["passport", "verify", input]);
        assert_eq!(v["verified"], true, "{input}: {v}");
        assert_eq!(v["live"], true);
        let facts = v["facts"].as_array().unwrap();
        assert_eq!(facts.len(), 3);
        assert!(facts.iter().all(|f| f["green"] == true), "{v}");
        assert_eq!(v["live_checks"].as_array().unwrap().len(), 2);
        assert_eq!(v["not_checked"].as_array().unwrap().len(), 0);
    }
    let shown = verifier.ok(&["passport", "verify", &png_path]);
    let names: Vec<&str> = shown["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["immunization.0", "age_over_18", "observation.0"]);
    assert_eq!(shown["facts"][1]["value"], true);
    let out = verifier.run_as(&["passport", "verify", &photo], "text");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("GREEN  passport of "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  offline ok   holder signature: "),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  live    ok   attestation 2: "),
        "{}",
        out.stdout
    );
    // An independent reading written from docs/passport.md (Node's zlib and crypto only):
    // the same facts, the holder's signature valid, and each root the one on-chain.
    let oracle = |text: &str| {
        let out = Command::new("node")
            .arg(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../tests/oracles/passport_verify.js"),
            )
            .args([text, &rekam::ID.to_string()])
            .output()
            .expect("node");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.success(), v)
    };
    let (ok, o) = oracle(&text);
    assert!(ok, "{o}");
    assert_eq!(o["holder"], patient_kp.pubkey().to_string());
    assert_eq!(o["signature_ok"], true);
    let mut oracle_names = Vec::new();
    for a in o["attestations"].as_array().unwrap() {
        let key: Pubkey = s(a, "address").parse().unwrap();
        let data = rpc.get_account_data(&key).unwrap();
        let account = rekam::Attestation::try_deserialize(&mut &data[..]).unwrap();
        assert_eq!(s(a, "root"), hex::encode(account.claims_root), "{a}");
        for c in a["claims"].as_array().unwrap() {
            oracle_names.push(s(c, "name"));
        }
    }
    assert_eq!(
        oracle_names,
        ["immunization.0", "age_over_18", "observation.0"]
    );

    // Offline: green, and it says what was not checked.
    let v = verifier.ok(&["passport", "verify", &png_path, "--offline"]);
    assert_eq!(v["verified"], true);
    assert_eq!(v["live"], false);
    assert_eq!(v["live_checks"].as_array().unwrap().len(), 0);
    let not_checked = v["not_checked"].to_string();
    assert!(
        not_checked.contains("revocation was not checked"),
        "{not_checked}"
    );
    let out = verifier.run_as(&["passport", "verify", &png_path, "--offline"], "text");
    assert!(
        out.stdout
            .starts_with("GREEN (offline only: revocation was not checked)  passport of "),
        "{}",
        out.stdout
    );

    // A printable SVG card with the facts in words, and the same QR code.
    let card_svg = dir.path().join("card.svg");
    let mut create_svg = create.clone();
    let last = create_svg.len() - 1;
    create_svg[last] = card_svg.to_str().unwrap();
    patient.ok(&create_svg);
    let svg = std::fs::read_to_string(&card_svg).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    // The card's text, its lines joined (a fact wraps over several).
    let printed: Vec<&str> = svg
        .split("</text>")
        .filter_map(|t| t.rsplit_once('>').map(|(_, text)| text))
        .collect();
    let printed = printed.join(" ");
    assert!(printed.starts_with("Rekam health passport "), "{printed}");
    for fact in created["facts"].as_array().unwrap() {
        let words = s(fact, "words").replace('&', "&amp;");
        assert!(printed.contains(&words), "{words} not in {printed}");
    }
    assert!(
        printed.contains("18 or older at the date of care: yes"),
        "{printed}"
    );
    assert!(
        !printed.contains("Cholesterol"),
        "only the chosen facts: {printed}"
    );

    // Sizes for 1 and 5 claims (3 above).
    let one = dir.path().join("one.png");
    let created_one = patient.ok(&[
        "passport",
        "create",
        "--claim",
        &selectors[0],
        "--out",
        one.to_str().unwrap(),
    ]);
    let five = dir.path().join("five.png");
    let mut create_five = create.clone();
    let (extra_a, extra_b) = (
        claim_named(&lab_claims, "observation.1"),
        claim_named(&vax_claims, "immunization.0.date"),
    );
    create_five.truncate(create_five.len() - 2);
    create_five.extend_from_slice(&["--claim", &extra_a, "--claim", &extra_b, "--out"]);
    create_five.push(five.to_str().unwrap());
    let created_five = patient.ok(&create_five);
    assert_eq!(created_five["facts"].as_array().unwrap().len(), 5);
    for (n, c) in [(1, &created_one), (3, &created), (5, &created_five)] {
        eprintln!(
            "passport of {n} claim(s): {} bytes, QR version {}",
            c["payload_bytes"], c["qr_version"]
        );
    }
    assert_eq!(
        verifier.ok(&["passport", "verify", five.to_str().unwrap()])["verified"],
        true
    );

    // Bad input, each with its own message and exit code 1.
    let not_png = write(dir.path(), "broken.png", b"\x89PNG\r\n\x1a\nnot really");
    let err = verifier.fails(&["passport", "verify", &not_png]);
    assert!(
        err.starts_with("error: cannot read the image as a PNG: "),
        "{err}"
    );
    let blank = write(
        dir.path(),
        "blank.png",
        &write_grey_png(200, 200, &[255; 200 * 200]),
    );
    assert_eq!(
        verifier.fails(&["passport", "verify", &blank]),
        "error: no QR code found in the image\n"
    );
    let url_qr = write(
        dir.path(),
        "url.png",
        &Qr::encode(b"https://example.org/menu").unwrap().png(),
    );
    assert_eq!(
        verifier.fails(&["passport", "verify", &url_qr]),
        "error: the QR code does not hold a Rekam passport\n"
    );
    let shc_qr = write(
        dir.path(),
        "shc.png",
        &Qr::encode(b"shc:/567629095243206034602924374044603122295953265460346029254077280433602870286471674522280928613331456437653141590640220306450459085643550341424541364037063665417137241236380304375622046737407532323925433443326057360106452931531270742428395038373032").unwrap().png(),
    );
    assert_eq!(
        verifier.fails(&["passport", "verify", &shc_qr]),
        // The start of the SMART Health Cards spec's example card: its issuer's key
        // (kid 3Kfdg-...) is anchored by no issuer here.
        "error: the SMART Health Card's key 3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s is not anchored on-chain by any issuer\n"
    );
    let truncated = &text[..text.len() - 9];
    assert_eq!(
        verifier.fails(&["passport", "verify", truncated]),
        "error: the passport payload is truncated\n"
    );
    assert_eq!(
        verifier.fails(&["passport", "verify", "RKP1:AAAA"]),
        "error: this is not a Rekam passport (no RKP header)\n"
    );
    assert_eq!(
        verifier.fails(&["passport", "verify", "/nonexistent/card.png"]),
        "error: cannot read /nonexistent/card.png: No such file or directory (os error 2)\n"
    );

    // Altered: one fact changed after signing (the lab value's JSON text).
    let card = Card::from_text(&text).unwrap();
    let mut altered = card.clone();
    let claim = &mut altered.body.attestations[1].claims[0];
    let json = String::from_utf8(claim.json.clone()).unwrap();
    assert!(json.contains("5.9"), "{json}");
    claim.json = json.replace("5.9", "4.9").into_bytes();
    let out = verifier.refused(&["passport", "verify", &altered.to_text()]);
    assert_eq!(
        out.stderr,
        "error: the passport does not verify: the holder's signature does not cover this card: it was altered, or made for another deployment\n"
    );
    assert!(out.json["facts"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["green"] == false));
    let (ok, o) = oracle(&altered.to_text());
    assert!(!ok, "the oracle accepted an altered card: {o}");
    assert_eq!(o["signature_ok"], false);

    // Another patient's claims, re-signed by Mallory as if they were hers: the proofs and
    // her signature hold offline, the live check finds whose they are.
    let mut stolen = card.clone();
    stolen.body.holder = mallory_kp.pubkey();
    stolen.signature = mallory_kp
        .sign_message(&stolen.body.signing_message(&rekam::ID))
        .into();
    assert_eq!(
        verifier.ok(&["passport", "verify", &stolen.to_text(), "--offline"])["verified"],
        true,
        "offline, a re-signed card cannot be told apart"
    );
    let out = verifier.refused(&["passport", "verify", &stolen.to_text()]);
    assert_eq!(
        out.stderr,
        format!(
            "error: the passport does not verify: the card's holder {} is not the patient of attestation {vax} (that patient's wallet is {})\n",
            mallory_kp.pubkey(),
            patient_kp.pubkey()
        )
    );
    // And Mallory cannot make a card of them herself.
    assert_eq!(
        mallory.fails(&[
            "passport",
            "create",
            "--claim",
            &selectors[0],
            "--out",
            dir.path().join("m.png").to_str().unwrap(),
        ]),
        "error: this record is not encrypted to your key (no matching recipient)\n"
    );

    // A card past its own end (signed by the patient, dated in the past).
    let mut old = card.clone();
    old.body.issued_at = 1_577_836_800;
    old.body.valid_until = 1_577_836_800 + 86_400;
    old.signature = patient_kp
        .sign_message(&old.body.signing_message(&rekam::ID))
        .into();
    assert_eq!(
        verifier.fails(&["passport", "verify", &old.to_text()]),
        "error: the passport does not verify: the passport expired on 2020-01-02\n"
    );

    // Create-side refusals.
    assert_eq!(
        patient.fails(&[
            "passport",
            "create",
            "--claim",
            &selectors[0],
            "--out",
            "card.pdf"
        ]),
        "error: --out must name a .png (the QR code) or .svg (a printable card) file\n"
    );
    assert_eq!(
        patient.fails(&[
            "passport",
            "create",
            "--claim",
            &format!("{vax}#no_such_claim"),
            "--out",
            dir.path().join("x.png").to_str().unwrap(),
        ]),
        format!("error: attestation {vax} has no claim named \"no_such_claim\" (rekam claims {vax} lists them)\n")
    );
    assert_eq!(
        patient.fails(&[
            "passport",
            "create",
            "--claim",
            &selectors[0],
            "--valid-days",
            "0",
            "--out",
            dir.path().join("x.png").to_str().unwrap(),
        ]),
        "error: --valid-days must be 1 to 366, not 0\n"
    );

    // The clinic revokes the vaccination: its two facts turn red, the lab value stays green.
    clinic.ok(&["attestation", "revoke", &vax]);
    let out = verifier.refused(&["passport", "verify", &png_path]);
    assert_eq!(
        out.stderr,
        format!("error: the passport does not verify: attestation {vax}: the attestation has been revoked\n")
    );
    let greens: Vec<bool> = out.json["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["green"].as_bool().unwrap())
        .collect();
    assert_eq!(greens, [false, false, true]);
    assert_eq!(
        patient.fails(&create),
        format!(
            "error: attestation {vax} cannot go on a passport: the attestation has been revoked\n"
        )
    );

    // An attestation that expires: green today, red once the cluster's clock passes it.
    let short = attest("diagnosis-diabetes.json", &["--expires-in-days", "1"])[0].clone();
    let short_claim = s(&patient.ok(&["claims", &short])["claims"][0], "id");
    let short_png = dir.path().join("short.png");
    patient.ok(&[
        "passport",
        "create",
        "--claim",
        &short_claim,
        "--out",
        short_png.to_str().unwrap(),
    ]);
    let short_png = short_png.to_str().unwrap();
    assert_eq!(
        verifier.ok(&["passport", "verify", short_png])["verified"],
        true
    );
    let expires_on_day = verifier.ok(&["verify", &short])["expires_on_day"]
        .as_i64()
        .unwrap();
    time_travel(&rpc, expires_on_day * 86_400 + 60);
    assert_eq!(
        verifier.fails(&["passport", "verify", short_png]),
        format!("error: the passport does not verify: attestation {short}: the attestation has expired\n")
    );

    // Governance suspends the issuer: the lab value turns red too.
    gov.ok(&["issuer", "suspend", &issuer]);
    let out = verifier.refused(&["passport", "verify", &photo]);
    assert_eq!(
        out.stderr,
        format!("error: the passport does not verify: attestation {vax}: the attestation has been revoked\n")
    );
    assert_eq!(
        s(&out.json["facts"][2], "reason"),
        format!("attestation {lab}: the issuer is suspended")
    );
    assert_eq!(out.json["facts"][2]["green"], false);
    validator.stop();
}
