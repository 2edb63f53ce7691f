//! The default store: a local folder. Objects live at `<dir>/objects/<aa>/<sha256 hex>`;
//! writes go to `<dir>/tmp` first and are renamed into place, so a crash never leaves a
//! partial object under a real name.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::Digest;

use super::{verify, Locator, Store, StoreError};

pub struct LocalStore {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl LocalStore {
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        for sub in ["objects", "tmp"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(io(&path))?;
        }
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where an object with this digest lives.
    pub fn path_of(&self, sha256: &[u8; 32]) -> PathBuf {
        let name = hex::encode(sha256);
        self.dir.join("objects").join(&name[..2]).join(name)
    }

    fn check(&self, locator: &Locator) -> Result<(), StoreError> {
        match locator {
            Locator::Local { .. } => Ok(()),
            other => Err(StoreError::WrongStore(other.to_string(), "local")),
        }
    }

    /// Moves a finished temp file to its content address.
    fn publish(
        &self,
        tmp: tempfile::NamedTempFile,
        sha256: &[u8; 32],
    ) -> Result<Locator, StoreError> {
        let target = self.path_of(sha256);
        let parent = target.parent().expect("objects/<aa>");
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        tmp.as_file().sync_all().map_err(io(tmp.path()))?;
        tmp.persist(&target).map_err(|err| StoreError::Io {
            path: target.display().to_string(),
            source: err.error,
        })?;
        Ok(Locator::Local { sha256: *sha256 })
    }

    fn temp(&self) -> Result<tempfile::NamedTempFile, StoreError> {
        let dir = self.dir.join("tmp");
        tempfile::NamedTempFile::new_in(&dir).map_err(io(&dir))
    }
}

#[async_trait::async_trait]
impl Store for LocalStore {
    fn kind(&self) -> &'static str {
        "local"
    }

    async fn put(&self, bytes: Vec<u8>) -> Result<Locator, StoreError> {
        let sha256 = super::digest(&bytes);
        let mut tmp = self.temp()?;
        tmp.write_all(&bytes).map_err(io(tmp.path()))?;
        self.publish(tmp, &sha256)
    }

    async fn get(&self, locator: &Locator) -> Result<Vec<u8>, StoreError> {
        self.check(locator)?;
        let path = self.path_of(locator.sha256());
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound(locator.to_string()))
            }
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        verify(locator, &bytes)?;
        Ok(bytes)
    }

    async fn delete(&self, locator: &Locator) -> Result<(), StoreError> {
        self.check(locator)?;
        let path = self.path_of(locator.sha256());
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(StoreError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Streams the file into the store in constant memory, hashing as it copies.
    async fn put_file(&self, path: &Path) -> Result<Locator, StoreError> {
        let mut input = std::fs::File::open(path).map_err(io(path))?;
        let mut tmp = self.temp()?;
        let mut hasher = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = input.read(&mut buf).map_err(io(path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io(tmp.path()))?;
        }
        self.publish(tmp, &hasher.finalize().into())
    }
}

/// Streams a new object into a [`LocalStore`], hashing as it writes; [`finish`] publishes
/// it under its digest. Dropped unfinished, it leaves nothing behind.
///
/// [`finish`]: ObjectWriter::finish
pub struct ObjectWriter<'a> {
    store: &'a LocalStore,
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    hasher: sha2::Sha256,
    /// Bytes handed to the file so far, and up to where writeback was started.
    written: u64,
    flushed_to: u64,
}

/// Start writeback every this many bytes, so the disk works while the CPU encrypts and
/// the final `fsync` finds little left to do.
const WRITEBACK_CHUNK: u64 = 8 << 20;

impl LocalStore {
    pub fn create_object(&self) -> Result<ObjectWriter<'_>, StoreError> {
        let tmp = self.temp()?;
        Ok(ObjectWriter {
            store: self,
            file: std::io::BufWriter::with_capacity(1 << 20, tmp),
            hasher: sha2::Sha256::new(),
            written: 0,
            flushed_to: 0,
        })
    }
}

impl ObjectWriter<'_> {
    pub fn finish(self) -> Result<Locator, StoreError> {
        let sha256: [u8; 32] = self.hasher.finalize().into();
        let tmp = self.file.into_inner().map_err(|err| StoreError::Io {
            path: "local store temp file".into(),
            source: err.into_error(),
        })?;
        self.store.publish(tmp, &sha256)
    }
}

impl ObjectWriter<'_> {
    /// Asks the kernel to start writing the bytes since the last call to disk, without
    /// waiting (Linux `sync_file_range`; elsewhere the final `fsync` does it all).
    fn start_writeback(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let fd = self.file.get_ref().as_file().as_raw_fd();
            let (from, len) = (self.flushed_to, self.written - self.flushed_to);
            // SAFETY: a plain syscall on an open descriptor we own; it reads no memory.
            let rc = unsafe {
                libc::sync_file_range(
                    fd,
                    from as libc::off64_t,
                    len as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                )
            };
            if rc != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        self.flushed_to = self.written;
        Ok(())
    }
}

impl Write for ObjectWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        if self.written - self.flushed_to >= WRITEBACK_CHUNK {
            self.start_writeback()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
