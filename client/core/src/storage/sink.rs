//! Writes a new file front to back without making the writing thread wait for the disk.
//!
//! On Linux every full block goes through a page-aligned buffer written with `O_DIRECT`
//! by a background thread: no copy into the page cache, no kernel writeback competing for
//! the CPU, and the disk works while the caller keeps encrypting and hashing. The last,
//! partial block is written through the page cache, so a small file costs one device round
//! trip (its `fsync`), not two. Where direct
//! I/O is not available (another OS, tmpfs, an alignment the device refuses), the same
//! interface falls back to ordinary writes that start writeback every few MiB, so the
//! final `fsync` finds little left to do.
//!
//! A [`FileSink`] only writes; making the file durable (`fsync`) and naming it stay with
//! the caller.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Alignment of direct-I/O buffers, offsets and lengths: the page size, a multiple of
/// every common logical block size.
const ALIGN: usize = 4096;
/// Bytes per direct write, once a file is large (4 MiB: the device gets requests large
/// enough to keep several in flight, measured better than 1 MiB by the throughput bench).
const BLOCK: usize = 4 << 20;
/// Bytes in the first direct write; each later one doubles up to `BLOCK`, so the disk
/// starts early on a file of a few hundred KiB, and large files get large writes.
const FIRST_BLOCK: usize = 128 << 10;
/// Blocks queued for the writer thread; with the one being filled and the one being
/// written, at most `QUEUED + 2` blocks (16 MiB) exist per sink.
const QUEUED: usize = 2;
/// Buffered fallback: start writeback every this many bytes.
const WRITEBACK_CHUNK: u64 = 8 << 20;

/// A page-aligned window of `BLOCK` bytes inside an over-allocated vector (the heap
/// allocation never moves, so the window stays aligned when the block changes threads).
struct Block {
    raw: Vec<u8>,
    start: usize,
    fill: usize,
}

/// Blocks kept for the next file, so writing one after another does not fault in fresh
/// pages each time (at most `QUEUED + 2` blocks, 16 MiB, per process).
static POOL: std::sync::Mutex<Vec<Block>> = std::sync::Mutex::new(Vec::new());

impl Block {
    fn new() -> Self {
        if let Some(mut block) = POOL.lock().ok().and_then(|mut pool| pool.pop()) {
            block.fill = 0;
            return block;
        }
        let raw = vec![0u8; BLOCK + ALIGN];
        let start = raw.as_ptr().align_offset(ALIGN);
        assert!(
            start < ALIGN,
            "a byte vector can always be aligned within ALIGN"
        );
        Block {
            raw,
            start,
            fill: 0,
        }
    }

    /// Room left before the block holds `target` bytes.
    fn space(&mut self, target: usize) -> &mut [u8] {
        &mut self.raw[self.start + self.fill..self.start + target]
    }

    fn filled(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.fill]
    }
}

pub(crate) struct FileSink(Inner);

enum Inner {
    Direct(Direct),
    Buffered(Buffered),
}

struct Direct {
    /// The file opened for direct I/O, until the writer thread starts (a small file never
    /// needs one).
    file: Option<File>,
    /// The file opened for ordinary writes: the last, partial block goes here.
    buffered: File,
    block: Block,
    /// How full `block` gets before it is handed to the writer thread.
    target: usize,
    spare: Vec<Block>,
    allocated: usize,
    to_writer: Option<SyncSender<Block>>,
    returned: Option<Receiver<Block>>,
    writer: Option<JoinHandle<std::io::Result<File>>>,
    /// Bytes accepted so far (the file's final length).
    len: u64,
}

struct Buffered {
    file: File,
    written: u64,
    flushed_to: u64,
}

impl FileSink {
    /// Writes into the empty file at `path`, which `file` has open for writing.
    pub(crate) fn new(path: &Path, file: &File) -> std::io::Result<Self> {
        match open_direct(path) {
            Some(direct) => Ok(FileSink(Inner::Direct(Direct {
                file: Some(direct),
                buffered: file.try_clone()?,
                block: Block::new(),
                target: FIRST_BLOCK,
                spare: Vec::new(),
                allocated: 1,
                to_writer: None,
                returned: None,
                writer: None,
                len: 0,
            }))),
            None => Self::buffered(file),
        }
    }

