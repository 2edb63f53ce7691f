// Anchor runs this after `anchor deploy` / `anchor migrate`.
// Rekam needs one post-deploy step: initializing the deployment's config and treasury.
// That is done with the Rust CLI, which signs with your Solana CLI wallet:
//
//   rekam init --url <cluster> --treasury-mint <MINT> [--authority <MULTISIG>] [--fee-bps N]
//
// Nothing else to migrate yet.
module.exports = async function (_provider: unknown) {};
