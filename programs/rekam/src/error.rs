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
}

impl RekamError {
    /// Every variant in code order. The ABI test pins each code; append only.
    pub const ALL: &'static [RekamError] = &[
        RekamError::FeeTooHigh,
        RekamError::NotGovernanceAuthority,
        RekamError::TreasuryMintMismatch,
        RekamError::ZeroAmount,
        RekamError::UnsupportedVersion,
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
