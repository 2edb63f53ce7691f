//! SBF-shaped limit, by proxy: a program's `try_accounts` builds its accounts struct on a
//! 4 KiB SBF stack frame, so every struct whose fields (the deserialized accounts, held
//! by value unless boxed) come near that must box them. No SBF toolchain exists on these
//! machines, so the frame itself is not measured; this test measures the native size of
//! every accounts struct (the same field layout; SBF pointers are 8 bytes too) and bounds
//! it at 2 KiB, half a frame, leaving the other half for `try_accounts`' temporaries.

use std::mem::size_of;

macro_rules! sizes {
    ($($t:ident),* $(,)?) => {
        vec![$((stringify!($t), size_of::<rekam::$t<'static>>())),*]
    };
}

/// Half the 4 KiB SBF stack frame.
const BOUND: usize = 2_048;

#[test]
fn every_accounts_struct_fits_half_an_sbf_stack_frame() {
    let sizes = sizes![
        AccessRecord,
        AttestationIssue,
        AttestationRevoke,
        AttestationVerify,
        AttestationVerifyClaim,
        BatchAnchor,
        BatchRevoke,
        BatchRevokeFact,
        BatchVerifyFact,
        ConfigAuthorityAccept,
        ConfigAuthorityPropose,
        ConfigInitialize,
        ConsentChange,
        ConsentClose,
        ConsentGrant,
        EmergencyActivate,
        EmergencyApprove,
        EmergencyEnd,
        EmergencyRequestOpen,
        GuardiansChange,
        GuardiansInit,
        IssuerAccredit,
        IssuerGovern,
        IssuerRotateKeys,
        PatientRegister,
        PatientRotateKey,
        ReceiptClose,
        RecoveryApprove,
        RecoveryCancel,
        RecoveryExecute,
        RecoveryPropose,
        ShcKeyAnchor,
        ShcKeyRetire,
        StudyClose,
        StudyContribute,
        StudyOpen,
        StudyTopUp,
        TreasuryWithdraw,
    ];
    // Every instruction of the IDL has its struct here.
    let idl: serde_json::Value =
        serde_json::from_str(include_str!("../../../idl/rekam.json")).expect("idl");
    assert_eq!(sizes.len(), 38);
    assert_eq!(
        idl["instructions"].as_array().unwrap().len(),
        41,
        "38 structs serve 41 instructions (suspend/reinstate and update/extend/revoke share one)"
    );
    println!("{:<24} {:>6}", "accounts struct", "bytes");
    for (name, size) in &sizes {
        println!("{name:<24} {size:>6}");
        assert!(
            *size <= BOUND,
            "{name}: {size} bytes; box its largest accounts"
        );
    }
}
