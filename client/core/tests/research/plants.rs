//! The Safe Harbor identifiers (45 CFR 164.514(b)(2)(i)(A)..(R)), each planted in each
//! place of the crafted stay where it can hide. Synthetic data.

use serde_json::{json, Value};

use crate::crafted::*;

/// The resource of `stay()` at `url`.
pub fn at<'a>(bundle: &'a mut Value, url: &str) -> &'a mut Value {
    bundle["entry"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|e| e["fullUrl"] == url)
        .map(|e| &mut e["resource"])
        .unwrap()
}

/// One planted identifier: the Safe Harbor item (45 CFR 164.514(b)(2)(i)(A)..(R)), where
/// it hides, the resource and a JSON pointer below it, and the value planted there. The
/// test asserts that `needle` appears nowhere in the copy.
pub struct Plant {
    pub item: char,
    pub place: &'static str,
    pub resource: &'static str,
    pub pointer: &'static str,
    pub value: Value,
    pub needle: &'static str,
}

fn plant(
    item: char,
    place: &'static str,
    resource: &'static str,
    pointer: &'static str,
    value: Value,
    needle: &'static str,
) -> Plant {
    Plant {
        item,
        place,
        resource,
        pointer,
        value,
        needle,
    }
}

const NAME: &str = "Juno Fakeworth";

