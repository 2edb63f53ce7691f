//! Storage backends against real servers: a local folder, a real IPFS node (js-ipfs,
//! Kubo RPC API) and a real S3 server that checks SigV4 signatures (SeaweedFS).
//! `tests/run.sh` starts both servers on 127.0.0.1 and exports their addresses; without
//! them these tests fail with a message saying so (they are never silently skipped).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use rekam_client::storage::ipfs::IpfsStore;
use rekam_client::storage::local::LocalStore;
use rekam_client::storage::retry::RetryPolicy;
use rekam_client::storage::s3::{S3Config, S3Store};
use rekam_client::storage::{content_digest, Locator, Store, StoreError};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the suite with tests/run.sh, which starts IPFS and S3")
    })
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn s3_config(endpoint: &str, secret: &str) -> S3Config {
    S3Config {
        endpoint: Some(endpoint.to_string()),
        bucket: env("REKAM_TEST_S3_BUCKET"),
        region: "us-east-1".into(),
        access_key: env("REKAM_TEST_S3_ACCESS_KEY"),
        secret_key: secret.to_string(),
        prefix: format!("test-{}/", std::process::id()),
        retry: fast_retry(),
    }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_delay: std::time::Duration::from_millis(50),
        max_delay: std::time::Duration::from_millis(200),
    }
}

// ---- locators ---------------------------------------------------------------------------

#[test]
fn locators_round_trip_and_reject_garbage() {
    let blake3 = content_digest(b"x");
    for locator in [
        Locator::Local { blake3 },
        Locator::S3 {
            bucket: "b".into(),
            blake3,
        },
        Locator::Ipfs {
            cid: "bafkreiabc".into(),
            blake3,
        },
    ] {
        assert_eq!(locator.to_string().parse::<Locator>().unwrap(), locator);
    }
    for bad in [
        "",
        "local:",
        "local:zz",
        "ftp:abc",
        "s3:/00",
        "ipfs:bafy",
        &format!("ipfs:ba/fy#blake3={}", hex::encode(blake3)),
    ] {
        assert!(
            matches!(bad.parse::<Locator>(), Err(StoreError::BadLocator(..))),
            "{bad:?}"
        );
    }
    // A locator of Rekam 1 (SHA-256 content address) is refused by name.
    let old = format!("ipfs:bafkreiabc#sha256={}", hex::encode(blake3));
    assert_eq!(
        old.parse::<Locator>().unwrap_err().to_string(),
        format!("invalid locator {old:?}: a SHA-256 content address (Rekam 1); objects are now addressed by BLAKE3")
    );
}

#[test]
fn compact_locators_fit_on_chain_and_restore_with_their_digest() {
    let blake3 = content_digest(b"grant");
    let cid = format!("bafkrei{}", "a".repeat(52));
    let ipfs = Locator::Ipfs {
        cid: cid.clone(),
        blake3,
    };
    assert_eq!(ipfs.compact(), format!("ipfs:{cid}"));
    assert!(ipfs.compact().len() <= 128 && ipfs.to_string().len() > 128);
    assert_eq!(
        Locator::from_compact(&ipfs.compact(), &blake3).unwrap(),
        ipfs
    );
    let s3 = Locator::S3 {
        bucket: "b".into(),
        blake3,
    };
    assert_eq!(Locator::from_compact(&s3.compact(), &blake3).unwrap(), s3);
    assert!(matches!(
        Locator::from_compact(&s3.compact(), &content_digest(b"other")),
        Err(StoreError::BadLocator(..))
    ));
}

// ---- local -------------------------------------------------------------------------------

#[tokio::test]
async fn local_store_round_trips_and_detects_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let bytes = payload(100_000, 1);
    let locator = store.put(bytes.clone()).await.unwrap();
    assert_eq!(
        locator,
        Locator::Local {
            blake3: content_digest(&bytes)
        }
    );
    assert_eq!(store.get(&locator).await.unwrap(), bytes);
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "no temp files left"
    );

    // Corrupt the stored object on disk: the read fails, it never returns the bytes.
    let path = store.path_of(locator.blake3());
    let mut stored = std::fs::read(&path).unwrap();
    stored[500] ^= 0x80;
    std::fs::write(&path, &stored).unwrap();
    assert!(matches!(
        store.get(&locator).await,
        Err(StoreError::Integrity { .. })
    ));

    store.delete(&locator).await.unwrap();
    assert!(matches!(
        store.get(&locator).await,
        Err(StoreError::NotFound(_))
    ));
    let foreign = Locator::S3 {
        bucket: "b".into(),
        blake3: *locator.blake3(),
    };
    assert!(matches!(
        store.get(&foreign).await,
        Err(StoreError::WrongStore(..))
    ));
}

