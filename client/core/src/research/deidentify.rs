//! The de-identifier: a FHIR R4 Bundle reduced to the allow-list of `schema`, with every
//! date generalized to its year, ages over 89 top-coded, codes of unknown systems and all
//! free text dropped, and every id replaced by a fresh one (rules in `docs/research.md`).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::codes::{self, TOP_AGE, UCUM};
use super::schema::{self, Field, Kind};
use super::AGE_BAND_URL;
use crate::fhir::{self, FhirError};

/// Fresh ids of the copy's resources, by every way the source referred to them.
type Ids = HashMap<String, String>;

fn random_uuid() -> String {
    let mut b = [0u8; 16];
    aws_lc_rs::rand::fill(&mut b).expect("system RNG");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The five-year age band of someone born on `birth` (`YYYY-MM-DD`) at `at`
/// (`YYYY-MM-DD`): `"40-44"`, ..., `"90+"`.
pub fn age_band(birth: &str, at: &str) -> Option<String> {
    let parse = |d: &str| -> Option<(i32, u32, u32)> {
        let y = d.get(0..4)?.parse().ok()?;
        let m = d.get(5..7)?.parse().ok()?;
        let day = d.get(8..10).and_then(|s| s.parse().ok()).unwrap_or(1);
        Some((y, m, day))
    };
    let (by, bm, bd) = parse(birth)?;
    let (ay, am, ad) = parse(at)?;
    let mut age = ay - by;
    if (am, ad) < (bm, bd) {
        age -= 1;
    }
    if age < 0 {
        return None;
    }
    Some(if f64::from(age) >= TOP_AGE {
        "90+".to_string()
    } else {
        let low = age / 5 * 5;
        format!("{low}-{}", low + 4)
    })
}

/// A Coding of a known system with a well-formed code, as `{system, code}`.
fn coding(v: &Value) -> Option<Value> {
    let system = v.get("system")?.as_str()?;
    let code = v.get("code")?.as_str()?;
    codes::valid_code(system, code).then(|| json!({ "system": system, "code": code }))
}

/// A UCUM Quantity without its free-text unit (kept only when it is the code), with an
/// age (a time of 90 years or more) top-coded to `>= 90 a`.
fn quantity(v: &Value) -> Option<Value> {
    let value = v.get("value")?.as_f64()?;
    let mut out = Map::new();
    out.insert("value".into(), v["value"].clone());
    if let Some(c) = v
        .get("comparator")
        .and_then(Value::as_str)
        .filter(|c| codes::is_comparator(c))
    {
        out.insert("comparator".into(), c.into());
    }
    let ucum = v.get("code").and_then(Value::as_str).filter(|code| {
        v.get("system").and_then(Value::as_str) == Some(UCUM) && codes::valid_code(UCUM, code)
    });
    if let Some(code) = ucum {
        if v.get("unit").and_then(Value::as_str) == Some(code) {
            out.insert("unit".into(), code.into());
        }
        out.insert("system".into(), UCUM.into());
        out.insert("code".into(), code.into());
        if codes::years(value, code).is_some_and(|y| y >= TOP_AGE) {
            top_code(&mut out);
        }
    }
    Some(Value::Object(out))
}

/// `>= 90 a`: Safe Harbor's "90 or older".
fn top_code(q: &mut Map<String, Value>) {
    let unit = q.contains_key("unit");
    q.clear();
    q.insert("value".into(), json!(90));
    q.insert("comparator".into(), ">=".into());
    if unit {
        q.insert("unit".into(), "a".into());
    }
    q.insert("system".into(), UCUM.into());
    q.insert("code".into(), "a".into());
}

fn members(v: &Value, names: &[&str], each: impl Fn(&Value) -> Option<Value>) -> Option<Value> {
    let out: Map<String, Value> = names
        .iter()
        .filter_map(|n| Some(((*n).to_string(), each(v.get(*n)?)?)))
        .collect();
    (!out.is_empty()).then_some(Value::Object(out))
}

/// One element reduced to what `kind` allows, or `None` when nothing of it may stay.
fn reduce(kind: Kind, v: &Value, ids: &Ids) -> Option<Value> {
    match kind {
        Kind::Code => v.as_str().filter(|s| codes::is_token(s)).map(Value::from),
        Kind::Boolean => v.as_bool().map(Value::from),
        Kind::Integer => (v.is_i64() || v.is_u64()).then(|| v.clone()),
        Kind::Decimal => v.is_number().then(|| v.clone()),
        Kind::Date => v.as_str().and_then(codes::year_of).map(Value::from),
        Kind::Period => members(v, &["start", "end"], |d| reduce(Kind::Date, d, ids)),
        Kind::Coding => coding(v),
        Kind::Concept => {
            let kept: Vec<Value> = v
                .get("coding")?
                .as_array()?
                .iter()
                .filter_map(coding)
                .collect();
            (!kept.is_empty()).then(|| json!({ "coding": kept }))
        }
        Kind::Quantity => quantity(v),
        Kind::Range => members(v, &["low", "high"], quantity),
        Kind::Ratio => members(v, &["numerator", "denominator"], quantity),
        Kind::Reference => {
            let target = ids.get(v.get("reference")?.as_str()?)?;
            Some(json!({ "reference": target }))
        }
        Kind::Backbone(fields) => {
            let out = keep(fields, v, ids);
            (!out.is_empty()).then_some(Value::Object(out))
        }
    }
}

fn reduce_field(f: &Field, v: &Value, ids: &Ids) -> Option<Value> {
    if !f.many {
        return reduce(f.kind, v, ids);
    }
    let items: Vec<Value> = v
        .as_array()?
        .iter()
        .filter_map(|i| reduce(f.kind, i, ids))
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

/// Whether a reduced CodeableConcept is a LOINC code for the patient's age.
pub(super) fn is_age_concept(concept: Option<&Value>) -> bool {
    concept
        .and_then(|c| c.get("coding"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| {
            c["system"] == "http://loinc.org"
                && c["code"]
                    .as_str()
                    .is_some_and(|k| codes::AGE_CODES.contains(&k))
        })
}

/// The elements of `source` that `fields` allows, each reduced. An age observation's
/// value of 90 or more becomes `>= 90 a` (an integer one too, as a Quantity).
fn keep(fields: &[Field], source: &Value, ids: &Ids) -> Map<String, Value> {
    let mut out = Map::new();
    for f in fields {
        if let Some(v) = source.get(f.name).and_then(|v| reduce_field(f, v, ids)) {
            out.insert(f.name.into(), v);
        }
    }
    if is_age_concept(out.get("code")) {
        if out
            .get("valueInteger")
            .and_then(Value::as_f64)
            .is_some_and(|a| a >= TOP_AGE)
        {
            out.remove("valueInteger");
            let mut q = Map::new();
            top_code(&mut q);
            out.insert("valueQuantity".into(), Value::Object(q));
        }
        if let Some(Value::Object(q)) = out.get_mut("valueQuantity") {
            let unitless = !q.contains_key("code");
            if unitless
                && q.get("value")
                    .and_then(Value::as_f64)
                    .is_some_and(|a| a >= TOP_AGE)
            {
                top_code(q);
            }
        }
    }
    out
}

/// De-identifies a FHIR R4 Bundle (rules in `docs/research.md`). `treatment_date`
/// (`YYYY-MM-DD`, the record's date) is when the patient's age band is measured.
pub fn deidentify(bundle: &[u8], treatment_date: &str) -> Result<Value, FhirError> {
    // The record was validated whole when attested; a part of a split Bundle may point at
    // resources of other parts (those references are dropped below).
    fhir::summarize_attested(bundle)?;
    let bundle: Value =
        serde_json::from_slice(bundle).map_err(|e| FhirError::NotJson(e.to_string()))?;
    let entries = bundle
        .get("entry")
        .and_then(Value::as_array)
        .ok_or(FhirError::NoEntries)?;

    // Fresh ids for every kept resource; old references (urn:uuid and Type/id) map to them.
    let mut ids = Ids::new();
    let mut kept = Vec::new();
    for entry in entries {
        let resource = &entry["resource"];
        let rtype = resource["resourceType"].as_str().unwrap_or("");
        let Some(fields) = schema::fields(rtype) else {
            continue;
        };
        let fresh = format!("urn:uuid:{}", random_uuid());
        if let Some(url) = entry.get("fullUrl").and_then(Value::as_str) {
            ids.insert(url.to_string(), fresh.clone());
        }
        if let Some(old) = resource.get("id").and_then(Value::as_str) {
            ids.insert(format!("{rtype}/{old}"), fresh.clone());
            ids.insert(format!("urn:uuid:{old}"), fresh.clone());
        }
        kept.push((rtype, fields, fresh, resource));
    }

    let mut out_entries = Vec::new();
    for (rtype, fields, fresh, resource) in kept {
        let mut clean = Map::new();
        clean.insert("resourceType".into(), rtype.into());
        clean.insert("id".into(), fresh.trim_start_matches("urn:uuid:").into());
        clean.extend(keep(fields, resource, &ids));
        if rtype == "Patient" {
            let band = resource["birthDate"]
                .as_str()
                .and_then(|b| age_band(b, treatment_date));
            if let Some(band) = band {
                clean.insert(
                    "extension".into(),
                    json!([{ "url": AGE_BAND_URL, "valueString": band }]),
                );
            }
        }
        out_entries.push(json!({ "fullUrl": fresh, "resource": Value::Object(clean) }));
    }
    Ok(json!({ "resourceType": "Bundle", "type": "collection", "entry": out_entries }))
}
