//! A deterministic, seeded simulator of one patient's device streams, for demos and tests:
//! heart rate and SpO2 at `hz`, blood pressure four times a day, glucose every 15 minutes
//! with meal peaks. The PRNG is SplitMix64, written here so the output never changes with
//! a dependency.

use super::reading::{Measurement, Reading};

/// Blood pressure times, seconds after midnight UTC (07:00, 13:00, 19:00, 23:00).
pub const BP_TIMES: [i64; 4] = [7 * 3600, 13 * 3600, 19 * 3600, 23 * 3600];
/// Seconds between glucose readings (a CGM's 15 minutes).
pub const GLUCOSE_STEP: i64 = 900;
/// Meal times, seconds after midnight UTC (07:30, 12:30, 18:30).
pub const MEALS: [i64; 3] = [7 * 3600 + 1800, 12 * 3600 + 1800, 18 * 3600 + 1800];

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SimulateError {
    /// Reading times are whole seconds, so at most one sample a second.
    #[error("rate must be in (0, 1] Hz with a whole number of seconds between samples, got {0}")]
    BadRate(f64),
}

/// SplitMix64 (Steele, Lea, Flood 2014): a 64-bit state, one add and a mix per output.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [-a, a).
    fn noise(&mut self, a: f64) -> f64 {
        (self.unit() * 2.0 - 1.0) * a
    }
}

fn clamp(x: f64, lo: u16, hi: u16) -> u16 {
    x.round().clamp(f64::from(lo), f64::from(hi)) as u16
}

/// Rise over 45 minutes after a meal, then fall back over 105 minutes (mg/dL above base).
fn meal_bump(second_of_day: i64) -> f64 {
    MEALS
        .iter()
        .map(|&m| {
            let dt = (second_of_day - m) as f64 / 60.0;
            if (0.0..45.0).contains(&dt) {
                60.0 * dt / 45.0
            } else if (45.0..150.0).contains(&dt) {
                60.0 * (150.0 - dt) / 105.0
            } else {
                0.0
            }
        })
        .sum()
}

