//! FHIR R4 Bundle validator against the element table `r4_elements.json` (generated from
//! the HL7 StructureDefinitions by `gen_r4_elements.js`): resource types, element names,
//! value types, cardinality, choice types, formats, required codes, a few invariants,
//! references inside the Bundle. One pass; paths are formatted only for an issue.

use std::fmt;

use serde_json::{Map, Value};

#[path = "validate_formats.rs"]
mod formats;
#[path = "validate_refs.rs"]
mod refs;
#[path = "validate_table.rs"]
mod table;

use refs::{type_and_id, Index};
use table::{table, Elem, FnvMap, Kind, Lookup, Table, Type, NO_BIT};

/// How bad an [`Issue`] is: errors make the Bundle invalid, warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem. `entry` and `resource_type` are set for problems inside an entry's
/// resource (path rooted at that resource's type); Bundle-level problems, including a
/// missing entry resource or a duplicate fullUrl, have `entry: None` and a path rooted at
/// `Bundle` (`Bundle.entry[2]`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub entry: Option<usize>,
    pub resource_type: Option<String>,
    pub path: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(i) = self.entry {
            write!(f, "entry {i} ")?;
            if let Some(rt) = &self.resource_type {
                write!(f, "({rt}) ")?;
            }
        }
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Everything [`validate_bundle`] found, in document order.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub issues: Vec<Issue>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Issue> + '_ {
        self.issues.iter().filter(|i| i.severity == Severity::Error)
    }
    pub fn warnings(&self) -> impl Iterator<Item = &Issue> + '_ {
        self.issues
            .iter()
            .filter(|i| i.severity == Severity::Warning)
    }
    /// No errors (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors().next().is_none()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in &self.issues {
            let sev = if i.severity == Severity::Error {
                "error"
            } else {
                "warning"
            };
            writeln!(f, "{sev}: {i}")?;
        }
        Ok(())
    }
}

/// Values of a node's `capture` elements, as found by `Ctx::object`.
type Captured<'a> = [Option<&'a Value>; 2];

#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Idx(usize),
}

struct Ctx<'a> {
    t: &'static Table,
    issues: Vec<Issue>,
    path: Vec<Seg<'a>>,
    entry: Option<usize>,
    rtype: Option<&'a str>,
    index: Option<&'a Index<'a>>,
    contained: Vec<&'a str>,
    top_bundle: bool,
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Quotes a value for a message, cut to 60 characters.
fn quote(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{:?}...", &s[..i]),
        None => format!("{s:?}"),
    }
}

impl<'a> Ctx<'a> {
    fn new(t: &'static Table) -> Self {
        Ctx {
            t,
            issues: Vec::new(),
            path: Vec::new(),
            entry: None,
            rtype: None,
            index: None,
            contained: Vec::new(),
            top_bundle: false,
        }
    }

    fn report(&mut self, severity: Severity, leaf: Option<&str>, message: String) {
        let mut path = String::new();
        for (i, seg) in self
            .path
            .iter()
            .chain(leaf.map(Seg::Key).iter())
            .enumerate()
        {
            match seg {
                Seg::Key(k) if i == 0 => path.push_str(k),
                Seg::Key(k) => {
                    path.push('.');
                    path.push_str(k);
                }
                Seg::Idx(n) => path.push_str(&format!("[{n}]")),
            }
        }
        let resource_type = self.rtype.map(String::from);
        self.issues.push(Issue {
            severity,
            entry: self.entry,
            resource_type,
            path,
            message,
        });
    }
    fn err(&mut self, message: String) {
        self.report(Severity::Error, None, message);
    }
    fn warn(&mut self, message: String) {
        self.report(Severity::Warning, None, message);
    }

