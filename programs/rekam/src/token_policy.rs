//! Which token mints a deployment accepts (audit finding 2). The deployment's mint pays
//! every study and collects every fee, so a mint that can take tokens out of an escrow,
//! make transfers fail, or change under the same address would break conservation or
//! lock budgets in escrow. The policy is an allowlist of Token-2022 mint extensions, so
//! an extension added to Token-2022 later is refused until it is reviewed here:
//!
//! - allowed, they change no balance and no transfer: `MetadataPointer`,
//!   `TokenMetadata`, `GroupPointer`, `TokenGroup`, `GroupMemberPointer`,
//!   `TokenGroupMember` (descriptive data), `InterestBearingConfig` and
//!   `ScaledUiAmount` (they change only how an amount is displayed; base units, which
//!   the program counts, do not move);
//! - refused, everything else, in particular `TransferFeeConfig` (the escrow receives
//!   less than is deposited), `TransferHook` (another program runs on, and can fail,
//!   every transfer), `PermanentDelegate` (moves tokens out of any escrow), `Pausable`
//!   and `DefaultAccountState` (freeze or stop every transfer), `NonTransferable`,
//!   `MintCloseAuthority` (the mint can be closed and another made at its address), and
//!   the confidential-transfer extensions (balances the program cannot see).
//!
//! A freeze authority (SPL Token or Token-2022) can freeze an escrow or the treasury.
//! Regulated stablecoins have one, so it is refused unless governance accepts it
//! explicitly at `config_initialize` (`accept_freeze_authority`); that choice is
//! recorded in the `ConfigInitialized` event.

use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::extension::{
    BaseStateWithExtensions, ExtensionType, StateWithExtensions,
};
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;

use crate::error::RekamError;

/// The Token-2022 mint extensions a deployment accepts.
pub const ALLOWED_MINT_EXTENSIONS: [ExtensionType; 8] = [
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
    ExtensionType::InterestBearingConfig,
    ExtensionType::ScaledUiAmount,
];

/// Checks `mint` (owned by SPL Token or Token-2022) against the policy above.
pub fn check_mint(mint: &AccountInfo, accept_freeze_authority: bool) -> Result<()> {
    let data = mint.try_borrow_data()?;
    let state = StateWithExtensions::<MintState>::unpack(&data)
        .map_err(|_| error!(RekamError::MintExtensionNotAllowed))?;
    if state.base.freeze_authority.is_some() && !accept_freeze_authority {
        return err!(RekamError::MintHasFreezeAuthority);
    }
    if *mint.owner == anchor_spl::token_2022::ID {
        let extensions = state
            .get_extension_types()
            .map_err(|_| error!(RekamError::MintExtensionNotAllowed))?;
        if let Some(refused) = extensions
            .iter()
            .find(|e| !ALLOWED_MINT_EXTENSIONS.contains(e))
        {
            msg!("mint extension {:?} is not allowed", refused);
            return err!(RekamError::MintExtensionNotAllowed);
        }
    }
    Ok(())
}
