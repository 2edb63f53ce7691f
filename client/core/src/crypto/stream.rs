//! The segmented AES-256-GCM record format (`docs/format.md`): header ([`Header`]), then
//! segments sealed under `payload_key` with nonce `prefix ‖ u32(i) ‖ last` and the header
//! hash as associated data. No segment is opened before the data key has been checked
//! against the header's key commitment (in [`wrap::unwrap_any`]). Memory stays bounded by a few batches of `BATCH` segments whatever the record size;
//! within a batch, segments are sealed and opened in parallel on all cores.

use std::io::{Read, Write};

use aws_lc_rs::aead::{Aad, Nonce};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::header::read_full;
pub use super::header::{
    Header, COMMITMENT_LEN, DEFAULT_SEGMENT_SIZE, MAGIC, MAX_RECIPIENTS, MAX_SEGMENT_SIZE,
    MIN_SEGMENT_SIZE, TAG_LEN, VERSION,
};
use super::identity::Identity;
use super::keys::payload_key;
use super::wrap::{self, DataKey, Stanza};
use super::CryptoError;

/// Segments processed per batch (in parallel): 32 × 64 KiB = 2 MiB of plaintext in flight.
const BATCH: usize = 32;

fn nonce(prefix: &[u8; 7], index: u64, last: bool) -> Nonce {
    let mut bytes = [0u8; 12];
    bytes[..7].copy_from_slice(prefix);
    bytes[7..11].copy_from_slice(&(index as u32).to_be_bytes());
    bytes[11] = u8::from(last);
    Nonce::assume_unique_for_key(bytes)
}

#[derive(Clone, Debug)]
pub struct EncryptOptions<'a> {
    /// X25519 public keys of the readers (1..=32).
    pub recipients: &'a [[u8; 32]],
    /// Media type of the plaintext (at most 255 bytes).
    pub content_type: &'a str,
    pub segment_size: u32,
}

impl<'a> EncryptOptions<'a> {
    pub fn new(recipients: &'a [[u8; 32]], content_type: &'a str) -> Self {
        Self {
            recipients,
            content_type,
            segment_size: DEFAULT_SEGMENT_SIZE,
        }
    }
}

/// Encrypts exactly `plaintext_len` bytes from `reader` into `writer`.
pub fn encrypt(
    reader: impl Read + Send,
    plaintext_len: u64,
    writer: impl Write + Send,
    opts: &EncryptOptions,
) -> Result<Header, CryptoError> {
    let mut nonce_prefix = [0u8; 7];
    aws_lc_rs::rand::fill(&mut nonce_prefix).map_err(|_| CryptoError::Backend)?;
    let choices = Choices {
        data_key: DataKey::generate(),
        nonce_prefix,
        ephemeral: None,
    };
    encrypt_with(reader, plaintext_len, writer, opts, choices)
}

/// Every random choice of one encryption, fixed by the caller.
///
/// **Only for known-answer vectors** (`client/core/tests/vectors/record-v2.json`): a
/// record made with a data key, nonce prefix or ephemeral key that was ever used before
/// loses all confidentiality. Nothing in this crate but the vector tests calls
/// [`encrypt_with_fixed_randomness`].
#[derive(Clone, Debug)]
pub struct FixedRandomness {
    pub data_key: DataKey,
    pub nonce_prefix: [u8; 7],
    /// The `ikmE` of each recipient's HPKE encapsulation (RFC 9180 `DeriveKeyPair`), one
    /// per recipient, in order.
    pub ephemeral_ikm: Vec<[u8; 32]>,
}

/// [`encrypt`] with every random choice taken from `fixed`, so that the output is
/// reproducible byte for byte. **Never protect data with it**: see [`FixedRandomness`].
pub fn encrypt_with_fixed_randomness(
    reader: impl Read + Send,
    plaintext_len: u64,
    writer: impl Write + Send,
    opts: &EncryptOptions,
    fixed: &FixedRandomness,
) -> Result<Header, CryptoError> {
    if fixed.ephemeral_ikm.len() != opts.recipients.len() {
        return Err(CryptoError::Malformed(
            "one fixed ephemeral key per recipient is needed",
        ));
    }
    let choices = Choices {
        data_key: fixed.data_key.clone(),
        nonce_prefix: fixed.nonce_prefix,
        ephemeral: Some(&fixed.ephemeral_ikm),
    };
    encrypt_with(reader, plaintext_len, writer, opts, choices)
}

