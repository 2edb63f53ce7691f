//! Unit tests for `validate.rs`: one or more per rule, each naming the exact issue
//! expected (severity, entry, path, message fragment), plus the fixture Bundles.

use serde_json::{json, Value};

use super::*;

const PAT: &str = "urn:uuid:11111111-1111-4111-8111-111111111111";
const PRAC: &str = "urn:uuid:22222222-2222-4222-8222-222222222222";

fn observation() -> Value {
    json!({
        "resourceType": "Observation", "id": "o1", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
        "subject": {"reference": PAT},
        "effectiveDateTime": "2025-06-24T09:00:00Z",
        "valueQuantity": {"value": 5.9, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}
    })
}

/// Patient (entry 0), Practitioner (entry 1), then `resources` (entries 2...).
fn bundle(resources: Vec<Value>) -> Value {
    let mut entry = vec![
        json!({"fullUrl": PAT, "resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1966-09-23"}}),
        json!({"fullUrl": PRAC, "resource": {"resourceType": "Practitioner", "id": "pr1"}}),
    ];
    for (i, r) in resources.into_iter().enumerate() {
        entry.push(json!({"fullUrl": format!("urn:uuid:00000000-0000-4000-8000-{:012}", i), "resource": r}));
    }
    json!({"resourceType": "Bundle", "id": "b", "type": "collection", "entry": entry})
}

fn with(mut v: Value, key: &str, val: Value) -> Value {
    v[key] = val;
    v
}
fn without(mut v: Value, key: &str) -> Value {
    v.as_object_mut().map(|o| o.remove(key));
    v
}
fn obs_with(key: &str, val: Value) -> Value {
    bundle(vec![with(observation(), key, val)])
}

/// The report holds exactly one issue, and it is this one.
#[track_caller]
fn only(doc: &Value, severity: Severity, entry: Option<usize>, path: &str, fragment: &str) {
    let r = validate_bundle(doc);
    assert_eq!(r.issues.len(), 1, "expected one issue, got:\n{r}");
    let i = &r.issues[0];
    assert_eq!(
        (i.severity, i.entry, i.path.as_str()),
        (severity, entry, path),
        "{i}"
    );
    assert!(
        i.message.contains(fragment),
        "{:?} lacks {fragment:?}",
        i.message
    );
}
/// One error in entry 2, `"path: message fragment"`.
#[track_caller]
fn err(doc: &Value, what: &str) {
    let (path, fragment) = what.split_once(": ").unwrap_or((what, ""));
    only(doc, Severity::Error, Some(2), path, fragment);
}
#[track_caller]
fn warn(doc: &Value, what: &str) {
    let (path, fragment) = what.split_once(": ").unwrap_or((what, ""));
    only(doc, Severity::Warning, Some(2), path, fragment);
}
#[track_caller]
fn clean(doc: &Value) {
    let r = validate_bundle(doc);
    assert!(r.issues.is_empty(), "{r}");
}

#[test]
fn fixtures_are_clean() {
    for text in [
        include_str!("../../../../tests/fixtures/fhir/diagnosis-diabetes.json"),
        include_str!("../../../../tests/fixtures/fhir/emergency-summary.json"),
        include_str!("../../../../tests/fixtures/fhir/lab-hba1c.json"),
        include_str!("../../../../tests/fixtures/fhir/prescription-metformin.json"),
        include_str!("../../../../tests/fixtures/fhir/vaccination-influenza.json"),
        include_str!("../../../../tests/fixtures/fhir/invalid/condition-without-code.json"),
        include_str!("../../../../tests/fixtures/fhir/invalid/empty-bundle.json"),
        include_str!("../../../../tests/fixtures/fhir/invalid/future-date.json"),
    ] {
        let v: Value = serde_json::from_str(text).expect("fixture is JSON");
        clean(&v);
    }
    clean(&bundle(vec![observation()]));
}

