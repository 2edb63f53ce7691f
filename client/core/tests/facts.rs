//! The facts a Bundle's claims commit to: one per resource without its date, the date and
//! a medication's period apart, derived patient facts with Safe Harbor top-coding.

use rekam_client::fhir::{self, facts};
use serde_json::{json, Value};

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/fhir/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn resources(bundle: &Value) -> Vec<&Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect()
}

fn is_date_like(v: &Value) -> bool {
    match v {
        Value::String(s) => {
            s.len() >= 7 && s.as_bytes()[4] == b'-' && s[..4].parse::<u32>().is_ok()
        }
        Value::Array(a) => a.iter().any(is_date_like),
        Value::Object(m) => m.values().any(is_date_like),
        _ => false,
    }
}

#[test]
fn every_clinical_resource_is_a_fact_and_values_carry_no_dates() {
    let bundle = fixture("emergency-summary.json");
    let facts = facts::extract(&resources(&bundle), "2026-09-08");
    let clinical = resources(&bundle)
        .iter()
        .filter(|r| fhir::kind_of(r["resourceType"].as_str().unwrap()).is_some())
        .count();
    let values: Vec<_> = facts
        .iter()
        .filter(|f| facts::resource_type_of(&f.name).is_some() && !f.name.contains(".date"))
        .collect();
    assert_eq!(
        values.len(),
        clinical,
        "one value claim per clinical resource"
    );
    for f in &values {
        assert!(
            !is_date_like(&f.value),
            "{} carries a date: {}",
            f.name,
            f.value
        );
    }
    let hr = facts
        .iter()
        .find(|f| {
            f.name.starts_with("observation.") && f.value["code"] == "http://loinc.org|8867-4"
        })
        .expect("a heart rate");
    assert!(
        hr.value["value"].is_number() && hr.value["unit"].is_string(),
        "{}",
        hr.value
    );
    let condition = facts.iter().find(|f| f.name == "condition.0").unwrap();
    assert_eq!(
        condition.value["code"],
        "http://hl7.org/fhir/sid/icd-10-cm|E11.65"
    );
    assert_eq!(condition.value["clinicalStatus"], "active");
    assert!(facts.iter().any(|f| f.name == "condition.0.date"));
    // Born 1976-07-19, seen 2026-09-08: 50.
    let derived = |name: &str| {
        facts
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.clone())
    };
    assert_eq!(derived("birth_year"), Some(json!(1976)));
    assert_eq!(derived("age_over_18"), Some(json!(true)));
    assert_eq!(derived("age_over_65"), Some(json!(false)));
}

#[test]
fn a_medication_period_is_its_own_claim_and_the_very_old_have_no_birth_year() {
    let mut bundle = fixture("prescription-metformin.json");
    let entries = bundle["entry"].as_array_mut().unwrap();
    for e in entries.iter_mut() {
        let r = &mut e["resource"];
        if r["resourceType"] == "MedicationRequest" {
            r["dispenseRequest"] =
                json!({"validityPeriod": {"start": "2025-03-11", "end": "2025-09-11"}});
        }
        if r["resourceType"] == "Patient" {
            r["birthDate"] = json!("1930-01-01");
        }
    }
    let facts = facts::extract(&resources(&bundle), "2025-03-11");
    let period = facts
        .iter()
        .find(|f| f.name == "medication_request.0.period")
        .expect("a period claim");
    assert_eq!(
        period.value,
        json!({"start": "2025-03-11", "end": "2025-09-11"})
    );
    let request = facts
        .iter()
        .find(|f| f.name == "medication_request.0")
        .unwrap();
    assert!(!is_date_like(&request.value), "{}", request.value);
    assert!(
        !facts.iter().any(|f| f.name == "birth_year"),
        "95 years old: top-coded"
    );
    assert!(facts
        .iter()
        .any(|f| f.name == "age_over_65" && f.value == json!(true)));
}