/// Every identifier in every place it can hide in the kept resources.
pub fn plants() -> Vec<Plant> {
    let name_concept = |system: &str, code: &str| json!({ "coding": [{ "system": system, "code": code, "display": NAME }] });
    vec![
        // (A) names
        plant(
            'A',
            "display-only reference",
            CONDITION,
            "/subject",
            json!({ "display": NAME }),
            NAME,
        ),
        plant(
            'A',
            "reference display",
            OBSERVATION,
            "/performer",
            json!([{ "display": NAME }]),
            NAME,
        ),
        plant(
            'A',
            "Coding.display",
            CONDITION,
            "/code",
            name_concept("http://hl7.org/fhir/sid/icd-10-cm", "E11.65"),
            NAME,
        ),
        plant(
            'A',
            "CodeableConcept.text",
            CONDITION,
            "/code/text",
            json!(NAME),
            NAME,
        ),
        plant(
            'A',
            "category text",
            OBSERVATION,
            "/category/0/text",
            json!(NAME),
            NAME,
        ),
        plant(
            'A',
            "Observation.valueString",
            AGE_OBS,
            "/valueString",
            json!(NAME),
            NAME,
        ),
        plant(
            'A',
            "component valueString",
            OBSERVATION,
            "/component",
            json!([{ "code": { "coding": [{ "system": "http://loinc.org", "code": "8480-6" }] }, "valueString": NAME }]),
            NAME,
        ),
        plant(
            'A',
            "note",
            CONDITION,
            "/note",
            json!([{ "text": NAME }]),
            NAME,
        ),
        plant(
            'A',
            "reaction.note",
            ALLERGY,
            "/reaction/0/note",
            json!([{ "text": NAME }]),
            NAME,
        ),
        plant(
            'A',
            "reaction.description",
            ALLERGY,
            "/reaction/0/description",
            json!(NAME),
            NAME,
        ),
        plant(
            'A',
            "dosage text",
            MED,
            "/dosageInstruction/0/text",
            json!(format!("{NAME} takes one tablet")),
            NAME,
        ),
        plant(
            'A',
            "dosage patientInstruction",
            MED,
            "/dosageInstruction/0/patientInstruction",
            json!(NAME),
            NAME,
        ),
        plant(
            'A',
            "referenceRange.text",
            OBSERVATION,
            "/referenceRange/0/text",
            json!(NAME),
            NAME,
        ),
        plant(
            'A',
            "protocolApplied.series",
            IMMUNIZATION,
            "/protocolApplied",
            json!([{ "series": NAME, "doseNumberPositiveInt": 1 }]),
            NAME,
        ),
        plant(
            'A',
            "DiagnosticReport.conclusion",
            REPORT,
            "/conclusion",
            json!(NAME),
            NAME,
        ),
        plant(
            'A',
            "dischargeDisposition text",
            ENCOUNTER,
            "/hospitalization/dischargeDisposition/text",
            json!(NAME),
            NAME,
        ),
        plant(
            'A',
            "Patient.name",
            PATIENT,
            "/name",
            json!([{ "family": "Fakeworth", "given": ["Juno"] }]),
            "Fakeworth",
        ),
        plant(
            'A',
            "narrative",
            CONDITION,
            "/text",
            json!({ "status": "generated", "div": format!("<div xmlns=\"http://www.w3.org/1999/xhtml\">{NAME}</div>") }),
            NAME,
        ),
        // (B) geography
        plant(
            'B',
            "Patient.address",
            PATIENT,
            "/address",
            json!([{ "city": "Springfield", "postalCode": "62704" }]),
            "62704",
        ),
        plant(
            'B',
            "hospitalization.origin display",
            ENCOUNTER,
            "/hospitalization/origin",
            json!({ "display": "12 Elm St, Springfield 62704" }),
            "62704",
        ),
        // (C) dates and ages
        plant(
            'C',
            "birthDate",
            PATIENT,
            "/birthDate",
            json!("1931-03-09"),
            "1931",
        ),
        plant(
            'C',
            "onset day",
            CONDITION,
            "/onsetDateTime",
            json!("2024-05-02"),
            "2024-05",
        ),
        plant(
            'C',
            "period start",
            ENCOUNTER,
            "/period/start",
            json!("2024-05-02T08:10:00Z"),
            "2024-05",
        ),
        plant(
            'C',
            "issued instant",
            OBSERVATION,
            "/issued",
            json!("2024-05-02T09:30:00Z"),
            "2024-05",
        ),
        plant(
            'C',
            "age 93 observation",
            AGE_OBS,
            "/valueQuantity/value",
            json!(93),
            "93",
        ),
        plant(
            'C',
            "abatementAge 95",
            CONDITION,
            "/abatementAge",
            json!({ "value": 95, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a" }),
            "95",
        ),
        // (D)-(F) telephone, fax, email
        plant(
            'D',
            "Patient.telecom phone",
            PATIENT,
            "/telecom",
            json!([{ "system": "phone", "value": "+1-555-0100" }]),
            "555-0100",
        ),
        plant(
            'D',
            "phone in a note",
            MED,
            "/note",
            json!([{ "text": "call +1-555-0100" }]),
            "555-0100",
        ),
        plant(
            'E',
            "fax in contact",
            PATIENT,
            "/contact",
            json!([{ "telecom": [{ "system": "fax", "value": "+1-555-0199" }] }]),
            "555-0199",
        ),
        plant(
            'F',
            "email in valueString",
            AGE_OBS,
            "/valueString",
            json!("juno@example.org"),
            "juno@example.org",
        ),
        // (G)-(K) numbers: SSN, MRN, plan, account, licence
        plant(
            'G',
            "SSN identifier",
            PATIENT,
            "/identifier",
            json!([{ "system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789" }]),
            "123-45-6789",
        ),
        plant(
            'H',
            "MRN as a coding",
            OBSERVATION,
            "/category/0/coding/0",
            json!({ "system": "http://hospital.example/mrn", "code": "MRN998877" }),
            "MRN998877",
        ),
        plant(
            'H',
            "preAdmissionIdentifier",
            ENCOUNTER,
            "/hospitalization/preAdmissionIdentifier",
            json!({ "value": "MRN998877" }),
            "MRN998877",
        ),
        plant(
            'H',
            "Encounter.identifier",
            ENCOUNTER,
            "/identifier",
            json!([{ "value": "MRN998877" }]),
            "MRN998877",
        ),
        plant(
            'I',
            "plan number in valueCodeableConcept",
            AGE_OBS,
            "/valueCodeableConcept",
            json!({ "coding": [{ "system": "urn:oid:1.2.3.4.5", "code": "PLAN4455" }] }),
            "PLAN4455",
        ),
        plant(
            'J',
            "account in groupIdentifier",
            MED,
            "/groupIdentifier",
            json!({ "value": "ACCT7788" }),
            "ACCT7788",
        ),
        plant(
            'K',
            "licence in requisition-like identifier",
            PROCEDURE,
            "/identifier",
            json!([{ "value": "LIC5566" }]),
            "LIC5566",
        ),
        // (L)-(M) vehicle and device serials
        plant(
            'L',
            "vehicle plate in valueString",
            AGE_OBS,
            "/valueString",
            json!("plate 7ABC123"),
            "7ABC123",
        ),
        plant(
            'M',
            "vaccine lot number",
            IMMUNIZATION,
            "/lotNumber",
            json!("LOT-33X9"),
            "LOT-33X9",
        ),
        plant(
            'M',
            "device serial in a UCUM annotation",
            OBSERVATION,
            "/valueQuantity/code",
            json!("%{SN-4411}"),
            "SN-4411",
        ),
        // (N)-(O) URLs and IP addresses
        plant(
            'N',
            "external reference URL",
            CONDITION,
            "/encounter",
            json!({ "reference": "https://portal.example/juno/Encounter/1" }),
            "portal.example",
        ),
        plant(
            'N',
            "local code system URL",
            CONDITION,
            "/verificationStatus/coding/0/system",
            json!("https://portal.example/juno"),
            "portal.example",
        ),
        plant(
            'O',
            "IP address in a note",
            PROCEDURE,
            "/note",
            json!([{ "text": "uploaded from 203.0.113.7" }]),
            "203.0.113.7",
        ),
        // (P)-(Q) biometrics, photographs
        plant(
            'P',
            "voice print attachment",
            AGE_OBS,
            "/valueAttachment",
            json!({ "contentType": "audio/wav", "data": "UklGRg==" }),
            "UklGRg==",
        ),
        plant(
            'Q',
            "Patient.photo",
            PATIENT,
            "/photo",
            json!([{ "contentType": "image/jpeg", "data": "/9j/4AAQ" }]),
            "/9j/4AAQ",
        ),
        plant(
            'Q',
            "presentedForm",
            REPORT,
            "/presentedForm",
            json!([{ "contentType": "image/jpeg", "data": "/9j/4AAQ" }]),
            "/9j/4AAQ",
        ),
        // (R) any other unique code
        plant(
            'R',
            "resource id",
            CONDITION,
            "/id",
            json!("cond-unique-4242"),
            "cond-unique-4242",
        ),
        plant(
            'R',
            "meta.source",
            CONDITION,
            "/meta",
            json!({ "source": "#clinic-4242" }),
            "clinic-4242",
        ),
        plant(
            'R',
            "extension",
            PATIENT,
            "/extension",
            json!([{ "url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": { "city": "Springfield" } }]),
            "Springfield",
        ),
    ]
}

/// Sets `pointer` (creating the last step) in `value`.
pub fn set(value: &mut Value, pointer: &str, new: Value) {
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        value
    } else {
        value
            .pointer_mut(parent)
            .unwrap_or_else(|| panic!("no {parent}"))
    };
    match parent {
        Value::Array(items) => items[last.parse::<usize>().unwrap()] = new,
        Value::Object(map) => {
            map.insert(last.to_string(), new);
        }
        other => panic!("cannot set {last} in {other}"),
    }
}

/// `stay()` with one identifier planted.
pub fn planted(p: &Plant) -> Value {
    let mut bundle = stay();
    plant_into(at(&mut bundle, p.resource), p);
    bundle
}

/// Plants `p` into `resource`; a planted `value[x]` replaces the one there (FHIR allows
/// one).
pub fn plant_into(resource: &mut Value, p: &Plant) {
    let top = p.pointer.split('/').nth(1).unwrap_or("");
    if top.starts_with("value") && p.pointer.matches('/').count() == 1 {
        let map = resource.as_object_mut().unwrap();
        map.retain(|k, _| !k.starts_with("value"));
    }
    set(resource, p.pointer, p.value.clone());
}
