//! `rekam identity`: the signer's wallet address and the X25519 key derived from it
//! (what a clinic gives governance at accreditation, what a patient registers).

use serde::Serialize;
use solana_signer::Signer;

use crate::app::App;
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(Serialize)]
struct IdentityOut {
    wallet: String,
    encryption_key: String,
}

impl Render for IdentityOut {
    fn text(&self) -> String {
        format!(
            "Wallet:          {}\nEncryption key:  {} (X25519, derived from the wallet)",
            self.wallet, self.encryption_key
        )
    }
}

pub fn run(settings: &Settings) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let identity = app.identity()?;
    let wallet = app.signer()?.pubkey().to_string();
    output::print(
        settings.output,
        &IdentityOut {
            wallet,
            encryption_key: hex::encode(identity.public_key()),
        },
    )
}
