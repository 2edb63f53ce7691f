//! Properties of the native host itself.

use rekam::ConfigInitializeArgs;
use rekam_tests::*;
use solana_signer::Signer;

#[test]
fn runtime_logs_show_the_native_program_and_its_cpis() {
    let mut fx = Fixture::new();
    let mint = fx.create_mint(&TOKEN, 6);
    let ix = ix::config_initialize(
        &fx.program_id,
        &fx.payer.pubkey(),
        &mint,
        &TOKEN,
        ConfigInitializeArgs {
            authority: fx.payer.pubkey(),
            protocol_fee_bps: 0,
            accept_freeze_authority: false,
        },
    );
    let outcome = fx.send(&[ix], &[]).expect("config_initialize");
    let logs = &outcome.meta.logs;
    let id = fx.program_id.to_string();
    let has = |line: String| {
        assert!(
            logs.contains(&line),
            "missing log line {line:?} in {logs:#?}"
        )
    };
    has(format!("Program {id} invoke [1]"));
    has(format!(
        "Program {} invoke [2]",
        anchor_lang::system_program::ID
    ));
    has(format!("Program {} invoke [2]", TOKEN));
    // The event self-CPI re-enters the program at depth 2.
    has(format!("Program {id} invoke [2]"));
    assert_eq!(logs.last(), Some(&format!("Program {id} success")));
}

#[test]
fn a_program_registered_under_another_id_refuses_to_run() {
    let mut fx = Fixture::new();
    let other = solana_keypair::Keypair::new().pubkey();
    rekam_svm::add_rekam_at(&mut fx.svm, other);
    let mint = fx.create_mint(&TOKEN, 6);
    let ix = ix::config_initialize(
        &other,
        &fx.payer.pubkey(),
        &mint,
        &TOKEN,
        ConfigInitializeArgs {
            authority: fx.payer.pubkey(),
            protocol_fee_bps: 0,
            accept_freeze_authority: false,
        },
    );
    assert_anchor_error(
        fx.send(&[ix], &[]),
        anchor_lang::error::ErrorCode::DeclaredProgramIdMismatch,
    );
}
