//! A crafted FHIR R4 Bundle for the de-identification tests: one whole inpatient stay,
//! every resource type a copy keeps, coded only (no labels, no text). Synthetic data.

use serde_json::{json, Value};

pub const PATIENT: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000001";
pub const ENCOUNTER: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000002";
pub const CONDITION: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000003";
pub const OBSERVATION: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000004";
pub const AGE_OBS: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000005";
pub const MED: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000006";
pub const ALLERGY: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000007";
pub const IMMUNIZATION: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000008";
pub const PROCEDURE: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-000000000009";
pub const REPORT: &str = "urn:uuid:0b6f1d0e-7a35-4c8e-9f10-00000000000a";

fn entry(url: &str, mut resource: Value) -> Value {
    resource["id"] = url.trim_start_matches("urn:uuid:").into();
    json!({ "fullUrl": url, "resource": resource })
}

fn concept(system: &str, code: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code }] })
}

/// A whole inpatient stay, coded only (no display, no text): a 93-year-old admitted with
/// a diabetic crisis. Primary resource for `summarize`: the Condition (E11.65).
pub fn stay() -> Value {
    let subject = json!({ "reference": PATIENT });
    let encounter = json!({ "reference": ENCOUNTER });
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            entry(PATIENT, json!({
                "resourceType": "Patient",
                "gender": "female",
                "birthDate": "1931-03-09",
            })),
            entry(ENCOUNTER, json!({
                "resourceType": "Encounter",
                "status": "finished",
                "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP" },
                "subject": subject,
                "period": { "start": "2024-05-02T08:10:00Z", "end": "2024-05-09T16:00:00Z" },
                "hospitalization": {
                    "admitSource": concept("http://terminology.hl7.org/CodeSystem/admit-source", "emd"),
                    "dischargeDisposition": concept("http://terminology.hl7.org/CodeSystem/discharge-disposition", "home"),
                },
            })),
            entry(CONDITION, json!({
                "resourceType": "Condition",
                "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
                "verificationStatus": concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"),
                "code": concept("http://hl7.org/fhir/sid/icd-10-cm", "E11.65"),
                "subject": subject,
                "encounter": encounter,
                "onsetDateTime": "2024-05-02",
            })),
            entry(OBSERVATION, json!({
                "resourceType": "Observation",
                "status": "final",
                "category": [concept("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")],
                "code": concept("http://loinc.org", "4548-4"),
                "subject": subject,
                "encounter": encounter,
                "effectiveDateTime": "2024-05-02T09:00:00Z",
                "valueQuantity": { "value": 9.8, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%" },
                "interpretation": [concept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "H")],
                "referenceRange": [{
                    "low": { "value": 4.0, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%" },
                    "high": { "value": 5.6, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%" },
                }],
            })),
            entry(AGE_OBS, json!({
                "resourceType": "Observation",
                "status": "final",
                "code": concept("http://loinc.org", "30525-0"),
                "subject": subject,
                "effectiveDateTime": "2024-05-02",
                "valueQuantity": { "value": 93, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a" },
            })),
            entry(MED, json!({
                "resourceType": "MedicationRequest",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": concept("http://www.nlm.nih.gov/research/umls/rxnorm", "861007"),
                "subject": subject,
                "encounter": encounter,
                "authoredOn": "2024-05-09",
                "dosageInstruction": [{
                    "timing": { "repeat": { "frequency": 2, "period": 1, "periodUnit": "d" } },
                    "doseAndRate": [{ "doseQuantity": { "value": 500, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg" } }],
                }],
            })),
            entry(ALLERGY, json!({
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active"),
                "criticality": "high",
                "code": concept("http://www.nlm.nih.gov/research/umls/rxnorm", "10180"),
                "patient": subject,
                "recordedDate": "2024-05-02",
                "reaction": [{ "manifestation": [concept("http://snomed.info/sct", "271807003")] }],
            })),
            entry(IMMUNIZATION, json!({
                "resourceType": "Immunization",
                "status": "completed",
                "vaccineCode": concept("http://hl7.org/fhir/sid/cvx", "140"),
                "patient": subject,
                "encounter": encounter,
                "occurrenceDateTime": "2024-05-08T10:00:00Z",
                "primarySource": true,
            })),
            entry(PROCEDURE, json!({
                "resourceType": "Procedure",
                "status": "completed",
                "code": concept("http://snomed.info/sct", "430193006"),
                "subject": subject,
                "encounter": encounter,
                "performedDateTime": "2024-05-03",
            })),
            entry(REPORT, json!({
                "resourceType": "DiagnosticReport",
                "status": "final",
                "code": concept("http://loinc.org", "4548-4"),
                "subject": subject,
                "encounter": encounter,
                "effectiveDateTime": "2024-05-02T09:00:00Z",
                "result": [{ "reference": OBSERVATION }],
            })),
        ]
    })
}