    /// Ordinary writes through the page cache (the fallback).
    fn buffered(file: &File) -> std::io::Result<Self> {
        Ok(FileSink(Inner::Buffered(Buffered {
            file: file.try_clone()?,
            written: 0,
            flushed_to: 0,
        })))
    }

    /// Whether writes bypass the page cache.
    pub(crate) fn is_direct(&self) -> bool {
        matches!(self.0, Inner::Direct(_))
    }

    pub(crate) fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.0 {
            Inner::Buffered(b) => b.write_all(bytes),
            Inner::Direct(d) => {
                while !bytes.is_empty() {
                    let space = d.block.space(d.target);
                    let n = space.len().min(bytes.len());
                    space[..n].copy_from_slice(&bytes[..n]);
                    d.block.fill += n;
                    d.len += n as u64;
                    bytes = &bytes[n..];
                    if d.block.fill == d.target {
                        d.hand_off()?;
                        d.target = (d.target * 2).min(BLOCK);
                    }
                }
                Ok(())
            }
        }
    }

    /// Writes what is left; on return every byte is in the file. The caller still has
    /// to `fsync` it.
    pub(crate) fn finish(self) -> std::io::Result<()> {
        match self.0 {
            Inner::Buffered(_) => Ok(()),
            Inner::Direct(mut d) => {
                if d.writer.is_some() {
                    drop(d.to_writer.take());
                    d.join()?;
                }
                let tail = d.block.filled();
                write_at(&d.buffered, tail, d.len - tail.len() as u64)
            }
        }
    }
}

impl Buffered {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes)?;
        self.written += bytes.len() as u64;
        if self.written - self.flushed_to >= WRITEBACK_CHUNK {
            start_writeback(&self.file, self.flushed_to, self.written - self.flushed_to)?;
            self.flushed_to = self.written;
        }
        Ok(())
    }
}

impl Direct {
    /// Queues the full block for the writer thread and takes an empty one.
    fn hand_off(&mut self) -> std::io::Result<()> {
        if self.writer.is_none() {
            self.start_writer()?;
        }
        let next = match self.spare.pop() {
            Some(block) => block,
            None if self.allocated < QUEUED + 2 => {
                self.allocated += 1;
                Block::new()
            }
            None => match self.returned.as_ref().map(Receiver::recv) {
                Some(Ok(block)) => block,
                // The writer stopped early: its error explains why.
                _ => return Err(self.writer_failure()),
            },
        };
        let full = std::mem::replace(&mut self.block, next);
        let sent = self
            .to_writer
            .as_ref()
            .map(|tx| tx.send(full))
            .expect("the writer was started above");
        if sent.is_err() {
            return Err(self.writer_failure());
        }
        while let Some(block) = self.returned.as_ref().and_then(|rx| rx.try_recv().ok()) {
            self.spare.push(block);
        }
        Ok(())
    }

    fn start_writer(&mut self) -> std::io::Result<()> {
        let mut file = self.file.take().expect("no writer yet");
        let (tx, rx) = sync_channel::<Block>(QUEUED);
        let (back_tx, back_rx) = sync_channel::<Block>(QUEUED + 2);
        let writer = std::thread::Builder::new()
            .name("rekam-store-writer".into())
            .spawn(move || -> std::io::Result<File> {
                for mut block in rx {
                    write_block(&mut file, block.filled())?;
                    block.fill = 0;
                    let _ = back_tx.send(block);
                }
                Ok(file)
            })?;
        self.to_writer = Some(tx);
        self.returned = Some(back_rx);
        self.writer = Some(writer);
        Ok(())
    }

    /// Waits for the writer thread and returns the file, or the error that stopped it.
    fn join(&mut self) -> std::io::Result<File> {
        self.writer
            .take()
            .expect("a writer was started")
            .join()
            .map_err(|_| std::io::Error::other("the store writer thread panicked"))?
    }

    fn writer_failure(&mut self) -> std::io::Error {
        drop(self.to_writer.take());
        match self.join() {
            Err(err) => err,
            Ok(_) => std::io::Error::other("the store writer thread stopped"),
        }
    }
}

