//! Encrypt + commit + store-to-local throughput, as a ratio to the raw single-core
//! AES-256-GCM + SHA-256 speed measured in the same run on the same data.
//!
//! Run: `cargo bench -p rekam-client --bench throughput` (prints a table).

use std::io::Read;
use std::time::{Duration, Instant};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use rekam_client::commit::{evidence_hasher, RecordSalt};
use rekam_client::crypto::{encrypt, EncryptOptions, Identity};
use rekam_client::storage::local::LocalStore;
use sha2::Digest;

const SEGMENT: usize = 64 * 1024;

/// A reader that feeds every byte it yields to the evidence-commitment hasher.
struct Committing<'a, R> {
    inner: R,
    hasher: &'a mut rekam_client::commit::Hasher,
}

impl<R: Read> Read for Committing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Best of `runs` timings of `f` (at least one run, and at least ~1 s of work in total).
fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    let started = Instant::now();
    let mut done = 0;
    while done < runs || (started.elapsed() < Duration::from_secs(1) && done < 1000) {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed());
        done += 1;
    }
    best
}

fn gbps(bytes: usize, time: Duration) -> f64 {
    bytes as f64 / time.as_secs_f64() / 1e9
}

fn main() {
    let sizes: &[(&str, usize, usize)] = &[
        ("4 KiB", 4 * 1024, 200),
        ("1 MiB", 1 << 20, 20),
        ("256 MiB", 256 << 20, 5),
    ];
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).unwrap());
    let patient = Identity::generate();
    let clinic = Identity::generate();
    let recipients = [patient.public_key(), clinic.public_key()];
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let salt = RecordSalt::from_bytes([9; 32]);
    let threads = rayon::current_num_threads();

    println!("Rekam record pipeline: encrypt (2 recipients) + evidence commitment + store to local folder");
    println!("baseline: one core, AES-256-GCM (aws-lc-rs) then SHA-256 (sha2) over the same bytes; rayon threads: {threads}");
    println!();
    println!(
        "{:<8} {:>9} {:>9} {:>14} {:>7} {:>12} {:>7}",
        "record", "AES GB/s", "SHA GB/s", "no-store GB/s", "ratio", "stored GB/s", "ratio"
    );
    for &(name, len, runs) in sizes {
        let plain: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();

        // Baseline: seal every 64 KiB segment, then hash everything, on one core.
        let mut work = plain.clone();
        let aes = best(runs, || {
            for (i, chunk) in work.chunks_mut(SEGMENT).enumerate() {
                let mut nonce = [0u8; 12];
                nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
                let tag = key
                    .seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(&[0u8; 32]),
                        chunk,
                    )
                    .unwrap();
                let _ = std::hint::black_box(tag);
            }
        });
        let sha = best(runs, || {
            std::hint::black_box(sha2::Sha256::digest(&plain));
        });
        let baseline = aes + sha;

        // The real thing: plaintext -> commitment hasher -> encrypt -> local store object.
        // CPU work only: plaintext -> commitment hasher -> encrypt -> discarded.
        let cpu_only = best(runs, || {
            let mut hasher = evidence_hasher(&salt, len as u64);
            let reader = Committing {
                inner: plain.as_slice(),
                hasher: &mut hasher,
            };
            let opts = EncryptOptions::new(&recipients, "application/fhir+json");
            encrypt(reader, len as u64, std::io::sink(), &opts).unwrap();
            std::hint::black_box(hasher.finish());
        });

        // The full pipeline: also content-hashed, written, fsynced, renamed into place.
        let pipeline = best(runs, || {
            let mut hasher = evidence_hasher(&salt, len as u64);
            let mut object = store.create_object().unwrap();
            let reader = Committing {
                inner: plain.as_slice(),
                hasher: &mut hasher,
            };
            let opts = EncryptOptions::new(&recipients, "application/fhir+json");
            encrypt(reader, len as u64, &mut object, &opts).unwrap();
            let locator = object.finish().unwrap();
            std::hint::black_box((hasher.finish(), &locator));
            std::fs::remove_file(store.path_of(locator.sha256())).unwrap();
        });
        println!(
            "{:<8} {:>9.2} {:>9.2} {:>14.2} {:>6.2}x {:>12.2} {:>6.2}x",
            name,
            gbps(len, aes),
            gbps(len, sha),
            gbps(len, cpu_only),
            baseline.as_secs_f64() / cpu_only.as_secs_f64(),
            gbps(len, pipeline),
            baseline.as_secs_f64() / pipeline.as_secs_f64()
        );
    }
    // The per-record costs no pipeline removes, which bound the small-record ratios.
    let data_key = rekam_client::crypto::DataKey::generate();
    let wraps = best(200, || {
        for recipient in &recipients {
            std::hint::black_box(
                rekam_client::crypto::wrap::wrap(&data_key, recipient, b"bench").unwrap(),
            );
        }
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let durable = best(50, || {
        use rekam_client::storage::Store;
        let locator = runtime
            .block_on(store.put(b"one small durable object".to_vec()))
            .unwrap();
        std::fs::remove_file(store.path_of(locator.sha256())).unwrap();
    });
    println!();
    println!(
        "fixed costs per record: 2 HPKE wraps {:.0} us; a durable local object (temp file, fsync, rename) {:.0} us",
        wraps.as_secs_f64() * 1e6,
        durable.as_secs_f64() * 1e6
    );
    println!();
    println!("ratio = throughput / (1 / (1/AES + 1/SHA-256)), the single-core limit of one AES and one SHA pass.");
    println!("no-store: encrypt + evidence commitment, ciphertext discarded; stored: the full pipeline into the local store.");
}