    /// Checks one JSON object against `node`'s elements; hands back the values of the
    /// node's `capture` elements.
    fn object(&mut self, obj: &'a Map<String, Value>, node: u32) -> Captured<'a> {
        let t = self.t;
        let n = &t.nodes[node as usize];
        if obj.is_empty() {
            self.warn("empty object: FHIR elements must have a value or children".into());
        }
        let (mut seen, mut choices) = (0u64, 0u64);
        let mut captured: Captured<'a> = [None; 2];
        for (k, v) in obj {
            if n.is_resource && k == "resourceType" {
                continue;
            }
            let (ext, name) = match k.strip_prefix('_') {
                Some(s) => (true, s),
                None => (false, k.as_str()),
            };
            self.path.push(Seg::Key(k));
            match n.lookup(name) {
                Lookup::Found(ei, ti) => {
                    let e = &n.elems[ei];
                    let slot = n.capture.iter().position(|&c| usize::from(c) == ei);
                    if let Some(slot) = slot.filter(|_| !ext) {
                        captured[slot] = Some(v);
                    }
                    if e.req_bit != NO_BIT {
                        seen |= 1 << e.req_bit;
                    }
                    if e.choice && !ext {
                        if choices & (1 << e.choice_bit) != 0 {
                            self.err(format!(
                                "more than one value for {}[x] (exactly one variant is allowed)",
                                e.name
                            ));
                        }
                        choices |= 1 << e.choice_bit;
                    }
                    if ext {
                        self.primitive_extension(v, e, ti);
                    } else if !(self.top_bundle && node == t.bundle_entry && name == "resource") {
                        self.value(v, e, &e.types[ti], obj, k);
                    }
                }
                Lookup::BadChoice(ei) => {
                    let e = &n.elems[ei];
                    let allowed: Vec<String> = e
                        .types
                        .iter()
                        .map(|t| {
                            format!(
                                "{}{}{}",
                                e.name,
                                t.code[..1].to_ascii_uppercase(),
                                &t.code[1..]
                            )
                        })
                        .collect();
                    self.err(format!(
                        "{k} is not an allowed type for {}[x] (allowed: {})",
                        e.name,
                        allowed.join(", ")
                    ));
                }
                Lookup::Unknown => {
                    self.warn(format!("unknown element {k:?} (not in FHIR R4 here)"))
                }
            }
            self.path.pop();
        }
        if seen != n.required {
            for e in n
                .elems
                .iter()
                .filter(|e| e.req_bit != NO_BIT && seen & (1 << e.req_bit) == 0)
            {
                let name = if e.choice {
                    format!("{}[x]", e.name)
                } else {
                    e.name.to_string()
                };
                self.report(
                    Severity::Error,
                    Some(&name),
                    format!("missing required element {name} (min {})", e.min),
                );
            }
        }
        if n.capture[0] != u16::MAX {
            self.invariants(captured, node, choices != 0);
        }
        captured
    }

    /// The few R4 invariants worth checking without FHIRPath.
    fn invariants(&mut self, [a, b]: Captured<'a>, node: u32, has_value: bool) {
        let t = self.t;
        if node == t.extension && a.is_some() == has_value {
            let which = if has_value { "both" } else { "neither" };
            self.err(format!(
                "ext-1: an extension must have either extensions or a value[x], found {which}"
            ));
        } else if node == t.coding && a.is_some() && b.is_none() {
            self.warn("Coding has a code but no system".into());
        } else if t.quantities.contains(&node) && a.is_some() && b.is_none() {
            self.err("qty-3: a Quantity with a unit code must have a system".into());
        }
    }

    /// Cardinality, then each item.
    fn value(
        &mut self,
        v: &'a Value,
        e: &'static Elem,
        ty: &'static Type,
        obj: &'a Map<String, Value>,
        key: &str,
    ) {
        if e.max == 1 {
            if v.is_array() {
                self.err(format!(
                    "expected a single {} (max 1), found an array",
                    ty.code
                ));
            } else {
                self.item(v, e, ty);
            }
            return;
        }
        let Value::Array(items) = v else {
            let max = if e.max == u32::MAX {
                "*".to_string()
            } else {
                e.max.to_string()
            };
            self.err(format!(
                "expected an array of {} (max {max}), found {}",
                ty.code,
                describe(v)
            ));
            return;
        };
        if items.is_empty() {
            if e.min > 0 {
                self.err(format!(
                    "at least {} item(s) required, found an empty array",
                    e.min
                ));
            } else {
                self.warn("empty array (FHIR forbids empty arrays)".into());
            }
        } else if items.len() > e.max as usize {
            self.err(format!(
                "at most {} item(s) allowed, found {}",
                e.max,
                items.len()
            ));
        }
        for (i, item) in items.iter().enumerate() {
            self.path.push(Seg::Idx(i));
            let extended = || {
                obj.get(&format!("_{key}"))
                    .and_then(|x| x.get(i))
                    .is_some_and(|x| !x.is_null())
            };
            if !(item.is_null() && matches!(ty.kind, Kind::Prim(_)) && extended()) {
                self.item(item, e, ty);
            }
            self.path.pop();
        }
    }

    fn item(&mut self, v: &'a Value, e: &'static Elem, ty: &'static Type) {
        match (ty.kind, v) {
            (Kind::Prim(p), _) => {
                if let Some((sev, msg)) = formats::check(p, v) {
                    self.report(sev, None, msg);
                } else if let (Some(vs), Value::String(s)) = (e.value_set, v) {
                    let (name, codes) = &self.t.value_sets[vs as usize];
                    if codes.binary_search_by(|c| (**c).cmp(s.as_str())).is_err() {
                        self.err(format!(
                            "code {} is not in the required value set {name}",
                            quote(s)
                        ));
                    }
                }
            }
            (Kind::Node(n), Value::Object(o)) => {
                let captured = self.object(o, n);
                if n == self.t.reference {
                    self.reference(captured, &ty.targets);
                } else if let Some(vs) = e.value_set {
                    self.coded(o, n, vs);
                }
            }
            (Kind::Resource, Value::Object(o)) => self.inline_resource(o, &ty.code),
            _ => self.err(format!(
                "expected a {} (object), found {}",
                ty.code,
                describe(v)
            )),
        }
    }

    /// `_name`: the id/extensions of primitive element `name`.
    fn primitive_extension(&mut self, v: &'a Value, e: &'static Elem, ti: usize) {
        if !matches!(e.types[ti].kind, Kind::Prim(_)) {
            self.warn("unknown element: a leading _ is only for primitive elements".into());
            return;
        }
        let element = self.t.element;
        match v {
            Value::Object(o) if e.max == 1 => {
                self.object(o, element);
            }
            Value::Array(items) if e.max != 1 => {
                for (i, item) in items.iter().enumerate() {
                    self.path.push(Seg::Idx(i));
                    match item {
                        Value::Null => {}
                        Value::Object(o) => {
                            self.object(o, element);
                        }
                        other => self.err(format!(
                            "expected an Element (object) or null, found {}",
                            describe(other)
                        )),
                    }
                    self.path.pop();
                }
            }
            other => {
                let want = if e.max == 1 {
                    "an Element (object)"
                } else {
                    "an array of Element"
                };
                self.err(format!("expected {want}, found {}", describe(other)));
            }
        }
    }

    /// A resource inside a resource (contained, Bundle.entry.response.outcome...).
    fn inline_resource(&mut self, o: &'a Map<String, Value>, want: &str) {
        let t = self.t;
        let rt = match o.get("resourceType") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return self.err(format!(
                    "resourceType must be a string, found {}",
                    describe(other)
                ))
            }
            None => return self.err("resourceType is missing".into()),
        };
        if !t.r4_types.contains_key(rt) {
            return self.err(format!(
                "unknown resource type {rt:?} (not a FHIR R4 resource type)"
            ));
        }
        if want != "Resource" && want != rt {
            return self.err(format!("expected a {want}, found a {rt}"));
        }
        let Some(&root) = t.roots.get(rt) else {
            return self.warn(format!("resource type {rt} is not checked by Rekam"));
        };
        let (top, index) = (self.top_bundle, self.index);
        self.top_bundle = false;
        if rt == "Bundle" {
            self.index = None; // its references resolve in its own entries
        }
        self.object(o, root);
        (self.top_bundle, self.index) = (top, index);
    }

    /// A top-level resource: an entry's, or the whole document when it is no Bundle.
    fn top_resource(&mut self, r: &'a Map<String, Value>, rt: &'a str) {
        let t = self.t;
        self.rtype = Some(rt);
        self.path = vec![Seg::Key(rt)];
        if !t.r4_types.contains_key(rt) {
            return self.err(format!(
                "unknown resource type {rt:?} (not a FHIR R4 resource type)"
            ));
        }
        let Some(&root) = t.roots.get(rt) else {
            return self.warn(format!("resource type {rt} is not checked by Rekam"));
        };
        self.contained.clear();
        let items = r
            .get("contained")
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        self.contained
            .extend(items.filter_map(|c| c.get("id")?.as_str()));
        self.top_bundle = false;
        self.object(r, root);
    }
}