#[test]
fn bundle_level() {
    only(
        &json!([1]),
        Severity::Error,
        None,
        "Bundle",
        "expected a Bundle (JSON object), found an array",
    );
    only(
        &json!({"type": "collection"}),
        Severity::Error,
        None,
        "Bundle.resourceType",
        "found nothing",
    );
    let b = without(bundle(vec![]), "type");
    only(
        &b,
        Severity::Error,
        None,
        "Bundle.type",
        "missing required element type (min 1)",
    );
    let mut b = bundle(vec![]);
    b["entry"][1] = json!({"fullUrl": PRAC});
    only(
        &b,
        Severity::Error,
        None,
        "Bundle.entry[1]",
        "entry has no resource",
    );
    b["entry"][1] = json!({"fullUrl": PRAC, "resource": "Practitioner"});
    only(
        &b,
        Severity::Error,
        None,
        "Bundle.entry[1].resource",
        "expected a Resource (object), found a string",
    );
    b["entry"][1] = json!({"fullUrl": PRAC, "resource": {"id": "x"}});
    only(
        &b,
        Severity::Error,
        None,
        "Bundle.entry[1].resource",
        "expected a resourceType string, found nothing",
    );
    b["entry"][1] =
        json!({"fullUrl": PAT, "resource": {"resourceType": "Practitioner", "id": "x"}});
    only(
        &b,
        Severity::Error,
        None,
        "Bundle.entry[1].fullUrl",
        "duplicate fullUrl",
    );
    let b = with(bundle(vec![]), "type", json!("bogus"));
    only(
        &b,
        Severity::Error,
        None,
        "Bundle.type",
        "not in the required value set bundle-type",
    );
    let b = with(bundle(vec![]), "entry", json!([]));
    only(&b, Severity::Warning, None, "Bundle.entry", "empty array");
    // A transaction's DELETE entry has no resource.
    let mut b = with(bundle(vec![]), "type", json!("transaction"));
    b["entry"] = json!([{"request": {"method": "DELETE", "url": "Patient/p1"}}]);
    clean(&b);
}

#[test]
fn not_a_bundle_is_an_error_and_still_checked() {
    let r = validate_bundle(&json!({"resourceType": "Patient", "gender": 1}));
    let got: Vec<_> = r
        .issues
        .iter()
        .map(|i| (i.severity, i.path.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Severity::Error, "Bundle"),
            (Severity::Error, "Patient.gender")
        ],
        "{r}"
    );
}

#[test]
fn resource_types() {
    let b = bundle(vec![json!({"resourceType": "Foo", "id": "f"})]);
    err(
        &b,
        "Foo: unknown resource type \"Foo\" (not a FHIR R4 resource type)",
    );
    let b = bundle(vec![
        json!({"resourceType": "Basic", "id": "x", "nonsense": 1}),
    ]);
    warn(&b, "Basic: resource type Basic is not checked by Rekam");
    let b = bundle(vec![json!({"resourceType": "Quantity", "value": 1})]);
    err(&b, "Quantity: not a FHIR R4 resource type");
}

#[test]
fn unknown_elements_are_warnings() {
    warn(
        &obs_with("foo", json!("bar")),
        "Observation.foo: unknown element \"foo\"",
    );
    let mut o = observation();
    o["code"]["coding"][0]["foo"] = json!(1);
    warn(
        &bundle(vec![o]),
        "Observation.code.coding[0].foo: unknown element",
    );
    warn(
        &obs_with("_foo", json!({})),
        "Observation._foo: unknown element \"_foo\"",
    );
}

#[test]
fn value_types() {
    err(
        &obs_with("code", json!("4548-4")),
        "Observation.code: expected a CodeableConcept (object), found a string",
    );
    err(
        &obs_with("subject", json!(PAT)),
        "Observation.subject: expected a Reference (object), found a string",
    );
    let b = bundle(vec![
        json!({"resourceType": "Patient", "id": "p2", "active": "true"}),
    ]);
    err(
        &b,
        "Patient.active: expected a boolean (JSON boolean), found a string",
    );
    let mut o = observation();
    o["valueQuantity"]["value"] = json!("5.9");
    err(
        &bundle(vec![o]),
        "Observation.valueQuantity.value: expected a decimal (JSON number), found a string",
    );
    err(
        &obs_with("status", json!(1)),
        "Observation.status: expected a code (JSON string), found a number",
    );
    err(
        &obs_with("status", Value::Null),
        "Observation.status: found null",
    );
}

