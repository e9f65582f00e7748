//! Damaged files: flipped bytes in segment, manifest, config and log files give a
//! `Corruption` error naming the file, or (only in the log's last record) a clean cut — never
//! a wrong answer.

use std::path::{Path, PathBuf};

use azimuth_engine::*;

use crate::common::{points, Rng};

fn build(dir: &Path) -> Vec<PointId> {
    let db = Database::open(dir).unwrap();
    let c = db
        .create_collection("c", CollectionConfig::single(4, Distance::Euclid))
        .unwrap();
    let mut rng = Rng(9);
    c.upsert(points(&mut rng, 0..100, 4), true).unwrap();
    c.flush().unwrap();
    for b in 0..5 {
        c.upsert(points(&mut rng, 100 + b * 10..110 + b * 10, 4), true)
            .unwrap();
    }
    (0..150).map(PointId::Num).collect()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn find(dir: &Path, prefix: &str) -> PathBuf {
    files(dir)
        .into_iter()
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} file"))
}

fn ids_after_open(dir: &Path) -> Result<Vec<PointId>> {
    let db = Database::open(dir)?;
    let c = db.collection("c")?;
    let page = c.scroll(&ScrollRequest {
        limit: 1000,
        ..Default::default()
    })?;
    Ok(page.points.into_iter().map(|r| r.id).collect())
}

fn assert_corruption(res: Result<Vec<PointId>>, file: &Path, what: &str) {
    match res {
        Err(Error::Corruption { path, .. }) => {
            assert_eq!(path.file_name(), file.file_name(), "{what}")
        }
        other => panic!(
            "{what}: expected Corruption naming {}, got {other:?}",
            file.display()
        ),
    }
}

#[test]
fn flipped_bytes_in_immutable_files_are_corruption() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path());
    let mut rng = Rng(10);
    for prefix in ["seg-", "MANIFEST", "CONFIG"] {
        let path = find(dir.path(), prefix);
        let pristine = std::fs::read(&path).unwrap();
        for _ in 0..40 {
            let mut bad = pristine.clone();
            let at = rng.below(bad.len() as u64) as usize;
            bad[at] ^= 1 << rng.below(8);
            std::fs::write(&path, &bad).unwrap();
            assert_corruption(
                ids_after_open(dir.path()),
                &path,
                &format!("{prefix} byte {at}"),
            );
        }
        std::fs::write(&path, &pristine).unwrap();
        assert_eq!(ids_after_open(dir.path()).unwrap().len(), 150);
    }
}

#[test]
fn log_damage_is_corruption_and_a_torn_tail_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let all = build(dir.path());
    let wal = find(dir.path(), "wal-");
    let pristine = std::fs::read(&wal).unwrap();
    let mut rng = Rng(11);
    // Walk the record frames (28-byte file header; 20-byte record header with the length at
    // offset 4) to find where the last record starts.
    let mut last_start = 28;
    let mut at = 28;
    while at < pristine.len() {
        last_start = at;
        at += 20 + u32::from_le_bytes(pristine[at + 4..at + 8].try_into().unwrap()) as usize;
    }
    for _ in 0..60 {
        let mut bad = pristine.clone();
        let at = rng.below(bad.len() as u64) as usize;
        bad[at] ^= 1 << rng.below(8);
        std::fs::write(&wal, &bad).unwrap();
        let res = ids_after_open(dir.path());
        if at < last_start {
            assert_corruption(res, &wal, &format!("log byte {at}"));
        } else {
            // Damage in the last record: it is cut as a torn tail, nothing else changes.
            assert_eq!(res.unwrap(), all[..140].to_vec(), "log byte {at}");
        }
        std::fs::write(&wal, &pristine).unwrap();
    }
    for _ in 0..20 {
        let cut = rng.below(pristine.len() as u64) as usize;
        std::fs::write(&wal, &pristine[..cut]).unwrap();
        let got = ids_after_open(dir.path()).unwrap();
        assert!(
            got.len() >= 100 && got.len().is_multiple_of(10) && got[..] == all[..got.len()],
            "cut at {cut}: {} points",
            got.len()
        );
        std::fs::write(&wal, &pristine).unwrap();
    }
}
