//! Account sizes and their rent, read from the Rent sysvar of the running SVM.

use anchor_lang::prelude::Rent;
use anchor_lang::solana_program::sysvar::SysvarId;
use rekam::{
    AccessReceipt, Attestation, Config, Consent, Contribution, EmergencyRequest, Guardianship,
    Issuer, Patient, Recovery, ShcKey, Study, StudyTally,
};
use rekam_tests::*;

#[test]
fn account_sizes_and_rent() {
    let fx = Fixture::new();
    // Decode the Rent sysvar account of the running SVM (bincode: u64, f64, u8).
    let data = fx.account(&Rent::id()).expect("Rent sysvar").data;
    assert_eq!(data.len(), 17);
    #[allow(deprecated)]
    let rent = Rent {
        lamports_per_byte_year: u64::from_le_bytes(data[..8].try_into().unwrap()),
        exemption_threshold: f64::from_le_bytes(data[8..16].try_into().unwrap()),
        burn_percent: data[16],
    };
    let rows = [
        ("Config", Config::SIZE),
        ("Issuer", Issuer::SIZE),
        ("Patient", Patient::SIZE),
        ("Attestation", Attestation::SIZE),
        ("Consent", Consent::SIZE),
        ("AccessReceipt", AccessReceipt::SIZE),
        ("Study", Study::SIZE),
        ("Contribution", Contribution::SIZE),
        ("StudyTally", StudyTally::SIZE),
        ("Guardianship", Guardianship::SIZE),
        ("EmergencyRequest", EmergencyRequest::SIZE),
        ("Recovery", Recovery::SIZE),
        ("ShcKey", ShcKey::SIZE),
    ];
    println!("{:<14} {:>6} {:>14}", "account", "bytes", "rent (lamports)");
    for (name, size) in rows {
        let lamports = rent.minimum_balance(size);
        assert_eq!(lamports, fx.svm.minimum_balance_for_rent_exemption(size));
        println!("{name:<14} {size:>6} {lamports:>14}");
    }
    // Half of the Solana Attestation Service's 173 + ~140 payload bytes.
    const { assert!(Attestation::SIZE <= 156) };
    assert_eq!(Attestation::SIZE, 152);
}