/// The random choices of one encryption; `ephemeral: None` draws HPKE's from the system.
struct Choices<'a> {
    data_key: DataKey,
    nonce_prefix: [u8; 7],
    ephemeral: Option<&'a [[u8; 32]]>,
}

/// Hands HPKE a fixed `ikmE` (it asks for exactly 32 bytes per encapsulation).
struct Replay<'a>(&'a [u8]);

impl rand_core::RngCore for Replay<'_> {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }
    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        assert!(dst.len() <= self.0.len(), "fixed randomness exhausted");
        let (now, rest) = self.0.split_at(dst.len());
        dst.copy_from_slice(now);
        self.0 = rest;
    }
}
impl rand_core::CryptoRng for Replay<'_> {}

fn encrypt_with(
    mut reader: impl Read + Send,
    plaintext_len: u64,
    mut writer: impl Write + Send,
    opts: &EncryptOptions,
    choices: Choices,
) -> Result<Header, CryptoError> {
    if opts.recipients.is_empty() || opts.recipients.len() > MAX_RECIPIENTS {
        return Err(CryptoError::TooManyRecipients(opts.recipients.len()));
    }
    if opts.content_type.len() > 255 {
        return Err(CryptoError::Malformed("content type longer than 255 bytes"));
    }
    if !(MIN_SEGMENT_SIZE..=MAX_SEGMENT_SIZE).contains(&opts.segment_size) {
        return Err(CryptoError::Malformed("segment size out of range"));
    }
    let Choices {
        data_key,
        nonce_prefix,
        ephemeral,
    } = choices;
    let mut header = Header {
        segment_size: opts.segment_size,
        plaintext_len,
        nonce_prefix,
        content_type: opts.content_type.to_string(),
        commitment: [0; COMMITMENT_LEN],
        stanzas: Vec::new(),
    };
    if header.segment_count() > u64::from(u32::MAX) + 1 {
        return Err(CryptoError::Malformed("too many segments"));
    }
    header.commit_to(&data_key)?;
    let prefix = header.prefix_bytes();
    header.stanzas = opts
        .recipients
        .iter()
        .enumerate()
        .map(|(i, recipient)| match ephemeral {
            None => wrap::wrap(&data_key, recipient, &prefix),
            Some(ikm) => wrap::wrap_with_rng(&data_key, recipient, &prefix, &mut Replay(&ikm[i])),
        })
        .collect::<Result<_, _>>()?;
    let header_bytes = header.to_bytes();
    writer.write_all(&header_bytes)?;
    let header_hash: [u8; 32] = Sha256::digest(&header_bytes).into();
    let key = payload_key(&data_key, &nonce_prefix)?;
    let count = header.segment_count();

    let seal = |i: u64, buf: &mut Vec<u8>| {
        key.seal_in_place_append_tag(
            nonce(&nonce_prefix, i, i + 1 == count),
            Aad::from(&header_hash),
            buf,
        )
        .map_err(|_| CryptoError::Backend)
    };

    // A one-segment record (up to 64 KiB by default) is done on this thread: stages on
    // threads of their own would cost more to start than the work they overlap.
    if count == 1 {
        let mut buf = Vec::new();
        read_segment(&mut reader, &header, 0, &mut buf)?;
        expect_end(&mut reader, plaintext_len)?;
        seal(0, &mut buf)?;
        writer.write_all(&buf)?;
        writer.flush()?;
        return Ok(header);
    }

    // Three stages on their own threads, joined by bounded channels (memory stays at a
    // few batches): read (and whatever the reader computes, e.g. the evidence hash) ->
    // seal (parallel within a batch) -> write (and whatever the writer computes, e.g.
    // the store's content hash). A record of a few batches gets smaller ones, so that
    // its stages still overlap.
    let batch_len = (count / 4).clamp(1, BATCH as u64);
    std::thread::scope(|scope| -> Result<(), CryptoError> {
        let (plain_tx, plain_rx) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(2);
        let (sealed_tx, sealed_rx) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(2);
        // Written batches go back to the reader, so segment buffers are reused rather
        // than allocated and zeroed again.
        let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Vec<Vec<u8>>>();
        let header = &header;
        let read_stage = scope.spawn(move || -> Result<(), CryptoError> {
            let mut index = 0u64;
            while index < count {
                let end = (index + batch_len).min(count);
                let mut spare = spare_rx.try_recv().unwrap_or_default();
                let mut batch = Vec::with_capacity((end - index) as usize);
                for i in index..end {
                    let mut buf = spare.pop().unwrap_or_default();
                    read_segment(&mut reader, header, i, &mut buf)?;
                    batch.push(buf);
                }
                if plain_tx.send(batch).is_err() {
                    return Ok(()); // the sealing stage stopped; its error wins
                }
                index = end;
            }
            expect_end(&mut reader, plaintext_len)
        });
        let write_stage = scope.spawn(move || -> Result<(), CryptoError> {
            for batch in sealed_rx {
                for buf in &batch {
                    writer.write_all(buf)?;
                }
                let _ = spare_tx.send(batch); // the reader may be done; then it is freed
            }
            writer.flush()?;
            Ok(())
        });
        let mut index = 0u64;
        let mut sealing = Ok(());
        for mut batch in plain_rx {
            sealing = batch
                .par_iter_mut()
                .enumerate()
                .try_for_each(|(offset, buf)| seal(index + offset as u64, buf));
            index += batch.len() as u64;
            if sealing.is_err() || sealed_tx.send(batch).is_err() {
                break;
            }
        }
        drop(sealed_tx);
        let read = read_stage.join().map_err(|_| CryptoError::Backend)?;
        let write = write_stage.join().map_err(|_| CryptoError::Backend)?;
        read?;
        sealing?;
        write
    })?;
    Ok(header)
}

