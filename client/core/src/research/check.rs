//! The identifier check: an independent walk over a research copy's Bundle that reports
//! every element not on the allow-list and every value that could identify someone. The
//! patient's client runs it before sealing a copy, the researcher's after opening one; a
//! copy with any finding is refused. It does not trust the de-identifier: besides the
//! allow-list walk, a second pass over the whole JSON flags identifying element names,
//! dates finer than a year and free text wherever they are.

use std::collections::HashSet;
use std::fmt;

use serde_json::Value;

use super::codes::{self, TOP_AGE, UCUM};
use super::schema::{self, Field, Kind};
use super::AGE_BAND_URL;

/// One thing the check found: where (a JSON pointer from the Bundle) and what.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    pub path: String,
    pub what: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// Element names that carry identifiers or free text in FHIR, refused at any depth.
const IDENTIFYING_NAMES: &[&str] = &[
    "display",
    "text",
    "div",
    "note",
    "description",
    "comment",
    "name",
    "telecom",
    "address",
    "photo",
    "contact",
    "identifier",
    "meta",
    "contained",
    "patientInstruction",
    "conclusion",
    "series",
    "lotNumber",
    "presentedForm",
    "valueString",
    "valueAttachment",
    "valueSampledData",
    "modifierExtension",
    "url",
    "data",
    "performer",
    "location",
    "issued",
    "birthDate",
];

struct Walk<'a> {
    urls: &'a HashSet<String>,
    out: Vec<Finding>,
}

