//! The allow-list of a research copy: for each resource type it keeps, every element it
//! may keep and that element's data type. An element, a resource type or a data-type
//! member not listed here never reaches the researcher. The de-identifier builds copies
//! from this table and the checker walks copies against it.

/// What an element holds, and so how it is reduced.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A FHIR `code` primitive bound to a required value set (status, intent, gender).
    Code,
    Boolean,
    /// integer, positiveInt, unsignedInt.
    Integer,
    Decimal,
    /// date or dateTime, generalized to the year.
    Date,
    /// `{start, end}`, each generalized to the year.
    Period,
    /// `{system, code}` of a known code system; `display`, `version`, `userSelected` go.
    Coding,
    /// `{coding: [...]}`; `text` goes.
    Concept,
    /// `{value, comparator, unit, system, code}` in UCUM; ages over 89 are top-coded.
    Quantity,
    /// `{low, high}` quantities.
    Range,
    /// `{numerator, denominator}` quantities.
    Ratio,
    /// `{reference}` to another resource of the copy, rewritten to its fresh id; a
    /// reference to anything else (or with only a `display`) goes.
    Reference,
    /// A backbone element with its own allow-list.
    Backbone(&'static [Field]),
}

/// One allowed element: its JSON name, its kind and whether it is a list.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub many: bool,
}

const fn one(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        many: false,
    }
}

const fn many(name: &'static str, kind: Kind) -> Field {
    Field {
        name,
        kind,
        many: true,
    }
}

use Kind::*;

const REPEAT: &[Field] = &[
    one("boundsPeriod", Period),
    one("boundsDuration", Quantity),
    one("count", Integer),
    one("countMax", Integer),
    one("duration", Decimal),
    one("durationMax", Decimal),
    one("durationUnit", Code),
    one("frequency", Integer),
    one("frequencyMax", Integer),
    one("period", Decimal),
    one("periodMax", Decimal),
    one("periodUnit", Code),
    many("dayOfWeek", Code),
    many("when", Code),
];
const TIMING: &[Field] = &[one("repeat", Backbone(REPEAT)), one("code", Concept)];
const DOSE_AND_RATE: &[Field] = &[
    one("type", Concept),
    one("doseRange", Range),
    one("doseQuantity", Quantity),
    one("rateRatio", Ratio),
    one("rateRange", Range),
    one("rateQuantity", Quantity),
];
/// Dosage without `text` and `patientInstruction`, which are free text.
const DOSAGE: &[Field] = &[
    one("sequence", Integer),
    many("additionalInstruction", Concept),
    one("timing", Backbone(TIMING)),
    one("asNeededBoolean", Boolean),
    one("asNeededCodeableConcept", Concept),
    one("site", Concept),
    one("route", Concept),
    one("method", Concept),
    many("doseAndRate", Backbone(DOSE_AND_RATE)),
    one("maxDosePerPeriod", Ratio),
    one("maxDosePerAdministration", Quantity),
    one("maxDosePerLifetime", Quantity),
];
/// Reference ranges without `text`; `age` is a range of ages, top-coded like any age.
const REFERENCE_RANGE: &[Field] = &[
    one("low", Quantity),
    one("high", Quantity),
    one("type", Concept),
    many("appliesTo", Concept),
    one("age", Range),
];
/// The values an Observation (or a component) may keep: no `valueString`, `valueTime`,
/// `valueSampledData` (waveforms, voice) or `valueAttachment`.
macro_rules! observation_values {
    () => {
        [
            one("valueQuantity", Quantity),
            one("valueCodeableConcept", Concept),
            one("valueBoolean", Boolean),
            one("valueInteger", Integer),
            one("valueRange", Range),
            one("valueRatio", Ratio),
            one("valueDateTime", Date),
            one("valuePeriod", Period),
            one("dataAbsentReason", Concept),
            many("interpretation", Concept),
            many("referenceRange", Backbone(REFERENCE_RANGE)),
        ]
    };
}
const COMPONENT: &[Field] = &{
    let v = observation_values!();
    [
        one("code", Concept),
        v[0],
        v[1],
        v[2],
        v[3],
        v[4],
        v[5],
        v[6],
        v[7],
        v[8],
        v[9],
        v[10],
    ]
};

