//! `config_initialize` and `treasury_withdraw`: the first CPIs through the native host.

use anchor_lang::prelude::Pubkey;
use anchor_spl::token_interface::spl_token_2022::error::TokenError;
use rekam::events::{ConfigInitialized, TreasuryWithdrawn};
use rekam::{Config, ConfigInitializeArgs, RekamError};
use rekam_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Deployed {
    fx: Fixture,
    authority: Keypair,
    mint: Pubkey,
    token_program: Pubkey,
}

fn deploy(token_program: Pubkey, fee_bps: u16) -> Deployed {
    let mut fx = Fixture::new();
    let authority = fx.funded(SOL);
    let mint = fx.create_mint(&token_program, 6);
    let ix = ix::config_initialize(
        &fx.program_id,
        &fx.payer.pubkey(),
        &mint,
        &token_program,
        ConfigInitializeArgs {
            authority: authority.pubkey(),
            protocol_fee_bps: fee_bps,
            accept_freeze_authority: false,
        },
    );
    let outcome = fx.send(&[ix], &[]).expect("config_initialize");
    let events = outcome.events::<ConfigInitialized>(&fx.program_id);
    assert_eq!(events.len(), 1, "one ConfigInitialized event");
    assert_eq!(events[0].authority, authority.pubkey());
    assert_eq!(events[0].treasury, pda::treasury(&fx.program_id, &mint));
    Deployed {
        fx,
        authority,
        mint,
        token_program,
    }
}

fn assert_initialized(d: &Deployed, fee_bps: u16) {
    let fx = &d.fx;
    let config_key = pda::config(&fx.program_id);
    let treasury_key = pda::treasury(&fx.program_id, &d.mint);

    // The config PDA exists, is owned by the program, and holds what was asked.
    let config_account = fx.account(&config_key).expect("config exists");
    assert_eq!(config_account.owner, fx.program_id);
    assert_eq!(config_account.data.len(), Config::SIZE);
    assert_eq!(
        config_account.lamports,
        fx.svm.minimum_balance_for_rent_exemption(Config::SIZE),
        "config is exactly rent-exempt"
    );
    let config: Config = fx.fetch(&config_key);
    let (_, config_bump) = Config::find_address(&fx.program_id);
    let (_, treasury_bump) = Config::find_treasury_address(&fx.program_id, &d.mint);
    assert_eq!(
        config,
        Config {
            version: rekam::constants::ACCOUNT_VERSION,
            bump: config_bump,
            authority: d.authority.pubkey(),
            pending_authority: Pubkey::default(),
            treasury_mint: d.mint,
            treasury: treasury_key,
            treasury_bump,
            protocol_fee_bps: fee_bps,
        }
    );
    assert!(config.invariant());

    // The treasury was created by CPIs (System, then the token program): it exists,
    // the token program owns it, its token authority is the config PDA, it is empty.
    let treasury_account = fx.account(&treasury_key).expect("treasury exists");
    assert_eq!(
        treasury_account.owner, d.token_program,
        "treasury owned by the token program"
    );
    let treasury = fx.token_account(&treasury_key);
    assert_eq!(treasury.mint, d.mint);
    assert_eq!(
        treasury.owner, config_key,
        "config PDA is the token authority"
    );
    assert_eq!(treasury.amount, 0);
}

#[test]
fn initialize_with_spl_token_creates_config_and_treasury() {
    let d = deploy(TOKEN, 250);
    assert_initialized(&d, 250);
}

#[test]
fn initialize_with_token_2022_creates_config_and_treasury() {
    let d = deploy(TOKEN_2022, 0);
    assert_initialized(&d, 0);
}

#[test]
fn initialize_twice_fails_and_keeps_the_first_config() {
    let mut d = deploy(TOKEN, 100);
    let other = Keypair::new();
    let ix = ix::config_initialize(
        &d.fx.program_id,
        &d.fx.payer.pubkey(),
        &d.mint,
        &d.token_program,
        ConfigInitializeArgs {
            authority: other.pubkey(),
            protocol_fee_bps: 5,
            accept_freeze_authority: false,
        },
    );
    // Anchor's `init` asks the System program to create an account that exists:
    // SystemError::AccountAlreadyInUse is custom error 0 of the System program.
    let (index, err) = instruction_error(d.fx.send(&[ix], &[]));
    assert_eq!(index, 0);
    assert_eq!(err, solana_instruction::error::InstructionError::Custom(0));
    assert_initialized(&d, 100);
}

