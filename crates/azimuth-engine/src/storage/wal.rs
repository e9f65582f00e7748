//! The write-ahead log: length + CRC framed records with group commit.
//!
//! A collection's log is a sequence of files `wal-<gen>.log` (16 hex digits). Each starts with
//! a header (magic, version, generation, CRC) followed by records
//! `magic u32 | len u32 | lsn u64 | crc u32 | payload[len]`, the CRC covering len, lsn and
//! payload. Records are appended under the collection's write lock; durability is requested
//! separately with [`Wal::wait_durable`], where one caller fsyncs for everyone waiting
//! (group commit).
//!
//! Recovery: a damaged record with no valid record after it is a torn tail — the file is cut
//! there. A damaged record followed by any valid record is [`Error::Corruption`]: that data was
//! acknowledged and we must not silently drop it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use super::files::{list_names, remove_file_if_exists, sync_dir};
use crate::error::{Error, Result};

const FILE_MAGIC: &[u8; 8] = b"AZWAL\0\0\0";
const FILE_VERSION: u32 = 1;
const HEADER_LEN: usize = 28;
const REC_MAGIC: u32 = u32::from_le_bytes(*b"AZWR");
const REC_HEADER: usize = 20;
/// Largest record accepted (and believed on replay).
pub(crate) const MAX_RECORD: usize = 512 << 20;

struct Writer {
    file: Arc<File>,
    path: PathBuf,
    gen: u64,
    len: u64,
    last_lsn: u64,
    failed: Option<String>,
}

struct SyncState {
    durable_lsn: u64,
    syncing: bool,
    error: Option<String>,
    /// fsyncs issued (for tests of group commit).
    syncs: u64,
}

/// One collection's write-ahead log.
pub(crate) struct Wal {
    dir: PathBuf,
    writer: Mutex<Writer>,
    sync: Mutex<SyncState>,
    synced: Condvar,
}

/// A record read back on open.
pub(crate) struct Replayed {
    pub lsn: u64,
    pub payload: Vec<u8>,
}

fn file_name(gen: u64) -> String {
    format!("wal-{gen:016x}.log")
}