const PATIENT: &[Field] = &[
    one("gender", Code),
    one("deceasedBoolean", Boolean),
    one("deceasedDateTime", Date),
];
const HOSPITALIZATION: &[Field] = &[
    one("admitSource", Concept),
    one("reAdmission", Concept),
    many("dietPreference", Concept),
    many("specialArrangement", Concept),
    one("dischargeDisposition", Concept),
];
const DIAGNOSIS: &[Field] = &[
    one("condition", Reference),
    one("use", Concept),
    one("rank", Integer),
];
const ENCOUNTER: &[Field] = &[
    one("status", Code),
    one("class", Coding),
    many("type", Concept),
    one("serviceType", Concept),
    one("priority", Concept),
    one("subject", Reference),
    one("period", Period),
    one("length", Quantity),
    many("reasonCode", Concept),
    many("reasonReference", Reference),
    many("diagnosis", Backbone(DIAGNOSIS)),
    one("hospitalization", Backbone(HOSPITALIZATION)),
];
const STAGE: &[Field] = &[one("summary", Concept), one("type", Concept)];
const EVIDENCE: &[Field] = &[many("code", Concept)];
const CONDITION: &[Field] = &[
    one("clinicalStatus", Concept),
    one("verificationStatus", Concept),
    many("category", Concept),
    one("severity", Concept),
    one("code", Concept),
    many("bodySite", Concept),
    one("subject", Reference),
    one("encounter", Reference),
    one("onsetDateTime", Date),
    one("onsetAge", Quantity),
    one("onsetPeriod", Period),
    one("abatementDateTime", Date),
    one("abatementAge", Quantity),
    one("abatementPeriod", Period),
    one("recordedDate", Date),
    many("stage", Backbone(STAGE)),
    many("evidence", Backbone(EVIDENCE)),
];
const OBSERVATION: &[Field] = &{
    let v = observation_values!();
    [
        one("status", Code),
        many("category", Concept),
        one("code", Concept),
        one("subject", Reference),
        one("encounter", Reference),
        one("effectiveDateTime", Date),
        one("effectivePeriod", Period),
        one("bodySite", Concept),
        one("method", Concept),
        many("hasMember", Reference),
        many("derivedFrom", Reference),
        many("component", Backbone(COMPONENT)),
        v[0],
        v[1],
        v[2],
        v[3],
        v[4],
        v[5],
        v[6],
        v[7],
        v[8],
        v[9],
        v[10],
    ]
};
const DIAGNOSTIC_REPORT: &[Field] = &[
    one("status", Code),
    many("category", Concept),
    one("code", Concept),
    one("subject", Reference),
    one("encounter", Reference),
    one("effectiveDateTime", Date),
    one("effectivePeriod", Period),
    many("result", Reference),
    many("conclusionCode", Concept),
];
const DISPENSE_REQUEST: &[Field] = &[
    one("validityPeriod", Period),
    one("numberOfRepeatsAllowed", Integer),
    one("quantity", Quantity),
    one("expectedSupplyDuration", Quantity),
];
const MEDICATION_REQUEST: &[Field] = &[
    one("status", Code),
    one("statusReason", Concept),
    one("intent", Code),
    many("category", Concept),
    one("priority", Code),
    one("doNotPerform", Boolean),
    one("medicationCodeableConcept", Concept),
    one("medicationReference", Reference),
    one("subject", Reference),
    one("encounter", Reference),
    one("authoredOn", Date),
    many("reasonCode", Concept),
    many("reasonReference", Reference),
    one("courseOfTherapyType", Concept),
    many("dosageInstruction", Backbone(DOSAGE)),
    one("dispenseRequest", Backbone(DISPENSE_REQUEST)),
];
const MEDICATION_STATEMENT: &[Field] = &[
    one("status", Code),
    many("statusReason", Concept),
    one("category", Concept),
    one("medicationCodeableConcept", Concept),
    one("medicationReference", Reference),
    one("subject", Reference),
    one("context", Reference),
    one("effectiveDateTime", Date),
    one("effectivePeriod", Period),
    one("dateAsserted", Date),
    many("reasonCode", Concept),
    many("reasonReference", Reference),
    many("dosage", Backbone(DOSAGE)),
];
const ADMINISTRATION_DOSAGE: &[Field] = &[
    one("site", Concept),
    one("route", Concept),
    one("method", Concept),
    one("dose", Quantity),
    one("rateRatio", Ratio),
    one("rateQuantity", Quantity),
];
const MEDICATION_ADMINISTRATION: &[Field] = &[
    one("status", Code),
    many("statusReason", Concept),
    one("category", Concept),
    one("medicationCodeableConcept", Concept),
    one("medicationReference", Reference),
    one("subject", Reference),
    one("context", Reference),
    one("effectiveDateTime", Date),
    one("effectivePeriod", Period),
    many("reasonCode", Concept),
    many("reasonReference", Reference),
    one("dosage", Backbone(ADMINISTRATION_DOSAGE)),
];
const INGREDIENT: &[Field] = &[
    one("itemCodeableConcept", Concept),
    one("isActive", Boolean),
    one("strength", Ratio),
];
const MEDICATION: &[Field] = &[
    one("code", Concept),
    one("status", Code),
    one("form", Concept),
    one("amount", Ratio),
    many("ingredient", Backbone(INGREDIENT)),
];
/// Protocol without `series` (free text) and `authority`.
const PROTOCOL_APPLIED: &[Field] = &[
    many("targetDisease", Concept),
    one("doseNumberPositiveInt", Integer),
    one("seriesDosesPositiveInt", Integer),
];
/// Immunization without `lotNumber`, `expirationDate` and `manufacturer`.
const IMMUNIZATION: &[Field] = &[
    one("status", Code),
    one("statusReason", Concept),
    one("vaccineCode", Concept),
    one("patient", Reference),
    one("encounter", Reference),
    one("occurrenceDateTime", Date),
    one("recorded", Date),
    one("primarySource", Boolean),
    one("site", Concept),
    one("route", Concept),
    one("doseQuantity", Quantity),
    many("reasonCode", Concept),
    many("reasonReference", Reference),
    one("isSubpotent", Boolean),
    many("protocolApplied", Backbone(PROTOCOL_APPLIED)),
];
const PROCEDURE: &[Field] = &[
    one("status", Code),
    one("statusReason", Concept),
    one("category", Concept),
    one("code", Concept),
    one("subject", Reference),
    one("encounter", Reference),
    one("performedDateTime", Date),
    one("performedPeriod", Period),
    one("performedAge", Quantity),
    many("reasonCode", Concept),
    many("reasonReference", Reference),
    many("bodySite", Concept),
    one("outcome", Concept),
    many("complication", Concept),
    many("followUp", Concept),
    many("usedCode", Concept),
];
/// Reactions without `description` and `note`.
const REACTION: &[Field] = &[
    one("substance", Concept),
    many("manifestation", Concept),
    one("onset", Date),
    one("severity", Code),
    one("exposureRoute", Concept),
];
const ALLERGY_INTOLERANCE: &[Field] = &[
    one("clinicalStatus", Concept),
    one("verificationStatus", Concept),
    one("type", Code),
    many("category", Code),
    one("criticality", Code),
    one("code", Concept),
    one("patient", Reference),
    one("encounter", Reference),
    one("onsetDateTime", Date),
    one("onsetAge", Quantity),
    one("onsetPeriod", Period),
    one("recordedDate", Date),
    one("lastOccurrence", Date),
    many("reaction", Backbone(REACTION)),
];
/// ImagingStudy without its DICOM UIDs (`identifier`, `series`), which identify studies.
const IMAGING_STUDY: &[Field] = &[
    one("status", Code),
    many("modality", Coding),
    one("subject", Reference),
    one("encounter", Reference),
    one("started", Date),
    one("numberOfSeries", Integer),
    one("numberOfInstances", Integer),
    many("procedureCode", Concept),
    many("reasonCode", Concept),
];

