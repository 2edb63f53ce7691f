//! The batch-root cost figures, printed and asserted: facts per legacy transaction and
//! lamports per fact (rent from the Rent sysvar plus the signature fee) for 1,000, 10,000
//! and the most facts, against one Solana Attestation Service attestation of our payload
//! (`sizes.rs`). Each figure comes from a transaction that really ran: its wire size, the
//! lamports it took from the operator, and a fact of the batch verified on-chain.

use anchor_lang::prelude::Pubkey;
use rekam::claim_tree::{self, Tree};
use rekam::constants::MAX_BATCH_FACTS;
use rekam::{roles, Batch, BatchAnchorArgs, BatchKind, BatchVerifyFactArgs};
use rekam_tests::*;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::attack_coverage::wire_size;
use crate::batches::verify;
use crate::sizes::{rent, sas_attestation_lamports};

/// Lamports per signature (the base fee), what LiteSVM charges as a cluster does.
const SIGNATURE_FEE: u64 = 5_000;
/// A legacy transaction's packet limit.
const PACKET: usize = 1_232;

/// Sends `ixs` paid and signed by `payer` alone (the operator's gateway: one signature).
fn send_alone(fx: &mut Fixture, payer: &Keypair, ixs: &[Instruction]) -> u64 {
    fx.svm.expire_blockhash();
    let before = fx.account(&payer.pubkey()).unwrap().lamports;
    let tx = Transaction::new_signed_with_payer(
        ixs,
        Some(&payer.pubkey()),
        &[payer],
        fx.svm.latest_blockhash(),
    );
    fx.svm.send_transaction(tx).expect("anchored");
    before - fx.account(&payer.pubkey()).unwrap().lamports
}

fn anchor_args(root: [u8; 32], count: u32, now: i64) -> BatchAnchorArgs {
    BatchAnchorArgs {
        root,
        count,
        kind: BatchKind::Readings,
        first_at: now - i64::from(count),
        last_at: now,
    }
}

#[test]
fn batch_roots_cost_a_small_fraction_of_an_attestation_per_fact() {
    let mut w = World::new();
    let pid = w.program_id();
    let operator = w.accredit(roles::DEVICE_OPERATOR);
    let patient = w.register_patient();
    let authority = operator.authority.insecure_clone();
    w.fx.svm.airdrop(&authority.pubkey(), 100 * SOL).unwrap();
    let rent = rent(&w.fx);
    let sas = sas_attestation_lamports(&rent);

    println!(
        "{:>7} {:>7} {:>11} {:>10} {:>10} {:>13} {:>7}",
        "facts", "bytes", "rent", "tx bytes", "paid", "lamports/fact", "x SAS"
    );
    let mut ratio_at_1000 = f64::MAX;
    for count in [1_000, 10_000, MAX_BATCH_FACTS] {
        // Stand-ins for `count` disclosure digests (distinct SHA-256 outputs; what the
        // facts say does not change the cost).
        let salt = random32();
        let digests: Vec<[u8; 32]> = (0..count)
            .map(|i| claim_tree::node(&salt, &claim_tree::leaf(i, count, &salt)))
            .collect();
        let tree = Tree::new(&digests).unwrap();
        let args = anchor_args(tree.root(), count, w.fx.now());
        let ix = ix::batch_anchor(&pid, &authority.pubkey(), &operator.key, &patient.key, args);
        let size = wire_size(&authority.pubkey(), std::slice::from_ref(&ix), 0);
        assert!(size <= PACKET, "{count} facts: {size} bytes");
        let paid = send_alone(&mut w.fx, &authority, &[ix]);
        let space = Batch::space(count);
        let account_rent = rent.minimum_balance(space);
        assert_eq!(paid, account_rent + SIGNATURE_FEE, "rent + one signature");
        let key = pda::batch(&pid, &operator.key, &tree.root());
        assert_eq!(w.fx.account(&key).unwrap().data.len(), space);
        assert_eq!(w.fx.account(&key).unwrap().lamports, account_rent);

        // The last fact (the longest path) verifies on-chain.
        let last = count - 1;
        let proof = tree.proof(last).unwrap();
        assert_eq!(proof.len(), claim_tree::proof_len(last, count).unwrap());
        let verified = verify(
            &mut w,
            &key,
            &operator.key,
            BatchVerifyFactArgs {
                digest: digests[last as usize],
                index: last,
                proof,
            },
        )
        .expect("the last fact verifies");
        assert_eq!(verified.index, last);

        let per_fact = paid as f64 / f64::from(count);
        let ratio = per_fact / sas as f64;
        println!(
            "{count:>7} {space:>7} {account_rent:>11} {size:>10} {paid:>10} {per_fact:>13.1} {ratio:>7.5}"
        );
        if count == 1_000 {
            ratio_at_1000 = ratio;
        }
    }
    println!("one SAS attestation of our payload: {sas} lamports");
    assert!(
        ratio_at_1000 <= 0.01,
        "1,000 facts: {ratio_at_1000} x SAS per fact"
    );

    // How many batch_anchor instructions fit one transaction, each of the most facts.
    let now = w.fx.now();
    let anchor_ix = |root: [u8; 32]| {
        ix::batch_anchor(
            &pid,
            &authority.pubkey(),
            &operator.key,
            &patient.key,
            anchor_args(root, MAX_BATCH_FACTS, now),
        )
    };
    let mut ixs: Vec<Instruction> = Vec::new();
    loop {
        let mut more = ixs.clone();
        more.push(anchor_ix(random32()));
        if wire_size(&authority.pubkey(), &more, 0) > PACKET {
            break;
        }
        ixs = more;
    }
    let per_tx = ixs.len();
    let batches: Vec<Pubkey> = ixs.iter().map(|ix| ix.accounts[3].pubkey).collect();
    let paid = send_alone(&mut w.fx, &authority, &ixs);
    let each = rent.minimum_balance(Batch::MAX_SIZE);
    assert_eq!(paid, per_tx as u64 * each + SIGNATURE_FEE);
    for key in &batches {
        let batch: Batch = w.fx.fetch(key);
        assert_eq!(batch.count, MAX_BATCH_FACTS);
    }
    let facts_per_tx = per_tx as u64 * u64::from(MAX_BATCH_FACTS);
    println!(
        "one legacy transaction: 1 batch_anchor of up to {MAX_BATCH_FACTS} facts, or {per_tx} of them = {facts_per_tx} facts ({} bytes)",
        wire_size(&authority.pubkey(), &ixs, 0)
    );
    assert!(
        per_tx >= 2,
        "{per_tx} batch_anchor instructions per transaction"
    );
    assert!(facts_per_tx >= 1_000);
}
