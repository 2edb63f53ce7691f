//! The few runtime services whose host-side (non-SBF) path in the Solana crates is a
//! silent no-op. On SBF these are plain syscalls; natively they go through the syscall
//! stub table that the SVM host installs, so that return data really reaches the caller.

/// Sets this instruction's return data (read by CPI callers with `get_return_data`).
pub fn set_return_data(data: &[u8]) {
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::program::set_return_data(data);
    #[cfg(not(target_os = "solana"))]
    anchor_lang::compat::solana_sysvar::program_stubs::sol_set_return_data(data);
}

/// The return data the last CPI left (program id and bytes). Natively, `solana-cpi`'s
/// host path always answers `None`; this goes through the host's stub table instead.
/// Programs that CPI into Rekam's verify instructions read the verdict with it.
pub fn get_return_data() -> Option<(anchor_lang::prelude::Pubkey, Vec<u8>)> {
    #[cfg(target_os = "solana")]
    return anchor_lang::solana_program::program::get_return_data();
    #[cfg(not(target_os = "solana"))]
    anchor_lang::compat::solana_sysvar::program_stubs::sol_get_return_data()
}
