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
