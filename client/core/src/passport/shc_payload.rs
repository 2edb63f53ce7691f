//! The FHIR content of a SMART Health Card: from the Bundles of attested records, the
//! Patient (name and birth date only, as the SMART profiles ask), each Immunization and each
//! laboratory Observation, minimal (no ids, meta or narrative; codings reduced to system and
//! code) and with `resource:N` references, in a `collection` Bundle inside the card's `vc`.

use serde_json::{json, Map, Value};

/// `vc.type` members.
pub const HEALTH_CARD: &str = "https://smarthealth.cards#health-card";
pub const IMMUNIZATION: &str = "https://smarthealth.cards#immunization";
pub const LABORATORY: &str = "https://smarthealth.cards#laboratory";

/// A card's payload, with what it holds.
pub struct CardPayload {
    pub payload: Value,
    pub immunizations: usize,
    pub lab_results: usize,
}

/// A FHIR value reduced as the SMART profiles ask: codings keep `system` and `code`, and
/// a CodeableConcept loses its `text`.
fn reduced(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(codings) = v.get_mut("coding").and_then(Value::as_array_mut) {
        for c in codings {
            if let Some(o) = c.as_object_mut() {
                o.retain(|k, _| k == "system" || k == "code");
            }
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("text");
    }
    v
}

fn is_laboratory(r: &Value) -> bool {
    r["category"].as_array().into_iter().flatten().any(|c| {
        c["coding"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|k| k["code"] == "laboratory")
    })
}

fn minimal(r: &Value, keys: &[&str], subject: (&str, &str)) -> Value {
    let mut out = Map::new();
    out.insert("resourceType".into(), r["resourceType"].clone());
    for key in keys {
        if let Some(v) = r.get(*key) {
            out.insert((*key).into(), reduced(v));
        }
    }
    out.insert(subject.0.into(), json!({ "reference": subject.1 }));
    Value::Object(out)
}

fn patient(r: &Value) -> Value {
    let mut p = Map::new();
    p.insert("resourceType".into(), json!("Patient"));
    if let Some(name) = r.get("name").and_then(Value::as_array) {
        let names: Vec<Value> = name
            .iter()
            .map(|n| json!({"family": n["family"], "given": n["given"]}))
            .collect();
        p.insert("name".into(), Value::Array(names));
    }
    if let Some(b) = r.get("birthDate") {
        p.insert("birthDate".into(), b.clone());
    }
    Value::Object(p)
}

/// Why a set of records makes no card.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PayloadError {
    #[error("record {0} has no Patient")]
    NoPatient(usize),
    #[error("record {0} holds no immunization or laboratory result")]
    Empty(usize),
}

/// The payload of a card of `bundles` (one per record, in order): the first Patient, then
/// every Immunization and laboratory Observation, issued by `iss` at `nbf`.
pub fn card_payload(bundles: &[Value], iss: &str, nbf: i64) -> Result<CardPayload, PayloadError> {
    let mut entries: Vec<Value> = Vec::new();
    let (mut immunizations, mut lab_results) = (0, 0);
    for (n, bundle) in bundles.iter().enumerate() {
        let resources: Vec<&Value> = bundle["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| &e["resource"])
            .collect();
        let Some(p) = resources.iter().find(|r| r["resourceType"] == "Patient") else {
            return Err(PayloadError::NoPatient(n));
        };
        if entries.is_empty() {
            entries.push(json!({"fullUrl": "resource:0", "resource": patient(p)}));
        }
        let before = immunizations + lab_results;
        for r in resources {
            let resource = match r["resourceType"].as_str() {
                Some("Immunization") => {
                    immunizations += 1;
                    let keys = ["status", "vaccineCode", "occurrenceDateTime", "lotNumber"];
                    minimal(r, &keys, ("patient", "resource:0"))
                }
                Some("Observation") if is_laboratory(r) => {
                    lab_results += 1;
                    let keys = [
                        "status",
                        "code",
                        "effectiveDateTime",
                        "valueQuantity",
                        "valueCodeableConcept",
                        "valueString",
                        "referenceRange",
                    ];
                    minimal(r, &keys, ("subject", "resource:0"))
                }
                _ => continue,
            };
            let url = format!("resource:{}", entries.len());
            entries.push(json!({"fullUrl": url, "resource": resource}));
        }
        if immunizations + lab_results == before {
            return Err(PayloadError::Empty(n));
        }
    }
    let mut types = vec![HEALTH_CARD];
    if immunizations > 0 {
        types.push(IMMUNIZATION);
    }
    if lab_results > 0 {
        types.push(LABORATORY);
    }
    let payload = json!({
        "iss": iss,
        "nbf": nbf,
        "vc": {
            "type": types,
            "credentialSubject": {
                "fhirVersion": "4.0.1",
                "fhirBundle": {"resourceType": "Bundle", "type": "collection", "entry": entries},
            },
        },
    });
    Ok(CardPayload {
        payload,
        immunizations,
        lab_results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../tests/fixtures/fhir/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn a_card_of_a_vaccination_and_lab_results_is_minimal() {
        let bundles = [
            fixture("vaccination-influenza.json"),
            fixture("lab-hba1c.json"),
        ];
        let card = card_payload(&bundles, "https://clinic.example", 7).unwrap();
        assert_eq!(card.immunizations, 1);
        let labs = bundles[1]["entry"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["resource"]["resourceType"] == "Observation" && is_laboratory(&e["resource"])
            })
            .count();
        assert!(labs > 0);
        assert_eq!(card.lab_results, labs);
        let p = &card.payload;
        assert_eq!(
            p["vc"]["type"],
            json!([HEALTH_CARD, IMMUNIZATION, LABORATORY])
        );
        let entries = p["vc"]["credentialSubject"]["fhirBundle"]["entry"]
            .as_array()
            .unwrap();
        assert_eq!(entries.len(), 1 + 1 + labs, "one Patient for both records");
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(e["fullUrl"], format!("resource:{i}"));
            for forbidden in ["id", "meta", "text", "encounter", "performer"] {
                assert!(e["resource"].get(forbidden).is_none(), "{forbidden} in {e}");
            }
        }
        assert_eq!(entries[2]["resource"]["subject"]["reference"], "resource:0");
        assert!(entries[2]["resource"]["code"]["coding"][0]
            .get("display")
            .is_none());
    }

    #[test]
    fn records_without_a_patient_or_content_are_refused() {
        let no_patient = json!({"resourceType": "Bundle", "entry": []});
        assert_eq!(
            card_payload(&[no_patient], "https://c.example", 0).err(),
            Some(PayloadError::NoPatient(0))
        );
        let only_patient = json!({"entry": [{"resource": {"resourceType": "Patient"}}]});
        assert_eq!(
            card_payload(&[only_patient], "https://c.example", 0).err(),
            Some(PayloadError::Empty(0))
        );
    }
}
