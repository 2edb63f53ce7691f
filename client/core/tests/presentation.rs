//! Presentations verified off-chain: every tamper case gets its own exact error. The
//! chain's accounts are built by hand here (the end-to-end tests read them live).

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use rekam::{roles, Attestation, Issuer, IssuerStatus, Patient};
use rekam_client::claims::presentation::{
    ChainView, Expect, Presentation, VerifyError, DEFAULT_MAX_AGE,
};
use rekam_client::claims::{ClaimSet, Disclosure};
use rekam_client::record;
use solana_keypair::Keypair;
use solana_signer::Signer;

const NOW: i64 = 1_795_305_600;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/fhir/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap()
}

struct Case {
    program: Pubkey,
    attestation: Pubkey,
    claims: ClaimSet,
    view: ChainView,
    holder: Keypair,
}

fn case(file: &str) -> Case {
    let prepared = record::prepare(&fixture(file)).unwrap();
    let holder = Keypair::new();
    let issuer = Pubkey::new_unique();
    let view = ChainView {
        attestation: Attestation {
            version: 1,
            bump: 255,
            kind: prepared.summary.kind,
            issuer,
            patient: Pubkey::new_unique(),
            diagnosis_commitment: prepared.commitments.diagnosis,
            claims_root: prepared.commitments.claims_root,
            treatment_day: prepared.summary.treatment_day,
            expires_on_day: 0,
            issued_at: NOW - 100,
            revoked_at: 0,
        },
        issuer: issuer_account(roles::CLINIC),
        patient: patient_account(&holder.pubkey()),
    };
    Case {
        program: rekam::ID,
        attestation: Pubkey::new_unique(),
        claims: prepared.envelope.claim_set().unwrap(),
        view,
        holder,
    }
}

fn issuer_account(roles: u8) -> Issuer {
    let mut data = [0u8; Issuer::SIZE];
    data[..Issuer::DISCRIMINATOR.len()].copy_from_slice(Issuer::DISCRIMINATOR);
    let mut issuer =
        <Issuer as anchor_lang::AccountDeserialize>::try_deserialize_unchecked(&mut &data[..])
            .unwrap();
    issuer.roles = roles;
    issuer.status = IssuerStatus::Active;
    issuer
}

fn patient_account(authority: &Pubkey) -> Patient {
    let mut data = [0u8; Patient::SIZE];
    data[..Patient::DISCRIMINATOR.len()].copy_from_slice(Patient::DISCRIMINATOR);
    let mut patient =
        <Patient as anchor_lang::AccountDeserialize>::try_deserialize_unchecked(&mut &data[..])
            .unwrap();
    patient.authority = *authority;
    patient
}

fn expect() -> Expect {
    Expect {
        audience: Some("pharmacy.example".into()),
        nonce: Some("n-42".into()),
        now: NOW,
        max_age: DEFAULT_MAX_AGE,
    }
}

impl Case {
    fn present(&self, indices: &[u32]) -> Presentation {
        Presentation::create(
            &self.program,
            &self.attestation,
            &self.claims,
            indices,
            "pharmacy.example",
            "n-42",
            NOW - 5,
            &self.holder,
        )
        .unwrap()
    }

    fn errors(&self, p: &Presentation) -> Vec<VerifyError> {
        p.verify(&self.program, &self.view, &expect()).errors
    }
}

#[test]
fn a_presentation_verifies_claim_by_claim() {
    let c = case("lab-hba1c.json");
    let hba1c = c.claims.position("observation.0").unwrap();
    let date = c.claims.position("observation.0.date").unwrap();
    let p = c.present(&[hba1c, date]);
    let v = p.verify(&c.program, &c.view, &expect());
    assert!(v.verified, "{:?}", v.errors);
    assert_eq!(v.claims.len(), 2);
    assert!(
        v.claims[0].words.contains("Hemoglobin A1c"),
        "{}",
        v.claims[0].words
    );
    assert!(v.claims[0].words.contains("5.9 %"), "{}", v.claims[0].words);
    assert_eq!(v.claims[0].id, format!("{}#{hba1c}", c.attestation));
    // Only what was chosen is in it: no other claim's disclosure, no record salt.
    let text = serde_json::to_string(&p).unwrap();
    for (i, d) in c.claims.disclosures().iter().enumerate() {
        if i as u32 != hba1c && i as u32 != date {
            assert!(!text.contains(d.encoded()), "claim {i} leaked");
        }
    }
    // JSON round trip.
    let again = Presentation::from_json(text.as_bytes()).unwrap();
    assert!(again.verify(&c.program, &c.view, &expect()).verified);
}

