//! The program's error ABI. Codes are part of the public interface: variants are
//! append-only, their numbers never change (a test pins every one), and each carries a
//! message that a client shows to a person.

use anchor_lang::prelude::*;

#[error_code(offset = 6000)]
pub enum RekamError {
    /// 6000
    #[msg("Protocol fee exceeds the maximum of 1000 basis points")]
    FeeTooHigh,
    /// 6001
    #[msg("Signer is not the governance authority of this deployment")]
    NotGovernanceAuthority,
    /// 6002
    #[msg("Treasury mint does not match the deployment config")]
    TreasuryMintMismatch,
    /// 6003
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    /// 6004
    #[msg("Account version is not supported by this program")]
    UnsupportedVersion,
    /// 6005
    #[msg("The proposed authority is already the governance authority")]
    SameAuthority,
    /// 6006
    #[msg("No governance authority change is pending")]
    NoPendingAuthority,
    /// 6007
    #[msg("Signer is not the proposed governance authority")]
    NotPendingAuthority,
    /// 6008
    #[msg("Issuer roles must be a non-empty set of defined roles")]
    InvalidRoles,
    /// 6009
    #[msg("Encryption key must be a non-zero X25519 public key")]
    InvalidEncryptionKey,
    /// 6010
    #[msg("Issuer is suspended")]
    IssuerSuspended,
    /// 6011
    #[msg("Issuer is not suspended")]
    IssuerNotSuspended,
    /// 6012
    #[msg("Signer is not the issuer's authority")]
    NotIssuerAuthority,
    /// 6013
    #[msg("Issuer roles do not allow attesting this kind of record")]
    RoleNotAllowedForKind,
    /// 6014
    #[msg("Date of treatment is in the future")]
    TreatmentDateInFuture,
    /// 6015
    #[msg("Expiry day must be after today")]
    ExpiryNotInFuture,
    /// 6016
    #[msg("Attestation has been revoked")]
    AttestationRevoked,
    /// 6017
    #[msg("Attestation has expired")]
    AttestationExpired,
    /// 6018
    #[msg("Attestation is already revoked")]
    AttestationAlreadyRevoked,
    /// 6019
    #[msg("Attestation was issued by a different issuer")]
    IssuerMismatch,
    /// 6020
    #[msg("Patient pseudonym must be 32 random non-zero bytes")]
    InvalidPseudonym,
    /// 6021
    #[msg("Signer is not the patient's authority")]
    NotPatientAuthority,
    /// 6022
    #[msg("Account belongs to a different patient")]
    PatientMismatch,
    /// 6023
    #[msg("Consent scope must name record kinds or attestations")]
    EmptyScope,
    /// 6024
    #[msg("Consent scope names an undefined record kind")]
    InvalidKinds,
    /// 6025
    #[msg("Consent scope names more than 8 attestations")]
    TooManyAttestations,
    /// 6026
    #[msg("Consent scope names an attestation twice")]
    DuplicateAttestationInScope,
    /// 6027
    #[msg("Key grant hash must be set")]
    InvalidKeyGrant,
    /// 6028
    #[msg("Key grant locator must be 1 to 128 bytes")]
    LocatorTooLong,
    /// 6029
    #[msg("Consent period must start before it ends and end in the future")]
    InvalidPeriod,
    /// 6030
    #[msg("Consent has been revoked")]
    ConsentRevoked,
    /// 6031
    #[msg("Consent period has not started")]
    ConsentNotYetActive,
    /// 6032
    #[msg("Consent has expired")]
    ConsentExpired,
    /// 6033
    #[msg("New expiry must be later than the current one")]
    ExtensionNotLater,
    /// 6034
    #[msg("Signer is not the grantee of this consent")]
    NotGrantee,
    /// 6035
    #[msg("Access purpose differs from the consent's purpose")]
    PurposeMismatch,
    /// 6036
    #[msg("Record is outside the consent's scope")]
    OutOfScope,
    /// 6037
    #[msg("Arithmetic overflow")]
    ArithmeticOverflow,
    /// 6038
    #[msg("Ethics approvals name no patient; every other attestation names one")]
    SubjectMismatch,
    /// 6039
    #[msg("Attestation is not an ethics approval")]
    NotEthicsApproval,
    /// 6040
    #[msg("Ethics approval was not issued by an ethics-board issuer")]
    NotEthicsBoard,
    /// 6041
    #[msg("Ethics approval does not cover these study terms")]
    ApprovalMismatch,
    /// 6042
    #[msg("Study terms are invalid: price, size, criteria, deadline or data-use period")]
    InvalidStudyTerms,
    /// 6043
    #[msg("Study is closed")]
    StudyClosed,
    /// 6044
    #[msg("Study deadline has passed")]
    StudyDeadlinePassed,
    /// 6045
    #[msg("Study has all the contributions it asked for")]
    StudyFull,
    /// 6046
    #[msg("Study escrow holds less than one contribution's price; the researcher must top it up")]
    EscrowShort,
    /// 6047
    #[msg("Escrow account is not this study's escrow")]
    EscrowMismatch,
    /// 6048
    #[msg("Attestation does not meet the study's acceptance criteria")]
    CriteriaNotMet,
    /// 6049
    #[msg("Signer is not the study's researcher")]
    NotResearcher,
    /// 6050
    #[msg("Only the researcher may close a study before its deadline")]
    StudyNotEnded,
    /// 6051
    #[msg("Mint is not the study's payment mint")]
    MintMismatch,
    /// 6052
    #[msg("Guardians must be 1 to 7 distinct wallets other than the patient's, with a threshold from 1 to their number")]
    InvalidGuardians,
    /// 6053
    #[msg("Emergency duration must be 1 second to 72 hours within the patient's limit, approval window 1 second to 24 hours")]
    InvalidEmergencyTerms,
    /// 6054
    #[msg("Recovery time lock must be between 24 hours and 30 days")]
    InvalidTimelock,
    /// 6055
    #[msg("Signer is not one of the patient's guardians")]
    NotGuardian,
    /// 6056
    #[msg("This guardian has already approved")]
    AlreadyApproved,
    /// 6057
    #[msg("Emergency request has expired: its approval window is over")]
    RequestExpired,
    /// 6058
    #[msg("Not enough guardian approvals yet")]
    ThresholdNotMet,
    /// 6059
    #[msg("Emergency access was already granted for this request")]
    EmergencyAlreadyGranted,
    /// 6060
    #[msg("Emergency access is not active")]
    EmergencyNotActive,
    /// 6061
    #[msg("Signer is neither the patient nor one of their guardians")]
    NotPatientOrGuardian,
    /// 6062
    #[msg("Only an accredited clinic may request emergency access")]
    NotAClinic,
    /// 6063
    #[msg("Recovery time lock has not passed yet")]
    TimelockActive,
    /// 6064
    #[msg("The new wallet already controls this patient profile")]
    SameWallet,
    /// 6065
    #[msg("Signer is not the recovery's new wallet")]
    NotNewAuthority,
    /// 6066
    #[msg("Guardians may clear a recovery only after it failed to reach the threshold within its time lock")]
    RecoveryStillPending,
    /// 6067
    #[msg("Claim index is outside the attestation's claims tree")]
    ClaimIndexOutOfRange,
    /// 6068
    #[msg("Claim proof has the wrong number of steps for its index and leaf count")]
    ClaimProofLength,
    /// 6069
    #[msg("Claim is not under the attestation's claims root")]
    ClaimNotInRoot,
    /// 6070
    #[msg("The clinic that requested emergency access cannot approve or activate it")]
    RequesterCannotApprove,
    /// 6071
    #[msg("The requesting wallet is no longer its issuer's authority; request again")]
    RequesterNotIssuerAuthority,
    /// 6072
    #[msg("Only the program's upgrade authority can initialize its deployment")]
    NotUpgradeAuthority,
    /// 6073
    #[msg("The study's ethics approval is no longer active (revoked, expired, or its board suspended)")]
    StudyApprovalWithdrawn,
    /// 6074
    #[msg("The recovery was not executed within 7 days of its time lock; a guardian may clear it and propose again")]
    RecoveryExpired,
    /// 6075
    #[msg("The guardians changed or approvals fell below the threshold after the time lock started; it restarts when the threshold is met again")]
    RecoveryLockVoid,
    /// 6076
    #[msg("The mint has a Token-2022 extension a deployment does not accept (transfer fee, transfer hook, permanent delegate, pausable, default state, non-transferable, close authority, confidential)")]
    MintExtensionNotAllowed,
    /// 6077
    #[msg("The mint has a freeze authority, which can freeze escrows and the treasury; initialize with accept_freeze_authority to accept it")]
    MintHasFreezeAuthority,
    /// 6078
    #[msg("This patient has made as many paid contributions to the study as its terms allow")]
    PatientContributionLimit,
    /// 6079
    #[msg("The study has paid as many contributions attested by this issuer as its terms allow")]
    IssuerContributionCap,
    /// 6080
    #[msg("The attestation was issued in a window that governance voided when it reinstated the issuer")]
    AttestationVoided,
    /// 6081
    #[msg("A void window must start at or after 0 and no later than the suspension")]
    InvalidVoidWindow,
    /// 6082
    #[msg("The consent has not ended: revoke it, or wait until it expires")]
    ConsentStillActive,
    /// 6083
    #[msg("The rent goes back to the receipt's reader: pass its wallet")]
    AccessorMismatch,
    /// 6084
    #[msg("The new encryption key is the current one")]
    EncryptionKeyUnchanged,
    /// 6085
    #[msg("The thumbprint is not the RFC 7638 thumbprint of the given P-256 key")]
    ShcKeyThumbprintMismatch,
    /// 6086
    #[msg("The issuer URL (iss) must be an https:// URL of at most 96 printable characters without a trailing slash")]
    InvalidIssuerUrl,
    /// 6087
    #[msg("Anchoring a SMART Health Card key needs proof of possession: a secp256r1 signature instruction right before this one")]
    ShcKeyProofMissing,
    /// 6088
    #[msg("The secp256r1 proof is not the key's signature over this program and issuer")]
    ShcKeyProofMismatch,
    /// 6089
    #[msg("The SMART Health Card key is retired")]
    ShcKeyRetired,
    /// 6090
    #[msg("A batch must hold 1 to 65,536 facts")]
    InvalidBatchCount,
    /// 6091
    #[msg("A batch's first fact is later than its last")]
    InvalidBatchWindow,
    /// 6092
    #[msg(
        "A batch's last fact is later than the cluster clock plus the 300-second skew allowance"
    )]
    BatchWindowInFuture,
    /// 6093
    #[msg("A batch root must not be all zeros")]
    ZeroBatchRoot,
    /// 6094
    #[msg("The batch has been revoked")]
    BatchRevoked,
    /// 6095
    #[msg("The batch is already revoked")]
    BatchAlreadyRevoked,
    /// 6096
    #[msg("This fact of the batch has been revoked")]
    FactRevoked,
    /// 6097
    #[msg("This fact of the batch is already revoked")]
    FactAlreadyRevoked,
}

