//! Atomic file writes: a temporary file in the same folder, fsync, then rename.
//!
//! A rename within one file system replaces the target in one step, so a reader (or a
//! rerun after kill -9) sees either the old file or the complete new one, never a torn
//! one. Temporary files are named `.tmp-<name>-<pid>` and start with `.tmp-`, so a later
//! run recognises and removes the leftovers of a killed one.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The prefix of every temporary file this module creates.
pub const TEMP_PREFIX: &str = ".tmp-";

/// A file being written; it appears under its final name only on `commit`.
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    temp: PathBuf,
    writer: BufWriter<File>,
}

impl AtomicFile {
    /// Starts writing `target` (through a temporary file beside it).
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        let dir = parent(target);
        let name = target
            .file_name()
            .ok_or_else(|| io::Error::other(format!("{} is not a file path", target.display())))?;
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{}-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&temp)?;
        Ok(AtomicFile {
            target: target.to_path_buf(),
            temp,
            writer: BufWriter::new(file),
        })
    }

    /// Flushes, fsyncs and renames the file into place, then fsyncs the folder so the
    /// rename itself survives a crash.
    pub fn commit(self) -> io::Result<()> {
        self.commit_inner(true)
    }

    /// As `commit`, without the folder fsync (for many small files, where the caller
    /// accepts that a power cut may lose the last few renames; a killed process loses
    /// none).
    pub fn commit_no_dir_sync(self) -> io::Result<()> {
        self.commit_inner(false)
    }

    fn commit_inner(mut self, dir_sync: bool) -> io::Result<()> {
        self.writer.flush()?;
        self.writer.get_ref().sync_all()?;
        fs::rename(&self.temp, &self.target)?;
        if dir_sync {
            sync_dir(parent(&self.target))?;
        }
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (an error or a panic on the way): leave no temporary behind. After
        // a commit the temp path no longer exists and this is a harmless no-op.
        let _ = fs::remove_file(&self.temp);
    }
}

/// Writes `bytes` to `target` atomically.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Writes `bytes` to `target` through a temporary file and a rename, without fsync: a
/// reader or a killed process never sees half a file, but a power cut may leave it empty.
/// For files derived from others that a command redraws (charts, the report: `blastsim
/// plot`), where waiting on the disk for each would be most of their writing time.
pub fn write_unsynced(target: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = AtomicFile::create(target)?;
    f.write_all(bytes)?;
    f.writer.flush()?;
    fs::rename(&f.temp, &f.target)
}

/// Removes the temporary files a killed writer left in `dir`; returns how many.
pub fn clean_temps(dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    // Opening a folder for fsync works on Unix; elsewhere it is best effort.
    match File::open(dir) {
        Ok(d) => d.sync_all().or(Ok(())),
        Err(_) => Ok(()),
    }
}
