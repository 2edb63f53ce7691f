//! Claims in words, for the people who read them (`rekam claims`, presentations).

use serde_json::Value;

use crate::fhir::facts::resource_type_of;

/// Short names of the code systems Rekam's sources use.
fn system_name(system: &str) -> &str {
    match system {
        "http://loinc.org" => "LOINC",
        "http://snomed.info/sct" => "SNOMED CT",
        "http://hl7.org/fhir/sid/icd-10-cm" => "ICD-10-CM",
        "http://hl7.org/fhir/sid/icd-10" => "ICD-10",
        "http://hl7.org/fhir/sid/cvx" => "CVX",
        "http://www.nlm.nih.gov/research/umls/rxnorm" => "RxNorm",
        "http://unitsofmeasure.org" => "UCUM",
        "http://dicom.nema.org/resources/ontology/DCM" => "DICOM",
        other => other,
    }
}

/// `system|code` as `CODE (System)`.
fn code_words(coded: &str) -> String {
    match coded.split_once('|') {
        Some((system, code)) if !system.is_empty() => {
            format!("{} {code}", system_name(system))
        }
        Some((_, code)) => code.to_string(),
        None => coded.to_string(),
    }
}

fn field<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn measured(value: &Value) -> Option<String> {
    if let Some(v) = value.get("value") {
        let unit = field(value, "unit")
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        return Some(format!("{}{unit}", scalar(v)));
    }
    field(value, "valueCode").map(code_words)
}

/// What a coded resource claim names: its display text, else its code.
fn subject(value: &Value, code_key: &str) -> String {
    let code = field(value, code_key).map(code_words);
    match (field(value, "display"), code) {
        (Some(display), Some(code)) => format!("{display} ({code})"),
        (None, Some(code)) => code,
        (Some(display), None) => display.to_string(),
        (None, None) => "(no code)".to_string(),
    }
}

/// One claim in words.
pub fn describe(name: &str, value: &Value) -> String {
    let resource = resource_type_of(name);
    if let Some(rt) = resource {
        if name.ends_with(".date") {
            return format!("date of {rt} {}: {}", ordinal(name), scalar(value));
        }
        if name.ends_with(".period") {
            let end = |k: &str| field(value, k).unwrap_or("open").to_string();
            return format!(
                "period of {rt} {}: {} to {}",
                ordinal(name),
                end("start"),
                end("end")
            );
        }
        let main = match rt {
            "Observation" => {
                let mut s = subject(value, "code");
                if let Some(m) = measured(value) {
                    s.push_str(&format!(" = {m}"));
                }
                if let Some(parts) = value.get("components").and_then(Value::as_array) {
                    let list: Vec<String> = parts
                        .iter()
                        .map(|p| {
                            let m = measured(p).unwrap_or_else(|| "?".into());
                            format!("{} {m}", subject(p, "code"))
                        })
                        .collect();
                    s.push_str(&format!(" [{}]", list.join("; ")));
                }
                if let Some(i) = field(value, "interpretation") {
                    s.push_str(&format!(", interpretation {}", code_words(i)));
                }
                s
            }
            "MedicationRequest" | "MedicationStatement" | "MedicationAdministration" => {
                let mut s = subject(value, "medication");
                if let Some(d) = value.get("dosage") {
                    let doses: Vec<&Value> = match d {
                        Value::Array(list) => list.iter().collect(),
                        single => vec![single],
                    };
                    for dose in doses {
                        if let Some(t) = field(dose, "text") {
                            s.push_str(&format!(", {t}"));
                        } else if let Some(v) = dose.get("dose") {
                            let unit = field(dose, "unit").unwrap_or("");
                            s.push_str(&format!(", {} {unit}", scalar(v)));
                        }
                    }
                }
                s
            }
            "Immunization" => subject(value, "vaccine"),
            "ImagingStudy" => value
                .get("modality")
                .and_then(Value::as_array)
                .map(|m| m.iter().map(|c| code_words(&scalar(c))).collect::<Vec<_>>())
                .map(|m| format!("modality {}", m.join(", ")))
                .unwrap_or_else(|| "imaging study".into()),
            _ => subject(value, "code"),
        };
        let status = ["clinicalStatus", "status"]
            .iter()
            .find_map(|k| field(value, k))
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        return format!("{rt} {}: {main}{status}", ordinal(name));
    }
    if let Some(band) = name.strip_prefix("age_over_") {
        let yes = if value.as_bool() == Some(true) {
            "yes"
        } else {
            "no"
        };
        return format!("{band} or older at the date of care: {yes}");
    }
    if name == "birth_year" {
        return format!("born in {}", scalar(value));
    }
    format!("{name}: {}", scalar(value))
}

fn ordinal(name: &str) -> &str {
    name.split('.').nth(1).unwrap_or("?")
}
