//! Rekam's FHIR R4 validator against an outside oracle: the npm package `fhir` 4.12.0
//! (FHIR.js), run over the same corpus, the valid and invalid fixtures plus one mutation
//! per defect (`tests/fixtures/fhir/mutations.py`). Both must agree on every error, where
//! the error is, and every case where they grade differently is pinned below (and listed
//! in docs/format.md, "FHIR validation").
//!
//! tests/run.sh installs the oracle (`.ci/oracles`) and sets REKAM_TEST_ORACLES.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rekam_client::fhir::validate::{validate_bundle, Severity};
use serde_json::Value;

#[path = "research/crafted.rs"]
mod crafted;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/fhir")
}

/// How the two validators relate on one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grade {
    /// Both find errors at the same place, or both find none.
    Agree,
    /// FHIR.js reports an error that Rekam reports as a warning, by design: real exports
    /// carry unknown elements (other FHIR versions) and empty codes.
    OursWarning,
    /// Rekam finds an error FHIR.js does not check: anchored formats and real calendar
    /// dates, references, choice types, Bundle structure.
    OracleMisses,
}

/// Every case whose grade is not `Agree`; anything not listed must agree.
const PINNED: &[(&str, Grade)] = &[
    ("unknown-element", Grade::OursWarning),
    ("unknown-element-nested", Grade::OursWarning),
    ("empty-code-string", Grade::OursWarning),
    ("entry-without-resource", Grade::OracleMisses),
    ("not-a-bundle", Grade::OracleMisses),
    ("bad-date-birthdate", Grade::OracleMisses),
    ("bad-date-effective", Grade::OracleMisses),
    ("bad-instant", Grade::OracleMisses),
    ("bad-resource-id", Grade::OracleMisses),
    ("contained-ref-missing", Grade::OracleMisses),
    ("dangling-relative-ref", Grade::OracleMisses),
    ("dangling-urn-ref", Grade::OracleMisses),
    ("datetime-without-zone", Grade::OracleMisses),
    ("integer-not-integral", Grade::OracleMisses),
    ("ref-target-not-allowed", Grade::OracleMisses),
    ("two-value-variants", Grade::OracleMisses),
    ("unchecked-resource-type", Grade::OracleMisses),
];

struct Ours {
    errors: Vec<String>,
    warnings: Vec<String>,
}

fn ours(file: &Path) -> Ours {
    let bytes = std::fs::read(file).unwrap();
    let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
        return Ours {
            errors: vec![String::new()],
            warnings: vec![],
        };
    };
    let report = validate_bundle(&value);
    let paths = |s: Severity| {
        report
            .issues
            .iter()
            .filter(|i| i.severity == s)
            .map(|i| normalize(&i.path))
            .collect()
    };
    Ours {
        errors: paths(Severity::Error),
        warnings: paths(Severity::Warning),
    }
}

/// `a.b[2].c` and `a.b.2.c` alike; FHIR.js writes choice elements without their suffix.
fn normalize(path: &str) -> String {
    path.replace('[', ".").replace(']', "").replace("[x]", "")
}

/// Same place: one path is a prefix of the other (FHIR.js names `Observation.doseNumber`
/// where Rekam names `...doseNumberPositiveInt`), or either is the whole resource.
fn same_place(a: &str, b: &str) -> bool {
    let tail = |p: &str| {
        p.split_once('.')
            .map(|(_, t)| t.to_string())
            .unwrap_or_default()
    };
    a.is_empty()
        || b.is_empty()
        || a.starts_with(b)
        || b.starts_with(a)
        || (!tail(a).is_empty() && (tail(b).ends_with(&tail(a)) || tail(a).ends_with(&tail(b))))
}

