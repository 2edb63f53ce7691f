//! A native SVM host for the Rekam program.
//!
//! The Solana SBF toolchain is not available on every developer machine, so the Anchor
//! program is compiled for the host and registered as a *builtin* in a real SVM
//! (LiteSVM, agave 4.2.2), next to the real SPL Token, Token-2022 and Associated Token
//! programs, which run as the SBF binaries LiteSVM ships. Account ownership, signer,
//! rent, PDA and CPI rules are the runtime's own; compute units are not metered for
//! native code.
//!
//! Two pieces make that work:
//! - [`builtin`]: serializes the instruction's accounts with the SBF ABI, calls the
//!   program's entrypoint, and writes changed accounts back (what SBF loaders do).
//! - [`stubs`]: the syscall table (CPI, sysvars, return data, logs, stack height). Anchor
//!   1.2.2 calls `solana-sysvar` 3.x stubs while agave 4.2 hosts use 4.x; without a table
//!   in *both*, host-side CPIs are silent no-ops. [`stubs::install`] registers ours in both.
//!
//! The same host serves the tests ([`rekam_svm`]) and the local validator, which adds
//! the builtin to surfpool's inner LiteSVM through [`add_rekam`].

pub mod builtin;
pub mod stubs;

use litesvm::LiteSVM;
use solana_program_runtime::solana_sbpf::program::BuiltinFunctionDefinition;

/// Registers the native Rekam program at `rekam::ID` and installs the syscall stubs.
pub fn add_rekam(svm: &mut LiteSVM) {
    add_rekam_at(svm, rekam::ID);
}

/// Registers the native Rekam program at `program_id`.
///
/// Anchor programs check `program_id == crate::ID`, so any other id makes every
/// instruction fail with `DeclaredProgramIdMismatch`; this exists for tests that prove it.
pub fn add_rekam_at(svm: &mut LiteSVM, program_id: solana_pubkey::Pubkey) {
    stubs::install();
    svm.add_builtin(program_id, builtin::RekamBuiltin::register);
}

/// Registers another natively compiled program (for example a program that CPIs into
/// Rekam) at `program_id`. `entry` is its entrypoint behind a lifetime shim like
/// `builtin::rekam_entry`'s.
pub fn add_native(svm: &mut LiteSVM, program_id: solana_pubkey::Pubkey, entry: builtin::NativeFn) {
    stubs::install();
    builtin::register_native(program_id, entry);
    svm.add_builtin(program_id, builtin::NativeBuiltin::register);
}

/// Size of an upgradeable loader `ProgramData` header: a `u32` variant tag (3), the
/// deployment slot (`u64`) and the upgrade authority (`Option<Pubkey>`, bincode layout).
pub const PROGRAM_DATA_HEADER: usize = 4 + 8 + 1 + 32;

/// The account the upgradeable loader keeps beside a deployed program: its `ProgramData`
/// (at `[program_id]` under the loader), naming the upgrade authority. A native builtin
/// has no such account, so the host writes one to model a deployment made by
/// `upgrade_authority` (`None`: an immutable program). Returns its address and account.
pub fn program_data_account(
    program_id: &solana_pubkey::Pubkey,
    upgrade_authority: Option<solana_pubkey::Pubkey>,
    slot: u64,
    rent_exempt_lamports: u64,
) -> (solana_pubkey::Pubkey, solana_account::Account) {
    let loader = solana_sdk_ids::bpf_loader_upgradeable::ID;
    let (address, _) = solana_pubkey::Pubkey::find_program_address(&[program_id.as_ref()], &loader);
    let mut data = Vec::with_capacity(PROGRAM_DATA_HEADER);
    data.extend_from_slice(&3u32.to_le_bytes());
    data.extend_from_slice(&slot.to_le_bytes());
    match upgrade_authority {
        Some(key) => {
            data.push(1);
            data.extend_from_slice(key.as_ref());
        }
        None => data.extend_from_slice(&[0u8; 33]),
    }
    let account = solana_account::Account {
        lamports: rent_exempt_lamports,
        data,
        owner: loader,
        executable: false,
        rent_epoch: 0,
    };
    (address, account)
}

/// Models the deployment of the program at `program_id` by `upgrade_authority`: writes its
/// `ProgramData` account (see [`program_data_account`]), which `config_initialize` checks.
pub fn set_upgrade_authority(
    svm: &mut LiteSVM,
    program_id: &solana_pubkey::Pubkey,
    upgrade_authority: Option<solana_pubkey::Pubkey>,
) {
    let lamports = svm.minimum_balance_for_rent_exemption(PROGRAM_DATA_HEADER);
    let (address, account) = program_data_account(program_id, upgrade_authority, 0, lamports);
    svm.set_account(address, account)
        .expect("writing the ProgramData account");
}

/// A fresh SVM with the default SPL programs (Token, Token-2022, ATA, Memo) and Rekam.
pub fn rekam_svm() -> LiteSVM {
    let mut svm = LiteSVM::new();
    add_rekam(&mut svm);
    svm
}
