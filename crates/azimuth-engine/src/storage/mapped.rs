//! Read-only memory maps of sealed segment files, so dense columns of `on_disk` vectors are
//! read from the page cache instead of living in the process's memory, and of graph files,
//! whose level-0 lists `hnsw_config.on_disk` graphs read in place.
//!
//! Soundness rests on the file contract: a segment or graph file is written once (graph
//! files are replaced atomically, never written in place), fsynced and never modified or
//! truncated afterwards (a deleted file's pages stay valid until the last map of
//! it goes), and the data directory's `LOCK` keeps other Azimuth processes out. A third party
//! writing into a live segment file is outside that contract, as it is for every database
//! that maps its files.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

/// A read-only mapping of a whole file.
pub(crate) type FileMap = Arc<Mmap>;

/// Maps `path` read-only.
pub(crate) fn map(path: &Path) -> std::io::Result<FileMap> {
    let file = File::open(path)?;
    // SAFETY: see the module comment: segment files are immutable once written.
    let map = unsafe { Mmap::map(&file) }?;
    Ok(Arc::new(map))
}

/// Hints that `map` was read through once (its checksum) and will now be read at random:
/// its pages leave this process's resident set (the page cache keeps them) and the kernel
/// stops reading ahead. Hints only; a failure changes nothing.
pub(crate) fn settle(map: &FileMap) {
    #[cfg(unix)]
    {
        // SAFETY: `DontNeed` on a read-only shared file mapping only drops the page-table
        // entries; the next access faults the same bytes back in from the file.
        let _ = unsafe { map.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        let _ = map.advise(memmap2::Advice::Random);
    }
    #[cfg(not(unix))]
    let _ = map;
}

/// A mapped file whose bytes the index crate reads in place: a graph file's level-0 lists
/// (`hnsw_config.on_disk`), a segment file's half-precision column (`on_disk` `Float16`
/// vectors). Graph files, like segment files, are written once (atomically replaced, never
/// modified in place).
pub(crate) struct FileImage(pub FileMap);

// SAFETY: the mapping stays at its address until the last `Arc` of it goes, and the file
// is never modified (see the module comment), so the bytes do not change.
unsafe impl azimuth_index::ImageBytes for FileImage {
    fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn release(&self) {
        #[cfg(unix)]
        // SAFETY: as in `settle`: the mapping is read-only and shared.
        let _ = unsafe { self.0.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
    }

    fn release_range(&self, start: usize, len: usize) {
        #[cfg(unix)]
        if start
            .checked_add(len)
            .is_some_and(|end| end <= self.0.len())
        {
            // SAFETY: as in `settle`: the mapping is read-only and shared; the range is
            // inside it.
            let _ = unsafe {
                self.0
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len)
            };
        }
        #[cfg(not(unix))]
        let _ = (start, len);
    }
}

/// `len` f32 values at byte offset `start` of a mapped file.
#[derive(Clone)]
pub(crate) struct MappedFloats {
    map: FileMap,
    start: usize,
    len: usize,
}

impl MappedFloats {
    /// The values, if they lie inside the mapping, are 4-byte aligned in memory and the
    /// machine is little-endian (the file's byte order); `None` otherwise (the caller then
    /// copies them).
    pub fn new(map: &FileMap, start: usize, len: usize) -> Option<MappedFloats> {
        let end = len.checked_mul(4)?.checked_add(start)?;
        let fits = end <= map.len()
            && (map.as_ptr() as usize + start).is_multiple_of(std::mem::align_of::<f32>())
            && cfg!(target_endian = "little");
        fits.then(|| MappedFloats {
            map: Arc::clone(map),
            start,
            len,
        })
    }

    /// Drops this range's pages from the process's resident set (the page cache keeps
    /// them): after a pass over every row (building a graph or codes) only the rows later
    /// searches touch come back. A hint; a failure changes nothing.
    pub fn release(&self) {
        #[cfg(unix)]
        // SAFETY: as in `settle`: the mapping is read-only and shared; the range is inside it.
        let _ = unsafe {
            self.map.unchecked_advise_range(
                memmap2::UncheckedAdvice::DontNeed,
                self.start,
                self.len * 4,
            )
        };
    }

    pub fn as_slice(&self) -> &[f32] {
        // SAFETY: `new` checked that the range is inside the mapping and aligned for f32;
        // every bit pattern is a valid f32, and the mapping lives as long as `self`.
        unsafe {
            std::slice::from_raw_parts(self.map.as_ptr().add(self.start) as *const f32, self.len)
        }
    }
}

impl std::fmt::Debug for MappedFloats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MappedFloats({} values at byte {})",
            self.len, self.start
        )
    }
}
