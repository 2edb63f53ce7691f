//! Setting a cluster up for work: faucet airdrops, a test mint, balances, and the
//! deployment's initialization by the program's upgrade authority.

use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::program_pack::Pack;
use anchor_lang::AccountDeserialize;
use anchor_spl::token_2022::spl_token_2022::extension::StateWithExtensions;
use anchor_spl::token_2022::spl_token_2022::instruction as token_ix;
use anchor_spl::token_2022::spl_token_2022::state::Account as TokenAccountState;
use anchor_spl::token_2022::spl_token_2022::state::Mint as MintState;
use rekam::{Config, ConfigInitializeArgs};
use serde::Serialize;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::FlowError;
use crate::chain::{decode_error, ChainClient};
use crate::{ix, pda};

/// Lamports per SOL.
pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;

/// How long a faucet airdrop may take to confirm (devnet's faucet is slow).
const AIRDROP_TIMEOUT: Duration = Duration::from_secs(60);

/// Asks the cluster's faucet for `lamports` to `to` and waits until it is confirmed.
/// Returns the airdrop's signature.
pub fn airdrop(chain: &ChainClient, to: &Pubkey, lamports: u64) -> Result<String, FlowError> {
    let url = chain.url();
    let signature = chain
        .rpc
        .request_airdrop(to, lamports)
        .map_err(|err| match decode_error(&url, &err) {
            unreachable @ crate::chain::ChainError::Unreachable { .. } => unreachable.into(),
            other => FlowError::Refused(format!(
                "the faucet at {url} refused the airdrop ({other}); localnet and devnet have one, mainnet has none"
            )),
        })?;
    let deadline = Instant::now() + AIRDROP_TIMEOUT;
    loop {
        let status = chain
            .rpc
            .get_signature_status(&signature)
            .map_err(|err| decode_error(&url, &err))?;
        match status {
            Some(Ok(())) => return Ok(signature.to_string()),
            Some(Err(err)) => {
                return Err(FlowError::Refused(format!(
                    "the airdrop {signature} failed: {err}"
                )))
            }
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            None => {
                return Err(FlowError::Refused(format!(
                    "the airdrop {signature} did not confirm within {} s",
                    AIRDROP_TIMEOUT.as_secs()
                )))
            }
        }
    }
}

/// Creates an SPL Token mint with `authority` as its mint authority and no freeze
/// authority (a deployment's token must not be freezable, docs/program.md).
pub fn create_mint(
    chain: &ChainClient,
    authority: &dyn Signer,
    decimals: u8,
) -> Result<Pubkey, FlowError> {
    let mint = Keypair::new();
    let token = anchor_spl::token::ID;
    let space = MintState::LEN;
    let lamports = chain
        .rpc
        .get_minimum_balance_for_rent_exemption(space)
        .map_err(|err| decode_error(&chain.url(), &err))?;
    let create = anchor_lang::solana_program::system_instruction::create_account(
        &authority.pubkey(),
        &mint.pubkey(),
        lamports,
        space as u64,
        &token,
    );
    let init =
        token_ix::initialize_mint2(&token, &mint.pubkey(), &authority.pubkey(), None, decimals)
            .map_err(|err| FlowError::Refused(format!("cannot build the mint: {err}")))?;
    chain.send(&[create, init], authority, &[&mint])?;
    Ok(mint.pubkey())
}

/// Mints `amount` (base units) of `mint` to `owner`'s associated token account, creating
/// it when missing. `authority` is the mint authority and pays.
pub fn mint_to_owner(
    chain: &ChainClient,
    authority: &dyn Signer,
    mint: &Pubkey,
    owner: &Pubkey,
    amount: u64,
) -> Result<Pubkey, FlowError> {
    let token = anchor_spl::token::ID;
    let ata = pda::associated_token(owner, mint, &token);
    let create = anchor_spl::associated_token::spl_associated_token_account::instruction::create_associated_token_account_idempotent(
        &authority.pubkey(),
        owner,
        mint,
        &token,
    );
    let mint_ix = token_ix::mint_to(&token, mint, &ata, &authority.pubkey(), &[], amount)
        .map_err(|err| FlowError::Refused(format!("cannot build the mint-to: {err}")))?;
    chain.send(&[create, mint_ix], authority, &[])?;
    Ok(ata)
}

/// A deployment that was just initialized, read back from the chain.
#[derive(Debug, Clone, Serialize)]
pub struct Initialized {
    pub signature: String,
    pub program_id: String,
    pub config: String,
    pub authority: String,
    pub treasury: String,
    pub treasury_mint: String,
    pub token_program: String,
    pub protocol_fee_bps: u16,
}