impl Walk<'_> {
    fn flag(&mut self, path: &str, what: impl Into<String>) {
        self.out.push(Finding {
            path: path.to_string(),
            what: what.into(),
        });
    }

    fn quantity(&mut self, path: &str, v: &Value) {
        let Some(map) = v.as_object() else {
            return self.flag(path, "not a Quantity");
        };
        for key in map.keys() {
            if !["value", "comparator", "unit", "system", "code"].contains(&key.as_str()) {
                self.flag(&format!("{path}/{key}"), "not on the allow-list");
            }
        }
        let Some(value) = map.get("value").and_then(Value::as_f64) else {
            return self.flag(
                &format!("{path}/value"),
                "a Quantity without a numeric value",
            );
        };
        let code = map.get("code").and_then(Value::as_str);
        if let Some(c) = map.get("comparator") {
            if !c.as_str().is_some_and(codes::is_comparator) {
                self.flag(&format!("{path}/comparator"), "not a comparator");
            }
        }
        if map.contains_key("system") || code.is_some() {
            if map.get("system").and_then(Value::as_str) != Some(UCUM) {
                self.flag(&format!("{path}/system"), "a unit system other than UCUM");
            }
            if !code.is_some_and(|c| codes::valid_code(UCUM, c)) {
                self.flag(&format!("{path}/code"), "not a UCUM code");
            }
        }
        if let Some(unit) = map.get("unit") {
            if unit.as_str() != code {
                self.flag(
                    &format!("{path}/unit"),
                    "a unit that is not its UCUM code (free text)",
                );
            }
        }
        let years = code.and_then(|c| codes::years(value, c));
        if years.is_some_and(|y| y >= TOP_AGE) && !top_coded(map) {
            self.flag(
                &format!("{path}/value"),
                "an age of 90 or more not top-coded to >= 90 a",
            );
        }
    }

    fn kind(&mut self, kind: Kind, path: &str, v: &Value) {
        let bad = |what: &str| format!("not a {what}");
        match kind {
            Kind::Code if !v.as_str().is_some_and(codes::is_token) => {
                self.flag(path, bad("code token"))
            }
            Kind::Boolean if !v.is_boolean() => self.flag(path, bad("boolean")),
            Kind::Integer if !(v.is_i64() || v.is_u64()) => self.flag(path, bad("integer")),
            Kind::Decimal if !v.is_number() => self.flag(path, bad("number")),
            Kind::Date if !v.as_str().is_some_and(codes::is_year) => {
                self.flag(path, "a date other than a year")
            }
            Kind::Period => self.members(path, v, &["start", "end"], |w, p, d| {
                w.kind(Kind::Date, p, d)
            }),
            Kind::Coding => self.coding(path, v),
            Kind::Concept => {
                self.members(path, v, &["coding"], |w, p, list| match list.as_array() {
                    Some(items) if !items.is_empty() => {
                        for (i, c) in items.iter().enumerate() {
                            w.coding(&format!("{p}/{i}"), c);
                        }
                    }
                    _ => w.flag(p, "not a list of codings"),
                })
            }
            Kind::Quantity => self.quantity(path, v),
            Kind::Range => self.members(path, v, &["low", "high"], |w, p, q| w.quantity(p, q)),
            Kind::Ratio => self.members(path, v, &["numerator", "denominator"], |w, p, q| {
                w.quantity(p, q)
            }),
            Kind::Reference => self.members(path, v, &["reference"], |w, p, r| match r.as_str() {
                Some(r) if w.urls.contains(r) => {}
                _ => w.flag(p, "a reference to nothing in the copy"),
            }),
            Kind::Backbone(fields) => self.element(fields, path, v),
            _ => {}
        }
    }

    /// An object whose keys must be among `allowed`, each checked by `each`.
    fn members(
        &mut self,
        path: &str,
        v: &Value,
        allowed: &[&str],
        each: impl Fn(&mut Self, &str, &Value),
    ) {
        let Some(map) = v.as_object() else {
            return self.flag(path, "not an object");
        };
        if map.is_empty() || (allowed == ["reference"] && !map.contains_key("reference")) {
            self.flag(path, "an element with nothing allowed in it");
        }
        for (key, item) in map {
            let p = format!("{path}/{key}");
            if allowed.contains(&key.as_str()) {
                each(self, &p, item);
            } else {
                self.flag(&p, "not on the allow-list");
            }
        }
    }

    fn coding(&mut self, path: &str, v: &Value) {
        self.members(path, v, &["system", "code"], |_, _, _| {});
        let system = v.get("system").and_then(Value::as_str);
        let code = v.get("code").and_then(Value::as_str);
        match (system, code) {
            (Some(s), _) if !codes::known_system(s) => {
                self.flag(&format!("{path}/system"), "not a known code system")
            }
            (Some(s), Some(c)) if !codes::valid_code(s, c) => {
                self.flag(&format!("{path}/code"), "not a code of its system")
            }
            (Some(_), Some(_)) => {}
            _ => self.flag(path, "a coding without system and code"),
        }
    }

    /// A resource or backbone element: only the allow-listed elements, each of its kind.
    fn element(&mut self, fields: &[Field], path: &str, v: &Value) {
        let Some(map) = v.as_object() else {
            return self.flag(path, "not an object");
        };
        for (key, item) in map {
            let p = format!("{path}/{key}");
            if path.ends_with("/resource")
                && (key == "resourceType" || key == "id" || key == "extension")
            {
                continue; // checked by the caller
            }
            let Some(f) = schema::field(fields, key) else {
                self.flag(&p, "not on the allow-list");
                continue;
            };
            match (f.many, item.as_array()) {
                (true, Some(items)) if !items.is_empty() => {
                    for (i, it) in items.iter().enumerate() {
                        self.kind(f.kind, &format!("{p}/{i}"), it);
                    }
                }
                (true, _) => self.flag(&p, "not a non-empty list"),
                (false, _) => self.kind(f.kind, &p, item),
            }
        }
        let age = super::deidentify::is_age_concept(map.get("code"));
        if age
            && map
                .get("valueInteger")
                .and_then(Value::as_f64)
                .is_some_and(|a| a >= TOP_AGE)
        {
            self.flag(
                &format!("{path}/valueInteger"),
                "an age of 90 or more not top-coded to >= 90 a",
            );
        }
        if let Some(q) = map.get("valueQuantity").and_then(Value::as_object) {
            let unitless = !q.contains_key("code");
            if age
                && unitless
                && q.get("value")
                    .and_then(Value::as_f64)
                    .is_some_and(|a| a >= TOP_AGE)
            {
                self.flag(
                    &format!("{path}/valueQuantity/value"),
                    "an age of 90 or more not top-coded to >= 90 a",
                );
            }
        }
    }

    fn resource(&mut self, path: &str, full_url: Option<&str>, r: &Value) {
        let rtype = r.get("resourceType").and_then(Value::as_str).unwrap_or("");
        let Some(fields) = schema::fields(rtype) else {
            return self.flag(
                &format!("{path}/resourceType"),
                format!("resource type {rtype:?} is not kept in a copy"),
            );
        };
        let id = r.get("id").and_then(Value::as_str).unwrap_or("");
        if !codes::is_uuid(id) || full_url != Some(format!("urn:uuid:{id}").as_str()) {
            self.flag(&format!("{path}/id"), "not the fresh id of its entry");
        }
        if let Some(ext) = r.get("extension") {
            let band = rtype == "Patient"
                && ext.as_array().is_some_and(|e| {
                    e.len() == 1
                        && e[0].as_object().is_some_and(|m| m.len() == 2)
                        && e[0]["url"] == AGE_BAND_URL
                        && e[0]["valueString"].as_str().is_some_and(is_age_band)
                });
            if !band {
                self.flag(
                    &format!("{path}/extension"),
                    "an extension other than the age band",
                );
            }
        }
        self.element(fields, path, r);
    }
}