/// Validates a FHIR R4 Bundle (a parsed JSON document) and each of its entries' resources.
pub fn validate_bundle(bundle: &Value) -> Report {
    let t = match table() {
        Ok(t) => t,
        Err(e) => {
            let message = format!("internal: the R4 element table is unusable: {e}");
            let issue = Issue {
                severity: Severity::Error,
                entry: None,
                resource_type: None,
                path: "Bundle".into(),
                message,
            };
            return Report {
                issues: vec![issue],
            };
        }
    };
    let mut cx = Ctx::new(t);
    cx.path.push(Seg::Key("Bundle"));
    let Some(obj) = bundle.as_object() else {
        cx.err(format!(
            "expected a Bundle (JSON object), found {}",
            describe(bundle)
        ));
        return Report { issues: cx.issues };
    };
    match obj.get("resourceType") {
        Some(Value::String(rt)) if rt == "Bundle" => {}
        Some(Value::String(rt)) => {
            cx.err(format!("expected a Bundle, found resourceType {rt:?}"));
            cx.top_resource(obj, rt);
            return Report { issues: cx.issues };
        }
        other => {
            let found = other.map_or("nothing", describe);
            cx.report(
                Severity::Error,
                Some("resourceType"),
                format!("expected resourceType \"Bundle\", found {found}"),
            );
            return Report { issues: cx.issues };
        }
    }
    cx.rtype = Some("Bundle");
    let no_entries = Vec::new();
    let entries = obj
        .get("entry")
        .and_then(Value::as_array)
        .unwrap_or(&no_entries);
    let bundle_type = obj.get("type").and_then(Value::as_str).unwrap_or("");
    let history = bundle_type == "history";
    let mut index = Index {
        by_url: FnvMap::with_capacity_and_hasher(entries.len(), Default::default()),
        by_tid: FnvMap::with_capacity_and_hasher(2 * entries.len(), Default::default()),
        types: Vec::with_capacity(entries.len()),
    };
    for (i, entry) in entries.iter().enumerate() {
        let res = entry.get("resource");
        let rt = res
            .and_then(|r| r.get("resourceType"))
            .and_then(Value::as_str);
        index.types.push(rt);
        if let Some(url) = entry.get("fullUrl").and_then(Value::as_str) {
            if let Some(j) = index.by_url.insert(url, i).filter(|_| !history) {
                cx.path
                    .extend([Seg::Key("entry"), Seg::Idx(i), Seg::Key("fullUrl")]);
                cx.err(format!("duplicate fullUrl {} (also entry {j})", quote(url)));
                cx.path.truncate(1);
            }
            if let Some(tid) = type_and_id(url) {
                index.by_tid.insert(tid, i);
            }
        }
        if let (Some(rt), Some(id)) = (rt, res.and_then(|r| r.get("id")).and_then(Value::as_str)) {
            index.by_tid.insert((rt, id), i);
        }
    }
    let index = &index;
    cx.index = Some(index);
    cx.top_bundle = true;
    cx.object(obj, t.roots.get("Bundle").copied().unwrap_or(t.element));
    let may_omit = matches!(
        bundle_type,
        "transaction" | "batch" | "history" | "transaction-response" | "batch-response"
    );
    for (i, entry) in entries.iter().enumerate() {
        let Some(entry) = entry.as_object() else {
            continue;
        }; // reported by cx.object
        cx.path.truncate(1);
        cx.path.extend([Seg::Key("entry"), Seg::Idx(i)]);
        match entry.get("resource") {
            Some(Value::Object(r)) => match r.get("resourceType") {
                Some(Value::String(rt)) => {
                    cx.entry = Some(i);
                    cx.top_resource(r, rt);
                    cx.entry = None;
                    cx.rtype = Some("Bundle");
                    cx.path = vec![Seg::Key("Bundle")];
                }
                other => {
                    let found = other.map_or("nothing", describe);
                    cx.report(
                        Severity::Error,
                        Some("resource"),
                        format!("expected a resourceType string, found {found}"),
                    );
                }
            },
            Some(other) => cx.report(
                Severity::Error,
                Some("resource"),
                format!("expected a Resource (object), found {}", describe(other)),
            ),
            None if may_omit
                && (entry.contains_key("request") || entry.contains_key("response")) => {}
            None => cx.err("entry has no resource".into()),
        }
    }
    Report { issues: cx.issues }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