#[test]
fn cardinality() {
    let code = observation()["code"].clone();
    err(
        &obs_with("code", json!([code])),
        "Observation.code: expected a single CodeableConcept (max 1), found an array",
    );
    err(
        &obs_with("category", code),
        "Observation.category: expected an array of CodeableConcept (max *), found an object",
    );
    err(
        &bundle(vec![without(observation(), "status")]),
        "Observation.status: missing required element status (min 1)",
    );
    warn(
        &obs_with("category", json!([])),
        "Observation.category: empty array",
    );
    warn(
        &obs_with("method", json!({})),
        "Observation.method: empty object",
    );
    let mr = json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order", "subject": {"reference": PAT}});
    err(
        &bundle(vec![mr]),
        "MedicationRequest.medication[x]: missing required element medication[x] (min 1)",
    );
    let imm = json!({"resourceType": "Immunization", "status": "completed", "patient": {"reference": PAT},
        "occurrenceDateTime": "2025-10-14"});
    err(
        &bundle(vec![imm]),
        "Immunization.vaccineCode: missing required element vaccineCode",
    );
}

#[test]
fn choice_types() {
    err(
        &obs_with("valueString", json!("5.9 %")),
        "Observation.valueString: more than one value for value[x]",
    );
    let b = bundle(vec![with(
        without(observation(), "valueQuantity"),
        "valueFoo",
        json!(1),
    )]);
    err(&b, "Observation.valueFoo: valueFoo is not an allowed type for value[x] (allowed: valueQuantity,");
    let b = bundle(vec![with(
        without(observation(), "valueQuantity"),
        "valueInstant",
        json!("2025-01-01T00:00:00Z"),
    )]);
    err(&b, "Observation.valueInstant: not an allowed type");
    // The primitive's `_valueString` twin is not a second variant.
    let o = with(
        without(observation(), "valueQuantity"),
        "valueString",
        json!("x"),
    );
    clean(&bundle(vec![with(o, "_valueString", json!({"id": "v"}))]));
}

#[test]
fn primitive_formats() {
    let pat =
        |k: &str, v: Value| bundle(vec![json!({"resourceType": "Patient", "id": "p2", k: v})]);
    for good in ["2025", "2025-06", "2024-02-29", "0001-01-01"] {
        clean(&pat("birthDate", json!(good)));
    }
    for bad in [
        "2025-13-45",
        "2025-02-29",
        "0000",
        "25-01-01",
        "2025-1-01",
        "2025-06-24T09:00:00Z",
    ] {
        err(
            &pat("birthDate", json!(bad)),
            "Patient.birthDate: invalid date",
        );
    }
    for good in [
        "2025",
        "2025-06-24",
        "2025-06-24T09:00:00Z",
        "2025-06-24T09:00:00.123+14:00",
        "2025-06-24T23:59:60-05:30",
    ] {
        clean(&obs_with("effectiveDateTime", json!(good)));
    }
    for bad in [
        "2025-06-24T09:00:00",
        "2025-06-24T09:00Z",
        "2025-06-24T24:00:00Z",
        "2025-06-24T09:00:00+15:00",
        "2025-06-24 09:00:00Z",
        "2025-06-24T09:00:00.Z",
    ] {
        err(
            &obs_with("effectiveDateTime", json!(bad)),
            "Observation.effectiveDateTime: invalid dateTime",
        );
    }
    err(
        &obs_with("issued", json!("2025-06-24")),
        "Observation.issued: invalid instant",
    );
    clean(&obs_with("issued", json!("2025-06-24T09:00:00.5Z")));
    err(
        &obs_with("effectiveDateTime", json!("")),
        "Observation.effectiveDateTime: empty string is not a valid dateTime",
    );
    let o = with(
        without(observation(), "valueQuantity"),
        "valueTime",
        json!("25:00:00"),
    );
    err(&bundle(vec![o]), "Observation.valueTime: invalid time");
    err(
        &obs_with("id", json!("bad id!")),
        "Observation.id: invalid id",
    );
    err(
        &obs_with("id", json!("x".repeat(65))),
        "Observation.id: invalid id",
    );
    err(
        &obs_with("status", json!(" final")),
        "Observation.status: invalid code",
    );
    err(
        &obs_with("language", json!("en  US")),
        "Observation.language: invalid code",
    );
    err(
        &obs_with("implicitRules", json!("http://x y")),
        "Observation.implicitRules: invalid uri",
    );
    let mut o = observation();
    o["code"]["coding"][0]["code"] = json!("");
    warn(&bundle(vec![o]), "Observation.code.coding[0].code: empty string is not a valid code (FHIR forbids empty strings)");
    let mut o = observation();
    o["text"] = json!({"status": "generated", "div": "plain text"});
    err(&bundle(vec![o]), "Observation.text.div: invalid xhtml");
}