#[test]
fn initialize_rejects_a_fee_above_the_cap() {
    let mut fx = Fixture::new();
    let mint = fx.create_mint(&TOKEN, 6);
    let ix = ix::config_initialize(
        &fx.program_id,
        &fx.payer.pubkey(),
        &mint,
        &TOKEN,
        ConfigInitializeArgs {
            authority: fx.payer.pubkey(),
            protocol_fee_bps: rekam::constants::MAX_PROTOCOL_FEE_BPS + 1,
            accept_freeze_authority: false,
        },
    );
    assert_rekam_error(fx.send(&[ix], &[]), RekamError::FeeTooHigh);
    assert!(
        fx.account(&pda::config(&fx.program_id)).is_none(),
        "nothing was created"
    );
    assert!(fx.account(&pda::treasury(&fx.program_id, &mint)).is_none());
}

#[test]
fn initialize_rejects_a_token_program_that_does_not_own_the_mint() {
    let mut fx = Fixture::new();
    let mint = fx.create_mint(&TOKEN, 6);
    let ix = ix::config_initialize(
        &fx.program_id,
        &fx.payer.pubkey(),
        &mint,
        &TOKEN_2022,
        ConfigInitializeArgs {
            authority: fx.payer.pubkey(),
            protocol_fee_bps: 0,
            accept_freeze_authority: false,
        },
    );
    // The mint's `token_program` constraint refuses it before anything is created (the
    // treasury is created in the handler, audit finding 9). Nothing remains.
    let (_, err) = instruction_error(fx.send(&[ix], &[]));
    assert_eq!(
        err,
        solana_instruction::error::InstructionError::Custom(
            anchor_lang::error::ErrorCode::ConstraintMintTokenProgram as u32
        )
    );
    assert!(fx.account(&pda::config(&fx.program_id)).is_none());
    assert!(fx.account(&pda::treasury(&fx.program_id, &mint)).is_none());
}

fn fund_treasury(d: &mut Deployed, amount: u64) -> (Pubkey, Pubkey) {
    let treasury = pda::treasury(&d.fx.program_id, &d.mint);
    let (mint, tp) = (d.mint, d.token_program);
    d.fx.mint_to(&mint, &treasury, amount, &tp);
    let owner = d.fx.funded(SOL).pubkey();
    let destination = d.fx.create_token_account(&mint, &owner, &tp);
    (treasury, destination)
}

fn withdraw(d: &mut Deployed, signer: &Keypair, destination: &Pubkey, amount: u64) -> TxResult {
    let ix = ix::treasury_withdraw(
        &d.fx.program_id,
        &signer.pubkey(),
        &d.mint,
        destination,
        &d.token_program,
        amount,
    );
    d.fx.send(&[ix], &[signer])
}

#[test]
fn withdraw_moves_tokens_through_a_signed_cpi() {
    for token_program in [TOKEN, TOKEN_2022] {
        let mut d = deploy(token_program, 100);
        let (treasury, destination) = fund_treasury(&mut d, 1_000);
        let authority = d.authority.insecure_clone();
        let outcome = withdraw(&mut d, &authority, &destination, 400).expect("withdraw");
        assert_eq!(d.fx.token_balance(&treasury), 600, "treasury debited");
        assert_eq!(
            d.fx.token_balance(&destination),
            400,
            "destination credited"
        );
        assert_eq!(
            d.fx.mint(&d.mint).supply,
            1_000,
            "no tokens created or burnt"
        );
        let events = outcome.events::<TreasuryWithdrawn>(&d.fx.program_id);
        assert_eq!(events.len(), 1);
        assert_eq!(
            (events[0].destination, events[0].amount),
            (destination, 400)
        );
    }
}

#[test]
fn withdraw_overdraft_surfaces_the_token_program_error_and_moves_nothing() {
    for token_program in [TOKEN, TOKEN_2022] {
        let mut d = deploy(token_program, 100);
        let (treasury, destination) = fund_treasury(&mut d, 1_000);
        let authority = d.authority.insecure_clone();
        let result = withdraw(&mut d, &authority, &destination, 1_001);
        // The token program's InsufficientFunds travels unchanged through the native CPI.
        assert_custom(result, TokenError::InsufficientFunds as u32);
        assert_eq!(d.fx.token_balance(&treasury), 1_000);
        assert_eq!(d.fx.token_balance(&destination), 0);
    }
}

#[test]
fn withdraw_by_anyone_but_the_authority_fails() {
    let mut d = deploy(TOKEN, 100);
    let (treasury, destination) = fund_treasury(&mut d, 1_000);
    let intruder = d.fx.funded(SOL);
    assert_rekam_error(
        withdraw(&mut d, &intruder, &destination, 10),
        RekamError::NotGovernanceAuthority,
    );
    assert_eq!(d.fx.token_balance(&treasury), 1_000);
}

