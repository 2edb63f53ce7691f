//! Reading an address's history: every signature (paged past the RPC's 1,000 a call),
//! and one successful transaction's signers and instructions, so a client can decide
//! whom a memo really comes from (docs/format.md, authenticated locators).

use anchor_lang::prelude::Pubkey;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;

use super::{ChainClient, ChainError};

/// One signature in an address's history.
#[derive(Clone, Debug)]
pub struct Listed {
    pub signature: String,
    /// Whether the transaction succeeded.
    pub ok: bool,
    /// The memo text the node reports for the transaction, if any.
    pub memo: Option<String>,
    pub block_time: Option<i64>,
}

/// One instruction of a transaction: its program, accounts and data.
#[derive(Clone, Debug)]
pub struct IxView {
    pub program: Pubkey,
    pub accounts: Vec<Pubkey>,
    pub data: Vec<u8>,
}

/// A successful transaction: who signed it and what it ran (top level).
#[derive(Clone, Debug)]
pub struct TxView {
    pub signers: Vec<Pubkey>,
    pub instructions: Vec<IxView>,
}

/// RPC page size for signature lists (the node's maximum).
const PAGE: usize = 1_000;

impl ChainClient {
    /// Every signature for `address`, newest first, all pages.
    pub fn history(&self, address: &Pubkey) -> Result<Vec<Listed>, ChainError> {
        let mut out = Vec::new();
        let mut before = None;
        loop {
            let config = GetConfirmedSignaturesForAddress2Config {
                before,
                until: None,
                limit: Some(PAGE),
                commitment: Some(self.rpc.commitment()),
            };
            let page = self
                .rpc
                .get_signatures_for_address_with_config(address, config)
                .map_err(|e| self.fail(e))?;
            let full = page.len() == PAGE;
            let last = page.last().map(|s| s.signature.clone());
            out.extend(page.into_iter().map(|s| Listed {
                ok: s.err.is_none(),
                signature: s.signature,
                memo: s.memo,
                block_time: s.block_time,
            }));
            match (full, last) {
                (true, Some(sig)) => {
                    before = Some(sig.parse().map_err(|_| {
                        ChainError::Rpc(format!("the node returned a bad signature {sig}"))
                    })?)
                }
                _ => return Ok(out),
            }
        }
    }

    /// The signers and top-level instructions of `signature`, if it succeeded.
    pub fn transaction(&self, signature: &str) -> Result<Option<TxView>, ChainError> {
        use solana_transaction_status_client_types::option_serializer::OptionSerializer;
        use solana_transaction_status_client_types::{
            EncodedTransaction, UiMessage, UiTransactionEncoding,
        };
        let parsed: solana_signature::Signature = signature
            .parse()
            .map_err(|_| ChainError::Rpc(format!("bad signature {signature}")))?;
        let config = solana_rpc_client_types::config::RpcTransactionConfig {
            encoding: Some(UiTransactionEncoding::Json),
            commitment: Some(self.rpc.commitment()),
            max_supported_transaction_version: Some(0),
        };
        let tx = self
            .rpc
            .get_transaction_with_config(&parsed, config)
            .map_err(|e| self.fail(e))?;
        let Some(meta) = tx.transaction.meta else {
            return Ok(None);
        };
        if meta.err.is_some() {
            return Ok(None);
        }
        let EncodedTransaction::Json(ui) = tx.transaction.transaction else {
            return Err(ChainError::Rpc("transaction not returned as JSON".into()));
        };
        let UiMessage::Raw(message) = ui.message else {
            return Err(ChainError::Rpc(
                "transaction message not returned raw".into(),
            ));
        };
        let mut keys = message.account_keys.clone();
        if let OptionSerializer::Some(loaded) = meta.loaded_addresses {
            keys.extend(loaded.writable);
            keys.extend(loaded.readonly);
        }
        let keys: Vec<Pubkey> = keys
            .iter()
            .map(|k| {
                k.parse()
                    .map_err(|_| ChainError::Rpc(format!("bad key {k}")))
            })
            .collect::<Result<_, _>>()?;
        let signed = usize::from(message.header.num_required_signatures);
        let key = |i: u8| keys.get(usize::from(i)).copied().unwrap_or_default();
        let instructions = message
            .instructions
            .iter()
            .map(|ix| IxView {
                program: key(ix.program_id_index),
                accounts: ix.accounts.iter().map(|&i| key(i)).collect(),
                data: bs58::decode(&ix.data).into_vec().unwrap_or_default(),
            })
            .collect();
        Ok(Some(TxView {
            signers: keys.iter().take(signed).copied().collect(),
            instructions,
        }))
    }
}