#[test]
fn rekam_and_fhir_js_agree_on_every_error() {
    let oracles = std::env::var("REKAM_TEST_ORACLES").unwrap_or_else(|_| {
        panic!("REKAM_TEST_ORACLES is not set: run the suite with tests/run.sh")
    });
    let cases = tempfile::tempdir().unwrap();
    let made = Command::new("python3")
        .arg(fixtures().join("mutations.py"))
        .arg(cases.path())
        .output()
        .expect("python3");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [
        fixtures(),
        fixtures().join("invalid"),
        cases.path().to_path_buf(),
    ] {
        let mut here: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        here.sort();
        files.extend(here);
    }
    assert!(files.len() >= 50, "corpus of {} files", files.len());
    let out = Command::new("node")
        .arg(fixtures().join("oracle_validate.js"))
        .args(&files)
        .env("NODE_PATH", &oracles)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: BTreeMap<String, Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["file"].as_str().unwrap().to_string(), v)
        })
        .collect();

    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for file in &files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_string();
        let o = &oracle[file.to_str().unwrap()];
        let o_errors: Vec<String> = o["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| normalize(e["location"].as_str().unwrap_or("")))
            .collect();
        let m = ours(file);
        let grade = match (o_errors.is_empty(), m.errors.is_empty()) {
            (true, true) => Grade::Agree,
            (false, false) => {
                // Every one of our errors is one FHIR.js reports too, at the same place.
                assert!(
                    m.errors
                        .iter()
                        .all(|ours| o_errors.iter().any(|theirs| same_place(theirs, ours))),
                    "{name}: Rekam {:?} vs FHIR.js {:?}",
                    m.errors,
                    o_errors
                );
                Grade::Agree
            }
            (false, true)
                if o_errors
                    .iter()
                    .all(|theirs| m.warnings.iter().any(|w| same_place(theirs, w))) =>
            {
                Grade::OursWarning
            }
            (true, false) => Grade::OracleMisses,
            (false, true) => panic!("{name}: FHIR.js errors {o_errors:?}, Rekam none"),
        };
        let expected = PINNED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, g)| *g)
            .unwrap_or(Grade::Agree);
        report.push(format!("{name:36} {grade:?}"));
        if grade != expected {
            wrong.push(format!("{name}: {grade:?}, pinned {expected:?}"));
        }
    }
    println!("{}", report.join("\n"));
    assert!(wrong.is_empty(), "grades moved:\n{}", wrong.join("\n"));
    // Every pinned case exists in the corpus (a renamed mutation cannot hide).
    for (name, _) in PINNED {
        assert!(
            files.iter().any(|f| f.file_stem().unwrap() == *name),
            "pinned case {name} is not in the corpus"
        );
    }
}

/// Research copies are FHIR R4 too: the de-identified fixtures and a crafted stay (every
/// resource type a copy keeps, top-coded age, year-only dates) pass FHIR.js with no error.
#[test]
fn de_identified_copies_are_valid_for_fhir_js() {
    let oracles = std::env::var("REKAM_TEST_ORACLES").unwrap_or_else(|_| {
        panic!("REKAM_TEST_ORACLES is not set: run the suite with tests/run.sh")
    });
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut inputs: Vec<(String, Vec<u8>)> = [
        "diagnosis-diabetes.json",
        "lab-hba1c.json",
        "vaccination-influenza.json",
        "prescription-metformin.json",
        "emergency-summary.json",
    ]
    .iter()
    .map(|n| (n.to_string(), std::fs::read(fixtures().join(n)).unwrap()))
    .collect();
    inputs.push((
        "stay.json".into(),
        serde_json::to_vec(&crafted::stay()).unwrap(),
    ));
    for (name, bytes) in inputs {
        let date = rekam_client::fhir::summarize(&bytes)
            .unwrap()
            .treatment_date;
        let copy = rekam_client::research::deidentify(&bytes, &date).unwrap();
        let path = dir.path().join(format!("copy-{name}"));
        std::fs::write(&path, serde_json::to_vec(&copy).unwrap()).unwrap();
        files.push(path);
    }
    let out = Command::new("node")
        .arg(fixtures().join("oracle_validate.js"))
        .args(&files)
        .env("NODE_PATH", &oracles)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = String::from_utf8(out.stdout).unwrap();
    let verdicts: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), files.len());
    for v in verdicts {
        assert_eq!(v["errors"], serde_json::json!([]), "{}", v["file"]);
        assert_eq!(v["valid"], true, "{}", v["file"]);
    }
}
