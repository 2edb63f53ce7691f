//! The error ABI: codes never change. Appending a variant means appending a row here.

use rekam::RekamError;

#[test]
fn every_error_code_is_pinned() {
    let pinned: &[(RekamError, u32, &str)] = &[
        (RekamError::FeeTooHigh, 6000, "FeeTooHigh"),
        (
            RekamError::NotGovernanceAuthority,
            6001,
            "NotGovernanceAuthority",
        ),
        (
            RekamError::TreasuryMintMismatch,
            6002,
            "TreasuryMintMismatch",
        ),
        (RekamError::ZeroAmount, 6003, "ZeroAmount"),
        (RekamError::UnsupportedVersion, 6004, "UnsupportedVersion"),
    ];
    assert_eq!(
        RekamError::ALL.len(),
        pinned.len(),
        "a variant was added without pinning it"
    );
    for (err, code, name) in pinned {
        assert_eq!(err.code(), *code, "{name}");
        assert_eq!(format!("{err:?}"), *name);
        assert_eq!(RekamError::from_code(*code).map(|e| e.code()), Some(*code));
        assert!(!err.to_string().is_empty(), "{name} has a message");
    }
    assert!(RekamError::from_code(5999).is_none());
}

#[test]
fn client_describes_codes_by_name_and_message() {
    let text = rekam_client::errors::describe_custom(6001);
    assert_eq!(
        text,
        "NotGovernanceAuthority (6001): Signer is not the governance authority of this deployment"
    );
}
