//! One device reading (heart rate, SpO2, blood pressure, glucose) and its FHIR R4
//! Observation, shaped after the HL7 Personal Health Device (PHD) IG.
//!
//! Glucose is kept as LOINC 2339-0 (mass/volume in blood, `mg/dL`): home meters report
//! whole mg/dL, so values stay integers and a reading's JSON (hence its disclosure
//! digest) has one spelling; mmol/L would need decimals.

use serde_json::{json, Value};

/// UCUM, the unit system of every `valueQuantity`.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// The identifier system of a device reference: the device's Ed25519 key in base58.
pub const DEVICE_SYSTEM: &str = "urn:rekam:device-ed25519";

/// What was measured, in the unit of its LOINC code (integers only, see the file doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measurement {
    /// LOINC 8867-4, `/min`.
    HeartRate { bpm: u16 },
    /// LOINC 59408-5 (pulse oximetry), `%`.
    SpO2 { percent: u8 },
    /// LOINC panel 85354-9: systolic 8480-6, diastolic 8462-4, `mm[Hg]`.
    BloodPressure { systolic: u16, diastolic: u16 },
    /// LOINC 2339-0, `mg/dL`.
    Glucose { mg_dl: u16 },
}

impl Measurement {
    pub fn loinc(&self) -> &'static str {
        match self {
            Self::HeartRate { .. } => "8867-4",
            Self::SpO2 { .. } => "59408-5",
            Self::BloodPressure { .. } => "85354-9",
            Self::Glucose { .. } => "2339-0",
        }
    }

    pub fn unit(&self) -> &'static str {
        match self {
            Self::HeartRate { .. } => "/min",
            Self::SpO2 { .. } => "%",
            Self::BloodPressure { .. } => "mm[Hg]",
            Self::Glucose { .. } => "mg/dL",
        }
    }

    fn display(&self) -> &'static str {
        match self {
            Self::HeartRate { .. } => "Heart rate",
            Self::SpO2 { .. } => "Oxygen saturation in Arterial blood by Pulse oximetry",
            Self::BloodPressure { .. } => "Blood pressure panel with all children optional",
            Self::Glucose { .. } => "Glucose [Mass/volume] in Blood",
        }
    }

    /// The values in the order the compact JSON lists them.
    pub fn values(&self) -> Vec<u16> {
        match *self {
            Self::HeartRate { bpm } => vec![bpm],
            Self::SpO2 { percent } => vec![u16::from(percent)],
            Self::BloodPressure {
                systolic,
                diastolic,
            } => vec![systolic, diastolic],
            Self::Glucose { mg_dl } => vec![mg_dl],
        }
    }

    fn from_parts(code: &str, unit: &str, v: &[u16]) -> Result<Self, ReadingError> {
        let m = match (code, v) {
            ("8867-4", [bpm]) => Self::HeartRate { bpm: *bpm },
            ("59408-5", [p]) => Self::SpO2 {
                percent: u8::try_from(*p).map_err(|_| ReadingError::BadValues)?,
            },
            ("85354-9", [s, d]) => Self::BloodPressure {
                systolic: *s,
                diastolic: *d,
            },
            ("2339-0", [g]) => Self::Glucose { mg_dl: *g },
            ("8867-4" | "59408-5" | "85354-9" | "2339-0", _) => {
                return Err(ReadingError::BadValues)
            }
            _ => return Err(ReadingError::UnknownCode(code.to_string())),
        };
        if m.unit() != unit {
            return Err(ReadingError::WrongUnit {
                code: code.to_string(),
                unit: unit.to_string(),
            });
        }
        Ok(m)
    }
}

#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadingError {
    #[error("reading JSON must be an object with device, code, value, unit and at")]
    Malformed,
    #[error("reading device is not a base58 Ed25519 public key")]
    BadDevice,
    #[error("LOINC code {0} is not a supported reading")]
    UnknownCode(String),
    #[error("reading values do not fit the LOINC code")]
    BadValues,
    #[error("unit {unit} is not the unit of LOINC {code}")]
    WrongUnit { code: String, unit: String },
}

