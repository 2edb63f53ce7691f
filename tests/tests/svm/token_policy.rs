//! Audit finding 2: the token policy (`rekam::token_policy`). Real Token-2022 mints with
//! each dangerous extension are refused at `config_initialize`, and nothing is created;
//! display-only extensions are accepted; a freeze authority needs governance's explicit
//! acceptance.

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_2022::spl_token_2022;
use rekam::events::ConfigInitialized;
use rekam::{ConfigInitializeArgs, RekamError};
use rekam_tests::*;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use spl_token_2022::extension::ExtensionType;
use spl_token_2022::state::{AccountState, Mint};

/// A Token-2022 mint with `extensions`, initialized by `init` (given the mint address)
/// before `initialize_mint2`; `freeze` sets a freeze authority.
fn mint_with(
    fx: &mut Fixture,
    extensions: &[ExtensionType],
    init: impl Fn(&Pubkey) -> Vec<Instruction>,
    freeze: bool,
) -> Pubkey {
    let mint = Keypair::new();
    let space = ExtensionType::try_calculate_account_len::<Mint>(extensions).unwrap();
    let lamports = fx.svm.minimum_balance_for_rent_exemption(space);
    let mut ixs = vec![
        anchor_lang::solana_program::system_instruction::create_account(
            &fx.payer.pubkey(),
            &mint.pubkey(),
            lamports,
            space as u64,
            &TOKEN_2022,
        ),
    ];
    ixs.extend(init(&mint.pubkey()));
    let authority = fx.payer.pubkey();
    ixs.push(
        spl_token_2022::instruction::initialize_mint2(
            &TOKEN_2022,
            &mint.pubkey(),
            &authority,
            freeze.then_some(&authority),
            6,
        )
        .unwrap(),
    );
    fx.send(&ixs, &[&mint]).expect("create the mint");
    mint.pubkey()
}

fn initialize(fx: &mut Fixture, mint: &Pubkey, program: &Pubkey, accept_freeze: bool) -> TxResult {
    let ix = ix::config_initialize(
        &fx.program_id,
        &fx.payer.pubkey(),
        mint,
        program,
        ConfigInitializeArgs {
            authority: fx.payer.pubkey(),
            protocol_fee_bps: 0,
            accept_freeze_authority: accept_freeze,
        },
    );
    fx.send(&[ix], &[])
}

fn assert_refused(fx: &mut Fixture, mint: &Pubkey, accept_freeze: bool, expected: RekamError) {
    assert_rekam_error(initialize(fx, mint, &TOKEN_2022, accept_freeze), expected);
    assert!(fx.account(&pda::config(&fx.program_id)).is_none());
    assert!(fx.account(&pda::treasury(&fx.program_id, mint)).is_none());
}