#[tokio::test]
async fn local_put_file_streams_to_the_same_address() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("store")).unwrap();
    let bytes = payload(5 * 1024 * 1024 + 3, 2);
    let file = dir.path().join("big.bin");
    std::fs::write(&file, &bytes).unwrap();
    let locator = store.put_file(&file).await.unwrap();
    assert_eq!(
        locator,
        Locator::Local {
            blake3: content_digest(&bytes)
        }
    );
    assert_eq!(store.get(&locator).await.unwrap(), bytes);
}

#[tokio::test]
async fn local_streamed_objects_equal_stored_ones_and_an_encrypted_record_round_trips() {
    use rekam_client::crypto::stream::decrypt_to_vec;
    use rekam_client::crypto::{encrypt, EncryptOptions, Identity};
    use std::io::Write;

    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path()).unwrap();
    let tmp_is_empty = || std::fs::read_dir(dir.path().join("tmp")).unwrap().count() == 0;
    // Around the 4 KiB direct-I/O alignment and the 1 MiB write blocks.
    for len in [
        0,
        1,
        4095,
        4096,
        4097,
        (1 << 20) - 1,
        1 << 20,
        (1 << 20) + 1,
        3_000_017,
    ] {
        let bytes = payload(len, 3);
        let mut object = store.create_object().unwrap();
        assert_eq!(object.is_direct(), cfg!(target_os = "linux"));
        for piece in bytes.chunks(7919) {
            object.write_all(piece).unwrap();
        }
        let locator = object.finish().unwrap();
        assert_eq!(
            locator,
            store.put(bytes.clone()).await.unwrap(),
            "len {len}"
        );
        assert_eq!(store.get(&locator).await.unwrap(), bytes, "len {len}");
        assert!(tmp_is_empty());
    }

    // The pipeline the benchmark measures: a record encrypted straight into the store.
    let reader = Identity::generate();
    let plaintext = payload(9 << 20, 4);
    let mut object = store.create_object().unwrap();
    let recipients = [reader.public_key()];
    let opts = EncryptOptions::new(&recipients, "image/dicom");
    encrypt(
        plaintext.as_slice(),
        plaintext.len() as u64,
        &mut object,
        &opts,
    )
    .unwrap();
    let locator = object.finish().unwrap();
    let stored = store.get(&locator).await.unwrap();
    assert_eq!(decrypt_to_vec(&stored, &reader).unwrap().0, plaintext);

    // Abandoned half way (an encryption error upstream): nothing is left anywhere.
    let before = std::fs::read_dir(dir.path().join("objects"))
        .unwrap()
        .count();
    let mut object = store.create_object().unwrap();
    object.write_all(&payload(5 << 20, 5)).unwrap();
    drop(object);
    assert!(tmp_is_empty());
    assert_eq!(
        std::fs::read_dir(dir.path().join("objects"))
            .unwrap()
            .count(),
        before
    );
}

// ---- IPFS --------------------------------------------------------------------------------

fn base32_decode(s: &str) -> Vec<u8> {
    let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = alphabet.iter().position(|a| *a == c).expect("base32 char") as u64;
        bits = (bits << 5) | v;
        count += 5;
        if count >= 8 {
            out.push((bits >> (count - 8)) as u8);
            count -= 8;
        }
    }
    out
}

