//! Creating a program account at a PDA in a way that an attacker cannot block by sending
//! lamports to the address first (audit finding 9). Anchor 1.2.2's `init` creates a
//! pre-funded account with the System program's `CreateAccountAllowPrefund` (SIMD-0312),
//! which a cluster without that feature refuses, so one transfer of the rent exemption
//! of an empty account would block a predictable address for good (a patient's next
//! consent, access receipt or emergency request, the patient's recovery). Here a
//! pre-funded address is topped up (`transfer`), sized (`allocate`) and given to the
//! program (`assign`), which every cluster supports; an empty one is created as usual.

use anchor_lang::prelude::*;
use anchor_lang::system_program::{self, Allocate, Assign, CreateAccount, Transfer};

/// Creates `target` (the PDA signed for by `seeds`) with `space` bytes, owned by this
/// program and rent-exempt, paid by `payer`. An address already in use (data or another
/// owner) fails as `init` does: the System program refuses to allocate or assign it.
pub fn pda<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    space: usize,
    seeds: &[&[u8]],
) -> Result<()> {
    pda_owned(payer, target, system, space, seeds, &crate::ID)
}

/// [`pda`] for an account another program will own (a token account).
pub fn pda_owned<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    space: usize,
    seeds: &[&[u8]],
    owner: &Pubkey,
) -> Result<()> {
    let required = Rent::get()?.minimum_balance(space).max(1);
    let held = target.lamports();
    let signer: &[&[&[u8]]] = &[seeds];
    if held == 0 {
        return system_program::create_account(
            CpiContext::new_with_signer(
                system.key(),
                CreateAccount {
                    from: payer.clone(),
                    to: target.clone(),
                },
                signer,
            ),
            required,
            space as u64,
            owner,
        );
    }
    require_keys_neq!(
        payer.key(),
        target.key(),
        anchor_lang::error::ErrorCode::TryingToInitPayerAsProgramAccount
    );
    if required > held {
        system_program::transfer(
            CpiContext::new(
                system.key(),
                Transfer {
                    from: payer.clone(),
                    to: target.clone(),
                },
            ),
            required - held,
        )?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(
            system.key(),
            Allocate {
                account_to_allocate: target.clone(),
            },
            signer,
        ),
        space as u64,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(
            system.key(),
            Assign {
                account_to_assign: target.clone(),
            },
            signer,
        ),
        owner,
    )
}

/// Writes `value` (discriminator and data) into the account `create::pda` just made.
pub fn write<T: AccountSerialize>(target: &AccountInfo, value: &T) -> Result<()> {
    let mut data = target.try_borrow_mut_data()?;
    let mut writer: &mut [u8] = &mut data;
    value.try_serialize(&mut writer)
}

/// Creates the token account `target` (the PDA signed for by `seeds`) for `mint` under
/// `token_program`, with `authority` as its owner, the way Anchor's `init` with
/// `token::*` does (the size a Token-2022 mint's extensions require, then
/// `InitializeAccount3`), but prefund-safe through [`pda_owned`].
pub fn token_account<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    system: &AccountInfo<'info>,
    token_program: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    seeds: &[&[u8]],
) -> Result<()> {
    let space = if *mint.owner == anchor_spl::token_2022::ID {
        use anchor_spl::token_2022::spl_token_2022::extension::{
            BaseStateWithExtensions, ExtensionType, StateWithExtensions,
        };
        use anchor_spl::token_2022::spl_token_2022::state::{Account, Mint};
        let data = mint.try_borrow_data()?;
        let state = StateWithExtensions::<Mint>::unpack(&data)?;
        let required =
            ExtensionType::get_required_init_account_extensions(&state.get_extension_types()?);
        ExtensionType::try_calculate_account_len::<Account>(&required)?
    } else {
        anchor_spl::token::TokenAccount::LEN
    };
    pda_owned(payer, target, system, space, seeds, token_program.key)?;
    anchor_spl::token_interface::initialize_account3(CpiContext::new(
        token_program.key(),
        anchor_spl::token_interface::InitializeAccount3 {
            account: target.clone(),
            mint: mint.clone(),
            authority: authority.clone(),
        },
    ))
}
