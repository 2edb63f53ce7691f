//! `rekam audit`: the patient's trail of who read what, when and why, of every consent
//! granted, revoked and closed, of break-glass access and of social recovery (the flow
//! `rekam_client::flows::audit`).

use anchor_lang::prelude::Pubkey;
use rekam_client::flows::audit::{trail, Trail};

use crate::app::{pubkey_arg, App};
use crate::output::{self, Render};
use crate::settings::Settings;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  rekam audit\n  rekam audit --patient <PATIENT> --output json")]
pub struct Args {
    /// Patient profile address (default: this wallet's).
    #[arg(long, value_parser = pubkey_arg)]
    pub patient: Option<Pubkey>,
}

impl Render for Trail {
    fn text(&self) -> String {
        let mut out = format!("Audit trail of patient {}\n", self.patient);
        out.push_str(&format!(
            "  {:<20} {:<17} {:<45} {:<8} {}\n",
            "time (UTC)", "event", "who", "why", "record"
        ));
        for e in &self.events {
            out.push_str(&format!(
                "  {:<20} {:<17} {:<45} {:<8} {}\n",
                utc(e.at),
                e.event,
                e.who,
                e.purpose,
                e.record.as_deref().unwrap_or("-")
            ));
        }
        out.trim_end().to_string()
    }
}

pub fn run(settings: &Settings, args: Args) -> anyhow::Result<()> {
    let mut app = App::new(settings);
    let patient = match args.patient {
        Some(key) => key,
        None => app.own_patient()?.0,
    };
    output::print(settings.output, &trail(&app.chain, &patient)?)
}

/// `YYYY-MM-DD hh:mm:ss` of a Unix time (UTC), without a date-time dependency.
pub fn utc(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_unix_times_as_utc() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc(1_795_305_600), "2026-11-22 00:00:00");
        assert_eq!(super::utc(951_782_400 + 3_661), "2000-02-29 01:01:01");
    }
}
