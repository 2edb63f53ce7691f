//! The operations the fuzzer draws: one kind and five raw numbers each, interpreted when
//! the operation runs (indices are taken modulo the pools of the moment), so that any
//! subsequence of a recorded run is still a valid run. That is what makes shrinking by
//! deleting operations work. Text form: `kind a0 a1 a2 a3 a4`, one operation a line.

use crate::rng::Rng;

macro_rules! kinds {
    ($($kind:ident = $weight:expr),* $(,)?) => {
        /// Every operation kind, with its weight in a random draw.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Kind { $($kind),* }

        impl Kind {
            pub const ALL: &'static [(Kind, u32)] = &[$((Kind::$kind, $weight)),*];

            pub fn name(self) -> &'static str {
                match self { $(Kind::$kind => stringify!($kind)),* }
            }

            pub fn parse(name: &str) -> Option<Kind> {
                match name { $(stringify!($kind) => Some(Kind::$kind),)* _ => None }
            }
        }
    };
}

kinds! {
    IssuerAccredit = 2,
    IssuerGovern = 3,
    IssuerRotate = 1,
    AttestationVerify = 2,
    AttestationIssue = 10,
    AttestationRevoke = 3,
    ConsentGrant = 10,
    ConsentChange = 6,
    AccessRecord = 16,
    ConsentClose = 4,
    ReceiptClose = 4,
    StudyOpen = 4,
    StudyTopUp = 3,
    StudyContribute = 10,
    StudyClose = 1,
    GuardiansSet = 3,
    EmergencyRequest = 4,
    EmergencyApprove = 7,
    EmergencyActivate = 4,
    EmergencyEnd = 2,
    RecoveryPropose = 3,
    RecoveryApprove = 4,
    RecoveryCancel = 2,
    RecoveryExecute = 3,
    ClockJump = 6,
}

/// One operation: what to do and the raw numbers that say with what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    pub kind: Kind,
    pub a: [u32; 5],
}

impl Op {
    pub fn random(rng: &mut Rng) -> Op {
        let total: u32 = Kind::ALL.iter().map(|(_, w)| w).sum();
        let mut pick = rng.below(u64::from(total)) as u32;
        let mut kind = Kind::ALL[0].0;
        for (k, w) in Kind::ALL {
            if pick < *w {
                kind = *k;
                break;
            }
            pick -= w;
        }
        Op {
            kind,
            a: [
                rng.next_u32(),
                rng.next_u32(),
                rng.next_u32(),
                rng.next_u32(),
                rng.next_u32(),
            ],
        }
    }

    /// `a[i] % n` as a usize (n > 0).
    pub fn pick(&self, i: usize, n: usize) -> usize {
        self.a[i] as usize % n.max(1)
    }

    /// Whether `a[i]` falls in the first `percent` of its range: a biased coin.
    pub fn chance(&self, i: usize, percent: u32) -> bool {
        self.a[i] % 100 < percent
    }

    /// Byte `k` (0..4) of `a[i]`, modulo `n` (n > 0): several small choices per number.
    pub fn sub(&self, i: usize, k: usize, n: u32) -> u32 {
        ((self.a[i] >> (8 * k)) & 0xff) % n.max(1)
    }

    pub fn to_line(self) -> String {
        let [a0, a1, a2, a3, a4] = self.a;
        format!("{} {a0} {a1} {a2} {a3} {a4}", self.kind.name())
    }

    pub fn parse_line(line: &str) -> Option<Op> {
        let mut words = line.split_whitespace();
        let kind = Kind::parse(words.next()?)?;
        let mut a = [0u32; 5];
        for slot in &mut a {
            *slot = words.next()?.parse().ok()?;
        }
        Some(Op { kind, a })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        let mut rng = Rng::new(9);
        for _ in 0..200 {
            let op = Op::random(&mut rng);
            assert_eq!(Op::parse_line(&op.to_line()), Some(op));
        }
    }
}
