//! Events for every lifecycle change an auditor needs. They are emitted with `emit_cpi!`
//! (a self-CPI carrying the event in instruction data), which, unlike program logs, cannot
//! be truncated by the log limit. Events carry no patient identifier and no diagnosis.

use anchor_lang::prelude::*;

#[event]
pub struct ConfigInitialized {
    pub config: Pubkey,
    pub authority: Pubkey,
    pub treasury: Pubkey,
    pub treasury_mint: Pubkey,
    pub protocol_fee_bps: u16,
}

#[event]
pub struct TreasuryWithdrawn {
    pub config: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
}

/// Emits `event` as a self-CPI signed by the event-authority PDA: the same wire format as
/// Anchor's `emit_cpi!`, callable from handlers written as methods on their accounts struct.
pub fn emit<'info, E: anchor_lang::Event>(
    event_authority: &AccountInfo<'info>,
    event: &E,
) -> Result<()> {
    let data: Vec<u8> = anchor_lang::event::EVENT_IX_TAG_LE
        .iter()
        .copied()
        .chain(event.data())
        .collect();
    let ix = anchor_lang::solana_program::instruction::Instruction::new_with_bytes(
        crate::ID,
        &data,
        vec![
            anchor_lang::solana_program::instruction::AccountMeta::new_readonly(
                event_authority.key(),
                true,
            ),
        ],
    );
    anchor_lang::solana_program::program::invoke_signed(
        &ix,
        std::slice::from_ref(event_authority),
        &[&[
            crate::constants::EVENT_AUTHORITY_SEED,
            &[crate::EVENT_AUTHORITY_AND_BUMP.1],
        ]],
    )
    .map_err(Into::into)
}