/// One reading from one device at one second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    /// The device's Ed25519 public key.
    pub device: [u8; 32],
    /// Unix seconds.
    pub at: i64,
    pub measurement: Measurement,
}

impl Reading {
    /// The compact JSON carried as a disclosure value:
    /// `{"at", "code", "device" (base58), "unit", "value": [..]}`.
    pub fn to_json(&self) -> Value {
        // Keys in sorted order, so the text is the same whether or not serde_json keeps
        // insertion order.
        json!({
            "at": self.at,
            "code": self.measurement.loinc(),
            "device": bs58::encode(self.device).into_string(),
            "unit": self.measurement.unit(),
            "value": self.measurement.values(),
        })
    }

    pub fn from_json(v: &Value) -> Result<Self, ReadingError> {
        let o = v.as_object().ok_or(ReadingError::Malformed)?;
        if o.len() != 5 {
            return Err(ReadingError::Malformed);
        }
        let s = |k: &str| {
            o.get(k)
                .and_then(Value::as_str)
                .ok_or(ReadingError::Malformed)
        };
        let mut device = [0u8; 32];
        let n = bs58::decode(s("device")?)
            .onto(&mut device)
            .map_err(|_| ReadingError::BadDevice)?;
        if n != 32 {
            return Err(ReadingError::BadDevice);
        }
        let at = o
            .get("at")
            .and_then(Value::as_i64)
            .ok_or(ReadingError::Malformed)?;
        let values = o
            .get("value")
            .and_then(Value::as_array)
            .ok_or(ReadingError::Malformed)?
            .iter()
            .map(|x| {
                x.as_u64()
                    .and_then(|x| u16::try_from(x).ok())
                    .ok_or(ReadingError::BadValues)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let measurement = Measurement::from_parts(s("code")?, s("unit")?, &values)?;
        Ok(Self {
            device,
            at,
            measurement,
        })
    }

    /// A FHIR R4 Observation after the PHD IG: `subject` is a placeholder reference the
    /// caller picks (no identifying data); the device is a logical reference by its key.
    pub fn to_observation(&self, subject: &str) -> Value {
        let m = &self.measurement;
        let category = match m {
            Measurement::Glucose { .. } => "laboratory",
            _ => "vital-signs",
        };
        let code = |c: &str, d: &str| json!({"coding": [{"system": "http://loinc.org", "code": c, "display": d}]});
        let qty = |v: u16| json!({"value": v, "unit": m.unit(), "system": UCUM, "code": m.unit()});
        let mut o = json!({
            "resourceType": "Observation",
            "status": "final",
            "category": [{"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": category,
            }]}],
            "code": code(m.loinc(), m.display()),
            "subject": {"reference": subject},
            "effectiveDateTime": rfc3339(self.at),
            "device": {"identifier": {
                "system": DEVICE_SYSTEM,
                "value": bs58::encode(self.device).into_string(),
            }},
        });
        match *m {
            Measurement::BloodPressure {
                systolic,
                diastolic,
            } => {
                o["component"] = json!([
                    {"code": code("8480-6", "Systolic blood pressure"), "valueQuantity": qty(systolic)},
                    {"code": code("8462-4", "Diastolic blood pressure"), "valueQuantity": qty(diastolic)},
                ]);
            }
            _ => o["valueQuantity"] = qty(m.values()[0]),
        }
        o
    }
}