#[test]
fn numbers() {
    let o = |k: &str, v: Value| bundle(vec![with(without(observation(), "valueQuantity"), k, v)]);
    err(
        &o("valueInteger", json!(1.5)),
        "Observation.valueInteger: expected an integer within 32 bits, found 1.5",
    );
    err(
        &o("valueInteger", json!(3_000_000_000u64)),
        "Observation.valueInteger: within 32 bits",
    );
    clean(&o("valueInteger", json!(-7)));
    let imm = |dose: Value| {
        bundle(vec![
            json!({"resourceType": "Immunization", "status": "completed", "patient": {"reference": PAT},
            "vaccineCode": {"text": "flu"}, "occurrenceDateTime": "2025-10-14",
            "protocolApplied": [{"doseNumberPositiveInt": dose}]}),
        ])
    };
    err(
        &imm(json!(0)),
        "Immunization.protocolApplied[0].doseNumberPositiveInt: positiveInt (1 or more)",
    );
    clean(&imm(json!(1)));
}

#[test]
fn required_value_sets() {
    err(
        &obs_with("status", json!("bogus")),
        "Observation.status: code \"bogus\" is not in the required value set observation-status",
    );
    let cond = |code: &str| {
        bundle(vec![
            json!({"resourceType": "Condition", "subject": {"reference": PAT}, "clinicalStatus": {"coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": code}]}}),
        ])
    };
    clean(&cond("active"));
    err(
        &cond("bogus"),
        "Condition.clinicalStatus: no coding from the required value set condition-clinical",
    );
}

#[test]
fn codings() {
    let mut o = observation();
    o["code"]["coding"][0] = json!({"code": "4548-4"});
    warn(
        &bundle(vec![o]),
        "Observation.code.coding[0]: Coding has a code but no system",
    );
    let mut o = observation();
    o["valueQuantity"] = json!({"value": 1, "code": "%"});
    err(&bundle(vec![o]), "Observation.valueQuantity: qty-3");
}

