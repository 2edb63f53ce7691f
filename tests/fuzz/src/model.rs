//! The independent model: plain structs that say what the chain should hold, and the
//! protocol rules written again from docs/program.md and the instruction handlers' doc
//! comments (never by calling the program's own helpers). Predictions are
//! `Result<(), u32>`: `Ok` when the instruction must succeed, `Err(code)` for the exact
//! error it must fail with, `Err(ANY)` when only "it fails" is known.

use std::collections::{HashMap, HashSet};

use anchor_lang::prelude::Pubkey;
use rekam::RekamError;

/// "Some error": the model knows the instruction must fail, not which code.
pub const ANY: u32 = u32::MAX;

pub type Pred = Result<(), u32>;

/// `Err(code)` unless `ok`.
pub fn req(ok: bool, e: RekamError) -> Pred {
    if ok {
        Ok(())
    } else {
        Err(e.code())
    }
}

/// An Anchor framework error code (constraint, account) as a prediction.
pub fn anchor(e: anchor_lang::error::ErrorCode) -> u32 {
    e as u32
}

/// Anchor's `AccountNotInitialized` unless `exists`: a closed (or never created)
/// account fails to deserialize, before any account's constraints are checked.
pub fn present(exists: bool) -> Pred {
    if exists {
        Ok(())
    } else {
        Err(anchor(anchor_lang::error::ErrorCode::AccountNotInitialized))
    }
}

/// The System program's `AccountAlreadyInUse`: `init` of an address that exists.
pub const IN_USE: u32 = 0;

pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;

/// Issuer roles (docs/program.md, "Issuer").
pub mod role {
    pub const CLINIC: u8 = 1;
    pub const LAB: u8 = 2;
    pub const PHARMACY: u8 = 4;
    pub const ETHICS_BOARD: u8 = 8;
    pub const DEVICE_OPERATOR: u8 = 16;
    pub const ALL: u8 = 31;
}

/// Attestation kinds by their position in the docs' list; 6 is the ethics approval.
pub const ETHICS: u8 = 6;
/// The six patient-record kinds, as a mask.
pub const RECORD_KINDS: u8 = 0b11_1111;
/// Purpose positions: 1 is ETREAT, 2 is HRESCH.
pub const PURPOSES: u8 = 8;
pub const ETREAT: u8 = 1;
pub const RESEARCH: u8 = 2;

pub fn kind_bit(kind: u8) -> u8 {
    1u8 << kind
}

/// Which roles may attest a kind (docs/program.md, "Attestation").
pub fn allowed_roles(kind: u8) -> u8 {
    use role::*;
    match kind {
        0 => CLINIC,
        1 => CLINIC | LAB | DEVICE_OPERATOR,
        2 | 3 => CLINIC | PHARMACY,
        4 => CLINIC | LAB,
        5 => ALL,
        _ => ETHICS_BOARD,
    }
}

#[derive(Clone, Debug)]
pub struct Issuer {
    pub key: Pubkey,
    pub auth: usize,
    pub roles: u8,
    pub active: bool,
    pub issued: u64,
    /// When the status last changed (accreditation, suspension, reinstatement).
    pub changed_at: i64,
    /// What governance voided on reinstatement: issued in `[void_from, void_until)`.
    pub void_from: i64,
    pub void_until: i64,
}

impl Issuer {
    /// Whether what this issuer attested at `issued_at` falls in its void window.
    pub fn voids(&self, issued_at: i64) -> bool {
        self.void_from <= issued_at && issued_at < self.void_until
    }

    /// Reinstatement with `void_from: Some(from)` (already checked to be in
    /// `0..=changed_at`): a first window is `[from, suspended_at)`; a later one is merged
    /// with the standing one into the smallest window covering both.
    pub fn void_since(&mut self, from: i64) {
        let suspended_at = self.changed_at;
        if self.void_from < self.void_until {
            self.void_from = self.void_from.min(from);
            self.void_until = self.void_until.max(suspended_at);
        } else {
            self.void_from = from;
            self.void_until = suspended_at;
        }
    }
}

#[derive(Clone, Debug)]
pub struct Guardians {
    pub guardians: Vec<Pubkey>,
    pub threshold: u8,
    pub scope_kinds: u8,
    pub scope_atts: Vec<Pubkey>,
    pub max_secs: i64,
    pub timelock: i64,
    pub updated_at: i64,
    pub requested: u64,
}

impl Guardians {
    /// Distinct approvals by current guardians.
    pub fn valid(&self, approvals: &[Pubkey]) -> usize {
        let mut seen: Vec<&Pubkey> = Vec::new();
        for a in approvals {
            if self.guardians.contains(a) && !seen.contains(&a) {
                seen.push(a);
            }
        }
        seen.len()
    }

    pub fn met(&self, approvals: &[Pubkey]) -> bool {
        self.valid(approvals) >= usize::from(self.threshold)
    }
}

