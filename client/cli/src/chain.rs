//! Talking to a cluster: load the signer, send and confirm, fetch and decode accounts.

use std::path::Path;

use anchor_lang::prelude::Pubkey;
use anchor_lang::AccountDeserialize;
use anyhow::{anyhow, Context};
use solana_commitment_config::CommitmentConfig;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_signer::Signer;
use solana_transaction::Transaction;

pub struct Chain {
    pub rpc: RpcClient,
}

impl Chain {
    pub fn new(url: &str, commitment: CommitmentConfig) -> Self {
        Self {
            rpc: RpcClient::new_with_commitment(url.to_string(), commitment),
        }
    }

    /// Signs with `payer` (fee payer) and `signers`, sends, and waits for confirmation.
    pub fn send(
        &self,
        ixs: &[Instruction],
        payer: &Keypair,
        signers: &[&Keypair],
    ) -> anyhow::Result<String> {
        let blockhash = self
            .rpc
            .get_latest_blockhash()
            .with_context(|| format!("cannot reach the cluster at {}", self.rpc.url()))?;
        let mut all: Vec<&Keypair> = vec![payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|s| s.pubkey() != payer.pubkey()),
        );
        let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &all, blockhash);
        let signature = self
            .rpc
            .send_and_confirm_transaction(&tx)
            .map_err(|err| anyhow!("transaction failed: {}", describe_client_error(&err)))?;
        Ok(signature.to_string())
    }

    /// Fetches and decodes an Anchor account; `None` when it does not exist.
    pub fn fetch<T: AccountDeserialize>(&self, key: &Pubkey) -> anyhow::Result<Option<T>> {
        let response = self
            .rpc
            .get_account_with_commitment(key, self.rpc.commitment())
            .with_context(|| format!("cannot read account {key}"))?;
        match response.value {
            None => Ok(None),
            Some(account) => T::try_deserialize(&mut account.data.as_slice())
                .map(Some)
                .map_err(|err| anyhow!("account {key} is not the expected type: {err}")),
        }
    }
}

/// Decodes program errors (`custom program error: 0x1771`) into their names and messages.
fn describe_client_error(err: &impl std::fmt::Display) -> String {
    let text = err.to_string();
    if let Some(hex) = text.split("custom program error: 0x").nth(1) {
        let digits: String = hex.chars().take_while(char::is_ascii_hexdigit).collect();
        if let Ok(code) = u32::from_str_radix(&digits, 16) {
            return format!("{} ({text})", rekam_client::errors::describe_custom(code));
        }
    }
    text
}

/// Reads a keypair file, with an error that says what to do.
pub fn read_keypair(path: &Path) -> anyhow::Result<Keypair> {
    solana_keypair::read_keypair_file(path).map_err(|err| {
        anyhow!(
            "cannot read keypair file {}: {err}. Create one with `solana-keygen new -o {}` or pass --keypair",
            path.display(),
            path.display()
        )
    })
}
