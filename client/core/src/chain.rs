//! The chain client: send and confirm (with compute-budget options), fetch and decode
//! accounts, list accounts of a type, and turn failures into the program's own messages.

use anchor_lang::prelude::Pubkey;
use anchor_lang::{AccountDeserialize, Discriminator};
use solana_commitment_config::CommitmentConfig;
use solana_instruction::error::InstructionError;
use solana_instruction::Instruction;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_types::config::{RpcAccountInfoConfig, RpcProgramAccountsConfig};
use solana_rpc_client_types::filter::{Memcmp, RpcFilterType};
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

use crate::errors::describe_custom;

mod history;

pub use history::{IxView, Listed, TxView};

/// Compute-budget options added in front of every transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeeOptions {
    pub compute_unit_limit: Option<u32>,
    /// Priority fee, micro-lamports per compute unit.
    pub compute_unit_price: Option<u64>,
}

impl FeeOptions {
    pub fn instructions(&self) -> Vec<Instruction> {
        use solana_compute_budget_interface::ComputeBudgetInstruction as Cb;
        let mut ixs = Vec::new();
        if let Some(units) = self.compute_unit_limit {
            ixs.push(Cb::set_compute_unit_limit(units));
        }
        if let Some(price) = self.compute_unit_price {
            ixs.push(Cb::set_compute_unit_price(price));
        }
        ixs
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    #[error("cannot reach the cluster at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// The program refused the transaction; `message` is the program's own text.
    #[error("instruction {index} failed: {message}")]
    Program {
        index: u8,
        code: Option<u32>,
        message: String,
    },
    #[error("transaction failed: {0}")]
    Transaction(String),
    #[error("account {0} is not a {1}")]
    Decode(Pubkey, &'static str),
    #[error("RPC error: {0}")]
    Rpc(String),
    #[error("the wallet did not sign the transaction: {0}")]
    Signing(String),
}

impl ChainError {
    /// The Rekam error code, when the program refused with one of its own errors.
    pub fn program_code(&self) -> Option<u32> {
        match self {
            ChainError::Program { code, .. } => *code,
            _ => None,
        }
    }
}

/// Maps an RPC client error to a [`ChainError`], decoding program errors.
pub fn decode_error(url: &str, err: &ClientError) -> ChainError {
    match err.get_transaction_error() {
        Some(TransactionError::InstructionError(index, InstructionError::Custom(code))) => {
            ChainError::Program {
                index,
                code: Some(code),
                message: describe_custom(code),
            }
        }
        Some(TransactionError::InstructionError(index, other)) => ChainError::Program {
            index,
            code: None,
            message: other.to_string(),
        },
        Some(other) => ChainError::Transaction(other.to_string()),
        None => {
            let text = err.to_string();
            if text.contains("error sending request") || text.contains("Connection refused") {
                ChainError::Unreachable {
                    url: url.to_string(),
                    message: text,
                }
            } else {
                ChainError::Rpc(text)
            }
        }
    }
}

pub struct ChainClient {
    pub rpc: RpcClient,
    pub program_id: Pubkey,
    pub fees: FeeOptions,
}

impl ChainClient {
    pub fn new(
        url: &str,
        commitment: CommitmentConfig,
        program_id: Pubkey,
        fees: FeeOptions,
    ) -> Self {
        Self {
            rpc: RpcClient::new_with_commitment(url.to_string(), commitment),
            program_id,
            fees,
        }
    }

    pub fn url(&self) -> String {
        self.rpc.url()
    }

    fn fail(&self, err: ClientError) -> ChainError {
        decode_error(&self.rpc.url(), &err)
    }

    /// Signs with `payer` (fee payer) and `signers`, sends, waits for confirmation.
    pub fn send(
        &self,
        ixs: &[Instruction],
        payer: &dyn Signer,
        signers: &[&dyn Signer],
    ) -> Result<String, ChainError> {
        let mut all_ixs = self.fees.instructions();
        all_ixs.extend_from_slice(ixs);
        let blockhash = self.rpc.get_latest_blockhash().map_err(|e| self.fail(e))?;
        let mut all: Vec<&dyn Signer> = vec![payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|s| s.pubkey() != payer.pubkey()),
        );
        let mut tx = Transaction::new_with_payer(&all_ixs, Some(&payer.pubkey()));
        // A signer that cannot sign (a hardware wallet unplugged, locked, or refusing on
        // its screen) is an error, never a transaction with an empty signature.
        tx.try_sign(&all, blockhash)
            .map_err(|e| ChainError::Signing(e.to_string()))?;
        let signature = self
            .rpc
            .send_and_confirm_transaction(&tx)
            .map_err(|e| self.fail(e))?;
        Ok(signature.to_string())
    }

    /// The cluster's clock (`Clock::unix_timestamp` of the Clock sysvar): the time the
    /// program decides expiry by, not the local clock.
    pub fn now(&self) -> Result<i64, ChainError> {
        let clock =
            <anchor_lang::prelude::Clock as anchor_lang::solana_program::sysvar::SysvarId>::id();
        let account = self
            .rpc
            .get_account_with_commitment(&clock, self.rpc.commitment())
            .map_err(|e| self.fail(e))?
            .value
            .ok_or(ChainError::Decode(clock, "Clock sysvar"))?;
        // Clock: slot, epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp.
        account
            .data
            .get(32..40)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(i64::from_le_bytes)
            .ok_or(ChainError::Decode(clock, "Clock sysvar"))
    }

    /// Fetches and decodes an Anchor account; `None` when it does not exist.
    pub fn fetch<T: AccountDeserialize>(&self, key: &Pubkey) -> Result<Option<T>, ChainError> {
        let response = self
            .rpc
            .get_account_with_commitment(key, self.rpc.commitment())
            .map_err(|e| self.fail(e))?;
        match response.value {
            None => Ok(None),
            Some(account) if account.owner != self.program_id => {
                Err(ChainError::Decode(*key, std::any::type_name::<T>()))
            }
            Some(account) => T::try_deserialize(&mut account.data.as_slice())
                .map(Some)
                .map_err(|_| ChainError::Decode(*key, std::any::type_name::<T>())),
        }
    }

    /// Every account of type `T`, optionally where the 32 bytes at `offset` equal `key`.
    pub fn list<T: AccountDeserialize + Discriminator>(
        &self,
        field: Option<(usize, Pubkey)>,
    ) -> Result<Vec<(Pubkey, T)>, ChainError> {
        let mut filters = vec![RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
            0,
            T::DISCRIMINATOR.to_vec(),
        ))];
        if let Some((offset, key)) = field {
            filters.push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
                offset,
                key.to_bytes().to_vec(),
            )));
        }
        let config = RpcProgramAccountsConfig {
            filters: Some(filters),
            account_config: RpcAccountInfoConfig {
                encoding: Some(solana_account_decoder_client_types::UiAccountEncoding::Base64),
                commitment: Some(self.rpc.commitment()),
                ..Default::default()
            },
            ..Default::default()
        };
        let accounts = self
            .rpc
            .get_program_ui_accounts_with_config(&self.program_id, config)
            .map_err(|e| self.fail(e))?;
        accounts
            .into_iter()
            .map(|(key, ui)| {
                let data = ui
                    .data
                    .decode()
                    .ok_or(ChainError::Decode(key, std::any::type_name::<T>()))?;
                T::try_deserialize(&mut data.as_slice())
                    .map(|value| (key, value))
                    .map_err(|_| ChainError::Decode(key, std::any::type_name::<T>()))
            })
            .collect()
    }

    /// The events the program emitted in the successful transactions that touched
    /// `address`, oldest first. Only event self-CPIs into this program count: the
    /// program alone can sign them (with its event-authority PDA), so a transaction that
    /// merely lists `address` cannot forge one.
    pub fn events_touching(&self, address: &Pubkey) -> Result<Vec<ProgramEvent>, ChainError> {
        use solana_transaction_status_client_types::option_serializer::OptionSerializer;
        use solana_transaction_status_client_types::{
            EncodedTransaction, UiInstruction, UiMessage, UiTransactionEncoding,
        };

        let signatures = self.history(address)?;
        let program = self.program_id.to_string();
        let mut events = Vec::new();
        for listed in signatures.iter().rev().filter(|s| s.ok) {
            let signature: solana_signature::Signature = listed
                .signature
                .parse()
                .map_err(|_| ChainError::Rpc(format!("bad signature {}", listed.signature)))?;
            let config = solana_rpc_client_types::config::RpcTransactionConfig {
                encoding: Some(UiTransactionEncoding::Json),
                commitment: Some(self.rpc.commitment()),
                max_supported_transaction_version: Some(0),
            };
            let tx = self
                .rpc
                .get_transaction_with_config(&signature, config)
                .map_err(|e| self.fail(e))?;
            let Some(meta) = tx.transaction.meta.filter(|m| m.err.is_none()) else {
                continue;
            };
            let EncodedTransaction::Json(ui) = tx.transaction.transaction else {
                return Err(ChainError::Rpc("transaction not returned as JSON".into()));
            };
            let UiMessage::Raw(message) = ui.message else {
                return Err(ChainError::Rpc(
                    "transaction message not returned raw".into(),
                ));
            };
            let mut keys = message.account_keys;
            if let OptionSerializer::Some(loaded) = meta.loaded_addresses {
                keys.extend(loaded.writable);
                keys.extend(loaded.readonly);
            }
            let OptionSerializer::Some(inner) = meta.inner_instructions else {
                continue;
            };
            for ix in inner.iter().flat_map(|set| &set.instructions) {
                let UiInstruction::Compiled(ix) = ix else {
                    continue;
                };
                if keys.get(usize::from(ix.program_id_index)) != Some(&program) {
                    continue;
                }
                let Ok(data) = bs58::decode(&ix.data).into_vec() else {
                    continue;
                };
                if let Some(event) = data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE) {
                    events.push(ProgramEvent {
                        signature: listed.signature.clone(),
                        block_time: tx.block_time.or(listed.block_time),
                        fee_payer: keys.first().and_then(|k| k.parse().ok()),
                        data: event.to_vec(),
                    });
                }
            }
        }
        Ok(events)
    }
}

/// An event the program emitted: its discriminator and Borsh body, with the transaction
/// it came from.
#[derive(Clone, Debug)]
pub struct ProgramEvent {
    pub signature: String,
    pub block_time: Option<i64>,
    /// The transaction's fee payer (the wallet that signed it first).
    pub fee_payer: Option<Pubkey>,
    pub data: Vec<u8>,
}

impl ProgramEvent {
    /// The event as `E`, if it is one.
    pub fn decode<E: anchor_lang::Event>(&self) -> Option<E> {
        let body = self.data.strip_prefix(E::DISCRIMINATOR)?;
        E::deserialize(&mut &body[..]).ok()
    }
}
