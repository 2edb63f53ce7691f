//! Runs a natively compiled program as an SVM builtin, with the same account semantics
//! an SBF loader gives it: the accounts are serialized with the loader's ABI, the program
//! sees `AccountInfo`s over that buffer, and after it returns every writable account's
//! lamports, data and owner are written back, where the runtime checks them (a program
//! can only debit or reassign accounts it owns, and so on).

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;

use solana_account_info::AccountInfo;
use solana_instruction::error::InstructionError;
use solana_program_entrypoint::ProcessInstruction;
use solana_program_runtime::invoke_context::InvokeContext;
use solana_program_runtime::serialization::serialize_parameters;
use solana_program_runtime::stable_log;
use solana_pubkey::Pubkey;
use solana_transaction_context::IndexOfAccount;

use crate::stubs;

solana_program_runtime::declare_process_instruction!(RekamBuiltin, 1, |invoke_context| {
    invoke_native(rekam_entry, invoke_context)
});

/// An entrypoint of another natively compiled program (see [`crate::add_native`]).
pub type NativeFn = fn(&Pubkey, &[AccountInfo], &[u8]) -> u64;

/// Entrypoints of the other native programs, by program id.
fn natives() -> &'static std::sync::Mutex<HashMap<Pubkey, NativeFn>> {
    static NATIVES: std::sync::OnceLock<std::sync::Mutex<HashMap<Pubkey, NativeFn>>> =
        std::sync::OnceLock::new();
    NATIVES.get_or_init(Default::default)
}

pub(crate) fn register_native(program_id: Pubkey, entry: NativeFn) {
    natives()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .insert(program_id, entry);
}

solana_program_runtime::declare_process_instruction!(NativeBuiltin, 1, |invoke_context| {
    let program_id = *invoke_context
        .transaction_context
        .get_current_instruction_context()?
        .get_program_key()?;
    let entry = natives()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&program_id)
        .copied()
        .ok_or(InstructionError::UnsupportedProgramId)?;
    invoke_native(entry, invoke_context)
});

/// Anchor's `entry` ties the slice lifetime to the `AccountInfo` lifetime; the account
/// infos built by [`invoke_native`] live exactly as long as the call, so erasing the
/// lifetime here is sound for the duration of the call and nothing escapes it.
fn rekam_entry(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> u64 {
    // SAFETY: see above; `accounts` outlives the call and is not retained by the program.
    let accounts: &[AccountInfo<'_>] = unsafe { std::mem::transmute(accounts) };
    match rekam::entry(program_id, accounts, data) {
        Ok(()) => solana_program_entrypoint::SUCCESS,
        Err(err) => err.into(),
    }
}

/// Executes `entry` for the instruction currently on top of `invoke_context`.
pub fn invoke_native(
    entry: fn(&Pubkey, &[AccountInfo], &[u8]) -> u64,
    invoke_context: &mut InvokeContext,
) -> Result<(), InstructionError> {
    stubs::set_invoke_context(invoke_context);

    let log_collector = invoke_context.get_log_collector();
    let direct_pointers = invoke_context
        .get_feature_set()
        .direct_account_pointers_in_program_input;
    let (program_id, indices, mut parameter_bytes) = {
        let transaction_context = &invoke_context.transaction_context;
        let instruction_context = transaction_context.get_current_instruction_context()?;
        let program_id = *instruction_context.get_program_key()?;
        let indices: HashSet<IndexOfAccount> =
            (0..instruction_context.get_number_of_instruction_accounts()).collect();
        // No VM here: address-space adjustments and direct mapping do not apply.
        let (bytes, _regions, _lengths, _data_offset) =
            serialize_parameters(&instruction_context, false, false, direct_pointers)?;
        (program_id, indices, bytes)
    };
    stable_log::program_invoke(
        &log_collector,
        &program_id,
        invoke_context.get_stack_height(),
    );

    // SAFETY: the buffer was produced by `serialize_parameters` with the loader's ABI, and
    // it outlives `account_infos` (both are dropped at the end of this function).
    let (_, account_infos, input) = unsafe {
        solana_program_entrypoint::deserialize(parameter_bytes.as_slice_mut().as_mut_ptr())
    };

    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        entry(&program_id, &account_infos, input)
    }));
    let outcome = match result {
        Ok(solana_program_entrypoint::SUCCESS) => Ok(()),
        Ok(code) => Err(InstructionError::from(code)),
        Err(_) => Err(InstructionError::ProgramFailedToComplete),
    };
    if let Err(err) = &outcome {
        stable_log::program_failure(&log_collector, &program_id, err);
        return outcome;
    }
    stable_log::program_success(&log_collector, &program_id);

    // A CPI may have re-pointed the thread-local context; re-read the instruction.
    let by_key: HashMap<Pubkey, &AccountInfo> =
        account_infos.iter().map(|info| (*info.key, info)).collect();
    let transaction_context = &invoke_context.transaction_context;
    let instruction_context = transaction_context.get_current_instruction_context()?;
    for index in indices {
        let mut account = instruction_context.try_borrow_instruction_account(index)?;
        if !account.is_writable() {
            continue;
        }
        let Some(info) = by_key.get(account.get_key()) else {
            continue;
        };
        publish(&mut account, info)?;
    }
    Ok(())
}

/// Hands what a native program did to an account (lamports, data, then owner: the order
/// the runtime allows) to the runtime, which checks it like any SBF program's changes.
pub(crate) fn publish(
    account: &mut solana_transaction_context::instruction_accounts::BorrowedInstructionAccount,
    info: &AccountInfo,
) -> Result<(), InstructionError> {
    if account.get_lamports() != info.lamports() {
        account.set_lamports(info.lamports())?;
    }
    let data = info
        .try_borrow_data()
        .map_err(|_| InstructionError::AccountBorrowFailed)?;
    if account.get_data() != &data[..] {
        account.set_data_from_slice(&data)?;
    }
    if account.get_owner() != info.owner {
        account.set_owner(info.owner.as_ref())?;
    }
    Ok(())
}

/// `ProcessInstruction` is re-exported for hosts that wrap other native programs.
pub type NativeEntry = ProcessInstruction;
