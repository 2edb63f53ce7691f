//! References and codings for `validate.rs`: the Bundle's index of entries (by fullUrl and
//! by `Type/id`), resolving a Reference against it or against contained resources, the
//! allowed target types, and codings under a required value-set binding.

use serde_json::{Map, Value};

use super::table::FnvMap;
use super::{formats, quote, Captured, Ctx, Seg, Severity};

/// Where references can land: entries by fullUrl and by `Type/id`.
#[derive(Default)]
pub(super) struct Index<'a> {
    pub(super) by_url: FnvMap<&'a str, usize>,
    pub(super) by_tid: FnvMap<(&'a str, &'a str), usize>,
    pub(super) types: Vec<Option<&'a str>>,
}

/// `Type/id` (optionally `/_history/v`) at the end of a reference or URL.
pub(super) fn type_and_id(r: &str) -> Option<(&str, &str)> {
    let r = match r.find("/_history/") {
        Some(i) => &r[..i],
        None => r,
    };
    let (head, id) = r.rsplit_once('/')?;
    let ty = head.rsplit('/').next()?;
    let ok = ty.as_bytes().first().is_some_and(u8::is_ascii_uppercase) && formats::is_id(id);
    ok.then_some((ty, id))
}

impl<'a> Ctx<'a> {
    /// A Coding or CodeableConcept under a required binding: one coding must be in it.
    pub(super) fn coded(&mut self, o: &'a Map<String, Value>, node: u32, vs: u32) {
        let (name, codes) = &self.t.value_sets[vs as usize];
        let in_set = |c: &Map<String, Value>| {
            let code = c.get("code").and_then(Value::as_str).unwrap_or("");
            match c.get("system").and_then(Value::as_str) {
                Some(sys) => codes.iter().any(|x| x.split_once('|') == Some((sys, code))),
                None => codes.iter().any(|x| x.rsplit('|').next() == Some(code)),
            }
        };
        let found = if node == self.t.coding {
            in_set(o)
        } else {
            let codings = o
                .get("coding")
                .and_then(Value::as_array)
                .into_iter()
                .flatten();
            codings.filter_map(Value::as_object).any(in_set)
        };
        if !found {
            self.err(format!("no coding from the required value set {name}"));
        }
    }

    /// Checks a Reference: that it resolves (in the Bundle, or to a contained resource)
    /// and points to a type allowed here.
    pub(super) fn reference(&mut self, [reference, declared]: Captured<'a>, targets: &[Box<str>]) {
        let t = self.t;
        let allowed = |ty: &str| {
            targets.is_empty() || targets.iter().any(|x| &**x == ty || &**x == "Resource")
        };
        let declared = declared.and_then(Value::as_str);
        let Some(r) = reference.and_then(Value::as_str) else {
            if let Some(d) = declared.filter(|d| !allowed(d)) {
                self.report(
                    Severity::Error,
                    Some("type"),
                    format!(
                        "a reference to a {d} is not allowed here (allowed: {})",
                        targets.join(", ")
                    ),
                );
            }
            return;
        };
        self.path.push(Seg::Key("reference"));
        let mut target = None;
        if let Some(frag) = r.strip_prefix('#') {
            if !frag.is_empty() && !self.contained.contains(&frag) {
                self.err(format!(
                    "reference {} matches no contained resource",
                    quote(r)
                ));
            }
        } else if r.starts_with("urn:uuid:")
            || r.starts_with("urn:oid:")
            || r.starts_with("http://")
            || r.starts_with("https://")
        {
            let found = self.index.map(|ix| ix.by_url.get(r).map(|&j| ix.types[j]));
            match found {
                Some(Some(ty)) => target = ty,
                Some(None) if r.starts_with("urn:") => {
                    self.err(format!(
                        "dangling reference {}: no entry of the Bundle has this fullUrl",
                        quote(r)
                    ));
                }
                Some(None) => {
                    target = type_and_id(r).map(|(ty, _)| ty);
                    self.warn(format!(
                        "reference {} matches no entry's fullUrl (not resolved)",
                        quote(r)
                    ));
                }
                None => {}
            }
        } else if r.contains('?') {
            self.warn(format!(
                "conditional reference {} is not resolved",
                quote(r)
            ));
        } else if let Some((ty, id)) = type_and_id(r).filter(|(ty, _)| r.starts_with(ty)) {
            if !t.r4_types.contains_key(ty) {
                self.err(format!(
                    "reference {}: {ty} is not a FHIR R4 resource type",
                    quote(r)
                ));
            } else {
                target = Some(ty);
                if self
                    .index
                    .is_some_and(|ix| !ix.by_tid.contains_key(&(ty, id)))
                {
                    self.err(format!(
                        "dangling reference {}: no entry of the Bundle is {ty}/{id}",
                        quote(r)
                    ));
                }
            }
        } else {
            self.err(format!(
                "invalid reference {} (expected Type/id, urn:uuid:..., #id or an absolute URL)",
                quote(r)
            ));
        }
        if let Some(ty) = target
            .or(declared)
            .filter(|ty| t.r4_types.contains_key(*ty))
        {
            if !allowed(ty) {
                self.err(format!(
                    "a reference to a {ty} is not allowed here (allowed: {})",
                    targets.join(", ")
                ));
            }
            if let (Some(d), Some(ty)) = (declared, target) {
                if d != ty {
                    self.err(format!(
                        "Reference.type is {d} but the reference is to a {ty}"
                    ));
                }
            }
        }
        self.path.pop();
    }
}
