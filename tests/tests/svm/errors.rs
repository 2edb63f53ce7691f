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
        (RekamError::SameAuthority, 6005, "SameAuthority"),
        (RekamError::NoPendingAuthority, 6006, "NoPendingAuthority"),
        (RekamError::NotPendingAuthority, 6007, "NotPendingAuthority"),
        (RekamError::InvalidRoles, 6008, "InvalidRoles"),
        (
            RekamError::InvalidEncryptionKey,
            6009,
            "InvalidEncryptionKey",
        ),
        (RekamError::IssuerSuspended, 6010, "IssuerSuspended"),
        (RekamError::IssuerNotSuspended, 6011, "IssuerNotSuspended"),
        (RekamError::NotIssuerAuthority, 6012, "NotIssuerAuthority"),
        (
            RekamError::RoleNotAllowedForKind,
            6013,
            "RoleNotAllowedForKind",
        ),
        (
            RekamError::TreatmentDateInFuture,
            6014,
            "TreatmentDateInFuture",
        ),
        (RekamError::ExpiryNotInFuture, 6015, "ExpiryNotInFuture"),
        (RekamError::AttestationRevoked, 6016, "AttestationRevoked"),
        (RekamError::AttestationExpired, 6017, "AttestationExpired"),
        (
            RekamError::AttestationAlreadyRevoked,
            6018,
            "AttestationAlreadyRevoked",
        ),
        (RekamError::IssuerMismatch, 6019, "IssuerMismatch"),
        (RekamError::InvalidPseudonym, 6020, "InvalidPseudonym"),
        (RekamError::NotPatientAuthority, 6021, "NotPatientAuthority"),
        (RekamError::PatientMismatch, 6022, "PatientMismatch"),
        (RekamError::EmptyScope, 6023, "EmptyScope"),
        (RekamError::InvalidKinds, 6024, "InvalidKinds"),
        (RekamError::TooManyAttestations, 6025, "TooManyAttestations"),
        (
            RekamError::DuplicateAttestationInScope,
            6026,
            "DuplicateAttestationInScope",
        ),
        (RekamError::InvalidKeyGrant, 6027, "InvalidKeyGrant"),
        (RekamError::LocatorTooLong, 6028, "LocatorTooLong"),
        (RekamError::InvalidPeriod, 6029, "InvalidPeriod"),
        (RekamError::ConsentRevoked, 6030, "ConsentRevoked"),
        (RekamError::ConsentNotYetActive, 6031, "ConsentNotYetActive"),
        (RekamError::ConsentExpired, 6032, "ConsentExpired"),
        (RekamError::ExtensionNotLater, 6033, "ExtensionNotLater"),
        (RekamError::NotGrantee, 6034, "NotGrantee"),
        (RekamError::PurposeMismatch, 6035, "PurposeMismatch"),
        (RekamError::OutOfScope, 6036, "OutOfScope"),
        (RekamError::ArithmeticOverflow, 6037, "ArithmeticOverflow"),
        (RekamError::SubjectMismatch, 6038, "SubjectMismatch"),
        (RekamError::NotEthicsApproval, 6039, "NotEthicsApproval"),
        (RekamError::NotEthicsBoard, 6040, "NotEthicsBoard"),
        (RekamError::ApprovalMismatch, 6041, "ApprovalMismatch"),
        (RekamError::InvalidStudyTerms, 6042, "InvalidStudyTerms"),
        (RekamError::StudyClosed, 6043, "StudyClosed"),
        (RekamError::StudyDeadlinePassed, 6044, "StudyDeadlinePassed"),
        (RekamError::StudyFull, 6045, "StudyFull"),
        (RekamError::EscrowShort, 6046, "EscrowShort"),
        (RekamError::EscrowMismatch, 6047, "EscrowMismatch"),
        (RekamError::CriteriaNotMet, 6048, "CriteriaNotMet"),
        (RekamError::NotResearcher, 6049, "NotResearcher"),
        (RekamError::StudyNotEnded, 6050, "StudyNotEnded"),
        (RekamError::MintMismatch, 6051, "MintMismatch"),
        (RekamError::InvalidGuardians, 6052, "InvalidGuardians"),
        (
            RekamError::InvalidEmergencyTerms,
            6053,
            "InvalidEmergencyTerms",
        ),
        (RekamError::InvalidTimelock, 6054, "InvalidTimelock"),
        (RekamError::NotGuardian, 6055, "NotGuardian"),
        (RekamError::AlreadyApproved, 6056, "AlreadyApproved"),
        (RekamError::RequestExpired, 6057, "RequestExpired"),
        (RekamError::ThresholdNotMet, 6058, "ThresholdNotMet"),
        (
            RekamError::EmergencyAlreadyGranted,
            6059,
            "EmergencyAlreadyGranted",
        ),
        (RekamError::EmergencyNotActive, 6060, "EmergencyNotActive"),
        (
            RekamError::NotPatientOrGuardian,
            6061,
            "NotPatientOrGuardian",
        ),
        (RekamError::NotAClinic, 6062, "NotAClinic"),
        (RekamError::TimelockActive, 6063, "TimelockActive"),
        (RekamError::SameWallet, 6064, "SameWallet"),
        (RekamError::NotNewAuthority, 6065, "NotNewAuthority"),
        (
            RekamError::RecoveryStillPending,
            6066,
            "RecoveryStillPending",
        ),
        (
            RekamError::ClaimIndexOutOfRange,
            6067,
            "ClaimIndexOutOfRange",
        ),
        (RekamError::ClaimProofLength, 6068, "ClaimProofLength"),
        (RekamError::ClaimNotInRoot, 6069, "ClaimNotInRoot"),
        (
            RekamError::RequesterCannotApprove,
            6070,
            "RequesterCannotApprove",
        ),
        (
            RekamError::RequesterNotIssuerAuthority,
            6071,
            "RequesterNotIssuerAuthority",
        ),
        (RekamError::NotUpgradeAuthority, 6072, "NotUpgradeAuthority"),
        (
            RekamError::StudyApprovalWithdrawn,
            6073,
            "StudyApprovalWithdrawn",
        ),
        (RekamError::RecoveryExpired, 6074, "RecoveryExpired"),
        (RekamError::RecoveryLockVoid, 6075, "RecoveryLockVoid"),
        (
            RekamError::MintExtensionNotAllowed,
            6076,
            "MintExtensionNotAllowed",
        ),
        (
            RekamError::MintHasFreezeAuthority,
            6077,
            "MintHasFreezeAuthority",
        ),
        (
            RekamError::PatientContributionLimit,
            6078,
            "PatientContributionLimit",
        ),
        (
            RekamError::IssuerContributionCap,
            6079,
            "IssuerContributionCap",
        ),
        (RekamError::AttestationVoided, 6080, "AttestationVoided"),
        (RekamError::InvalidVoidWindow, 6081, "InvalidVoidWindow"),
        (RekamError::ConsentStillActive, 6082, "ConsentStillActive"),
        (RekamError::AccessorMismatch, 6083, "AccessorMismatch"),
        (
            RekamError::EncryptionKeyUnchanged,
            6084,
            "EncryptionKeyUnchanged",
        ),
        (
            RekamError::ShcKeyThumbprintMismatch,
            6085,
            "ShcKeyThumbprintMismatch",
        ),
        (RekamError::InvalidIssuerUrl, 6086, "InvalidIssuerUrl"),
        (RekamError::ShcKeyProofMissing, 6087, "ShcKeyProofMissing"),
        (RekamError::ShcKeyProofMismatch, 6088, "ShcKeyProofMismatch"),
        (RekamError::ShcKeyRetired, 6089, "ShcKeyRetired"),
        (RekamError::InvalidBatchCount, 6090, "InvalidBatchCount"),
        (RekamError::InvalidBatchWindow, 6091, "InvalidBatchWindow"),
        (RekamError::BatchWindowInFuture, 6092, "BatchWindowInFuture"),
        (RekamError::ZeroBatchRoot, 6093, "ZeroBatchRoot"),
        (RekamError::BatchRevoked, 6094, "BatchRevoked"),
        (RekamError::BatchAlreadyRevoked, 6095, "BatchAlreadyRevoked"),
        (RekamError::FactRevoked, 6096, "FactRevoked"),
        (RekamError::FactAlreadyRevoked, 6097, "FactAlreadyRevoked"),
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

/// The hand-kept lists (`RekamError::ALL` and the pins above) against the enum itself,
/// through the IDL Anchor generates from it (`.ci/idl check` keeps the IDL current): a
/// variant added to the enum but to neither list fails here.
#[test]
fn every_variant_of_the_enum_is_listed() {
    let idl: serde_json::Value =
        serde_json::from_str(include_str!("../../../idl/rekam.json")).expect("idl/rekam.json");
    let errors = idl["errors"].as_array().expect("errors in the IDL");
    assert_eq!(
        errors.len(),
        RekamError::ALL.len(),
        "RekamError::ALL is incomplete"
    );
    for (listed, generated) in RekamError::ALL.iter().zip(errors) {
        assert_eq!(
            u64::from(listed.code()),
            generated["code"].as_u64().unwrap()
        );
        assert_eq!(format!("{listed:?}"), generated["name"].as_str().unwrap());
        assert_eq!(listed.to_string(), generated["msg"].as_str().unwrap());
    }
}

#[test]
fn client_describes_codes_by_name_and_message() {
    let text = rekam_client::errors::describe_custom(6001);
    assert_eq!(
        text,
        "NotGovernanceAuthority (6001): Signer is not the governance authority of this deployment"
    );
}
