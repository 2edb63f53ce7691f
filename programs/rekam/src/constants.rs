//! PDA seeds and protocol limits: defined once here, used by the program, the client and
//! the tests (through `state::*::find_address` helpers), never as byte literals elsewhere.

use anchor_lang::prelude::*;

/// Seed of the singleton deployment config: `["config"]`.
#[constant]
pub const CONFIG_SEED: &[u8] = b"config";

/// Seed of the protocol-fee treasury token account: `["treasury", mint]`.
#[constant]
pub const TREASURY_SEED: &[u8] = b"treasury";

/// Basis-point denominator.
pub const BPS_DENOMINATOR: u16 = 10_000;

/// Highest protocol fee a deployment may set: 10%.
#[constant]
pub const MAX_PROTOCOL_FEE_BPS: u16 = 1_000;

/// Version byte written into every account this program version creates.
pub const ACCOUNT_VERSION: u8 = 1;

/// Seed of Anchor's event-authority PDA (`#[event_cpi]`): `["__event_authority"]`.
pub const EVENT_AUTHORITY_SEED: &[u8] = b"__event_authority";