/// Approvals: only current guardians, once each; approvals of removed guardians are
/// dropped when a new one is added.
pub fn add_approval(approvals: &mut Vec<Pubkey>, g: &Guardians, who: Pubkey) -> Pred {
    req(g.guardians.contains(&who), RekamError::NotGuardian)?;
    req(!approvals.contains(&who), RekamError::AlreadyApproved)?;
    approvals.retain(|a| g.guardians.contains(a));
    approvals.push(who);
    Ok(())
}

/// Seven days to execute once the time lock has passed.
pub const EXECUTION_WINDOW: i64 = 7 * DAY;

#[derive(Clone, Debug)]
pub struct Recovery {
    pub proposer: Pubkey,
    pub new_auth: usize,
    pub proposed_at: i64,
    pub approvals: Vec<Pubkey>,
    pub unlocks_at: i64,
    pub locked_at: i64,
}

impl Recovery {
    /// The lock stands: it started, the guardians did not change since, and the current
    /// guardians' approvals still meet the threshold.
    pub fn holds(&self, g: &Guardians) -> bool {
        self.unlocks_at != 0 && g.updated_at <= self.locked_at && g.met(&self.approvals)
    }

    /// A void lock is dropped; a met threshold without a lock starts one, in full.
    pub fn relock(&mut self, g: &Guardians, now: i64) {
        if self.unlocks_at != 0 && !self.holds(g) {
            self.unlocks_at = 0;
            self.locked_at = 0;
        }
        if self.unlocks_at == 0 && g.met(&self.approvals) {
            self.unlocks_at = now + g.timelock;
            self.locked_at = now;
        }
    }

    /// A current guardian may clear it.
    pub fn stale(&self, g: &Guardians, now: i64) -> bool {
        if self.unlocks_at == 0 {
            now >= self.proposed_at + g.timelock
        } else {
            !self.holds(g) || now > self.unlocks_at + EXECUTION_WINDOW
        }
    }
}

#[derive(Clone, Debug)]
pub struct Patient {
    pub key: Pubkey,
    pub pseudonym: [u8; 32],
    pub auth: usize,
    /// Wallets that controlled the profile before a recovery.
    pub old: Vec<usize>,
    pub consents: u64,
    pub accesses: u64,
    pub guardians: Option<Guardians>,
    pub recovery: Option<Recovery>,
}

#[derive(Clone, Debug)]
pub struct Att {
    pub key: Pubkey,
    pub kind: u8,
    pub issuer: usize,
    pub patient: Option<usize>,
    pub evidence: [u8; 32],
    pub expires_on_day: u16,
    pub treatment_day: u16,
    pub issued_at: i64,
    pub revoked: bool,
}

impl Att {
    pub fn expired(&self, now: i64) -> bool {
        self.expires_on_day != 0 && now >= i64::from(self.expires_on_day) * DAY
    }
}

#[derive(Clone, Debug)]
pub struct Consent {
    pub key: Pubkey,
    pub patient: usize,
    pub index: u64,
    pub grantee: Pubkey,
    pub purpose: u8,
    pub kinds: u8,
    pub atts: Vec<Pubkey>,
    pub starts_at: i64,
    pub expires_at: i64,
    pub revoked_at: i64,
    pub key_hash: [u8; 32],
    pub accesses: u64,
    /// Closed by `consent_close` (the account is gone, its rent back with the patient).
    pub closed: bool,
    /// Indexes of this consent's receipts closed by `receipt_close`.
    pub receipts_closed: HashSet<u64>,
}