impl RekamError {
    /// Every variant in code order. The ABI test pins each code; append only.
    pub const ALL: &'static [RekamError] = &[
        RekamError::FeeTooHigh,
        RekamError::NotGovernanceAuthority,
        RekamError::TreasuryMintMismatch,
        RekamError::ZeroAmount,
        RekamError::UnsupportedVersion,
        RekamError::SameAuthority,
        RekamError::NoPendingAuthority,
        RekamError::NotPendingAuthority,
        RekamError::InvalidRoles,
        RekamError::InvalidEncryptionKey,
        RekamError::IssuerSuspended,
        RekamError::IssuerNotSuspended,
        RekamError::NotIssuerAuthority,
        RekamError::RoleNotAllowedForKind,
        RekamError::TreatmentDateInFuture,
        RekamError::ExpiryNotInFuture,
        RekamError::AttestationRevoked,
        RekamError::AttestationExpired,
        RekamError::AttestationAlreadyRevoked,
        RekamError::IssuerMismatch,
        RekamError::InvalidPseudonym,
        RekamError::NotPatientAuthority,
        RekamError::PatientMismatch,
        RekamError::EmptyScope,
        RekamError::InvalidKinds,
        RekamError::TooManyAttestations,
        RekamError::DuplicateAttestationInScope,
        RekamError::InvalidKeyGrant,
        RekamError::LocatorTooLong,
        RekamError::InvalidPeriod,
        RekamError::ConsentRevoked,
        RekamError::ConsentNotYetActive,
        RekamError::ConsentExpired,
        RekamError::ExtensionNotLater,
        RekamError::NotGrantee,
        RekamError::PurposeMismatch,
        RekamError::OutOfScope,
        RekamError::ArithmeticOverflow,
        RekamError::SubjectMismatch,
        RekamError::NotEthicsApproval,
        RekamError::NotEthicsBoard,
        RekamError::ApprovalMismatch,
        RekamError::InvalidStudyTerms,
        RekamError::StudyClosed,
        RekamError::StudyDeadlinePassed,
        RekamError::StudyFull,
        RekamError::EscrowShort,
        RekamError::EscrowMismatch,
        RekamError::CriteriaNotMet,
        RekamError::NotResearcher,
        RekamError::StudyNotEnded,
        RekamError::MintMismatch,
        RekamError::InvalidGuardians,
        RekamError::InvalidEmergencyTerms,
        RekamError::InvalidTimelock,
        RekamError::NotGuardian,
        RekamError::AlreadyApproved,
        RekamError::RequestExpired,
        RekamError::ThresholdNotMet,
        RekamError::EmergencyAlreadyGranted,
        RekamError::EmergencyNotActive,
        RekamError::NotPatientOrGuardian,
        RekamError::NotAClinic,
        RekamError::TimelockActive,
        RekamError::SameWallet,
        RekamError::NotNewAuthority,
        RekamError::RecoveryStillPending,
        RekamError::ClaimIndexOutOfRange,
        RekamError::ClaimProofLength,
        RekamError::ClaimNotInRoot,
        RekamError::RequesterCannotApprove,
        RekamError::RequesterNotIssuerAuthority,
        RekamError::NotUpgradeAuthority,
        RekamError::StudyApprovalWithdrawn,
        RekamError::RecoveryExpired,
        RekamError::RecoveryLockVoid,
        RekamError::MintExtensionNotAllowed,
        RekamError::MintHasFreezeAuthority,
        RekamError::PatientContributionLimit,
        RekamError::IssuerContributionCap,
        RekamError::AttestationVoided,
        RekamError::InvalidVoidWindow,
        RekamError::ConsentStillActive,
        RekamError::AccessorMismatch,
        RekamError::EncryptionKeyUnchanged,
        RekamError::ShcKeyThumbprintMismatch,
        RekamError::InvalidIssuerUrl,
        RekamError::ShcKeyProofMissing,
        RekamError::ShcKeyProofMismatch,
        RekamError::ShcKeyRetired,
        RekamError::InvalidBatchCount,
        RekamError::InvalidBatchWindow,
        RekamError::BatchWindowInFuture,
        RekamError::ZeroBatchRoot,
        RekamError::BatchRevoked,
        RekamError::BatchAlreadyRevoked,
        RekamError::FactRevoked,
        RekamError::FactAlreadyRevoked,
    ];

    /// The numeric code a transaction error carries (`Custom(code)`).
    pub fn code(&self) -> u32 {
        u32::from(*self)
    }

    /// The variant for a program error code, when the code is one of ours.
    pub fn from_code(code: u32) -> Option<RekamError> {
        Self::ALL.iter().copied().find(|e| e.code() == code)
    }
}