/// Reads plaintext segment `i` into `buf` (a fresh or reused buffer: shrinking it keeps
/// the old bytes, which the read overwrites; only growth is zero-filled).
fn read_segment(
    reader: &mut impl Read,
    header: &Header,
    i: u64,
    buf: &mut Vec<u8>,
) -> Result<(), CryptoError> {
    let len = header.segment_plain_len(i);
    buf.reserve_exact((len + TAG_LEN).saturating_sub(buf.len()));
    buf.resize(len, 0);
    let got = read_full(reader, buf)?;
    if got != len {
        let actual = i * u64::from(header.segment_size) + got as u64;
        return Err(CryptoError::LengthMismatch {
            declared: header.plaintext_len,
            actual,
        });
    }
    Ok(())
}

/// Fails if the reader has more than the declared plaintext.
fn expect_end(reader: &mut impl Read, plaintext_len: u64) -> Result<(), CryptoError> {
    let mut extra = [0u8; 1];
    if read_full(reader, &mut extra)? != 0 {
        return Err(CryptoError::LengthMismatch {
            declared: plaintext_len,
            actual: plaintext_len + 1,
        });
    }
    Ok(())
}

/// Decrypts a record from `reader` into `writer`. Every segment is authenticated before
/// its plaintext is written; a caller that writes to a file must still publish it only on
/// `Ok` (a later segment may fail): see [`decrypt_to_path`].
pub fn decrypt(
    mut reader: impl Read,
    writer: impl Write,
    identity: &Identity,
) -> Result<Header, CryptoError> {
    let (header, header_bytes) = Header::read_from(&mut reader)?;
    let data_key = wrap::unwrap_any(&header.stanzas, identity, &header.prefix_bytes())?;
    decrypt_body(reader, writer, &header, &header_bytes, &data_key)?;
    Ok(header)
}

