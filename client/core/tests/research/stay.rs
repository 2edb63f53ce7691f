//! The whole crafted stay through the de-identifier: its coded clinical data survives and
//! is proven claim by claim, it is valid FHIR R4 for Rekam's validator, and a copy with
//! anything identifying put back is refused on both sides with the paths listed.

use anchor_lang::prelude::Pubkey;
use rekam_client::crypto::stream::encrypt_to_vec;
use rekam_client::crypto::{EncryptOptions, Identity};
use rekam_client::record;
use rekam_client::research::*;
use serde_json::{json, Value};

use crate::crafted::stay;

fn resource<'a>(bundle: &'a Value, rtype: &str, nth: usize) -> &'a Value {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == rtype)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {rtype} #{nth}"))
}

fn coding(concept: &Value) -> (String, String) {
    let c = &concept["coding"][0];
    (
        c["system"].as_str().unwrap().into(),
        c["code"].as_str().unwrap().into(),
    )
}

#[test]
fn the_stay_keeps_its_coded_clinical_data() {
    let bytes = serde_json::to_vec(&stay()).unwrap();
    let out = deidentify(&bytes, "2024-05-02").unwrap();
    let report = rekam_client::fhir::validate::validate_bundle(&out);
    assert_eq!(report.errors().count(), 0, "{:?}", report.issues);

    let encounter = resource(&out, "Encounter", 0);
    assert_eq!(encounter["class"]["code"], "IMP");
    assert_eq!(
        encounter["period"],
        json!({ "start": "2024", "end": "2024" })
    );
    assert_eq!(
        coding(&encounter["hospitalization"]["admitSource"]).1,
        "emd"
    );
    let condition = resource(&out, "Condition", 0);
    assert_eq!(
        coding(&condition["code"]),
        ("http://hl7.org/fhir/sid/icd-10-cm".into(), "E11.65".into())
    );
    assert_eq!(coding(&condition["clinicalStatus"]).1, "active");
    assert_eq!(condition["onsetDateTime"], "2024");
    let lab = resource(&out, "Observation", 0);
    assert_eq!(
        coding(&lab["code"]),
        ("http://loinc.org".into(), "4548-4".into())
    );
    assert_eq!(
        lab["valueQuantity"],
        json!({ "value": 9.8, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%" })
    );
    assert_eq!(coding(&lab["interpretation"][0]).1, "H");
    assert_eq!(lab["referenceRange"][0]["low"]["value"], 4.0);
    assert_eq!(lab["referenceRange"][0]["high"]["value"], 5.6);
    assert_eq!(coding(&lab["category"][0]).1, "laboratory");
    let med = resource(&out, "MedicationRequest", 0);
    assert_eq!(coding(&med["medicationCodeableConcept"]).1, "861007");
    assert_eq!(
        med["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"],
        500
    );
    assert_eq!(
        med["dosageInstruction"][0]["timing"]["repeat"]["frequency"],
        2
    );
    let allergy = resource(&out, "AllergyIntolerance", 0);
    assert_eq!(allergy["criticality"], "high");
    assert_eq!(
        coding(&allergy["reaction"][0]["manifestation"][0]).1,
        "271807003"
    );
    assert_eq!(
        coding(&resource(&out, "Immunization", 0)["vaccineCode"]).1,
        "140"
    );
    assert_eq!(
        coding(&resource(&out, "Procedure", 0)["code"]).1,
        "430193006"
    );
    let report = resource(&out, "DiagnosticReport", 0);
    let lab_url = out["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["id"] == lab["id"])
        .unwrap()["fullUrl"]
        .clone();
    assert_eq!(
        report["result"][0]["reference"], lab_url,
        "internal references resolve"
    );
}

#[test]
fn a_copy_of_the_stay_proves_every_fact_but_the_top_coded_age() {
    let bytes = serde_json::to_vec(&stay()).unwrap();
    let prepared = record::prepare(&bytes).unwrap();
    let (study, key) = (Pubkey::new_unique(), Pubkey::new_unique());
    let copy = ResearchCopy::build(&prepared.envelope, &study).unwrap();
    // The age claim says 93: showing it would undo the top-coding.
    assert_eq!(copy.unproven, ["observation.1"]);
    let attestation = rekam::Attestation {
        version: 1,
        bump: 255,
        kind: prepared.summary.kind,
        issuer: Pubkey::new_unique(),
        patient: Pubkey::new_unique(),
        diagnosis_commitment: prepared.commitments.diagnosis,
        claims_root: prepared.commitments.claims_root,
        treatment_day: prepared.summary.treatment_day,
        expires_on_day: 0,
        issued_at: 0,
        revoked_at: 0,
    };
    let verified = copy.verify(&study, &key, &attestation).unwrap();
    assert_eq!(verified.unproven, ["observation.1"]);
    assert_eq!(
        verified.proven,
        [
            "condition.0",
            "observation.0",
            "medication_request.0",
            "allergy.0",
            "immunization.0",
            "procedure.0",
            "diagnostic_report.0"
        ]
    );
}

#[test]
fn the_patient_never_seals_and_the_researcher_refuses_an_identifying_copy() {
    let bytes = serde_json::to_vec(&stay()).unwrap();
    let prepared = record::prepare(&bytes).unwrap();
    let (study, key) = (Pubkey::new_unique(), Pubkey::new_unique());
    let mut copy = ResearchCopy::build(&prepared.envelope, &study).unwrap();
    copy.bundle["entry"][2]["resource"]["note"] = json!([{ "text": "Juno Fakeworth" }]);
    copy.bundle["entry"][2]["resource"]["onsetDateTime"] = "2024-05-02".into();
    let expected = "research copy is not de-identified (6 finding(s)): \
        /entry/2/resource/note: element note can identify; \
        /entry/2/resource/note: not on the allow-list; \
        /entry/2/resource/note/0/text: element text can identify; \
        /entry/2/resource/note/0/text: free text; \
        /entry/2/resource/onsetDateTime: a date finer than a year (2024-05-02); \
        /entry/2/resource/onsetDateTime: a date other than a year";
    let researcher = Identity::generate();
    assert_eq!(
        copy.seal(&researcher.public_key()).unwrap_err().to_string(),
        expected
    );

    // A copy sealed by a client without the check: the researcher's client refuses it
    // after decrypting, before looking at any claim.
    let recipients = [researcher.public_key()];
    let opts = EncryptOptions::new(&recipients, COPY_CONTENT_TYPE);
    let (sealed, _) = encrypt_to_vec(&copy.to_bytes(), &opts).unwrap();
    let opened = ResearchCopy::open(&sealed, &researcher).unwrap();
    let attestation = rekam::Attestation {
        version: 1,
        bump: 255,
        kind: prepared.summary.kind,
        issuer: Pubkey::new_unique(),
        patient: Pubkey::new_unique(),
        diagnosis_commitment: prepared.commitments.diagnosis,
        claims_root: [0; 32],
        treatment_day: prepared.summary.treatment_day,
        expires_on_day: 0,
        issued_at: 0,
        revoked_at: 0,
    };
    assert_eq!(
        opened
            .verify(&study, &key, &attestation)
            .unwrap_err()
            .to_string(),
        expected
    );
}
