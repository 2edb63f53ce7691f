//! The disclosable facts of a FHIR R4 Bundle: one claim per clinical resource (what it
//! says, without its date), one claim for that resource's date (and, for a medication,
//! one for its period), and derived,
//! non-identifying facts about the patient (birth year, age bands) that the issuer
//! computes. Names are positional (`observation.2`, `observation.2.date`): nothing in a
//! name comes from the source system's ids. The catalogue is in `docs/format.md`.

use serde_json::{json, Map, Value};

/// One fact before it is salted: its claim name, value and the Bundle entry it is from.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub name: String,
    pub value: Value,
    pub entry: Option<usize>,
}

/// Age bands the issuer attests as booleans, as of the record's date of treatment.
pub const AGE_BANDS: [u32; 2] = [18, 65];
/// Safe Harbor top-codes ages over 89: no birth year is attested for them.
pub const TOP_CODED_AGE: u32 = 90;

/// What to read from each resource type: the claim prefix and the date elements in
/// order of preference.
struct Shape {
    resource_type: &'static str,
    prefix: &'static str,
    date_fields: &'static [&'static str],
}

const SHAPES: &[Shape] = &[
    Shape {
        resource_type: "Condition",
        prefix: "condition",
        date_fields: &["onsetDateTime", "onsetPeriod.start", "recordedDate"],
    },
    Shape {
        resource_type: "Observation",
        prefix: "observation",
        date_fields: &[
            "effectiveDateTime",
            "effectivePeriod.start",
            "effectiveInstant",
            "issued",
        ],
    },
    Shape {
        resource_type: "MedicationRequest",
        prefix: "medication_request",
        date_fields: &["authoredOn"],
    },
    Shape {
        resource_type: "MedicationStatement",
        prefix: "medication_statement",
        date_fields: &["effectiveDateTime", "effectivePeriod.start", "dateAsserted"],
    },
    Shape {
        resource_type: "MedicationAdministration",
        prefix: "medication_administration",
        date_fields: &["effectiveDateTime", "effectivePeriod.start"],
    },
    Shape {
        resource_type: "Immunization",
        prefix: "immunization",
        date_fields: &["occurrenceDateTime", "recorded"],
    },
    Shape {
        resource_type: "AllergyIntolerance",
        prefix: "allergy",
        date_fields: &["onsetDateTime", "recordedDate"],
    },
    Shape {
        resource_type: "Procedure",
        prefix: "procedure",
        date_fields: &["performedDateTime", "performedPeriod.start"],
    },
    Shape {
        resource_type: "DiagnosticReport",
        prefix: "diagnostic_report",
        date_fields: &["effectiveDateTime", "effectivePeriod.start", "issued"],
    },
    Shape {
        resource_type: "ImagingStudy",
        prefix: "imaging_study",
        date_fields: &["started"],
    },
];

/// The resource type behind a claim name (`observation.3.date` -> `Observation`).
pub fn resource_type_of(claim_name: &str) -> Option<&'static str> {
    let prefix = claim_name.split('.').next()?;
    SHAPES
        .iter()
        .find(|s| s.prefix == prefix)
        .map(|s| s.resource_type)
}

fn at<'a>(value: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(value, |v, key| v.get(key))
}

fn text(value: &Value, dotted: &str) -> Option<String> {
    at(value, dotted)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// `system|code` of a Coding.
fn coding(c: &Value) -> Option<String> {
    let code = c.get("code")?.as_str()?.trim();
    if code.is_empty() {
        return None;
    }
    let system = c.get("system").and_then(Value::as_str).unwrap_or("").trim();
    Some(format!("{system}|{code}"))
}

/// The first coding of a CodeableConcept and its display text.
fn concept(value: Option<&Value>) -> (Option<String>, Option<String>) {
    let Some(value) = value else {
        return (None, None);
    };
    let codings = value.get("coding").and_then(Value::as_array);
    let first = codings.and_then(|cs| cs.iter().find_map(|c| coding(c).map(|code| (code, c))));
    let display = first
        .as_ref()
        .and_then(|(_, c)| text(c, "display"))
        .or_else(|| text(value, "text"));
    (first.map(|(code, _)| code), display)
}

fn first_concept(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find_map(|c| concept(Some(c)).0))
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(v) = value {
        map.insert(key.to_string(), v.into());
    }
}

fn put_concept(map: &mut Map<String, Value>, key: &str, value: Option<&Value>) {
    let (code, display) = concept(value);
    if code.is_some() {
        put(map, key, code);
        put(map, "display", display);
    }
}