impl Consent {
    /// A new consent, not yet read nor closed.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        key: Pubkey,
        patient: usize,
        index: u64,
        grantee: Pubkey,
        purpose: u8,
        (kinds, atts): (u8, Vec<Pubkey>),
        (starts_at, expires_at): (i64, i64),
        key_hash: [u8; 32],
    ) -> Consent {
        Consent {
            key,
            patient,
            index,
            grantee,
            purpose,
            kinds,
            atts,
            starts_at,
            expires_at,
            revoked_at: 0,
            key_hash,
            accesses: 0,
            closed: false,
            receipts_closed: HashSet::new(),
        }
    }

    /// Ended, hence closable: revoked, or expired (a consent not yet started is not).
    pub fn ended(&self, now: i64) -> bool {
        self.revoked_at != 0 || (now >= self.starts_at && now >= self.expires_at)
    }

    /// Active: not revoked, started, not expired; else the reason, in that order.
    pub fn active(&self, now: i64) -> Pred {
        req(self.revoked_at == 0, RekamError::ConsentRevoked)?;
        req(now >= self.starts_at, RekamError::ConsentNotYetActive)?;
        req(now < self.expires_at, RekamError::ConsentExpired)
    }

    pub fn covers(&self, att: &Att) -> bool {
        self.kinds & kind_bit(att.kind) != 0 || self.atts.contains(&att.key)
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Terms {
    pub price: u64,
    pub max: u32,
    pub per_patient: u16,
    pub per_issuer: u32,
    pub kinds: u8,
    pub roles: u8,
    pub from_day: u16,
    pub until_day: u16,
    pub deadline: i64,
    pub data_use_until: i64,
    pub key_set: bool,
}

impl Terms {
    pub fn valid(&self, now: i64) -> bool {
        self.price > 0
            && self.max > 0
            && self.per_patient > 0
            && self.kinds != 0
            && self.kinds & !RECORD_KINDS == 0
            && self.roles & !role::ALL == 0
            && (self.until_day == 0 || self.from_day <= self.until_day)
            && self.deadline > now
            && self.data_use_until >= self.deadline
            && self.key_set
    }

    /// The study's acceptance criteria over an attestation and its issuer's roles.
    pub fn accepts(&self, att: &Att, issuer_roles: u8) -> bool {
        let day = att.issued_at / DAY;
        self.kinds & kind_bit(att.kind) != 0
            && att.kind != ETHICS
            && (self.roles == 0 || self.roles & issuer_roles != 0)
            && (self.from_day == 0 || day >= i64::from(self.from_day))
            && (self.until_day == 0 || day <= i64::from(self.until_day))
    }
}

#[derive(Clone, Debug)]
pub struct Study {
    pub key: Pubkey,
    pub id: u64,
    pub approval: usize,
    pub terms: Terms,
    pub contributions: u32,
    pub closed: bool,
    pub deposited: u64,
    pub paid: u64,
    pub fees: u64,
    pub refunded: u64,
    /// What the escrow token account must hold (0 once closed).
    pub escrow: u64,
    pub paid_atts: HashSet<Pubkey>,
    pub per_patient: HashMap<usize, u32>,
    pub per_issuer: HashMap<usize, u32>,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub key: Pubkey,
    pub patient: usize,
    pub index: u64,
    pub requester: Pubkey,
    pub issuer: usize,
    pub duration: i64,
    pub approve_by: i64,
    pub approvals: Vec<Pubkey>,
    pub consent: Option<usize>,
    pub ended: bool,
}

/// Wallet roles by index in `Model::wallets` (and the executor's keypairs).
pub mod wallet {
    pub const GOV: usize = 0;
    pub const CLINIC: usize = 1;
    pub const BOARD: usize = 2;
    pub const LAB: usize = 3;
    pub const DOCTOR: usize = 4;
    pub const RESEARCHER: usize = 5;
    pub const STRANGER: usize = 6;
    pub const STRANGER2: usize = 7;
    /// Four guardian wallets from here.
    pub const GUARDIAN0: usize = 8;
    pub const GUARDIANS: usize = 4;
    /// The patients' first wallets from here.
    pub const PATIENT0: usize = 12;
}

#[derive(Clone, Debug, Default)]
pub struct Model {
    pub now: i64,
    pub wallets: Vec<Pubkey>,
    pub issuers: Vec<Issuer>,
    pub patients: Vec<Patient>,
    pub atts: Vec<Att>,
    pub consents: Vec<Consent>,
    pub studies: Vec<Study>,
    pub requests: Vec<Request>,
    /// Associated-token balances of wallets paid by studies.
    pub ata: HashMap<Pubkey, u64>,
    pub researcher_tokens: u64,
    pub treasury: u64,
    pub fee_bps: u64,
    pub next_study_id: u64,
    /// Every consent and receipt address closed so far: none may ever exist again.
    pub gone: HashSet<Pubkey>,
}

impl Model {
    pub fn today(&self) -> i64 {
        self.now / DAY
    }

    pub fn wallet(&self, i: usize) -> Pubkey {
        self.wallets[i]
    }

    /// Not revoked, not expired, issuer active: the rule every consumer applies.
    pub fn att_active(&self, a: &Att) -> Pred {
        req(!a.revoked, RekamError::AttestationRevoked)?;
        req(!a.expired(self.now), RekamError::AttestationExpired)?;
        let issuer = &self.issuers[a.issuer];
        req(issuer.active, RekamError::IssuerSuspended)?;
        req(!issuer.voids(a.issued_at), RekamError::AttestationVoided)
    }

    /// The study's ethics approval still holds.
    pub fn approval_active(&self, s: &Study) -> bool {
        self.att_active(&self.atts[s.approval]).is_ok()
    }

    /// The protocol fee on a price, rounded up.
    pub fn fee(&self, price: u64) -> u64 {
        (u128::from(price) * u128::from(self.fee_bps)).div_ceil(10_000) as u64
    }

    /// Attestations about patient `p`.
    pub fn atts_of(&self, p: usize) -> Vec<usize> {
        (0..self.atts.len())
            .filter(|&i| self.atts[i].patient == Some(p))
            .collect()
    }
}