#[test]
fn every_tamper_case_has_its_own_error() {
    let c = case("lab-hba1c.json");
    let i = c.claims.position("observation.0").unwrap();
    let good = c.present(&[i]);

    // A changed value (same salt and name): not in the root, and the binding breaks.
    let mut p = good.clone();
    let d = c.claims.get(i).unwrap();
    let salt = {
        use base64::Engine;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(d.encoded())
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v[0].as_str().unwrap())
            .unwrap()
    };
    let mut value = d.value().clone();
    value["value"] = serde_json::json!(4.9);
    let salt: [u8; 16] = salt.try_into().unwrap();
    p.claims[0].disclosure = Disclosure::new(&salt, d.name(), value).encoded().into();
    assert_eq!(
        c.errors(&p),
        vec![VerifyError::NotInRoot(i), VerifyError::BadSignature]
    );

    // A swapped salt (same value).
    let mut p = good.clone();
    p.claims[0].disclosure = Disclosure::new(&[7; 16], d.name(), d.value().clone())
        .encoded()
        .into();
    assert_eq!(
        c.errors(&p),
        vec![VerifyError::NotInRoot(i), VerifyError::BadSignature]
    );

    // A claim of another attestation (same fixture, other salts), signed by the holder.
    let other = case("lab-hba1c.json");
    let foreign = Presentation::create(
        &c.program,
        &c.attestation,
        &other.claims,
        &[i],
        "pharmacy.example",
        "n-42",
        NOW - 5,
        &c.holder,
    )
    .unwrap();
    assert_eq!(c.errors(&foreign), vec![VerifyError::NotInRoot(i)]);

    // A proof for another index.
    let mut p = good.clone();
    p.claims[0].index = i + 1;
    let errors = c.errors(&p);
    assert_eq!(errors[0], VerifyError::NotInRoot(i + 1));
    let mut p = good.clone();
    p.claims[0].proof.pop();
    assert!(matches!(
        c.errors(&p)[0],
        VerifyError::ProofLength { index, .. } if index == i
    ));
    let mut p = good.clone();
    p.claims[0].index = c.claims.count();
    assert_eq!(
        c.errors(&p)[0],
        VerifyError::IndexOutOfRange(c.claims.count())
    );

    // A binding replayed for another audience, another nonce, too old, from the future.
    let mut e = expect();
    e.audience = Some("border.example".into());
    assert_eq!(
        good.verify(&c.program, &c.view, &e).errors,
        vec![VerifyError::Audience {
            expected: "border.example".into(),
            got: "pharmacy.example".into()
        }]
    );
    let mut p = good.clone();
    p.binding.audience = "border.example".into();
    let mut e = expect();
    e.audience = Some("border.example".into());
    assert_eq!(
        p.verify(&c.program, &c.view, &e).errors,
        vec![VerifyError::BadSignature],
        "an audience edited after signing"
    );
    let mut e = expect();
    e.nonce = Some("n-43".into());
    assert_eq!(
        good.verify(&c.program, &c.view, &e).errors,
        vec![VerifyError::Nonce {
            expected: "n-43".into(),
            got: "n-42".into()
        }]
    );
    let mut e = expect();
    e.now = NOW + DEFAULT_MAX_AGE;
    assert_eq!(
        good.verify(&c.program, &c.view, &e).errors,
        vec![VerifyError::Stale(DEFAULT_MAX_AGE + 5, DEFAULT_MAX_AGE)]
    );
    let mut e = expect();
    e.now = NOW - 3600;
    assert!(matches!(
        good.verify(&c.program, &c.view, &e).errors[..],
        [VerifyError::FromFuture(_)]
    ));

    // Signed by a wallet that is not the patient's current authority (after a recovery).
    let mut view = case("lab-hba1c.json").view;
    view.attestation = c.view.attestation.clone();
    assert!(matches!(
        good.verify(&c.program, &view, &expect()).errors[..],
        [VerifyError::WrongHolder(_)]
    ));

    // Revoked, expired, issuer suspended, issuer lost the role, another deployment.
    let status = |edit: &dyn Fn(&mut ChainView)| {
        let mut c = case("lab-hba1c.json");
        let p = c.present(&[i]);
        edit(&mut c.view);
        c.errors(&p)
    };
    assert_eq!(
        status(&|v| v.attestation.revoked_at = NOW - 1),
        vec![VerifyError::Revoked]
    );
    assert_eq!(
        status(&|v| v.attestation.expires_on_day = (NOW / 86_400) as u16),
        vec![VerifyError::Expired]
    );
    assert_eq!(
        status(&|v| v.issuer.status = IssuerStatus::Suspended),
        vec![VerifyError::IssuerSuspended]
    );
    assert_eq!(
        status(&|v| v.issuer.roles = roles::PHARMACY),
        vec![VerifyError::IssuerRole]
    );
    assert_eq!(
        good.verify(&Pubkey::new_unique(), &c.view, &expect())
            .errors[0],
        VerifyError::WrongProgram(rekam::ID.to_string())
    );
}