/// A status element: a plain code, or the first coding's code of a CodeableConcept.
fn status(resource: &Value, field: &str) -> Option<String> {
    match resource.get(field)? {
        Value::String(s) => Some(s.clone()),
        concept => concept
            .get("coding")?
            .as_array()?
            .iter()
            .find_map(|c| c.get("code")?.as_str().map(str::to_string)),
    }
}

fn quantity(map: &mut Map<String, Value>, value_key: &str, q: Option<&Value>) {
    if let Some(q) = q {
        put(map, value_key, q.get("value").cloned());
        put(map, "unit", text(q, "unit").or_else(|| text(q, "code")));
    }
}

fn observation_value(map: &mut Map<String, Value>, o: &Value) {
    if let Some(q) = o.get("valueQuantity") {
        quantity(map, "value", Some(q));
    } else if let Some(c) = o.get("valueCodeableConcept") {
        put(map, "valueCode", concept(Some(c)).0);
    } else {
        for key in ["valueString", "valueBoolean", "valueInteger"] {
            if let Some(v) = o.get(key) {
                map.insert("value".into(), v.clone());
            }
        }
    }
}

fn observation(o: &Value) -> Map<String, Value> {
    let mut map = Map::new();
    put_concept(&mut map, "code", o.get("code"));
    put(&mut map, "category", first_concept(o.get("category")));
    observation_value(&mut map, o);
    put(
        &mut map,
        "interpretation",
        first_concept(o.get("interpretation")),
    );
    if let Some(components) = o.get("component").and_then(Value::as_array) {
        let parts: Vec<Value> = components
            .iter()
            .map(|c| {
                let mut part = Map::new();
                put_concept(&mut part, "code", c.get("code"));
                observation_value(&mut part, c);
                Value::Object(part)
            })
            .collect();
        map.insert("components".into(), Value::Array(parts));
    }
    map
}

/// A Dosage (MedicationRequest / MedicationStatement) reduced to dose and timing.
fn dosage(d: &Value) -> Value {
    let mut map = Map::new();
    put(&mut map, "text", text(d, "text"));
    let dose = d
        .get("doseAndRate")
        .and_then(Value::as_array)
        .and_then(|r| r.first())
        .and_then(|r| r.get("doseQuantity"));
    quantity(&mut map, "dose", dose);
    if let Some(repeat) = at(d, "timing.repeat") {
        for key in ["frequency", "period", "periodUnit"] {
            put(&mut map, key, repeat.get(key).cloned());
        }
    }
    put(&mut map, "asNeeded", d.get("asNeededBoolean").cloned());
    Value::Object(map)
}

fn medication(r: &Value, map: &mut Map<String, Value>) {
    put_concept(map, "medication", r.get("medicationCodeableConcept"));
    if !map.contains_key("medication") {
        put(
            map,
            "medicationRef",
            text(r, "medicationReference.reference"),
        );
    }
    put(map, "status", status(r, "status"));
}

fn coded_list(value: Option<&Value>) -> Vec<Value> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| concept(Some(c)).0.map(Value::from))
        .collect()
}

fn resource_facts(resource_type: &str, r: &Value) -> Map<String, Value> {
    let mut map = Map::new();
    match resource_type {
        "Condition" => {
            put_concept(&mut map, "code", r.get("code"));
            put(&mut map, "clinicalStatus", status(r, "clinicalStatus"));
            put(
                &mut map,
                "verificationStatus",
                status(r, "verificationStatus"),
            );
        }
        "Observation" => map = observation(r),
        "MedicationRequest" | "MedicationStatement" => {
            medication(r, &mut map);
            if let Some(ds) = r.get("dosageInstruction").or_else(|| r.get("dosage")) {
                let list: Vec<Value> = ds.as_array().into_iter().flatten().map(dosage).collect();
                map.insert("dosage".into(), Value::Array(list));
            }
        }
        "MedicationAdministration" => {
            medication(r, &mut map);
            let mut dose = Map::new();
            quantity(&mut dose, "dose", at(r, "dosage.dose"));
            if !dose.is_empty() {
                map.insert("dosage".into(), Value::Object(dose));
            }
        }
        "Immunization" => {
            put_concept(&mut map, "vaccine", r.get("vaccineCode"));
            put(&mut map, "status", status(r, "status"));
        }
        "AllergyIntolerance" => {
            put_concept(&mut map, "code", r.get("code"));
            put(&mut map, "clinicalStatus", status(r, "clinicalStatus"));
            put(&mut map, "criticality", status(r, "criticality"));
        }
        "Procedure" | "DiagnosticReport" => {
            put_concept(&mut map, "code", r.get("code"));
            put(&mut map, "status", status(r, "status"));
            let conclusions = coded_list(r.get("conclusionCode"));
            if !conclusions.is_empty() {
                map.insert("conclusionCodes".into(), Value::Array(conclusions));
            }
        }
        "ImagingStudy" => {
            let modalities: Vec<Value> = r
                .get("modality")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| coding(c).map(Value::from))
                .collect();
            map.insert("modality".into(), Value::Array(modalities));
            put(
                &mut map,
                "procedureCode",
                first_concept(r.get("procedureCode")),
            );
            put(&mut map, "numberOfSeries", r.get("numberOfSeries").cloned());
        }
        _ => {}
    }
    map
}

