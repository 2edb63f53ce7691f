//! Typed instruction builders. Each takes the program id (so `--program-id` deployments
//! work) and returns a ready `Instruction`; account order comes from the program's own
//! generated `accounts` structs.

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use rekam::ConfigInitializeArgs;

use crate::pda;

fn build(
    program_id: &Pubkey,
    accounts: impl ToAccountMetas,
    data: impl InstructionData,
) -> Instruction {
    Instruction {
        program_id: *program_id,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// `config_initialize`: creates the config and the treasury for `treasury_mint`, whose
/// owner is `token_program` (SPL Token or Token-2022).
pub fn config_initialize(
    program_id: &Pubkey,
    payer: &Pubkey,
    treasury_mint: &Pubkey,
    token_program: &Pubkey,
    args: ConfigInitializeArgs,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::ConfigInitialize {
            payer: *payer,
            config: pda::config(program_id),
            treasury_mint: *treasury_mint,
            treasury: pda::treasury(program_id, treasury_mint),
            token_program: *token_program,
            system_program: system_program::ID,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::ConfigInitialize { args },
    )
}

/// `treasury_withdraw`: moves `amount` of protocol fees to `destination`.
pub fn treasury_withdraw(
    program_id: &Pubkey,
    authority: &Pubkey,
    treasury_mint: &Pubkey,
    destination: &Pubkey,
    token_program: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        program_id,
        rekam::accounts::TreasuryWithdraw {
            authority: *authority,
            config: pda::config(program_id),
            treasury: pda::treasury(program_id, treasury_mint),
            treasury_mint: *treasury_mint,
            destination: *destination,
            token_program: *token_program,
            event_authority: pda::event_authority(program_id),
            program: *program_id,
        },
        rekam::instruction::TreasuryWithdraw { amount },
    )
}