#[test]
fn every_dangerous_token_2022_extension_is_refused() {
    let delegate = Pubkey::new_unique();
    type Init = Box<dyn Fn(&Pubkey) -> Vec<Instruction>>;
    let cases: Vec<(&str, ExtensionType, Init, bool)> = vec![
        (
            "transfer fee",
            ExtensionType::TransferFeeConfig,
            Box::new(|m| {
                vec![spl_token_2022::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                    &TOKEN_2022, m, None, None, 100, 1_000_000,
                )
                .unwrap()]
            }),
            false,
        ),
        (
            "transfer hook",
            ExtensionType::TransferHook,
            Box::new(|m| {
                vec![
                    spl_token_2022::extension::transfer_hook::instruction::initialize(
                        &TOKEN_2022,
                        m,
                        None,
                        Some(Pubkey::new_unique()),
                    )
                    .unwrap(),
                ]
            }),
            false,
        ),
        (
            "permanent delegate",
            ExtensionType::PermanentDelegate,
            Box::new(move |m| {
                vec![spl_token_2022::instruction::initialize_permanent_delegate(
                    &TOKEN_2022,
                    m,
                    &delegate,
                )
                .unwrap()]
            }),
            false,
        ),
        (
            "non-transferable",
            ExtensionType::NonTransferable,
            Box::new(|m| {
                vec![
                    spl_token_2022::instruction::initialize_non_transferable_mint(&TOKEN_2022, m)
                        .unwrap(),
                ]
            }),
            false,
        ),
        (
            "mint close authority",
            ExtensionType::MintCloseAuthority,
            Box::new(move |m| {
                vec![
                    spl_token_2022::instruction::initialize_mint_close_authority(
                        &TOKEN_2022,
                        m,
                        Some(&delegate),
                    )
                    .unwrap(),
                ]
            }),
            false,
        ),
        (
            "pausable",
            ExtensionType::Pausable,
            Box::new(move |m| {
                vec![
                    spl_token_2022::extension::pausable::instruction::initialize(
                        &TOKEN_2022,
                        m,
                        &delegate,
                    )
                    .unwrap(),
                ]
            }),
            false,
        ),
        (
            // Needs a freeze authority; governance accepts it, so the extension is what
            // is refused.
            "default account state (frozen)",
            ExtensionType::DefaultAccountState,
            Box::new(|m| {
                vec![spl_token_2022::extension::default_account_state::instruction::initialize_default_account_state(
                    &TOKEN_2022,
                    m,
                    &AccountState::Frozen,
                )
                .unwrap()]
            }),
            true,
        ),
    ];
    for (name, extension, init, freeze) in cases {
        let mut fx = Fixture::new();
        let mint = mint_with(&mut fx, &[extension], init, freeze);
        let account = fx.account(&mint).expect("mint");
        assert!(
            account.data.len() > 82,
            "{name}: the mint carries its extension"
        );
        assert_refused(&mut fx, &mint, freeze, RekamError::MintExtensionNotAllowed);
    }
}

#[test]
fn display_only_extensions_are_accepted() {
    let mut fx = Fixture::new();
    let mint = mint_with(
        &mut fx,
        &[
            ExtensionType::MetadataPointer,
            ExtensionType::InterestBearingConfig,
        ],
        |m| {
            vec![
                spl_token_2022::extension::metadata_pointer::instruction::initialize(
                    &TOKEN_2022,
                    m,
                    None,
                    Some(*m),
                )
                .unwrap(),
                spl_token_2022::extension::interest_bearing_mint::instruction::initialize(
                    &TOKEN_2022,
                    m,
                    None,
                    500,
                )
                .unwrap(),
            ]
        },
        false,
    );
    let outcome = initialize(&mut fx, &mint, &TOKEN_2022, false).expect("accepted");
    let events = outcome.events::<ConfigInitialized>(&fx.program_id);
    assert_eq!(events[0].treasury_mint, mint);
    assert!(!events[0].freeze_authority_accepted);
    let treasury = fx.token_account(&pda::treasury(&fx.program_id, &mint));
    assert_eq!((treasury.mint, treasury.amount), (mint, 0));
}

#[test]
fn a_freeze_authority_needs_governance_acceptance() {
    for program in [TOKEN, TOKEN_2022] {
        let mut fx = Fixture::new();
        let mint = Keypair::new();
        let lamports = fx.svm.minimum_balance_for_rent_exemption(82);
        let authority = fx.payer.pubkey();
        let ixs = [
            anchor_lang::solana_program::system_instruction::create_account(
                &authority,
                &mint.pubkey(),
                lamports,
                82,
                &program,
            ),
            spl_token_2022::instruction::initialize_mint2(
                &program,
                &mint.pubkey(),
                &authority,
                Some(&authority),
                6,
            )
            .unwrap(),
        ];
        fx.send(&ixs, &[&mint])
            .expect("mint with a freeze authority");
        let mint = mint.pubkey();
        assert_rekam_error(
            initialize(&mut fx, &mint, &program, false),
            RekamError::MintHasFreezeAuthority,
        );
        assert!(fx.account(&pda::config(&fx.program_id)).is_none());
        let outcome = initialize(&mut fx, &mint, &program, true).expect("accepted explicitly");
        let events = outcome.events::<ConfigInitialized>(&fx.program_id);
        assert!(
            events[0].freeze_authority_accepted,
            "the choice is on record"
        );
    }
}