fn parse_gen(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

fn header(gen: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(FILE_MAGIC);
    h.extend_from_slice(&FILE_VERSION.to_le_bytes());
    h.extend_from_slice(&0u32.to_le_bytes());
    h.extend_from_slice(&gen.to_le_bytes());
    let crc = crc32fast::hash(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h
}

/// Writes `head` then `body` with as few system calls as the kernel allows (one, usually),
/// without first copying them into one buffer.
fn write_all_two(file: &File, head: &[u8], body: &[u8]) -> std::io::Result<()> {
    let mut f = file;
    let mut done = 0;
    let total = head.len() + body.len();
    while done < head.len() {
        let n = f.write_vectored(&[
            std::io::IoSlice::new(&head[done..]),
            std::io::IoSlice::new(body),
        ])?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        done += n;
    }
    if done < total {
        f.write_all(&body[done - head.len()..])?;
    }
    Ok(())
}

fn record_crc(len: u32, lsn: u64, payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&lsn.to_le_bytes());
    h.update(payload);
    h.finalize()
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Tries to decode one record at `at`; returns (lsn, payload range end) when it is intact.
fn record_at(data: &[u8], at: usize) -> Option<(u64, usize)> {
    if data.len() < at + REC_HEADER || read_u32(data, at) != REC_MAGIC {
        return None;
    }
    let len = read_u32(data, at + 4);
    let lsn = read_u64(data, at + 8);
    let crc = read_u32(data, at + 16);
    let start = at + REC_HEADER;
    let end = start.checked_add(len as usize)?;
    if len as usize > MAX_RECORD || end > data.len() {
        return None;
    }
    (record_crc(len, lsn, &data[start..end]) == crc).then_some((lsn, end))
}

/// Result of scanning one file.
struct Scan {
    records: Vec<Replayed>,
    /// Byte length of the intact prefix (where a torn tail is cut).
    good_len: usize,
}

fn scan_file(path: &Path, data: &[u8], gen: u64, is_last: bool) -> Result<Scan> {
    if data.len() < HEADER_LEN {
        if is_last {
            // Created but its header never reached the disk: an empty torn file.
            return Ok(Scan {
                records: Vec::new(),
                good_len: 0,
            });
        }
        return Err(Error::corruption(path, "log file shorter than its header"));
    }
    if data[..HEADER_LEN] != header(gen)[..] {
        return Err(Error::corruption(
            path,
            "bad log file header (magic, version, generation or checksum)",
        ));
    }
    let mut at = HEADER_LEN;
    let mut records = Vec::new();
    let mut prev_lsn = 0u64;
    while at < data.len() {
        match record_at(data, at) {
            Some((lsn, end)) if lsn > prev_lsn => {
                records.push(Replayed {
                    lsn,
                    payload: data[at + REC_HEADER..end].to_vec(),
                });
                prev_lsn = lsn;
                at = end;
            }
            Some(_) => {
                return Err(Error::corruption(
                    path,
                    format!("log sequence numbers go backwards at byte {at}"),
                ))
            }
            None => {
                if !is_last || has_valid_record_after(data, at + 1, prev_lsn) {
                    return Err(Error::corruption(
                        path,
                        format!("damaged log record at byte {at}"),
                    ));
                }
                break;
            }
        }
    }
    Ok(Scan {
        records,
        good_len: at,
    })
}

/// True when some intact record with a larger lsn starts at or after `from`.
fn has_valid_record_after(data: &[u8], from: usize, prev_lsn: u64) -> bool {
    let magic = REC_MAGIC.to_le_bytes();
    let mut i = from;
    while i + REC_HEADER <= data.len() {
        if data[i..i + 4] == magic {
            if let Some((lsn, _)) = record_at(data, i) {
                if lsn > prev_lsn {
                    return true;
                }
            }
        }
        i += 1;
    }
    false
}

impl Wal {
    /// Opens the log in `dir`, replaying every file with generation ≥ `start_gen` and deleting
    /// older ones. Returns the records in order; appends continue after the last one.
    pub fn open(dir: &Path, start_gen: u64, min_lsn: u64) -> Result<(Wal, Vec<Replayed>)> {
        let mut gens: Vec<u64> = list_names(dir)?
            .iter()
            .filter_map(|n| parse_gen(n))
            .collect();
        gens.sort_unstable();
        for &g in gens.iter().filter(|&&g| g < start_gen) {
            remove_file_if_exists(&dir.join(file_name(g)))?;
        }
        gens.retain(|&g| g >= start_gen);
        let mut replayed = Vec::new();
        let mut last_lsn = min_lsn;
        let mut tail: Option<(u64, usize)> = None;
        for (i, &g) in gens.iter().enumerate() {
            let path = dir.join(file_name(g));
            let data = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let scan = scan_file(&path, &data, g, i + 1 == gens.len())?;
            for r in scan.records {
                if r.lsn <= last_lsn {
                    continue;
                }
                last_lsn = r.lsn;
                replayed.push(r);
            }
            tail = Some((g, scan.good_len));
        }
        let (gen, good_len) = tail.unwrap_or((start_gen, 0));
        let writer = Self::open_writer(dir, gen, good_len, last_lsn)?;
        let wal = Wal {
            dir: dir.to_path_buf(),
            writer: Mutex::new(writer),
            sync: Mutex::new(SyncState {
                durable_lsn: last_lsn,
                syncing: false,
                error: None,
                syncs: 0,
            }),
            synced: Condvar::new(),
        };
        Ok((wal, replayed))
    }

    fn open_writer(dir: &Path, gen: u64, good_len: usize, last_lsn: u64) -> Result<Writer> {
        let path = dir.join(file_name(gen));
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut len = good_len as u64;
        if good_len < HEADER_LEN {
            file.set_len(0).map_err(|e| Error::io(&path, e))?;
            file.write_all(&header(gen))
                .map_err(|e| Error::io(&path, e))?;
            len = HEADER_LEN as u64;
        } else {
            file.set_len(len).map_err(|e| Error::io(&path, e))?;
        }
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(len))
            .map_err(|e| Error::io(&path, e))?;
        file.sync_all().map_err(|e| Error::io(&path, e))?;
        sync_dir(dir)?;
        Ok(Writer {
            file: Arc::new(file),
            path,
            gen,
            len,
            last_lsn,
            failed: None,
        })
    }

    /// Appends one record (not yet durable) and returns its lsn.
    pub fn append(&self, payload: &[u8]) -> Result<u64> {
        if payload.len() > MAX_RECORD {
            return Err(Error::ResourceExhausted(format!(
                "one write of {} bytes exceeds the log record limit of {} bytes; split the batch",
                payload.len(),
                MAX_RECORD
            )));
        }
        let mut w = self.writer.lock();
        if let Some(msg) = &w.failed {
            return Err(Error::Internal(format!(
                "write-ahead log unusable after an earlier failure ({msg}); reopen the database"
            )));
        }
        let lsn = w.last_lsn + 1;
        let len = payload.len() as u32;
        let mut head = [0u8; REC_HEADER];
        head[0..4].copy_from_slice(&REC_MAGIC.to_le_bytes());
        head[4..8].copy_from_slice(&len.to_le_bytes());
        head[8..16].copy_from_slice(&lsn.to_le_bytes());
        head[16..20].copy_from_slice(&record_crc(len, lsn, payload).to_le_bytes());
        if let Err(e) = write_all_two(&w.file, &head, payload) {
            // Cut back to the last whole record so the log stays well-formed.
            let keep = w.len;
            let fixed = w.file.set_len(keep).is_ok() && {
                use std::io::Seek;
                (&*w.file).seek(std::io::SeekFrom::Start(keep)).is_ok()
            };
            if !fixed {
                w.failed = Some(e.to_string());
            }
            return Err(Error::io(&w.path, e));
        }
        w.len += (REC_HEADER + payload.len()) as u64;
        w.last_lsn = lsn;
        Ok(lsn)
    }

    /// Blocks until every record up to `lsn` is on stable storage. Concurrent callers share
    /// one fsync.
    pub fn wait_durable(&self, lsn: u64) -> Result<()> {
        let mut s = self.sync.lock();
        loop {
            if let Some(e) = &s.error {
                return Err(Error::Internal(format!(
                    "write-ahead log fsync failed earlier: {e}; reopen the database"
                )));
            }
            if s.durable_lsn >= lsn {
                return Ok(());
            }
            if s.syncing {
                self.synced.wait(&mut s);
                continue;
            }
            s.syncing = true;
            drop(s);
            let (file, path, target) = {
                let w = self.writer.lock();
                (w.file.clone(), w.path.clone(), w.last_lsn)
            };
            let res = file.sync_data();
            s = self.sync.lock();
            s.syncing = false;
            s.syncs += 1;
            match res {
                Ok(()) => s.durable_lsn = s.durable_lsn.max(target),
                Err(e) => {
                    s.error = Some(e.to_string());
                    self.synced.notify_all();
                    return Err(Error::io(&path, e));
                }
            }
            self.synced.notify_all();
        }
    }

    /// Number of fsyncs issued by [`Wal::wait_durable`] so far.
    #[cfg(test)]
    pub fn syncs(&self) -> u64 {
        self.sync.lock().syncs
    }

    /// The lsn of the last appended record.
    pub fn last_lsn(&self) -> u64 {
        self.writer.lock().last_lsn
    }

    /// Makes everything appended so far durable, then starts a new file; returns its
    /// generation. Callers hold the collection's write lock, so no append races this.
    pub fn rotate(&self) -> Result<u64> {
        let last = self.last_lsn();
        self.wait_durable(last)?;
        let mut w = self.writer.lock();
        let gen = w.gen + 1;
        let next = Self::open_writer(&self.dir, gen, 0, w.last_lsn)?;
        *w = next;
        Ok(gen)
    }

    /// Deletes log files older than `gen` (their content is in durable segments).
    pub fn remove_before(&self, gen: u64) -> Result<()> {
        for name in list_names(&self.dir)? {
            if let Some(g) = parse_gen(&name) {
                if g < gen {
                    remove_file_if_exists(&self.dir.join(name))?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads(recs: &[Replayed]) -> Vec<Vec<u8>> {
        recs.iter().map(|r| r.payload.clone()).collect()
    }

    #[test]
    fn append_reopen_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, recs) = Wal::open(dir.path(), 0, 0).unwrap();
        assert!(recs.is_empty());
        for i in 0..10u8 {
            let lsn = wal.append(&[i; 5]).unwrap();
            wal.wait_durable(lsn).unwrap();
        }
        let gen = wal.rotate().unwrap();
        wal.append(b"after").unwrap();
        drop(wal);
        let (_, recs) = Wal::open(dir.path(), 0, 0).unwrap();
        assert_eq!(recs.len(), 11);
        assert_eq!(recs[10].payload, b"after");
        let (_, recs) = Wal::open(dir.path(), gen, 10).unwrap();
        assert_eq!(payloads(&recs), vec![b"after".to_vec()]);
    }

    #[test]
    fn one_fsync_covers_every_earlier_record_and_concurrent_waiters_share() {
        let dir = tempfile::tempdir().unwrap();
        let (wal, _) = Wal::open(dir.path(), 0, 0).unwrap();
        for i in 0..10u8 {
            wal.append(&[i]).unwrap();
        }
        wal.wait_durable(10).unwrap();
        wal.wait_durable(5).unwrap();
        assert_eq!(
            wal.syncs(),
            1,
            "records 1..=10 share one fsync; lsn 5 needs none"
        );
        // Many threads appending and waiting: all succeed, nothing is lost.
        let wal = std::sync::Arc::new(wal);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let wal = wal.clone();
                std::thread::spawn(move || {
                    for i in 0..50u8 {
                        let lsn = wal.append(&[t, i]).unwrap();
                        wal.wait_durable(lsn).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drop(wal);
        let (_, recs) = Wal::open(dir.path(), 0, 0).unwrap();
        assert_eq!(recs.len(), 410);
    }

    fn write_three(dir: &Path) -> PathBuf {
        let (wal, _) = Wal::open(dir, 0, 0).unwrap();
        for p in [b"first".as_slice(), b"second", b"third"] {
            wal.append(p).unwrap();
        }
        wal.wait_durable(3).unwrap();
        dir.join(file_name(0))
    }

    #[test]
    fn torn_tail_is_cut_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_three(dir.path());
        let len = std::fs::metadata(&path).unwrap().len();
        for cut in 1..(REC_HEADER as u64 + 5) {
            let f = OpenOptions::new().write(true).open(&path).unwrap();
            f.set_len(len - cut).unwrap();
            let (wal, recs) = Wal::open(dir.path(), 0, 0).unwrap();
            assert_eq!(payloads(&recs), vec![b"first".to_vec(), b"second".to_vec()]);
            drop(wal);
            // Restore the third record for the next iteration.
            std::fs::remove_file(&path).unwrap();
            write_three(dir.path());
        }
        let (wal, _) = Wal::open(dir.path(), 0, 0).unwrap();
        assert_eq!(wal.append(b"fourth").unwrap(), 4);
    }

    #[test]
    fn damage_before_a_valid_record_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_three(dir.path());
        let data = std::fs::read(&path).unwrap();
        // Flip a byte in each position of the first two records: never silently accepted.
        for i in HEADER_LEN..HEADER_LEN + 2 * (REC_HEADER + 6) - 1 {
            let mut bad = data.clone();
            bad[i] ^= 0x41;
            std::fs::write(&path, &bad).unwrap();
            match Wal::open(dir.path(), 0, 0) {
                Err(e) => assert_eq!(e.kind(), crate::ErrorKind::Corruption, "byte {i}"),
                Ok((_, recs)) => panic!("byte {i}: opened with {} records", recs.len()),
            }
        }
    }
}