#[tokio::test]
async fn ipfs_adds_cidv1_raw_leaves_and_verifies_reads() {
    let store = IpfsStore::new(&env("REKAM_TEST_IPFS_API"), fast_retry()).unwrap();
    let bytes = payload(10_000, 3);
    let locator = store.put(bytes.clone()).await.unwrap();
    let Locator::Ipfs { cid, blake3 } = &locator else {
        panic!("not an IPFS locator")
    };
    assert_eq!(*blake3, content_digest(&bytes));
    // CIDv1, base32, raw codec, sha2-256 multihash of the bytes themselves.
    assert!(cid.starts_with('b'), "{cid}");
    let raw = base32_decode(&cid[1..]);
    assert_eq!(&raw[..4], &[0x01, 0x55, 0x12, 0x20], "{cid}");
    // The node's CID hashes with SHA-256; the locator's own digest is BLAKE3.
    assert_eq!(&raw[4..], rekam_client::storage::digest(&bytes).as_slice());
    assert_ne!(blake3.as_slice(), &raw[4..]);
    assert_eq!(store.get(&locator).await.unwrap(), bytes);

    // A substituted object: a real CID with the digest of other content.
    let other = store.put(payload(2_000, 4)).await.unwrap();
    let Locator::Ipfs { cid: other_cid, .. } = other else {
        unreachable!()
    };
    let substituted = Locator::Ipfs {
        cid: other_cid,
        blake3: *blake3,
    };
    assert!(matches!(
        store.get(&substituted).await,
        Err(StoreError::Integrity { .. })
    ));

    store.delete(&locator).await.unwrap();
    store.delete(&locator).await.unwrap(); // unpinning twice is fine
}

#[tokio::test]
async fn ipfs_reads_stop_at_the_read_cap() {
    // A node answering with more bytes than the cap is refused before the body is
    // buffered, and the cap is what the error names.
    let capped = IpfsStore::new(&env("REKAM_TEST_IPFS_API"), fast_retry())
        .unwrap()
        .with_max_object_bytes(1_000);
    let bytes = payload(10_000, 6);
    let locator = capped.put(bytes.clone()).await.unwrap();
    match capped.get(&locator).await {
        Err(StoreError::TooLarge(1_000)) => {}
        other => panic!("expected TooLarge(1000), got {:?}", other.map(|b| b.len())),
    }
    let roomy = IpfsStore::new(&env("REKAM_TEST_IPFS_API"), fast_retry())
        .unwrap()
        .with_max_object_bytes(10_000);
    assert_eq!(roomy.get(&locator).await.unwrap(), bytes);
}

#[tokio::test]
async fn ipfs_multi_chunk_objects_round_trip() {
    let store = IpfsStore::new(&env("REKAM_TEST_IPFS_API"), fast_retry()).unwrap();
    let bytes = payload(3 * 1024 * 1024 + 11, 5);
    let locator = store.put(bytes.clone()).await.unwrap();
    assert_eq!(store.get(&locator).await.unwrap(), bytes);
}

