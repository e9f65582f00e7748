//! Snapshot round trips, checksums, tampering and hostile names.

use azimuth_engine::*;
use serde_json::json;

use crate::common::{payload, points, Rng};

fn everything(c: &Collection) -> ScrollResult {
    c.scroll(&ScrollRequest {
        limit: 10_000,
        with_vectors: VectorSelector::All,
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn snapshot_round_trip_checksum_and_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path()).unwrap();
    let c = db
        .create_collection("snap", CollectionConfig::single(4, Distance::Dot))
        .unwrap();
    c.create_payload_index("tag", FieldSchema::Keyword, true)
        .unwrap();
    let mut rng = Rng(5);
    c.upsert(points(&mut rng, 0..300, 4), true).unwrap();
    c.flush().unwrap();
    c.upsert(points(&mut rng, 300..350, 4), true).unwrap(); // in the log only
    c.set_payload(
        &PointSelector::Ids(vec![PointId::Num(1)]),
        payload(json!({"s": 1})),
        None,
        true,
    )
    .unwrap();
    let before = everything(&c);

    let info = db.create_snapshot("snap").unwrap();
    assert_eq!(db.list_snapshots("snap").unwrap(), vec![info.clone()]);
    assert_eq!(info.checksum.len(), 64);
    let (mut file, _) = db.open_snapshot("snap", &info.name).unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).unwrap();
    assert_eq!(bytes.len() as u64, info.size);

    // Wrong checksum: refused, nothing changes.
    let e = db
        .recover_snapshot("snap", &bytes[..], Some(&"0".repeat(64)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert_eq!(everything(&db.collection("snap").unwrap()), before);
    // Tampered archives: refused, whatever byte was hit.
    for at in [100, 600, bytes.len() / 2, bytes.len() - 2000] {
        let mut bad = bytes.clone();
        bad[at] ^= 0x20;
        assert!(
            db.recover_snapshot("other", &bad[..], None).is_err(),
            "byte {at}"
        );
        assert!(!db.collection_exists("other"));
    }
    // Delete, then recover from the uploaded bytes and from the file on disk.
    assert!(db.delete_collection("snap").unwrap());
    db.recover_snapshot("snap", &bytes[..], Some(&info.checksum))
        .unwrap();
    let restored = db.collection("snap").unwrap();
    assert_eq!(everything(&restored), before);
    assert_eq!(restored.info().payload_schema.len(), 1);
    let path = dir.path().join("snapshots").join("snap").join(&info.name);
    db.recover_snapshot_file("copy", &path, None).unwrap();
    assert_eq!(everything(&db.collection("copy").unwrap()), before);
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(
        everything(&db.collection("copy").unwrap()),
        before,
        "recovered collection survives reopen"
    );

    for hostile in [
        "../CONFIG",
        "..",
        "x/../../LOCK",
        ".hidden.snapshot",
        "a\0b.snapshot",
    ] {
        assert_eq!(
            db.open_snapshot("snap", hostile).unwrap_err().kind(),
            ErrorKind::NotFound,
            "{hostile}"
        );
        assert_eq!(
            db.delete_snapshot("snap", hostile).unwrap_err().kind(),
            ErrorKind::NotFound,
            "{hostile}"
        );
    }
    db.delete_snapshot("snap", &info.name).unwrap();
    assert!(db.list_snapshots("snap").unwrap().is_empty());
    assert!(Database::in_memory().create_snapshot("x").is_err());
}

#[test]
fn full_snapshot_restores_collections_aliases_and_catalog() {
    let src = tempfile::tempdir().unwrap();
    let db = Database::open(src.path()).unwrap();
    let mut rng = Rng(9);
    for (name, d) in [("a", Distance::Cosine), ("b", Distance::Euclid)] {
        let c = db
            .create_collection(name, CollectionConfig::single(4, d))
            .unwrap();
        c.upsert(points(&mut rng, 0..120, 4), true).unwrap();
        c.flush().unwrap();
        c.upsert(points(&mut rng, 120..150, 4), true).unwrap(); // in the log only
    }
    db.update_aliases(&[AliasAction::Create {
        alias: "latest".into(),
        collection: "b".into(),
    }])
    .unwrap();
    db.put_catalog_document("chroma", &json!({"tenants": ["t"]}))
        .unwrap();
    let before: Vec<ScrollResult> = ["a", "b"]
        .iter()
        .map(|n| everything(&db.collection(n).unwrap()))
        .collect();
    let info = db.create_full_snapshot().unwrap();
    assert!(info.name.starts_with("full-snapshot-"));
    assert_eq!(db.list_full_snapshots().unwrap(), vec![info.clone()]);
    // Per-collection listings do not show it, and it does not show theirs.
    assert!(db.list_snapshots("a").unwrap().is_empty());
    let (mut f, _) = db.open_full_snapshot(&info.name).unwrap();
    let mut archive = Vec::new();
    std::io::Read::read_to_end(&mut f, &mut archive).unwrap();
    assert_eq!(archive.len() as u64, info.size);

    // Into a fresh database that already has a collection the snapshot does not hold.
    let dst = tempfile::tempdir().unwrap();
    let db2 = Database::open(dst.path()).unwrap();
    db2.create_collection("keep", CollectionConfig::single(2, Distance::Dot))
        .unwrap();
    // Tampered archives and a wrong checksum change nothing.
    let mut bad = archive.clone();
    let at = bad.len() / 2;
    bad[at] ^= 0x55;
    assert!(db2.recover_full_snapshot(bad.as_slice(), None).is_err());
    assert!(db2
        .recover_full_snapshot(archive.as_slice(), Some(&"0".repeat(64)))
        .is_err());
    assert!(db2.recover_full_snapshot(&b"not a tar"[..], None).is_err());
    assert_eq!(db2.list_collections(), vec!["keep".to_string()]);

    let names = db2
        .recover_full_snapshot(archive.as_slice(), Some(&info.checksum))
        .unwrap();
    assert_eq!(names, vec!["a".to_string(), "b".to_string()]);
    for (n, want) in ["a", "b"].iter().zip(&before) {
        assert_eq!(&everything(&db2.collection(n).unwrap()), want);
    }
    assert_eq!(
        db2.list_aliases(),
        vec![("latest".to_string(), "b".to_string())]
    );
    assert_eq!(
        db2.catalog_document("chroma").unwrap(),
        Some(json!({"tenants": ["t"]}))
    );
    assert!(db2.collection_exists("keep"));
    drop(db2);
    let db2 = Database::open(dst.path()).unwrap();
    assert_eq!(&everything(&db2.collection("a").unwrap()), &before[0]);

    db.delete_full_snapshot(&info.name).unwrap();
    assert!(db.list_full_snapshots().unwrap().is_empty());
    for hostile in ["../LOCK", "full-snapshot-../../x.snapshot", "x.snapshot"] {
        assert!(db.open_full_snapshot(hostile).is_err());
        assert!(db.delete_full_snapshot(hostile).is_err());
    }
}

/// A snapshot of an indexed collection carries its graph, value-graph and filter-graph
/// files: the restored collection searches its graphs at once (nothing to build) and
/// answers exactly as the original.
#[test]
fn snapshots_of_indexed_collections_keep_their_graphs() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DbOptions {
        background: false,
        ..Default::default()
    };
    let db = Database::open_with(dir.path(), opts.clone()).unwrap();
    let mut cfg = CollectionConfig::single(16, Distance::Cosine);
    cfg.optimizer.indexing_threshold = 16; // KiB: 256 rows of 16 floats
    cfg.hnsw.full_scan_threshold = 4;
    cfg.quantization = Some(Quantization::Binary { always_ram: true });
    let c = db.create_collection("idx", cfg).unwrap();
    c.create_payload_index("tag", FieldSchema::Keyword, true)
        .unwrap();
    let mut rng = Rng(9);
    c.upsert(points(&mut rng, 0..3000, 16), true).unwrap();
    c.build_indexes().unwrap();
    let repeated =
        Filter::from_json(&json!({"must_not": [{"key": "tag", "match": {"any": ["t0", "t1"]}}]}))
            .unwrap();
    let queries: Vec<Vec<f32>> = (0..40).map(|_| rng.vector(16)).collect();
    let search = |c: &Collection, filter: Option<&Filter>| -> Vec<Vec<(PointId, f32)>> {
        queries
            .iter()
            .map(|q| {
                let mut req = SearchRequest::dense(q.clone(), 10);
                req.filter = filter.cloned();
                c.search(&req)
                    .unwrap()
                    .into_iter()
                    .map(|h| (h.id, h.score))
                    .collect()
            })
            .collect()
    };
    for _ in 0..2 {
        search(&c, Some(&repeated)); // the walks that earn the filter its graph
    }
    c.build_indexes().unwrap();
    let info = c.info().indexing;
    assert!(
        info.indexed_vectors == 3000 && info.filter_graphs.0 == 1,
        "{info:?}"
    );
    let tag =
        Filter::from_json(&json!({"must": [{"key": "tag", "match": {"value": "t3"}}]})).unwrap();
    let before: Vec<_> = [None, Some(&tag), Some(&repeated)]
        .into_iter()
        .map(|f| search(&c, f))
        .collect();

    let snap = db.create_snapshot("idx").unwrap();
    let path = dir.path().join("snapshots").join("idx").join(&snap.name);
    db.recover_snapshot_file("copy", &path, Some(&snap.checksum))
        .unwrap();
    let check = |copy: &Collection| {
        let got = copy.info().indexing;
        assert!(!got.pending, "graphs restored, nothing to build: {got:?}");
        assert_eq!(got.filter_graphs, info.filter_graphs);
        // the same graphs (read back, their buffers sized exactly)
        let (a, b) = (got.index_bytes as f64, info.index_bytes as f64);
        assert!((a - b).abs() < 0.05 * b, "{a} vs {b} bytes");
        let after: Vec<_> = [None, Some(&tag), Some(&repeated)]
            .into_iter()
            .map(|f| search(copy, f))
            .collect();
        assert_eq!(
            after, before,
            "the restored collection answers as the original"
        );
    };
    check(&db.collection("copy").unwrap());
    drop(c);
    drop(db);
    let db = Database::open_with(dir.path(), opts).unwrap();
    check(&db.collection("copy").unwrap());
}
