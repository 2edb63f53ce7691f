//! The syscall table used by natively compiled programs.
//!
//! On SBF a program reaches the runtime through syscalls; natively, the Solana crates
//! route the same calls through a process-wide `SyscallStubs` object. Our stubs forward
//! each call to the `InvokeContext` of the instruction being executed (kept in a
//! thread-local, set by [`crate::builtin::invoke_native`]), so CPIs run in the real
//! runtime, sysvars come from its cache, and return data lands where callers read it.
//!
//! The table is installed into `solana-sysvar` 3.x (what anchor-lang 1.2.2 and
//! solana-invoke call) and 4.x (what agave 4.2 crates call). Missing either one turns
//! host CPIs into silent successes that do nothing.

use std::cell::Cell;
use std::sync::Once;

use solana_account_info::AccountInfo;
use solana_instruction::error::{InstructionError, UNSUPPORTED_SYSVAR};
use solana_instruction::Instruction;
use solana_program_entrypoint::SUCCESS;
use solana_program_error::{ProgramError, ProgramResult};
use solana_program_runtime::invoke_context::InvokeContext;
use solana_program_runtime::stable_log;
use solana_pubkey::Pubkey;
use solana_svm_timings::ExecuteTimings;

thread_local! {
    static INVOKE_CONTEXT: Cell<usize> = const { Cell::new(0) };
}

/// Points the stubs at the context of the instruction now executing on this thread.
pub(crate) fn set_invoke_context(invoke_context: &mut InvokeContext) {
    let ptr = invoke_context as *mut InvokeContext as *mut () as usize;
    INVOKE_CONTEXT.with(|cell| cell.set(ptr));
}

/// The context set by the innermost native instruction on this thread.
///
/// # Panics
/// When called outside a native instruction (a program bug: syscalls only exist there).
fn invoke_context<'a>() -> &'a mut InvokeContext<'static, 'static> {
    let ptr = INVOKE_CONTEXT.with(Cell::get);
    assert!(ptr != 0, "syscall made outside a native instruction");
    // SAFETY: the pointer was set from a live `&mut InvokeContext` by the builtin that is
    // executing further up this thread's stack; the runtime keeps that context alive and
    // exclusively lent to the builtin until it returns. Lifetimes are erased as the
    // reference never escapes the syscall.
    unsafe { &mut *(ptr as *mut InvokeContext<'static, 'static>) }
}

static INSTALL: Once = Once::new();

/// Installs the stubs in both `solana-sysvar` lines. Idempotent.
pub fn install() {
    INSTALL.call_once(|| {
        solana_sysvar_v3::program_stubs::set_syscall_stubs(Box::new(HostStubs));
        solana_sysvar_v4::program_stubs::set_syscall_stubs(Box::new(HostStubs));
    });
}

struct HostStubs;

/// Copies a sysvar from the runtime's cache into the program's buffer.
///
/// The runtime type and the program's type are the sysvar's C ABI layout (what SBF
/// programs receive from the real syscall), identical across the crate versions in use.
fn write_sysvar<T: Clone>(
    value: Result<std::sync::Arc<T>, InstructionError>,
    var_addr: *mut u8,
) -> u64 {
    match value {
        Ok(value) => {
            // SAFETY: `var_addr` points at a properly aligned `T` owned by the caller
            // (`Sysvar::get` passes `&mut Self::default()`).
            unsafe { std::ptr::write(var_addr as *mut T, T::clone(&value)) };
            SUCCESS
        }
        Err(_) => UNSUPPORTED_SYSVAR,
    }
}

fn to_program_error(err: InstructionError) -> ProgramError {
    ProgramError::try_from(err).unwrap_or(ProgramError::Custom(u32::MAX))
}

impl HostStubs {
    fn invoke_signed(
        &self,
        instruction: &Instruction,
        account_infos: &[AccountInfo],
        signers_seeds: &[&[&[u8]]],
    ) -> Result<(), InstructionError> {
        let ic = invoke_context();
        let log_collector = ic.get_log_collector();
        let caller = *ic
            .transaction_context
            .get_current_instruction_context()?
            .get_program_key()?;
        stable_log::program_invoke(
            &log_collector,
            &instruction.program_id,
            ic.get_stack_height(),
        );

        let signers = signers_seeds
            .iter()
            .map(|seeds| {
                Pubkey::create_program_address(seeds, &caller)
                    .map_err(|_| InstructionError::InvalidSeeds)
            })
            .collect::<Result<Vec<_>, _>>()?;
        ic.prepare_next_cpi_instruction(instruction.clone(), &signers)?;

        // Caller -> runtime: publish the caller's in-flight account changes.
        let mut writable = Vec::new();
        {
            let transaction_context = &ic.transaction_context;
            let caller_ctx = transaction_context.get_current_instruction_context()?;
            let callee_ctx = transaction_context.get_next_instruction_context()?;
            for callee_account in callee_ctx.instruction_accounts().iter() {
                let key = transaction_context
                    .get_key_of_account_at_index(callee_account.index_in_transaction)?;
                let info_index = account_infos
                    .iter()
                    .position(|info| info.key == key)
                    .ok_or(InstructionError::MissingAccount)?;
                let info = &account_infos[info_index];
                let index_in_caller = caller_ctx
                    .get_index_of_account_in_instruction(callee_account.index_in_transaction)?;
                let mut account = caller_ctx.try_borrow_instruction_account(index_in_caller)?;
                crate::builtin::publish(&mut account, info)?;
                if callee_account.is_writable() {
                    writable.push((callee_account.index_in_transaction, info_index));
                }
            }
        }

        let mut units = 0;
        ic.process_instruction(&mut units, &mut ExecuteTimings::default())?;

        // Runtime -> caller: reflect what the callee did into the caller's AccountInfos.
        let transaction_context = &ic.transaction_context;
        let caller_ctx = transaction_context.get_current_instruction_context()?;
        for (index_in_transaction, info_index) in writable {
            let index_in_caller =
                caller_ctx.get_index_of_account_in_instruction(index_in_transaction)?;
            let account = caller_ctx.try_borrow_instruction_account(index_in_caller)?;
            let info = &account_infos[info_index];
            **info
                .try_borrow_mut_lamports()
                .map_err(|_| InstructionError::AccountBorrowFailed)? = account.get_lamports();
            if info.owner != account.get_owner() {
                // The loader ABI lets the runtime rewrite the owner after a CPI (this is
                // how the System program's `assign` reaches the caller).
                info.assign(account.get_owner());
            }
            let new_data = account.get_data();
            if info.data_len() != new_data.len() {
                info.resize(new_data.len())
                    .map_err(|_| InstructionError::InvalidRealloc)?;
            }
            info.try_borrow_mut_data()
                .map_err(|_| InstructionError::AccountBorrowFailed)?
                .copy_from_slice(new_data);
        }
        stable_log::program_success(&log_collector, &instruction.program_id);
        Ok(())
    }
}

