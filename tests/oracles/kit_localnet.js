// An outside Solana client against `rekam localnet`: @solana/kit (pinned in
// .ci/oracles) builds, signs and sends its own legacy transactions, at every commitment
// level, and prints one JSON report the Rust test asserts on.
//   NODE_PATH=.ci/oracles/node_modules node tests/oracles/kit_localnet.js <rpc-url> <ws-url>
'use strict';
const {
  address,
  appendTransactionMessageInstruction,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  generateKeyPairSigner,
  getBase64EncodedWireTransaction,
  getSignatureFromTransaction,
  lamports,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} = require("@solana/kit");

const [url, wsUrl] = process.argv.slice(2);
const rpc = createSolanaRpc(url);
const subscriptions = createSolanaRpcSubscriptions(wsUrl);
const SYSTEM = address("11111111111111111111111111111111");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// System program Transfer: u32 index 2, then u64 lamports, little-endian.
function transfer(from, to, amount) {
  const data = new Uint8Array(12);
  const view = new DataView(data.buffer);
  view.setUint32(0, 2, true);
  view.setBigUint64(4, BigInt(amount), true);
  return {
    programAddress: SYSTEM,
    accounts: [
      { address: from.address, role: 3, signer: from },
      { address: to, role: 1 },
    ],
    data,
  };
}

async function waitFor(signature, commitment) {
  const rank = { processed: 0, confirmed: 1, finalized: 2 };
  for (let i = 0; i < 300; i++) {
    const { value } = await rpc.getSignatureStatuses([signature]).send();
    const status = value[0];
    if (status?.err) throw new Error(`transaction failed: ${JSON.stringify(status.err)}`);
    if (status && rank[status.confirmationStatus] >= rank[commitment]) return;
    await sleep(100);
  }
  throw new Error(`${signature} not ${commitment} within 30 s`);
}

async function signedTransfer(payer, to, amount, commitment) {
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment }).send();
  const message = pipe(
    createTransactionMessage({ version: "legacy" }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstruction(transfer(payer, to, amount), m),
  );
  return signTransactionMessageWithSigners(message);
}

async function balance(who) {
  return (await rpc.getBalance(who, { commitment: "confirmed" }).send()).value;
}

async function main() {
  const report = { levels: {}, slots: {} };
  const payer = await generateKeyPairSigner();
  const recipient = (await generateKeyPairSigner()).address;
  const airdrop = await rpc.requestAirdrop(payer.address, lamports(5_000_000_000n)).send();
  await waitFor(airdrop, "confirmed");

  // Activity first: 40 confirmed transfers, one block each, so the ledger holds more
  // blockhashes than the finalized lag (31) and the newest is not yet finalized.
  for (let i = 0; i < 40; i++) {
    const tx = await signedTransfer(payer, recipient, BigInt(1_000_000 + i), "confirmed");
    const signature = await rpc
      .sendTransaction(getBase64EncodedWireTransaction(tx), { encoding: "base64", preflightCommitment: "confirmed" })
      .send();
    await waitFor(signature, "confirmed");
  }

  // One transfer per commitment level: blockhash fetched at that level, preflight at that
  // level (as kit, web3.js and wallets send), confirmed, balance checked.
  let expected = await balance(recipient);
  for (const [i, commitment] of ["processed", "confirmed", "finalized"].entries()) {
    const amount = BigInt(1_000_000 * (i + 1));
    const tx = await signedTransfer(payer, recipient, amount, commitment);
    const signature = await rpc
      .sendTransaction(getBase64EncodedWireTransaction(tx), {
        encoding: "base64",
        preflightCommitment: commitment,
      })
      .send();
    await waitFor(signature, "confirmed");
    const after = await balance(recipient);
    report.levels[commitment] = { signature, moved: String(after - expected), expected: String(amount) };
    expected = after;
  }

  // kit's own send-and-confirm (websocket confirmation), at its default: confirmed.
  {
    const tx = await signedTransfer(payer, recipient, 4_000_000n, "confirmed");
    const before = await balance(recipient);
    await sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions: subscriptions })(tx, {
      commitment: "confirmed",
    });
    report.kit_send_and_confirm = {
      signature: getSignatureFromTransaction(tx),
      moved: String((await balance(recipient)) - before),
    };
  }

  // A raw JSON-RPC client (plain fetch; kit itself always sends its commitment as the
  // preflight commitment) that omits preflightCommitment gets the RPC default,
  // finalized: the newest (confirmed) blockhash is not yet visible at finalized, as on
  // any agave cluster.
  {
    const tx = await signedTransfer(payer, recipient, 5_000_000n, "confirmed");
    const body = {
      jsonrpc: "2.0",
      id: 1,
      method: "sendTransaction",
      params: [getBase64EncodedWireTransaction(tx), { encoding: "base64" }],
    };
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.json());
    const text = JSON.stringify(response.error ?? {});
    report.default_preflight = {
      refused: response.error !== undefined,
      blockhash_not_found: /BlockhashNotFound|lockhash not found/i.test(text),
      message: text.slice(0, 300),
    };
    // A new transaction on a confirmed blockhash, preflight matched, goes through.
    const next = await signedTransfer(payer, recipient, 6_000_000n, "confirmed");
    body.params = [getBase64EncodedWireTransaction(next), { encoding: "base64", preflightCommitment: "confirmed" }];
    const again = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.json());
    if (again.error) throw new Error(`matched preflight refused: ${JSON.stringify(again.error)}`);
    await waitFor(again.result, "confirmed");
    report.matched_preflight = { signature: again.result };
  }

  // Slots per commitment, with the context slot a read reports at the same level.
  for (const commitment of ["processed", "confirmed", "finalized"]) {
    const slot = await rpc.getSlot({ commitment }).send();
    const { context } = await rpc.getBalance(payer.address, { commitment }).send();
    report.slots[commitment] = { get_slot: String(slot), context_slot: String(context.slot) };
  }

  console.log(JSON.stringify(report));
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err?.stack ?? String(err));
    process.exit(1);
  },
);
