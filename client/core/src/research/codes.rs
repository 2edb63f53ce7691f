//! Which strings a research copy may carry: codes of known code systems (each with the
//! shape of its codes), UCUM units, FHIR `code` tokens, years and the copy's own fresh
//! references. Anything else is free text, and free text can name a person.

/// UCUM, the only unit system a copy keeps.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// Safe Harbor (45 CFR 164.514(b)(2)(i)(C)): ages over 89 are aggregated into "90 or
/// older".
pub const TOP_AGE: f64 = 90.0;
/// LOINC codes of an Observation whose value is the patient's age.
pub const AGE_CODES: &[&str] = &["30525-0", "21612-7", "29553-5", "21611-9", "63900-5"];

/// How the codes of one system look. A code that does not fit is not kept: a medical
/// record number or a name put in a `code` does not survive.
#[derive(Clone, Copy)]
enum Shape {
    /// `NNNNN-N` (and LOINC parts and answers, `LPnnn-n`, `LAnnn-n`).
    Loinc,
    /// Only ASCII digits, between the two lengths.
    Digits(usize, usize),
    /// ICD-10 and ICD-10-CM: a letter, two characters, then an optional dot and up to 4.
    Icd10,
    /// ATC: `A10BA02`.
    Atc,
    /// FHIR and HL7 terminology codes: letters, digits, `-`, `_`, `.`; at most 40.
    Token,
    /// UCUM without annotations (`{...}` may hold any text).
    Ucum,
}

/// The code systems a copy keeps, by exact URI.
const SYSTEMS: &[(&str, Shape)] = &[
    ("http://loinc.org", Shape::Loinc),
    ("http://snomed.info/sct", Shape::Digits(6, 18)),
    ("http://hl7.org/fhir/sid/icd-10-cm", Shape::Icd10),
    ("http://hl7.org/fhir/sid/icd-10", Shape::Icd10),
    (
        "http://www.nlm.nih.gov/research/umls/rxnorm",
        Shape::Digits(1, 10),
    ),
    ("http://hl7.org/fhir/sid/cvx", Shape::Digits(1, 3)),
    ("http://hl7.org/fhir/sid/ndc", Shape::Token),
    ("http://www.whocc.no/atc", Shape::Atc),
    ("http://www.ama-assn.org/go/cpt", Shape::Token),
    ("http://dicom.nema.org/resources/ontology/DCM", Shape::Token),
    (UCUM, Shape::Ucum),
];

/// Prefixes of HL7's own code systems (statuses, categories, interpretations...), whose
/// codes are tokens. `http://hl7.org/fhir/sid/` is not one: it names identifier systems
/// (`us-ssn`, `us-npi`) as well as the terminologies listed above.
const HL7_PREFIXES: &[&str] = &[
    "http://terminology.hl7.org/CodeSystem/",
    "http://hl7.org/fhir/",
];

fn shape_of(system: &str) -> Option<Shape> {
    if let Some((_, shape)) = SYSTEMS.iter().find(|(uri, _)| *uri == system) {
        return Some(*shape);
    }
    let hl7 = HL7_PREFIXES.iter().any(|p| {
        system.strip_prefix(p).is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    });
    (hl7 && !system.starts_with("http://hl7.org/fhir/sid/")).then_some(Shape::Token)
}

/// Whether a copy may name `system`.
pub fn known_system(system: &str) -> bool {
    shape_of(system).is_some()
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

/// Whether `code` is a code of `system` as that system writes its codes.
pub fn valid_code(system: &str, code: &str) -> bool {
    let Some(shape) = shape_of(system) else {
        return false;
    };
    match shape {
        Shape::Loinc => {
            let body = code
                .strip_prefix("LP")
                .or_else(|| code.strip_prefix("LA"))
                .unwrap_or(code);
            match body.split_once('-') {
                Some((n, check)) => {
                    (1..=7).contains(&n.len())
                        && all(n, |b| b.is_ascii_digit())
                        && check.len() == 1
                        && all(check, |b| b.is_ascii_digit())
                }
                None => false,
            }
        }
        Shape::Digits(min, max) => {
            (min..=max).contains(&code.len()) && all(code, |b| b.is_ascii_digit())
        }
        Shape::Icd10 => {
            let b = code.as_bytes();
            let (head, tail) = code.split_at(code.len().min(3));
            b.len() >= 3
                && b[0].is_ascii_uppercase()
                && b[1].is_ascii_digit()
                && all(head, |c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && match tail.strip_prefix('.') {
                    Some(rest) => {
                        (1..=4).contains(&rest.len())
                            && all(rest, |c| c.is_ascii_uppercase() || c.is_ascii_digit())
                    }
                    None => {
                        tail.len() <= 4
                            && all(tail, |c| c.is_ascii_uppercase() || c.is_ascii_digit())
                    }
                }
        }
        Shape::Atc => {
            (1..=7).contains(&code.len())
                && code.as_bytes()[0].is_ascii_uppercase()
                && all(code, |b| b.is_ascii_uppercase() || b.is_ascii_digit())
        }
        Shape::Token => is_token(code),
        Shape::Ucum => {
            (1..=24).contains(&code.len())
                && all(code, |b| {
                    b.is_ascii_alphanumeric() || b"[]%/.*^'-".contains(&b)
                })
        }
    }
}

/// A FHIR `code` primitive as the elements a copy keeps use them (`final`, `order`,
/// `>=`): no whitespace, at most 40 characters.
pub fn is_token(s: &str) -> bool {
    (1..=40).contains(&s.len()) && all(s, |b| b.is_ascii_alphanumeric() || b"-_.<>=".contains(&b))
}

/// A year, the only date a copy carries.
pub fn is_year(s: &str) -> bool {
    s.len() == 4 && all(s, |b| b.is_ascii_digit())
}

/// The year of a FHIR date, dateTime or instant.
pub fn year_of(s: &str) -> Option<&str> {
    let year = s.get(..4)?;
    (is_year(year) && (s.len() == 4 || s.as_bytes()[4] == b'-')).then_some(year)
}

/// Whether a string is a date finer than a year (`YYYY-MM...`).
pub fn finer_than_year(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
}

/// A lowercase UUID, as the copy's fresh ids are.
pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// A quantity's value in years, when its UCUM unit is a time unit of a week or more.
pub fn years(value: f64, ucum: &str) -> Option<f64> {
    match ucum {
        "a" => Some(value),
        "mo" => Some(value / 12.0),
        "wk" => Some(value * 7.0 / 365.25),
        "d" => Some(value / 365.25),
        _ => None,
    }
}

/// The comparators a Quantity may carry.
pub fn is_comparator(s: &str) -> bool {
    matches!(s, "<" | "<=" | ">=" | ">")
}
