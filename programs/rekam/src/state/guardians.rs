//! Guardians: wallets a patient trusts (family, a GP, a lawyer) to act together, M of N,
//! in two situations: an emergency in which the patient cannot sign (break-glass access
//! to the emergency scope), and a lost wallet (social recovery of the patient's
//! authority). Guardians never hold keys to more than the emergency scope, and a recovery
//! moves authority only: it never creates a consent or reads a record.
//!
//! Seeds: Guardianship `["guardians", patient]`; EmergencyRequest
//! `["emergency", patient, index_u64_le]` with `index` the guardianship's
//! `emergencies_requested`; Recovery `["recovery", patient]` (one at a time).
//!
//! Approvals are stored by wallet and counted against the *current* guardian set when
//! they are used, so a removed guardian's approval stops counting at once, and a
//! guardian can approve only once.

use anchor_lang::prelude::*;

use crate::constants::{
    EMERGENCY_SEED, GUARDIANS_SEED, MAX_EMERGENCY_SECONDS, MAX_GUARDIANS,
    MAX_RECOVERY_TIMELOCK_SECONDS, MIN_RECOVERY_TIMELOCK_SECONDS, RECOVERY_SEED,
};
use crate::error::RekamError;
use crate::state::{ConsentScope, KeyGrant};

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Approval {
    pub guardian: Pubkey,
    pub at: i64,
}

/// Approvals whose guardian is in `guardians` (each wallet counted once).
pub fn valid_approvals(approvals: &[Approval], guardians: &[Pubkey]) -> usize {
    approvals
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            guardians.contains(&a.guardian)
                && !approvals[..*i].iter().any(|b| b.guardian == a.guardian)
        })
        .count()
}

/// What a patient sets about their guardians (`guardians_set`, `guardians_change`).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq)]
pub struct GuardiansArgs {
    pub guardians: Vec<Pubkey>,
    pub threshold: u8,
    pub emergency_scope: ConsentScope,
    pub emergency_max_seconds: i64,
    pub recovery_timelock_seconds: i64,
    pub key_grant: KeyGrant,
}

impl GuardiansArgs {
    /// `patient_wallet` may not guard itself.
    pub fn validate(&self, patient_wallet: &Pubkey) -> Result<()> {
        let n = self.guardians.len();
        require!(
            (1..=MAX_GUARDIANS).contains(&n)
                && self.threshold >= 1
                && usize::from(self.threshold) <= n,
            RekamError::InvalidGuardians
        );
        for (i, g) in self.guardians.iter().enumerate() {
            require!(
                *g != Pubkey::default() && g != patient_wallet && !self.guardians[..i].contains(g),
                RekamError::InvalidGuardians
            );
        }
        self.emergency_scope.validate()?;
        require!(
            self.emergency_max_seconds > 0 && self.emergency_max_seconds <= MAX_EMERGENCY_SECONDS,
            RekamError::InvalidEmergencyTerms
        );
        require!(
            (MIN_RECOVERY_TIMELOCK_SECONDS..=MAX_RECOVERY_TIMELOCK_SECONDS)
                .contains(&self.recovery_timelock_seconds),
            RekamError::InvalidTimelock
        );
        self.key_grant.validate()
    }
}

/// Records `guardian`'s approval: only current guardians, once each. Approvals of
/// wallets that are no longer guardians are dropped first (they no longer count, and
/// this keeps the list within `MAX_GUARDIANS`).
pub fn add_approval(
    approvals: &mut Vec<Approval>,
    guardians: &[Pubkey],
    guardian: Pubkey,
    at: i64,
) -> Result<()> {
    require!(guardians.contains(&guardian), RekamError::NotGuardian);
    require!(
        !approvals.iter().any(|a| a.guardian == guardian),
        RekamError::AlreadyApproved
    );
    approvals.retain(|a| guardians.contains(&a.guardian));
    approvals.push(Approval { guardian, at });
    Ok(())
}

#[account(discriminator = [9])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Guardianship {
    pub version: u8,
    pub bump: u8,
    pub patient: Pubkey,
    #[max_len(MAX_GUARDIANS)]
    pub guardians: Vec<Pubkey>,
    /// Approvals needed (M of N).
    pub threshold: u8,
    /// What an emergency consent covers (e.g. the emergency summary record).
    pub emergency_scope: ConsentScope,
    /// Longest emergency consent, in seconds (at most 72 h).
    pub emergency_max_seconds: i64,
    /// Time lock of a social recovery, in seconds.
    pub recovery_timelock_seconds: i64,
    /// The guardians' key grant: the emergency scope's record keys wrapped to each
    /// guardian, so that an approving guardian can re-wrap them for the clinic.
    pub key_grant: KeyGrant,
    /// Emergency requests so far; the next request's index (its seed).
    pub emergencies_requested: u64,
    pub updated_at: i64,
}