macro_rules! impl_stubs {
    ($trait:path) => {
        impl $trait for HostStubs {
            fn sol_log(&self, message: &str) {
                let ic = invoke_context();
                stable_log::program_log(&ic.get_log_collector(), message);
            }

            fn sol_log_data(&self, data: &[&[u8]]) {
                let ic = invoke_context();
                stable_log::program_data(&ic.get_log_collector(), data);
            }

            fn sol_invoke_signed(
                &self,
                instruction: &Instruction,
                account_infos: &[AccountInfo],
                signers_seeds: &[&[&[u8]]],
            ) -> ProgramResult {
                self.invoke_signed(instruction, account_infos, signers_seeds)
                    .map_err(to_program_error)
            }

            fn sol_get_clock_sysvar(&self, var_addr: *mut u8) -> u64 {
                write_sysvar(
                    invoke_context()
                        .environment_config
                        .sysvar_cache()
                        .get_clock(),
                    var_addr,
                )
            }

            fn sol_get_epoch_schedule_sysvar(&self, var_addr: *mut u8) -> u64 {
                write_sysvar(
                    invoke_context()
                        .environment_config
                        .sysvar_cache()
                        .get_epoch_schedule(),
                    var_addr,
                )
            }

            fn sol_get_epoch_rewards_sysvar(&self, var_addr: *mut u8) -> u64 {
                write_sysvar(
                    invoke_context()
                        .environment_config
                        .sysvar_cache()
                        .get_epoch_rewards(),
                    var_addr,
                )
            }

            fn sol_get_rent_sysvar(&self, var_addr: *mut u8) -> u64 {
                write_sysvar(
                    invoke_context()
                        .environment_config
                        .sysvar_cache()
                        .get_rent(),
                    var_addr,
                )
            }

            fn sol_get_last_restart_slot(&self, var_addr: *mut u8) -> u64 {
                write_sysvar(
                    invoke_context()
                        .environment_config
                        .sysvar_cache()
                        .get_last_restart_slot(),
                    var_addr,
                )
            }

            fn sol_get_sysvar(
                &self,
                sysvar_id_addr: *const u8,
                var_addr: *mut u8,
                offset: u64,
                length: u64,
            ) -> u64 {
                // SAFETY: the caller passes a pointer to a 32-byte sysvar id.
                let id = unsafe { &*(sysvar_id_addr as *const Pubkey) };
                let cache = invoke_context().environment_config.sysvar_cache();
                let Some(bytes) = cache.sysvar_id_to_buffer(id).as_ref() else {
                    return UNSUPPORTED_SYSVAR;
                };
                let (Ok(start), Ok(len)) = (usize::try_from(offset), usize::try_from(length))
                else {
                    return UNSUPPORTED_SYSVAR;
                };
                match start.checked_add(len).and_then(|end| bytes.get(start..end)) {
                    Some(slice) => {
                        // SAFETY: the caller provides a writable buffer of `length` bytes.
                        unsafe { std::ptr::copy_nonoverlapping(slice.as_ptr(), var_addr, len) };
                        SUCCESS
                    }
                    None => UNSUPPORTED_SYSVAR,
                }
            }

            fn sol_get_return_data(&self) -> Option<(Pubkey, Vec<u8>)> {
                let (program_id, data) = invoke_context().transaction_context.get_return_data();
                (!data.is_empty()).then(|| (*program_id, data.to_vec()))
            }

            fn sol_set_return_data(&self, data: &[u8]) {
                let ic = invoke_context();
                let caller = ic
                    .transaction_context
                    .get_current_instruction_context()
                    .and_then(|ctx| ctx.get_program_key().copied());
                if let Ok(caller) = caller {
                    // Too-long data is the program's bug; the runtime rejects it the same way.
                    let _ = ic
                        .transaction_context
                        .set_return_data(caller, data.to_vec());
                }
            }

            fn sol_get_stack_height(&self) -> u64 {
                invoke_context().get_stack_height() as u64
            }
        }
    };
}

impl_stubs!(solana_sysvar_v3::program_stubs::SyscallStubs);
impl_stubs!(solana_sysvar_v4::program_stubs::SyscallStubs);