/// A medication's period, kept apart from its value like a date: the prescription's
/// validity (`dispenseRequest.validityPeriod`), else the first dosage's bounds.
fn medication_period(r: &Value) -> Option<Value> {
    at(r, "dispenseRequest.validityPeriod")
        .or_else(|| {
            r.get("dosageInstruction")
                .or_else(|| r.get("dosage"))
                .and_then(Value::as_array)
                .and_then(|d| d.first())
                .and_then(|d| at(d, "timing.repeat.boundsPeriod"))
        })
        .filter(|p| p.get("start").is_some() || p.get("end").is_some())
        .cloned()
}

/// Whole years between two `YYYY-MM-DD` dates (`None` when either is not such a date).
pub fn age_on(birth: &str, on: &str) -> Option<u32> {
    let part = |s: &str, r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (by, bm, bd) = (part(birth, 0..4)?, part(birth, 5..7)?, part(birth, 8..10)?);
    let (y, m, d) = (part(on, 0..4)?, part(on, 5..7)?, part(on, 8..10)?);
    let years = y.checked_sub(by)?;
    if (m, d) < (bm, bd) {
        years.checked_sub(1)
    } else {
        Some(years)
    }
}

/// The derived facts about the Bundle's Patient as of `as_of` (`YYYY-MM-DD`).
fn patient_facts(patient: &Value, as_of: &str) -> Vec<(String, Value)> {
    let Some(birth) = text(patient, "birthDate") else {
        return Vec::new();
    };
    // A partial birth date gives the age it certainly has reached: assume the latest day.
    let full = match birth.len() {
        4 => format!("{birth}-12-31"),
        7 => format!("{birth}-31"),
        _ => birth.clone(),
    };
    let Some(age) = age_on(&full, as_of) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if age < TOP_CODED_AGE {
        if let Some(year) = birth.get(..4).and_then(|y| y.parse::<u32>().ok()) {
            out.push(("birth_year".to_string(), json!(year)));
        }
    }
    for band in AGE_BANDS {
        out.push((format!("age_over_{band}"), json!(age >= band)));
    }
    out
}

/// Every fact of `resources` (the Bundle's entries, in order), the derived ones last,
/// computed as of `as_of` (the record's date of treatment, `YYYY-MM-DD`).
pub fn extract(resources: &[&Value], as_of: &str) -> Vec<Fact> {
    let mut counters = vec![0usize; SHAPES.len()];
    let mut facts = Vec::new();
    let mut patient = None;
    for (entry, resource) in resources.iter().enumerate() {
        let Some(rt) = resource.get("resourceType").and_then(Value::as_str) else {
            continue;
        };
        if rt == "Patient" && patient.is_none() {
            patient = Some(*resource);
        }
        let Some(slot) = SHAPES.iter().position(|s| s.resource_type == rt) else {
            continue;
        };
        let shape = &SHAPES[slot];
        let name = format!("{}.{}", shape.prefix, counters[slot]);
        counters[slot] += 1;
        let date = shape.date_fields.iter().find_map(|f| text(resource, f));
        facts.push(Fact {
            name: name.clone(),
            value: Value::Object(resource_facts(rt, resource)),
            entry: Some(entry),
        });
        if let Some(date) = date {
            facts.push(Fact {
                name: format!("{name}.date"),
                value: Value::String(date),
                entry: Some(entry),
            });
        }
        if let Some(period) = medication_period(resource) {
            facts.push(Fact {
                name: format!("{name}.period"),
                value: period,
                entry: Some(entry),
            });
        }
    }
    if let Some(p) = patient {
        facts.extend(
            patient_facts(p, as_of)
                .into_iter()
                .map(|(name, value)| Fact {
                    name,
                    value,
                    entry: None,
                }),
        );
    }
    facts
}
