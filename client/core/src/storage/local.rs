//! The default store: a local folder. Objects live at `<dir>/objects/<aa>/<blake3 hex>`;
//! writes go to `<dir>/tmp` first and are renamed into place, so a crash never leaves a
//! partial object under a real name. An object is durable when the write returns: its
//! data is fsynced before the rename and its directory entry after it. Streamed objects
//! ([`LocalStore::create_object`], [`Store::put_file`]) are written with direct I/O where
//! the filesystem allows it, off the caller's thread (`sink.rs`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::sink::FileSink;
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
    pub fn path_of(&self, blake3: &[u8; 32]) -> PathBuf {
        let name = hex::encode(blake3);
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
        blake3: &[u8; 32],
    ) -> Result<Locator, StoreError> {
        let target = self.path_of(blake3);
        let parent = target.parent().expect("objects/<aa>");
        let new_parent = !parent.is_dir();
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        tmp.as_file().sync_all().map_err(io(tmp.path()))?;
        tmp.persist(&target).map_err(|err| StoreError::Io {
            path: target.display().to_string(),
            source: err.error,
        })?;
        // The rename is durable only once the directory entry is on disk too (and the
        // entry of `objects/<aa>` itself, when this object created it).
        let objects = parent.parent().expect("objects");
        let dirs: &[&Path] = if new_parent {
            &[parent, objects]
        } else {
            &[parent]
        };
        for dir in dirs {
            std::fs::File::open(dir)
                .and_then(|dir| dir.sync_all())
                .map_err(io(dir))?;
        }
        Ok(Locator::Local { blake3: *blake3 })
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
        let digest = super::content_digest(&bytes);
        let mut tmp = self.temp()?;
        tmp.write_all(&bytes).map_err(io(tmp.path()))?;
        self.publish(tmp, &digest)
    }

    async fn get(&self, locator: &Locator) -> Result<Vec<u8>, StoreError> {
        self.check(locator)?;
        let path = self.path_of(locator.blake3());
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
        let path = self.path_of(locator.blake3());
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
        let mut object = self.create_object()?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = input.read(&mut buf).map_err(io(path))?;
            if n == 0 {
                break;
            }
            object
                .write_all(&buf[..n])
                .map_err(io(object.file.path()))?;
        }
        object.finish()
    }
}

/// Streams a new object into a [`LocalStore`], hashing as it writes; [`finish`] publishes
/// it under its digest. Dropped unfinished, it leaves nothing behind. Large objects are
/// written with direct I/O where the filesystem allows it (see [`super::sink`]).
///
/// [`finish`]: ObjectWriter::finish
pub struct ObjectWriter<'a> {
    store: &'a LocalStore,
    /// Declared before `file`: dropped first, so its writer thread has stopped before the
    /// temp file is removed.
    sink: FileSink,
    file: tempfile::NamedTempFile,
    hasher: blake3::Hasher,
}

impl LocalStore {
    pub fn create_object(&self) -> Result<ObjectWriter<'_>, StoreError> {
        let tmp = self.temp()?;
        let sink = FileSink::new(tmp.path(), tmp.as_file()).map_err(io(tmp.path()))?;
        Ok(ObjectWriter {
            store: self,
            sink,
            file: tmp,
            hasher: blake3::Hasher::new(),
        })
    }
}

impl ObjectWriter<'_> {
    /// Whether this object's bytes bypass the page cache (direct I/O).
    pub fn is_direct(&self) -> bool {
        self.sink.is_direct()
    }

    pub fn finish(self) -> Result<Locator, StoreError> {
        let digest: [u8; 32] = self.hasher.finalize().into();
        self.sink.finish().map_err(io(self.file.path()))?;
        self.store.publish(self.file, &digest)
    }
}

impl Write for ObjectWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.sink.write_all(buf)?;
        self.hasher.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