/// Opens the segments that follow a parsed header with `data_key`.
fn decrypt_body(
    mut reader: impl Read,
    mut writer: impl Write,
    header: &Header,
    header_bytes: &[u8],
    data_key: &DataKey,
) -> Result<(), CryptoError> {
    let header_hash: [u8; 32] = Sha256::digest(header_bytes).into();
    let key = payload_key(data_key, &header.nonce_prefix)?;
    let count = header.segment_count();
    let mut index = 0u64;
    let mut batch: Vec<Vec<u8>> = Vec::with_capacity(BATCH);
    while index < count {
        batch.clear();
        let end = (index + BATCH as u64).min(count);
        for i in index..end {
            let len = header.segment_plain_len(i) + TAG_LEN;
            let mut buf = vec![0u8; len];
            if read_full(&mut reader, &mut buf)? != len {
                return Err(CryptoError::Truncated);
            }
            batch.push(buf);
        }
        batch
            .par_iter_mut()
            .enumerate()
            .try_for_each(|(offset, buf)| {
                let i = index + offset as u64;
                let plain_len = key
                    .open_in_place(
                        nonce(&header.nonce_prefix, i, i + 1 == count),
                        Aad::from(&header_hash),
                        buf,
                    )
                    .map_err(|_| CryptoError::SegmentAuth { index: i as u32 })?
                    .len();
                buf.truncate(plain_len);
                Ok::<(), CryptoError>(())
            })?;
        for buf in &batch {
            writer.write_all(buf)?;
        }
        index = end;
    }
    let mut extra = [0u8; 1];
    if read_full(&mut reader, &mut extra)? != 0 {
        return Err(CryptoError::TrailingData);
    }
    writer.flush()?;
    Ok(())
}

/// Encrypts an in-memory plaintext.
pub fn encrypt_to_vec(
    plaintext: &[u8],
    opts: &EncryptOptions,
) -> Result<(Vec<u8>, Header), CryptoError> {
    let mut out = Vec::with_capacity(plaintext.len() + 1024);
    let header = encrypt(plaintext, plaintext.len() as u64, &mut out, opts)?;
    Ok((out, header))
}

/// Decrypts an in-memory record.
pub fn decrypt_to_vec(
    record: &[u8],
    identity: &Identity,
) -> Result<(Vec<u8>, Header), CryptoError> {
    let mut out = Vec::new();
    let header = decrypt(record, &mut out, identity)?;
    Ok((out, header))
}

/// Decrypts `record` to `path`: writes a temporary file beside it and renames it into
/// place only when every segment verified, so a failure never leaves partial plaintext.
pub fn decrypt_to_path(
    record: impl Read,
    path: &std::path::Path,
    identity: &Identity,
) -> Result<Header, CryptoError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    let header = decrypt(record, std::io::BufWriter::new(tmp.as_file_mut()), identity)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|err| CryptoError::Io(err.error))?;
    Ok(header)
}

/// Decrypts a record whose data key comes from a separate stanza (a key grant) rather
/// than the header's own recipient list. The header is still authenticated: its hash is
/// every segment's AAD, and the stanza's AAD is the header prefix.
pub fn decrypt_with_stanza(
    record: &[u8],
    header: &Header,
    header_bytes: &[u8],
    stanza: &Stanza,
    identity: &Identity,
) -> Result<Vec<u8>, CryptoError> {
    let data_key = wrap::unwrap_any(
        std::slice::from_ref(stanza),
        identity,
        &header.prefix_bytes(),
    )?;
    let body = record
        .get(header_bytes.len()..)
        .ok_or(CryptoError::Truncated)?;
    // The declared length is the writer's word until a tag checks out: never allocate on
    // it. A record holds exactly its plaintext plus one tag per segment.
    let tags = header.segment_count().saturating_mul(TAG_LEN as u64);
    let held = (body.len() as u64).saturating_sub(tags);
    if header.plaintext_len.checked_add(tags) != Some(body.len() as u64) {
        return Err(CryptoError::LengthMismatch {
            declared: header.plaintext_len,
            actual: held,
        });
    }
    let mut out = Vec::with_capacity(held as usize);
    decrypt_body(body, &mut out, header, header_bytes, &data_key)?;
    Ok(out)
}