#[test]
fn references() {
    let subj = |r: &str| obs_with("subject", json!({"reference": r}));
    clean(&subj("Patient/p1"));
    clean(&subj("Patient/p1/_history/2"));
    err(
        &subj("urn:uuid:00000000-0000-4000-8000-999999999999"),
        "Observation.subject.reference: dangling reference",
    );
    err(&subj("Patient/nope"), "Observation.subject.reference: dangling reference \"Patient/nope\": no entry of the Bundle is Patient/nope");
    warn(
        &subj("https://example.org/fhir/Patient/9"),
        "Observation.subject.reference: matches no entry's fullUrl",
    );
    err(
        &subj("Blob/1"),
        "Observation.subject.reference: Blob is not a FHIR R4 resource type",
    );
    err(
        &subj("not a reference"),
        "Observation.subject.reference: invalid reference",
    );
    err(&subj(PRAC), "Observation.subject.reference: a reference to a Practitioner is not allowed here (allowed: Patient, Group, Device, Location)");
    err(
        &subj("Practitioner/pr1"),
        "Observation.subject.reference: not allowed here",
    );
    warn(
        &subj("Patient?identifier=x"),
        "Observation.subject.reference: conditional reference",
    );
    let b = obs_with("subject", json!({"reference": PAT, "type": "Group"}));
    err(
        &b,
        "Observation.subject.reference: Reference.type is Group but the reference is to a Patient",
    );
    // Contained resources.
    let o = with(observation(), "specimen", json!({"reference": "#s1"}));
    err(
        &bundle(vec![o.clone()]),
        "Observation.specimen.reference: reference \"#s1\" matches no contained resource",
    );
    let o = with(
        o,
        "contained",
        json!([{"resourceType": "Specimen", "id": "s1", "status": "available"}]),
    );
    clean(&bundle(vec![o.clone()]));
    let mut o = o;
    o["contained"][0]["status"] = json!("bogus");
    err(
        &bundle(vec![o]),
        "Observation.contained[0].status: not in the required value set specimen-status",
    );
}

#[test]
fn backbone_elements_and_content_references() {
    let b = obs_with("component", json!([{"valueString": "x"}]));
    err(
        &b,
        "Observation.component[0].code: missing required element code",
    );
    let comp =
        json!([{"code": {"text": "c"}, "referenceRange": [{"low": {"value": 1}, "foo": 2}]}]);
    warn(
        &obs_with("component", comp),
        "Observation.component[0].referenceRange[0].foo: unknown element",
    );
    let comp = json!([{"code": {"text": "c"}, "modifierExtension": [{"url": "http://x", "valueBoolean": true}]}]);
    clean(&obs_with("component", comp));
    let ma = json!({"resourceType": "MedicationAdministration", "status": "completed", "medicationCodeableConcept": {"text": "m"},
        "subject": {"reference": PAT}, "effectiveDateTime": "2025-01-01", "dosage": {"dose": {"value": "1"}}});
    err(
        &bundle(vec![ma]),
        "MedicationAdministration.dosage.dose.value: expected a decimal",
    );
}

#[test]
fn extensions() {
    err(
        &obs_with("extension", json!([{"valueString": "x"}])),
        "Observation.extension[0].url: missing required element url",
    );
    err(
        &obs_with("extension", json!([{"url": "http://x"}])),
        "Observation.extension[0]: ext-1",
    );
    let nested = json!([{"url": "http://x", "extension": [{"url": "a", "valueCode": "b c"}]}]);
    clean(&obs_with("extension", nested));
    // Primitive extensions: `_birthDate`.
    let pat = |ext: Value| {
        bundle(vec![
            json!({"resourceType": "Patient", "id": "p2", "birthDate": "2000", "_birthDate": ext}),
        ])
    };
    clean(&pat(
        json!({"extension": [{"url": "http://x", "valueBoolean": true}]}),
    ));
    err(
        &pat(json!("x")),
        "Patient._birthDate: expected an Element (object), found a string",
    );
    let given = json!({"resourceType": "Patient", "name": [{"given": ["A", null], "_given": [null, {"id": "g"}]}]});
    clean(&bundle(vec![given]));
}

#[test]
fn report_api_and_display() {
    let r = validate_bundle(&obs_with("code", json!("x")));
    assert!(!r.is_valid());
    assert_eq!((r.errors().count(), r.warnings().count()), (1, 0));
    assert_eq!(
        r.issues[0].to_string(),
        "entry 2 (Observation) Observation.code: expected a CodeableConcept (object), found a string"
    );
    assert_eq!(r.issues[0].resource_type.as_deref(), Some("Observation"));
    let r = validate_bundle(&obs_with("foo", json!(1)));
    assert!(r.is_valid());
    let b = without(bundle(vec![]), "type");
    let r = validate_bundle(&b);
    assert_eq!(
        r.issues[0].to_string(),
        "Bundle.type: missing required element type (min 1)"
    );
    let json = serde_json::to_value(&r).expect("serializes");
    assert_eq!(json["issues"][0]["severity"], "error");
}