/// The resource types a copy keeps and their allow-lists. Every other type (people,
/// organizations, places, devices, documents, coverage, provenance, and anything not
/// reviewed here) is dropped whole, with the references to it.
pub const RESOURCES: &[(&str, &[Field])] = &[
    ("Patient", PATIENT),
    ("Encounter", ENCOUNTER),
    ("Condition", CONDITION),
    ("Observation", OBSERVATION),
    ("DiagnosticReport", DIAGNOSTIC_REPORT),
    ("MedicationRequest", MEDICATION_REQUEST),
    ("MedicationStatement", MEDICATION_STATEMENT),
    ("MedicationAdministration", MEDICATION_ADMINISTRATION),
    ("Medication", MEDICATION),
    ("Immunization", IMMUNIZATION),
    ("Procedure", PROCEDURE),
    ("AllergyIntolerance", ALLERGY_INTOLERANCE),
    ("ImagingStudy", IMAGING_STUDY),
];

/// The allow-list of `resource_type`, if a copy keeps that type.
pub fn fields(resource_type: &str) -> Option<&'static [Field]> {
    RESOURCES
        .iter()
        .find(|(t, _)| *t == resource_type)
        .map(|(_, f)| *f)
}

/// The allowed element `name` in `fields`.
pub fn field(fields: &[Field], name: &str) -> Option<Field> {
    fields.iter().find(|f| f.name == name).copied()
}