#[test]
fn ten_claims_of_one_record_verify_together() {
    let c = case("emergency-summary.json");
    let indices: Vec<u32> = (0..10.min(c.claims.count())).collect();
    let p = c.present(&indices);
    let v = p.verify(&c.program, &c.view, &expect());
    assert!(v.verified, "{:?}", v.errors);
    assert_eq!(v.claims.len(), indices.len());
}

/// A hardware wallet asked to sign bytes that are not a transaction: it refuses.
struct TransactionsOnly(Pubkey);

impl Signer for TransactionsOnly {
    fn try_pubkey(&self) -> Result<Pubkey, solana_signer::SignerError> {
        Ok(self.0)
    }
    fn try_sign_message(
        &self,
        _: &[u8],
    ) -> Result<solana_signature::Signature, solana_signer::SignerError> {
        Err(solana_signer::SignerError::Protocol(
            "Ledger operation not supported".into(),
        ))
    }
    fn is_interactive(&self) -> bool {
        true
    }
}

#[test]
fn a_wallet_that_cannot_sign_off_chain_is_an_exact_error_never_an_empty_signature() {
    use rekam_client::claims::sdjwt::{self, IssuerClaims};
    let c = case("lab-hba1c.json");
    let wallet = TransactionsOnly(c.holder.pubkey());
    let err = Presentation::create(
        &c.program,
        &c.attestation,
        &c.claims,
        &[0],
        "pharmacy.example",
        "n-42",
        NOW - 5,
        &wallet,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "wallet {} cannot sign the presentation's holder binding: Ledger operation not supported",
            wallet.0
        )
    );
    let about = IssuerClaims {
        program: &c.program,
        issuer: &Pubkey::new_unique(),
        attestation: &c.attestation,
        holder: &c.holder.pubkey(),
        issued_at: NOW,
    };
    let err = sdjwt::issuer_jwt(&c.claims, &about, &wallet).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "wallet {} cannot sign the issuer-signed SD-JWT: Ledger operation not supported",
            wallet.0
        )
    );
    // The same calls with a signer that can sign succeed (the refusal is the wallet's).
    let jwt = sdjwt::issuer_jwt(&c.claims, &about, &c.holder).unwrap();
    assert_eq!(jwt.split('.').count(), 3);
    assert!(c
        .present(&[0])
        .verify(&c.program, &c.view, &expect())
        .errors
        .is_empty());
}