/// All readings of `device` over `hours` from `start`, ordered by time (heart rate, SpO2,
/// blood pressure, glucose within one second). Same arguments, same readings.
pub fn simulate(
    device: [u8; 32],
    start: i64,
    hours: u32,
    hz: f64,
    seed: u64,
) -> Result<Vec<Reading>, SimulateError> {
    let step = if hz > 0.0 && hz <= 1.0 { 1.0 / hz } else { 0.0 };
    if step < 1.0 || (step - step.round()).abs() > 1e-9 {
        return Err(SimulateError::BadRate(hz));
    }
    let step = step.round() as i64;
    let end = start + i64::from(hours) * 3600;
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    let mut burst_left = 0i64; // seconds of activity still to come
    let mut burst_gain = 0.0;
    let mut t = start;
    while t < end {
        let sod = t.rem_euclid(86_400);
        // Circadian: lowest near 04:00, highest near 16:00 UTC.
        let phase = (sod as f64 / 86_400.0 - 4.0 / 24.0) * std::f64::consts::TAU;
        let circadian = -8.0 * phase.cos();
        let awake = (7 * 3600..22 * 3600).contains(&sod);
        if awake && burst_left <= 0 && rng.unit() < step as f64 / 7200.0 {
            // 5 to 30 minutes of activity, about every 2 h while awake (07:00 to 22:00).
            burst_left = 300 + (rng.unit() * 1500.0) as i64;
            burst_gain = 30.0 + rng.unit() * 20.0;
        }
        let activity = if burst_left > 0 { burst_gain } else { 0.0 };
        burst_left -= step;
        let bpm = clamp(64.0 + circadian + activity + rng.noise(3.0), 45, 180);
        let percent = if rng.unit() < 0.001 {
            90 + (rng.unit() * 4.0) as u8 // a rare desaturation, 90 to 93 %
        } else {
            clamp(97.5 + rng.noise(2.5), 94, 100) as u8
        };
        let at = |measurement| Reading {
            device,
            at: t,
            measurement,
        };
        out.push(at(Measurement::HeartRate { bpm }));
        out.push(at(Measurement::SpO2 { percent }));
        // An event on a fixed clock is read at the sample whose [t, t + step) holds it
        // (at most one per stream per sample, so rates below 1/900 Hz thin glucose).
        let due = |offset: i64, every: i64| {
            let next_event = offset + (t - offset + every - 1).div_euclid(every) * every;
            next_event < t + step
        };
        for &b in &BP_TIMES {
            if due(b, 86_400) {
                let surge = if b == BP_TIMES[0] { 8.0 } else { 0.0 };
                out.push(at(Measurement::BloodPressure {
                    systolic: clamp(118.0 + surge + rng.noise(8.0), 90, 180),
                    diastolic: clamp(76.0 + surge / 2.0 + rng.noise(6.0), 55, 110),
                }));
            }
        }
        if due(0, GLUCOSE_STEP) {
            let mg_dl = clamp(92.0 + meal_bump(sod) + rng.noise(5.0), 70, 200);
            out.push(at(Measurement::Glucose { mg_dl }));
        }
        t += step;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY0: i64 = 1_764_633_600; // 2025-12-02T00:00:00Z

    fn count(r: &[Reading], code: &str) -> usize {
        r.iter().filter(|x| x.measurement.loinc() == code).count()
    }

    #[test]
    fn counts_follow_hours_and_rate() {
        let r = simulate([1; 32], DAY0, 24, 1.0 / 60.0, 7).unwrap();
        assert_eq!(count(&r, "8867-4"), 24 * 60);
        assert_eq!(count(&r, "59408-5"), 24 * 60);
        assert_eq!(count(&r, "85354-9"), 4);
        assert_eq!(count(&r, "2339-0"), 96);
        assert_eq!(r.len(), 2 * 1440 + 4 + 96);
        let r = simulate([1; 32], DAY0, 2, 1.0, 7).unwrap();
        assert_eq!(count(&r, "8867-4"), 7200);
        assert_eq!(count(&r, "2339-0"), 8);
    }

    #[test]
    fn bad_rates_are_refused() {
        assert_eq!(
            simulate([1; 32], DAY0, 1, 2.0, 1),
            Err(SimulateError::BadRate(2.0))
        );
        assert_eq!(
            simulate([1; 32], DAY0, 1, 0.0, 1),
            Err(SimulateError::BadRate(0.0))
        );
        assert_eq!(
            simulate([1; 32], DAY0, 1, 0.3, 1),
            Err(SimulateError::BadRate(0.3))
        );
    }

    #[test]
    fn deterministic_and_seed_dependent() {
        let a = simulate([1; 32], DAY0, 6, 1.0 / 30.0, 42).unwrap();
        assert_eq!(a, simulate([1; 32], DAY0, 6, 1.0 / 30.0, 42).unwrap());
        assert_ne!(a, simulate([1; 32], DAY0, 6, 1.0 / 30.0, 43).unwrap());
    }

    #[test]
    fn times_monotonic_and_in_window() {
        let r = simulate([1; 32], DAY0 + 1234, 48, 1.0 / 10.0, 3).unwrap();
        assert!(r.windows(2).all(|w| w[0].at <= w[1].at));
        assert_eq!(r[0].at, DAY0 + 1234);
        assert!(r
            .iter()
            .all(|x| x.at < DAY0 + 1234 + 48 * 3600 && x.device == [1; 32]));
        assert_eq!(count(&r, "85354-9"), 8);
        assert_eq!(count(&r, "2339-0"), 192);
    }

    #[test]
    fn physiological_ranges_and_patterns() {
        let r = simulate([1; 32], DAY0, 72, 1.0 / 60.0, 11).unwrap();
        let mut hr = Vec::new();
        let (mut spo2_low, mut spo2) = (0, 0);
        let (mut fasting, mut post_meal) = (Vec::new(), Vec::new());
        for x in &r {
            let sod = x.at.rem_euclid(86_400);
            match x.measurement {
                Measurement::HeartRate { bpm } => {
                    assert!((45..=180).contains(&bpm));
                    hr.push((sod, bpm));
                }
                Measurement::SpO2 { percent } => {
                    assert!((90..=100).contains(&percent));
                    spo2 += 1;
                    spo2_low += usize::from(percent < 94);
                }
                Measurement::BloodPressure {
                    systolic,
                    diastolic,
                } => {
                    assert!((90..=180).contains(&systolic) && (55..=110).contains(&diastolic));
                    assert!(systolic > diastolic);
                }
                Measurement::Glucose { mg_dl } => {
                    assert!((70..=200).contains(&mg_dl));
                    if sod < 6 * 3600 {
                        fasting.push(mg_dl);
                    } else if sod == MEALS[1] + 2700 {
                        post_meal.push(mg_dl);
                    }
                }
            }
        }
        assert!(spo2_low * 100 < spo2, "dips are rare: {spo2_low} of {spo2}");
        assert!(fasting.iter().all(|&g| g < 100));
        assert_eq!(post_meal.len(), 3);
        assert!(post_meal.iter().all(|&g| g > 140), "{post_meal:?}");
        let night = hr.iter().filter(|(s, _)| (3 * 3600..5 * 3600).contains(s));
        let (n, sum) = night.fold((0u32, 0u32), |(n, s), (_, b)| (n + 1, s + u32::from(*b)));
        assert!(sum / n < 64, "night mean {}", sum / n);
    }
}
