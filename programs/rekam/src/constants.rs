//! PDA seeds and protocol limits: defined once here, used by the program, the client and
//! the tests (through the state types' `find_address`), never as byte literals elsewhere.

use anchor_lang::prelude::*;

/// Seed of the singleton deployment config: `["config"]`.
#[constant]
pub const CONFIG_SEED: &[u8] = b"config";

/// Seed of the protocol-fee treasury token account: `["treasury", mint]`.
#[constant]
pub const TREASURY_SEED: &[u8] = b"treasury";

/// Seed of an issuer: `["issuer", registry_id_hash]`.
#[constant]
pub const ISSUER_SEED: &[u8] = b"issuer";

/// Seed of a patient profile: `["patient", pseudonym]`.
#[constant]
pub const PATIENT_SEED: &[u8] = b"patient";

/// Seed of an attestation: `["attestation", issuer, evidence_commitment]`.
#[constant]
pub const ATTESTATION_SEED: &[u8] = b"attestation";

/// Seed of a consent: `["consent", patient, index_u64_le]`.
#[constant]
pub const CONSENT_SEED: &[u8] = b"consent";

/// Seed of an access receipt: `["access", consent, index_u64_le]`.
#[constant]
pub const ACCESS_SEED: &[u8] = b"access";

/// Seed of a research study: `["study", researcher, id_u64_le]`.
#[constant]
pub const STUDY_SEED: &[u8] = b"study";

/// Seed of a study's escrow token account: `["escrow", study]`.
#[constant]
pub const ESCROW_SEED: &[u8] = b"escrow";

/// Seed of a paid contribution: `["contribution", study, attestation]`. Its existence is
/// what makes a second payment for the same attestation impossible.
#[constant]
pub const CONTRIBUTION_SEED: &[u8] = b"contribution";

/// Seed of a patient's tally in a study: `["participant", study, patient]`. It counts the
/// patient's paid contributions against `StudyTerms::max_per_patient` (audit finding 4).
#[constant]
pub const PARTICIPANT_SEED: &[u8] = b"participant";

/// Seed of an issuer's tally in a study: `["study_issuer", study, issuer]`. It counts the
/// paid contributions attested by one issuer against `StudyTerms::max_per_issuer`.
#[constant]
pub const STUDY_ISSUER_SEED: &[u8] = b"study_issuer";

/// Seed of a patient's guardian set: `["guardians", patient]`.
#[constant]
pub const GUARDIANS_SEED: &[u8] = b"guardians";

/// Seed of an emergency request: `["emergency", patient, index_u64_le]`.
#[constant]
pub const EMERGENCY_SEED: &[u8] = b"emergency";

/// Seed of a pending social recovery: `["recovery", patient]`.
#[constant]
pub const RECOVERY_SEED: &[u8] = b"recovery";

/// Seed of an anchored SMART Health Card signing key: `["shc_key", thumbprint]`.
#[constant]
pub const SHC_KEY_SEED: &[u8] = b"shc_key";

/// Longest `iss` URL a SMART Health Card key may be anchored with.
pub const MAX_ISS_LEN: usize = 96;

/// What the SMART Health Card key's owner signs to prove possession when anchoring it
/// (followed by the program id and the Issuer address): binary after the label, so it can
/// never be mistaken for a JWS signing input (base64url text).
pub const SHC_KEY_PROOF_LABEL: &[u8] = b"rekam-shc-key-v1";
/// Seed of a batch-root attestation: `["batch", issuer, root]`. The root binds every fact
/// and the fact count (`claim_tree` leaves bind both), so one issuer anchors one batch once.
#[constant]
pub const BATCH_SEED: &[u8] = b"batch";

/// Most facts one batch may hold: 65,536 = 2^16. Its revocation bitmap is then 8 KiB and
/// the whole account 8,332 bytes, inside the 10 KiB an account created by CPI may
/// allocate in one instruction; a proof is at most 16 siblings (512 bytes).
#[constant]
pub const MAX_BATCH_FACTS: u32 = 1 << 16;

/// How far past the cluster clock a batch's `last_at` may be: device and gateway clocks
/// drift, and the cluster's Unix time follows stake-weighted votes, so 5 minutes.
#[constant]
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 300;

/// Most guardians a patient may name. (`usize`; see docs/program.md.)
pub const MAX_GUARDIANS: usize = 7;

/// Longest emergency consent: 72 hours.
#[constant]
pub const MAX_EMERGENCY_SECONDS: i64 = 72 * 3_600;

/// Longest time guardians have to approve an emergency request: 24 hours.
#[constant]
pub const MAX_APPROVAL_WINDOW_SECONDS: i64 = 24 * 3_600;

/// Shortest and longest social-recovery time lock (the CLI default is 48 hours).
#[constant]
pub const MIN_RECOVERY_TIMELOCK_SECONDS: i64 = 24 * 3_600;
#[constant]
pub const MAX_RECOVERY_TIMELOCK_SECONDS: i64 = 30 * 24 * 3_600;
/// How long the new wallet has to execute a recovery once its time lock has passed.
/// After that the recovery lapses and any current guardian may clear it, so a mistyped
/// or lost new wallet cannot block every later recovery (audit finding 5).
#[constant]
pub const RECOVERY_EXECUTION_WINDOW_SECONDS: i64 = 7 * 24 * 3_600;

/// Domain label of a study's terms hash (what an ethics approval commits to).
pub const STUDY_TERMS_LABEL: &[u8] = b"rekam/v1/study-terms";

/// Seed of Anchor's event-authority PDA (`#[event_cpi]`): `["__event_authority"]`.
pub const EVENT_AUTHORITY_SEED: &[u8] = b"__event_authority";

/// Basis-point denominator.
pub const BPS_DENOMINATOR: u16 = 10_000;

/// Highest protocol fee a deployment may set: 10%.
#[constant]
pub const MAX_PROTOCOL_FEE_BPS: u16 = 1_000;

/// Most attestations a consent may name individually. (`usize` constants cannot be
/// listed in the IDL; the limit is in docs/program.md.)
pub const MAX_CONSENT_ATTESTATIONS: usize = 8;

/// Longest key-grant locator (a CID, an S3 key or a local name).
pub const MAX_LOCATOR_LEN: usize = 128;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Version byte written into every account this program version creates.
pub const ACCOUNT_VERSION: u8 = 1;