impl Drop for Direct {
    fn drop(&mut self) {
        // Unfinished (an error upstream): let the writer thread end before the caller
        // removes the file.
        drop(self.to_writer.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        let mut blocks = std::mem::take(&mut self.spare);
        if let Some(returned) = self.returned.take() {
            blocks.extend(returned.try_iter());
        }
        blocks.push(std::mem::replace(
            &mut self.block,
            Block {
                raw: Vec::new(),
                start: 0,
                fill: 0,
            },
        ));
        if let Ok(mut pool) = POOL.lock() {
            let room = (QUEUED + 2).saturating_sub(pool.len());
            pool.extend(blocks.into_iter().take(room));
        }
    }
}

/// Writes one aligned block. Should the device refuse the alignment (`EINVAL`), the file
/// leaves direct mode and the block is written through the page cache.
fn write_block(file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
    match file.write_all(bytes) {
        Err(err) if err.raw_os_error() == Some(libc::EINVAL) => {
            leave_direct_mode(file)?;
            file.write_all(bytes)
        }
        other => other,
    }
}

fn write_at(file: &File, bytes: &[u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
    }
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        let mut file = file;
        file.seek(SeekFrom::Start(offset))?;
        file.write_all(bytes)
    }
}

#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_path: &Path) -> Option<File> {
    None
}

#[cfg(target_os = "linux")]
fn leave_direct_mode(file: &File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own; it reads and writes no memory of ours.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    // SAFETY: as above.
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_DIRECT) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn leave_direct_mode(_file: &File) -> std::io::Result<()> {
    Ok(())
}

/// Asks the kernel to start writing `len` bytes from `from` to disk, without waiting
/// (Linux `sync_file_range`; elsewhere the final `fsync` does it all).
fn start_writeback(file: &File, from: u64, len: u64) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain syscall on an open descriptor we own; it reads no memory.
        let rc = unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                from as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            )
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, from, len);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4093) as u8).collect()
    }

    fn write_through(sink: &mut FileSink, bytes: &[u8]) {
        for piece in bytes.chunks(65_553) {
            sink.write_all(piece).unwrap();
        }
    }

    #[test]
    fn both_modes_write_the_exact_bytes_at_every_boundary() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = [
            0,
            1,
            ALIGN - 1,
            ALIGN,
            ALIGN + 1,
            FIRST_BLOCK - 1,
            FIRST_BLOCK,
        ];
        let sizes = sizes
            .into_iter()
            .chain([FIRST_BLOCK + 1, BLOCK - 1, BLOCK, BLOCK + 1]);
        let sizes = sizes.into_iter().chain([7 * BLOCK + 12_345]);
        for (i, len) in sizes.enumerate() {
            let bytes = pattern(len);
            for direct in [true, false] {
                let path = dir.path().join(format!("{i}-{direct}"));
                let file = File::create(&path).unwrap();
                let mut sink = match direct {
                    true => FileSink::new(&path, &file).unwrap(),
                    false => FileSink::buffered(&file).unwrap(),
                };
                if cfg!(target_os = "linux") {
                    assert_eq!(sink.is_direct(), direct, "O_DIRECT is available here");
                }
                write_through(&mut sink, &bytes);
                sink.finish().unwrap();
                assert_eq!(
                    std::fs::read(&path).unwrap(),
                    bytes,
                    "len {len}, direct {direct}"
                );
            }
        }
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn a_block_the_device_refuses_is_written_through_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        File::create(&path).unwrap();
        let mut file = open_direct(&path).expect("O_DIRECT is available here");
        // 100 bytes is not a multiple of the logical block size: the kernel says EINVAL.
        let unaligned = pattern(100);
        assert_eq!(
            (&file).write(&unaligned).unwrap_err().raw_os_error(),
            Some(libc::EINVAL)
        );
        write_block(&mut file, &unaligned).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), unaligned);
    }

    #[test]
    fn a_sink_dropped_unfinished_stops_its_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = File::create(&path).unwrap();
        let mut sink = FileSink::new(&path, &file).unwrap();
        let len = 5 * BLOCK + 1;
        write_through(&mut sink, &pattern(len));
        drop(sink); // joins the writer thread: nothing writes to the file afterwards
                    // The full blocks that were handed off (FIRST_BLOCK, doubling up to BLOCK) are
                    // written; the unfinished tail is not.
        let (mut handed_off, mut target) = (0, FIRST_BLOCK);
        while len - handed_off >= target {
            handed_off += target;
            target = (target * 2).min(BLOCK);
        }
        assert!(handed_off > 4 * BLOCK && handed_off < len);
        assert_eq!(std::fs::read(&path).unwrap(), pattern(handed_off));
    }
}