fn top_coded(q: &serde_json::Map<String, Value>) -> bool {
    q.get("value").and_then(Value::as_f64) == Some(TOP_AGE)
        && q.get("comparator").and_then(Value::as_str) == Some(">=")
        && q.get("code").and_then(Value::as_str) == Some("a")
}

/// `"40-44"` or `"90+"`.
fn is_age_band(s: &str) -> bool {
    if s == "90+" {
        return true;
    }
    let Some((low, high)) = s.split_once('-') else {
        return false;
    };
    match (low.parse::<u32>(), high.parse::<u32>()) {
        (Ok(l), Ok(h)) => {
            l % 5 == 0 && h == l + 4 && f64::from(h) < TOP_AGE && low == l.to_string()
        }
        _ => false,
    }
}

/// The second, schema-free pass: identifying names, fine dates and free text anywhere.
fn anywhere(path: &str, v: &Value, out: &mut Vec<Finding>) {
    let flag = |out: &mut Vec<Finding>, p: &str, what: String| {
        out.push(Finding {
            path: p.to_string(),
            what,
        })
    };
    match v {
        Value::String(s) => {
            if codes::finer_than_year(s) {
                flag(out, path, format!("a date finer than a year ({s})"));
            } else if s.chars().any(char::is_whitespace) || s.contains('@') {
                flag(out, path, "free text".into());
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                anywhere(&format!("{path}/{i}"), item, out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let p = format!("{path}/{key}");
                // The age band's own `url` and `valueString` (its shape is checked above).
                let band = map.get("url").is_some_and(|u| u == AGE_BAND_URL)
                    && (key == "url" || key == "valueString");
                if !band
                    && (IDENTIFYING_NAMES.contains(&key.as_str()) || key.ends_with("Identifier"))
                {
                    flag(out, &p, format!("element {key} can identify"));
                }
                anywhere(&p, item, out);
            }
        }
        _ => {}
    }
}

/// Every finding in a copy's Bundle, sorted, each once. Empty: nothing identifying.
pub fn check_bundle(bundle: &Value) -> Vec<Finding> {
    let entries = bundle.get("entry").and_then(Value::as_array);
    let urls: HashSet<String> = entries
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("fullUrl")?.as_str().map(str::to_string))
        .collect();
    let mut walk = Walk {
        urls: &urls,
        out: Vec::new(),
    };
    match bundle.as_object() {
        Some(map) => {
            for (key, v) in map {
                let ok = match key.as_str() {
                    "resourceType" => v == "Bundle",
                    "type" => v == "collection",
                    "entry" => v.is_array(),
                    _ => false,
                };
                if !ok {
                    walk.flag(&format!("/{key}"), "not on the allow-list");
                }
            }
        }
        None => walk.flag("", "not a Bundle"),
    }
    for (i, e) in entries.into_iter().flatten().enumerate() {
        let path = format!("/entry/{i}");
        if let Some(map) = e.as_object() {
            for key in map.keys().filter(|k| *k != "fullUrl" && *k != "resource") {
                walk.flag(&format!("{path}/{key}"), "not on the allow-list");
            }
        }
        let url = e.get("fullUrl").and_then(Value::as_str);
        walk.resource(&format!("{path}/resource"), url, &e["resource"]);
    }
    let mut out = walk.out;
    anywhere("", bundle, &mut out);
    out.sort();
    out.dedup();
    out
}