#[test]
fn withdraw_without_the_authority_signature_fails() {
    let mut d = deploy(TOKEN, 100);
    let (treasury, destination) = fund_treasury(&mut d, 1_000);
    let mut ix = ix::treasury_withdraw(
        &d.fx.program_id,
        &d.authority.pubkey(),
        &d.mint,
        &destination,
        &TOKEN,
        10,
    );
    ix.accounts[0].is_signer = false;
    assert_anchor_error(
        d.fx.send(&[ix], &[]),
        anchor_lang::error::ErrorCode::AccountNotSigner,
    );
    assert_eq!(d.fx.token_balance(&treasury), 1_000);
}

#[test]
fn withdraw_of_zero_is_rejected() {
    let mut d = deploy(TOKEN, 100);
    let (_, destination) = fund_treasury(&mut d, 1_000);
    let authority = d.authority.insecure_clone();
    assert_rekam_error(
        withdraw(&mut d, &authority, &destination, 0),
        RekamError::ZeroAmount,
    );
}

/// Sends `config_initialize` with `payer` as the fee payer and initializer.
fn initialize_as(fx: &mut Fixture, payer: &Keypair, mint: &Pubkey) -> TxResult {
    let ix = ix::config_initialize(
        &fx.program_id,
        &payer.pubkey(),
        mint,
        &TOKEN,
        ConfigInitializeArgs {
            authority: payer.pubkey(),
            protocol_fee_bps: 0,
            accept_freeze_authority: false,
        },
    );
    fx.send(&[ix], &[payer])
}

#[test]
fn initialize_by_a_stranger_fails_and_the_deployer_still_can() {
    // Audit finding 1: on a fresh deployment, a front-runner's initialize is refused,
    // nothing is created, and the upgrade authority initializes afterwards.
    let mut fx = Fixture::new();
    let mint = fx.create_mint(&TOKEN, 6);
    let stranger = fx.funded(SOL);
    assert_rekam_error(
        initialize_as(&mut fx, &stranger, &mint),
        RekamError::NotUpgradeAuthority,
    );
    assert!(fx.account(&pda::config(&fx.program_id)).is_none());
    assert!(fx.account(&pda::treasury(&fx.program_id, &mint)).is_none());
    let deployer = fx.payer.insecure_clone();
    initialize_as(&mut fx, &deployer, &mint).expect("the deployer initializes");
    let config: Config = fx.fetch(&pda::config(&fx.program_id));
    assert_eq!(config.authority, deployer.pubkey());
}

#[test]
fn initialize_of_an_immutable_program_is_refused() {
    // A program deployed without an upgrade authority can no longer be initialized:
    // the deployer must initialize before making it immutable.
    let mut fx = Fixture::new();
    rekam_svm::set_upgrade_authority(&mut fx.svm, &rekam::ID, None);
    let mint = fx.create_mint(&TOKEN, 6);
    let deployer = fx.payer.insecure_clone();
    assert_rekam_error(
        initialize_as(&mut fx, &deployer, &mint),
        RekamError::NotUpgradeAuthority,
    );
}

#[test]
fn initialize_without_the_program_data_account_fails() {
    // A host that never modelled the deployment has no ProgramData: nobody initializes.
    let mut fx = Fixture::new();
    let address = pda::program_data(&fx.program_id);
    fx.svm
        .set_account(address, solana_account::Account::default())
        .expect("clear ProgramData");
    let mint = fx.create_mint(&TOKEN, 6);
    let deployer = fx.payer.insecure_clone();
    assert_anchor_error(
        initialize_as(&mut fx, &deployer, &mint),
        anchor_lang::error::ErrorCode::AccountNotInitialized,
    );
}

#[test]
fn initialize_with_a_forged_program_data_account_fails() {
    // A look-alike ProgramData naming the front-runner, owned by the loader but at an
    // address other than the program's, is refused by its address.
    let mut fx = Fixture::new();
    let mint = fx.create_mint(&TOKEN, 6);
    let stranger = fx.funded(SOL);
    let fake = Pubkey::new_unique();
    let lamports = fx
        .svm
        .minimum_balance_for_rent_exemption(rekam_svm::PROGRAM_DATA_HEADER);
    let (_, account) =
        rekam_svm::program_data_account(&fx.program_id, Some(stranger.pubkey()), 0, lamports);
    fx.svm
        .set_account(fake, account)
        .expect("forged ProgramData");
    let mut ix = ix::config_initialize(
        &fx.program_id,
        &stranger.pubkey(),
        &mint,
        &TOKEN,
        ConfigInitializeArgs {
            authority: stranger.pubkey(),
            protocol_fee_bps: 0,
            accept_freeze_authority: false,
        },
    );
    ix.accounts[1].pubkey = fake;
    assert_anchor_error(
        fx.send(&[ix], &[&stranger]),
        anchor_lang::error::ErrorCode::ConstraintSeeds,
    );
}