/// The upgrade authority the program's `ProgramData` names (`None`: immutable, or no
/// `ProgramData` at all).
pub fn upgrade_authority(chain: &ChainClient) -> Result<Option<Pubkey>, FlowError> {
    let address = pda::program_data(&chain.program_id);
    let account = chain
        .rpc
        .get_account_with_commitment(&address, chain.rpc.commitment())
        .map_err(|err| decode_error(&chain.url(), &err))?
        .value;
    let Some(account) = account else {
        return Ok(None);
    };
    let data = anchor_lang::prelude::ProgramData::try_deserialize(&mut account.data.as_slice())
        .map_err(|_| crate::chain::ChainError::Decode(address, "ProgramData"))?;
    Ok(data.upgrade_authority_address)
}

/// Sends `config_initialize` signed by `payer`, who must be the program's upgrade
/// authority, and reads the deployment back.
pub fn initialize(
    chain: &ChainClient,
    payer: &dyn Signer,
    treasury_mint: &Pubkey,
    authority: Pubkey,
    fee_bps: u16,
    accept_freeze_authority: bool,
) -> Result<Initialized, FlowError> {
    let url = chain.url();
    let program_id = chain.program_id;
    let mint_account = chain
        .rpc
        .get_account_with_commitment(treasury_mint, chain.rpc.commitment())
        .map_err(|err| decode_error(&url, &err))?
        .value
        .ok_or_else(|| FlowError::Missing {
            what: "treasury mint",
            key: *treasury_mint,
            url: url.clone(),
        })?;
    let token_program = mint_account.owner;
    if token_program != anchor_spl::token::ID && token_program != anchor_spl::token_2022::ID {
        return Err(FlowError::Refused(format!(
            "{treasury_mint} is not a token mint (owner {token_program})"
        )));
    }
    let config_key = pda::config(&program_id);
    if chain.fetch::<Config>(&config_key)?.is_some() {
        return Err(FlowError::Refused(format!(
            "deployment {program_id} is already initialized (config {config_key})"
        )));
    }
    match upgrade_authority(chain)? {
        Some(deployer) if deployer == payer.pubkey() => {}
        Some(deployer) => {
            return Err(FlowError::Refused(format!(
                "only the program's upgrade authority {deployer} can initialize deployment {program_id}; {} is not it",
                payer.pubkey()
            )))
        }
        None => {
            return Err(FlowError::Refused(format!(
                "program {program_id} has no upgrade authority on {url}, so its deployment cannot be initialized"
            )))
        }
    }
    let instruction = ix::config_initialize(
        &program_id,
        &payer.pubkey(),
        treasury_mint,
        &token_program,
        ConfigInitializeArgs {
            authority,
            protocol_fee_bps: fee_bps,
            accept_freeze_authority,
        },
    );
    let signature = chain.send(&[instruction], payer, &[])?;
    let config = chain
        .fetch::<Config>(&config_key)?
        .ok_or_else(|| FlowError::Refused("config missing after a confirmed initialize".into()))?;
    Ok(Initialized {
        signature,
        program_id: program_id.to_string(),
        config: config_key.to_string(),
        authority: config.authority.to_string(),
        treasury: config.treasury.to_string(),
        treasury_mint: config.treasury_mint.to_string(),
        token_program: token_program.to_string(),
        protocol_fee_bps: config.protocol_fee_bps,
    })
}

/// What [`prepare`] made ready on a fresh local cluster, or found there already.
#[derive(Debug, Clone, Serialize)]
pub struct Ready {
    pub wallet: String,
    pub lamports: u64,
    /// The deployment's token: a test mint this wallet can mint more of.
    pub mint: String,
    pub token_account: String,
    pub config: String,
    /// `false` when the deployment was already initialized (a restart on a ledger).
    pub initialized_now: bool,
}

/// SOL a prepared wallet holds at least (topped up from the faucet below that).
pub const PREPARED_SOL: u64 = 100;
/// Test tokens minted to the wallet with a new mint (6 decimals: one million tokens).
pub const PREPARED_TOKENS: u64 = 1_000_000 * 1_000_000;