#[tokio::test]
async fn unreachable_ipfs_fails_clearly_after_retries() {
    let store = IpfsStore::new("http://127.0.0.1:9", fast_retry()).unwrap();
    match store.put(b"x".to_vec()).await {
        Err(StoreError::Unavailable { attempts, last }) => {
            assert_eq!(attempts, 3);
            assert!(last.contains("127.0.0.1:9"), "{last}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

// ---- S3 ----------------------------------------------------------------------------------

#[tokio::test]
async fn s3_round_trips_and_deletes() {
    let store = S3Store::new(&s3_config(
        &env("REKAM_TEST_S3_ENDPOINT"),
        &env("REKAM_TEST_S3_SECRET_KEY"),
    ))
    .unwrap();
    let bytes = payload(300_000, 6);
    let locator = store.put(bytes.clone()).await.unwrap();
    assert_eq!(
        locator,
        Locator::S3 {
            bucket: env("REKAM_TEST_S3_BUCKET"),
            blake3: content_digest(&bytes)
        }
    );
    assert_eq!(store.get(&locator).await.unwrap(), bytes);
    assert!(store.exists(locator.blake3()).await.unwrap());
    store.delete(&locator).await.unwrap();
    assert!(!store.exists(locator.blake3()).await.unwrap());
    assert!(matches!(
        store.get(&locator).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn s3_with_a_wrong_secret_is_an_auth_error() {
    let store = S3Store::new(&s3_config(
        &env("REKAM_TEST_S3_ENDPOINT"),
        "definitely-not-the-secret",
    ))
    .unwrap();
    let result = store.put(b"nope".to_vec()).await;
    assert!(matches!(result, Err(StoreError::Auth(_))), "{result:?}");
}

#[tokio::test]
async fn s3_detects_a_corrupted_object() {
    use object_store::ObjectStoreExt;
    let store = S3Store::new(&s3_config(
        &env("REKAM_TEST_S3_ENDPOINT"),
        &env("REKAM_TEST_S3_SECRET_KEY"),
    ))
    .unwrap();
    let bytes = payload(4_000, 7);
    let locator = store.put(bytes.clone()).await.unwrap();
    let mut corrupted = bytes.clone();
    corrupted[0] ^= 1;
    store
        .raw()
        .put(&store.raw_key(locator.blake3()), corrupted.into())
        .await
        .unwrap();
    assert!(matches!(
        store.get(&locator).await,
        Err(StoreError::Integrity { .. })
    ));
}

#[tokio::test]
async fn s3_multipart_upload_of_a_large_file() {
    let store = S3Store::new(&s3_config(
        &env("REKAM_TEST_S3_ENDPOINT"),
        &env("REKAM_TEST_S3_SECRET_KEY"),
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bytes = payload(20 * 1024 * 1024 + 5, 8);
    let file = dir.path().join("scan.dcm.rekam");
    std::fs::write(&file, &bytes).unwrap();
    let locator = store.put_file(&file).await.unwrap();
    assert_eq!(*locator.blake3(), content_digest(&bytes));
    assert_eq!(store.get(&locator).await.unwrap(), bytes);
}

/// A TCP proxy in front of the real S3 server that, while `broken`, lets `budget` bytes
/// of each upload through and then drops both connections: to the client this is the
/// server dying mid-upload.
struct DyingProxy {
    addr: SocketAddr,
    broken: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
}

async fn dying_proxy(upstream: SocketAddr, budget: usize) -> DyingProxy {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let broken = Arc::new(AtomicBool::new(true));
    let connections = Arc::new(AtomicUsize::new(0));
    let (b, c) = (broken.clone(), connections.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let broken = b.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut cr, mut cw) = client.into_split();
                let (mut sr, mut sw) = server.into_split();
                let up = async move {
                    let mut sent = 0usize;
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match cr.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if broken && sent + n > budget {
                            return; // the "server" dies: both halves drop
                        }
                        sent += n;
                        if sw.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let down = async move {
                    let _ = tokio::io::copy(&mut sr, &mut cw).await;
                };
                tokio::select! { _ = up => {}, _ = down => {} }
            });
        }
    });
    DyingProxy {
        addr,
        broken,
        connections,
    }
}

#[tokio::test]
async fn s3_upload_dying_mid_way_leaves_nothing_and_a_retry_succeeds() {
    let endpoint = env("REKAM_TEST_S3_ENDPOINT");
    let upstream: SocketAddr = endpoint
        .trim_start_matches("http://")
        .parse()
        .expect("endpoint is http://ip:port");
    let proxy = dying_proxy(upstream, 64 * 1024).await;
    let secret = env("REKAM_TEST_S3_SECRET_KEY");
    let via_proxy = S3Store::new(&s3_config(&format!("http://{}", proxy.addr), &secret)).unwrap();
    let direct = S3Store::new(&s3_config(&endpoint, &secret)).unwrap();

    // A single PUT and a multipart upload, both cut after 64 KiB.
    let bytes = payload(2 * 1024 * 1024, 9);
    let blake3 = content_digest(&bytes);
    match via_proxy.put(bytes.clone()).await {
        Err(StoreError::Unavailable { .. }) => {}
        other => panic!("expected a clear Unavailable error, got {other:?}"),
    }
    assert!(
        proxy.connections.load(Ordering::SeqCst) >= 2,
        "the client retried before giving up"
    );
    assert!(
        !direct.exists(&blake3).await.unwrap(),
        "no partial object is visible"
    );

    let dir = tempfile::tempdir().unwrap();
    let big = payload(17 * 1024 * 1024, 10);
    let file = dir.path().join("big");
    std::fs::write(&file, &big).unwrap();
    assert!(matches!(
        via_proxy.put_file(&file).await,
        Err(StoreError::Unavailable { .. })
    ));
    assert!(
        !direct.exists(&content_digest(&big)).await.unwrap(),
        "no partial multipart object is visible"
    );

    // The server is back: the same calls now succeed and read back intact.
    proxy.broken.store(false, Ordering::SeqCst);
    let locator = via_proxy.put(bytes.clone()).await.unwrap();
    assert_eq!(direct.get(&locator).await.unwrap(), bytes);
    let locator = via_proxy.put_file(&file).await.unwrap();
    assert_eq!(direct.get(&locator).await.unwrap(), big);
}
