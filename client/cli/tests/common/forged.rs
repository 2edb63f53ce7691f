//! Forged locator memos (the keys-and-privacy issue, section 3): anyone can post a memo
//! that lists an attestation's address. These helpers post, from a stranger, the three
//! kinds a client must skip: a successful memo pointing at real bytes (another record's
//! copy), a malformed one, and one in a failed transaction.

use anchor_lang::prelude::Pubkey;
use rekam_client::record::{locator_memo, MEMO_V1_PROGRAM};
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::RpcSendTransactionConfig;
use solana_signer::Signer;
use solana_transaction::Transaction;

fn memo(attestation: &Pubkey, text: String) -> Instruction {
    Instruction {
        program_id: MEMO_V1_PROGRAM,
        accounts: vec![AccountMeta::new_readonly(*attestation, false)],
        data: text.into_bytes(),
    }
}

/// Posts the three forged memos about `attestation`; `decoy` is a locator of bytes that
/// exist (another record's copy). Returns how many transactions landed (all three: the
/// failed one lands as failed).
pub fn forge_locator_memos(
    rpc: &RpcClient,
    stranger: &Keypair,
    attestation: &Pubkey,
    decoy: &str,
) -> usize {
    let send = |ixs: &[Instruction], skip_preflight: bool| {
        let blockhash = rpc.get_latest_blockhash().expect("blockhash");
        let tx = Transaction::new_signed_with_payer(
            ixs,
            Some(&stranger.pubkey()),
            &[stranger],
            blockhash,
        );
        if !skip_preflight {
            rpc.send_and_confirm_transaction(&tx)
                .expect("send forged memo");
            return;
        }
        // No simulation (it would refuse the overdraft): the node records it as failed.
        let config = RpcSendTransactionConfig {
            skip_preflight,
            preflight_commitment: Some(rpc.commitment().commitment),
            ..RpcSendTransactionConfig::default()
        };
        let signature = rpc
            .send_transaction_with_config(&tx, config)
            .expect("send forged memo");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = rpc.get_signature_status(&signature) {
                assert!(status.is_err(), "the overdraft was meant to fail");
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "forged memo did not land"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    send(
        &[memo(attestation, locator_memo(attestation, decoy, None))],
        false,
    );
    send(
        &[memo(
            attestation,
            format!("rekam-record:{attestation}=not-a-locator"),
        )],
        false,
    );
    // A failed transaction (the stranger cannot pay 10^15 lamports) that still carries
    // a memo naming a real copy.
    let mut data = 2u32.to_le_bytes().to_vec(); // SystemInstruction::Transfer
    data.extend_from_slice(&1_000_000_000_000_000u64.to_le_bytes());
    let overdraft = Instruction {
        program_id: anchor_lang::system_program::ID,
        accounts: vec![
            AccountMeta::new(stranger.pubkey(), true),
            AccountMeta::new(Pubkey::new_unique(), false),
        ],
        data,
    };
    send(
        &[
            memo(attestation, locator_memo(attestation, decoy, None)),
            overdraft,
        ],
        true,
    );
    3
}

/// Posts one memo from `stranger` that lists `address` (a successful transaction), and
/// returns its signature: a forged key share announcement on an emergency request.
pub fn post_memo(rpc: &RpcClient, stranger: &Keypair, address: &Pubkey, text: String) -> String {
    let blockhash = rpc.get_latest_blockhash().expect("blockhash");
    let tx = Transaction::new_signed_with_payer(
        &[memo(address, text)],
        Some(&stranger.pubkey()),
        &[stranger],
        blockhash,
    );
    rpc.send_and_confirm_transaction(&tx)
        .expect("send forged memo")
        .to_string()
}