/// Makes a local cluster ready for work with `wallet` as the deployer and governance:
/// funds it, creates a test mint (6 decimals, no freeze authority) and mints it test
/// tokens, and initializes the deployment with no protocol fee. On a cluster that is
/// already initialized it only tops the wallet up and reports what is there.
pub fn prepare(chain: &ChainClient, wallet: &dyn Signer) -> Result<Ready, FlowError> {
    let url = chain.url();
    let me = wallet.pubkey();
    let floor = PREPARED_SOL * LAMPORTS_PER_SOL / 10;
    let held = chain
        .rpc
        .get_balance(&me)
        .map_err(|err| decode_error(&url, &err))?;
    if held < floor {
        airdrop(chain, &me, PREPARED_SOL * LAMPORTS_PER_SOL - held)?;
    }
    let config_key = pda::config(&chain.program_id);
    let (mint, initialized_now) = match chain.fetch::<Config>(&config_key)? {
        Some(config) => (config.treasury_mint, false),
        None => {
            let mint = create_mint(chain, wallet, 6)?;
            mint_to_owner(chain, wallet, &mint, &me, PREPARED_TOKENS)?;
            initialize(chain, wallet, &mint, me, 0, false)?;
            (mint, true)
        }
    };
    let lamports = chain
        .rpc
        .get_balance(&me)
        .map_err(|err| decode_error(&url, &err))?;
    Ok(Ready {
        wallet: me.to_string(),
        lamports,
        mint: mint.to_string(),
        token_account: pda::associated_token(&me, &mint, &anchor_spl::token::ID).to_string(),
        config: config_key.to_string(),
        initialized_now,
    })
}

/// A wallet's SOL and its balance of the deployment's token.
#[derive(Debug, Clone, Serialize)]
pub struct Balance {
    pub address: String,
    pub lamports: u64,
    pub sol: f64,
    /// `None` when the deployment is not initialized on this cluster.
    pub token: Option<TokenBalance>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TokenBalance {
    pub mint: String,
    /// The owner's associated token account for the mint.
    pub account: String,
    /// Base units; 0 when the account does not exist.
    pub amount: u64,
    pub decimals: u8,
    /// `amount` in whole tokens, as text (no float rounding).
    pub ui_amount: String,
}

/// Reads `owner`'s SOL and deployment-token balances.
pub fn balance(chain: &ChainClient, owner: &Pubkey) -> Result<Balance, FlowError> {
    let url = chain.url();
    let lamports = chain
        .rpc
        .get_balance(owner)
        .map_err(|err| decode_error(&url, &err))?;
    let token = match chain.fetch::<Config>(&pda::config(&chain.program_id))? {
        None => None,
        Some(config) => Some(token_balance(chain, owner, &config.treasury_mint)?),
    };
    Ok(Balance {
        address: owner.to_string(),
        lamports,
        sol: lamports as f64 / LAMPORTS_PER_SOL as f64,
        token,
    })
}

fn token_balance(
    chain: &ChainClient,
    owner: &Pubkey,
    mint: &Pubkey,
) -> Result<TokenBalance, FlowError> {
    let url = chain.url();
    let get = |key: &Pubkey| {
        chain
            .rpc
            .get_account_with_commitment(key, chain.rpc.commitment())
            .map(|r| r.value)
            .map_err(|err| decode_error(&url, &err))
    };
    let mint_account = get(mint)?.ok_or_else(|| FlowError::Missing {
        what: "deployment mint",
        key: *mint,
        url: url.clone(),
    })?;
    let decimals = StateWithExtensions::<MintState>::unpack(&mint_account.data)
        .map_err(|_| crate::chain::ChainError::Decode(*mint, "token mint"))?
        .base
        .decimals;
    let ata = pda::associated_token(owner, mint, &mint_account.owner);
    let amount = match get(&ata)? {
        None => 0,
        Some(account) => {
            StateWithExtensions::<TokenAccountState>::unpack(&account.data)
                .map_err(|_| crate::chain::ChainError::Decode(ata, "token account"))?
                .base
                .amount
        }
    };
    Ok(TokenBalance {
        mint: mint.to_string(),
        account: ata.to_string(),
        amount,
        decimals,
        ui_amount: ui_amount(amount, decimals),
    })
}

/// `amount` base units as a decimal string with `decimals` places, trailing zeros cut.
pub fn ui_amount(amount: u64, decimals: u8) -> String {
    let scale = 10u128.pow(u32::from(decimals));
    let whole = u128::from(amount) / scale;
    let frac = u128::from(amount) % scale;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0width$}", width = usize::from(decimals));
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::ui_amount;

    #[test]
    fn ui_amounts_keep_every_digit() {
        assert_eq!(ui_amount(0, 6), "0");
        assert_eq!(ui_amount(1_000_000, 6), "1");
        assert_eq!(ui_amount(1_500_000, 6), "1.5");
        assert_eq!(ui_amount(1, 6), "0.000001");
        assert_eq!(ui_amount(u64::MAX, 0), u64::MAX.to_string());
        assert_eq!(ui_amount(u64::MAX, 9), "18446744073.709551615");
    }
}