/// Unix seconds as `YYYY-MM-DDThh:mm:ssZ` (proleptic Gregorian, UTC).
pub fn rfc3339(t: i64) -> String {
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), by 400-year eras of 146,097 days.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::validate::validate_bundle;

    const SUBJECT: &str = "urn:uuid:11111111-1111-4111-8111-111111111111";

    fn reading(m: Measurement) -> Reading {
        Reading {
            device: [7u8; 32],
            at: 1_764_633_600, // 2025-12-02T00:00:00Z
            measurement: m,
        }
    }

    fn all() -> Vec<Reading> {
        vec![
            reading(Measurement::HeartRate { bpm: 72 }),
            reading(Measurement::SpO2 { percent: 97 }),
            reading(Measurement::BloodPressure {
                systolic: 121,
                diastolic: 79,
            }),
            reading(Measurement::Glucose { mg_dl: 104 }),
        ]
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_764_633_600 + 3_661), "2025-12-02T01:01:01Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn json_round_trips_and_is_exact() {
        let r = reading(Measurement::BloodPressure {
            systolic: 121,
            diastolic: 79,
        });
        let text = serde_json::to_string(&r.to_json()).unwrap();
        let dev = bs58::encode([7u8; 32]).into_string();
        assert_eq!(
            text,
            format!(
                r#"{{"at":1764633600,"code":"85354-9","device":"{dev}","unit":"mm[Hg]","value":[121,79]}}"#
            )
        );
        for r in all() {
            assert_eq!(Reading::from_json(&r.to_json()).unwrap(), r);
        }
    }

    #[test]
    fn json_refusals() {
        let mut v = reading(Measurement::HeartRate { bpm: 72 }).to_json();
        v["unit"] = json!("%");
        assert_eq!(
            Reading::from_json(&v),
            Err(ReadingError::WrongUnit {
                code: "8867-4".into(),
                unit: "%".into()
            })
        );
        v["unit"] = json!("/min");
        v["value"] = json!([72, 73]);
        assert_eq!(Reading::from_json(&v), Err(ReadingError::BadValues));
        v["code"] = json!("1234-5");
        assert_eq!(
            Reading::from_json(&v),
            Err(ReadingError::UnknownCode("1234-5".into()))
        );
        v["device"] = json!("abc");
        assert_eq!(Reading::from_json(&v), Err(ReadingError::BadDevice));
        assert_eq!(
            Reading::from_json(&json!([1])),
            Err(ReadingError::Malformed)
        );
    }

    #[test]
    fn observations_shape() {
        let bp = reading(Measurement::BloodPressure {
            systolic: 121,
            diastolic: 79,
        })
        .to_observation(SUBJECT);
        assert_eq!(bp["code"]["coding"][0]["code"], "85354-9");
        assert_eq!(bp["component"][0]["code"]["coding"][0]["code"], "8480-6");
        assert_eq!(bp["component"][1]["valueQuantity"]["value"], 79);
        assert_eq!(bp["component"][1]["valueQuantity"]["code"], "mm[Hg]");
        assert!(bp.get("valueQuantity").is_none());
        let g = reading(Measurement::Glucose { mg_dl: 104 }).to_observation(SUBJECT);
        assert_eq!(g["category"][0]["coding"][0]["code"], "laboratory");
        assert_eq!(g["valueQuantity"]["system"], UCUM);
        assert_eq!(g["effectiveDateTime"], "2025-12-02T00:00:00Z");
    }

    #[test]
    fn observations_pass_the_validator() {
        let mut entry =
            vec![json!({"fullUrl": SUBJECT, "resource": {"resourceType": "Patient", "id": "p"}})];
        for (i, r) in all().iter().enumerate() {
            let mut o = r.to_observation(SUBJECT);
            o["id"] = json!(format!("o{i}"));
            entry.push(json!({
                "fullUrl": format!("urn:uuid:00000000-0000-4000-8000-{i:012}"),
                "resource": o,
            }));
        }
        let bundle =
            json!({"resourceType": "Bundle", "id": "b", "type": "collection", "entry": entry});
        let report = validate_bundle(&bundle);
        let errors: Vec<_> = report.errors().collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert!(report.is_valid());
    }
}