impl Guardianship {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey, patient: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[GUARDIANS_SEED, patient.as_ref()], program_id)
    }

    pub fn is_guardian(&self, wallet: &Pubkey) -> bool {
        self.guardians.contains(wallet)
    }

    pub fn approved(&self, approvals: &[Approval]) -> bool {
        valid_approvals(approvals, &self.guardians) >= usize::from(self.threshold)
    }
}

/// Why a clinic asks for emergency access (FHIR v3 ActReason / ActCode).
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum EmergencyReason {
    /// ETREAT: emergency treatment.
    EmergencyTreatment,
    /// BTG: break the glass, access beyond normal policy to save a life.
    BreakTheGlass,
}

impl EmergencyReason {
    pub fn code(self) -> &'static str {
        match self {
            EmergencyReason::EmergencyTreatment => "ETREAT",
            EmergencyReason::BreakTheGlass => "BTG",
        }
    }
}

#[account(discriminator = [10])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct EmergencyRequest {
    pub version: u8,
    pub bump: u8,
    pub patient: Pubkey,
    pub index: u64,
    /// The clinic's wallet: the grantee of the emergency consent.
    pub requester: Pubkey,
    /// The clinic's issuer PDA.
    pub issuer: Pubkey,
    pub reason: EmergencyReason,
    /// Length of the emergency consent, once granted.
    pub duration_seconds: i64,
    pub requested_at: i64,
    /// Approvals count only before this instant; afterwards the request has expired.
    pub approve_by: i64,
    #[max_len(MAX_GUARDIANS)]
    pub approvals: Vec<Approval>,
    /// The emergency consent, once granted; default before.
    pub consent: Pubkey,
    pub granted_at: i64,
    /// When the patient or a guardian ended it early; 0 otherwise.
    pub ended_at: i64,
}

impl EmergencyRequest {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    pub fn find_address(program_id: &Pubkey, patient: &Pubkey, index: u64) -> (Pubkey, u8) {
        Pubkey::find_program_address(
            &[EMERGENCY_SEED, patient.as_ref(), &index.to_le_bytes()],
            program_id,
        )
    }

    pub fn is_granted(&self) -> bool {
        self.granted_at != 0
    }
}

#[account(discriminator = [11])]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Recovery {
    pub version: u8,
    pub bump: u8,
    pub patient: Pubkey,
    /// The guardian who proposed it (receives the rent back when it closes).
    pub proposer: Pubkey,
    /// The wallet that will control the patient profile.
    pub new_authority: Pubkey,
    pub proposed_at: i64,
    #[max_len(MAX_GUARDIANS)]
    pub approvals: Vec<Approval>,
    /// When the threshold was met plus the time lock; 0 = not (or no longer) approved.
    pub unlocks_at: i64,
    /// When the running time lock started; 0 when none runs.
    pub locked_at: i64,
}

impl Recovery {
    pub const SIZE: usize = Self::DISCRIMINATOR.len() + Self::INIT_SPACE;

    /// Whether the running time lock still stands: it started, the guardians have not
    /// changed since (Unix seconds: a change in the very second the lock started is not
    /// told apart), and the approvals of current guardians still meet the threshold.
    pub fn lock_holds(&self, guardianship: &Guardianship) -> bool {
        self.unlocks_at != 0
            && guardianship.updated_at <= self.locked_at
            && guardianship.approved(&self.approvals)
    }

    /// Starts the time lock at `now` when the threshold is met and no valid lock runs;
    /// voids a lock that no longer holds (audit finding 5: a lock never outlives the
    /// approvals or the guardian set it was started on).
    pub fn relock(&mut self, guardianship: &Guardianship, now: i64) -> Result<()> {
        if self.unlocks_at != 0 && !self.lock_holds(guardianship) {
            self.unlocks_at = 0;
            self.locked_at = 0;
        }
        if self.unlocks_at == 0 && guardianship.approved(&self.approvals) {
            self.unlocks_at = now
                .checked_add(guardianship.recovery_timelock_seconds)
                .ok_or(crate::error::RekamError::ArithmeticOverflow)?;
            self.locked_at = now;
        }
        Ok(())
    }

    /// The last second at which the new wallet may execute (the lock plus the window).
    pub fn execute_until(&self) -> i64 {
        self.unlocks_at
            .saturating_add(crate::constants::RECOVERY_EXECUTION_WINDOW_SECONDS)
    }

    /// Whether a current guardian may clear the recovery: it never reached the
    /// threshold within one time lock of being proposed, its lock no longer holds, or
    /// its execution window has passed.
    pub fn is_stale(&self, guardianship: &Guardianship, now: i64) -> bool {
        if self.unlocks_at == 0 {
            let lapses_at = self
                .proposed_at
                .saturating_add(guardianship.recovery_timelock_seconds);
            return now >= lapses_at;
        }
        !self.lock_holds(guardianship) || now > self.execute_until()
    }

    pub fn find_address(program_id: &Pubkey, patient: &Pubkey) -> (Pubkey, u8) {
        Pubkey::find_program_address(&[RECOVERY_SEED, patient.as_ref()], program_id)
    }
}
