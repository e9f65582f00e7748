//! Adding vectors to a collection and deleting them: points written before an added vector
//! do not have it, a deleted vector is gone from every point, a vector re-created under a
//! deleted name starts empty, and all of it holds after a reopen — graph files included,
//! whose names are positions that a change of the vector list shifts.

use std::collections::BTreeMap;

use azimuth_engine::{
    CollectionConfig, Database, DbOptions, Distance, ErrorKind, NamedVectors, NewVector, Payload,
    PointId, PointStruct, QueryVector, SearchRequest, SparseVector, SparseVectorParams, Vector,
    VectorParams,
};

use crate::common::Rng;

fn point(id: u64, vectors: &[(&str, Vec<f32>)]) -> PointStruct {
    let mut v = NamedVectors::new();
    for (name, x) in vectors {
        v.insert(name.to_string(), Vector::Dense(x.clone()));
    }
    PointStruct {
        id: PointId::Num(id),
        vectors: v,
        payload: Payload::new(),
    }
}

fn search(c: &azimuth_engine::Collection, using: &str, q: Vec<f32>, k: usize) -> Vec<u64> {
    let mut req = SearchRequest::dense(q, k);
    req.using = using.into();
    req.params.exact = true;
    c.search(&req)
        .unwrap()
        .into_iter()
        .map(|h| match h.id {
            PointId::Num(n) => n,
            other => panic!("unexpected id {other:?}"),
        })
        .collect()
}

/// How many of the exact top 10 a walk of `using`'s graphs finds, over a few queries out of
/// 10 × their number: a moved graph file must still be the graph of its vector.
fn walk_overlap(c: &azimuth_engine::Collection, using: &str, dim: usize, rng: &mut Rng) -> f64 {
    let (mut found, mut total) = (0, 0);
    for _ in 0..20 {
        let q = rng.vector(dim);
        let exact = search(c, using, q.clone(), 10);
        let mut req = SearchRequest::dense(q, 10);
        req.using = using.into();
        req.params.hnsw_ef = Some(64);
        let hits = c.search(&req).unwrap();
        found += hits
            .iter()
            .filter(|h| matches!(h.id, PointId::Num(n) if exact.contains(&n)))
            .count();
        total += exact.len();
    }
    found as f64 / total as f64
}

fn vector_names(c: &azimuth_engine::Collection, id: u64) -> Vec<String> {
    crate::common::vectors_of(c, id).into_keys().collect()
}

#[test]
fn vectors_are_added_and_deleted_durably_and_old_values_never_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(41);
    let (a, c_) = (rng.vector(8), rng.vector(8));
    let options = DbOptions {
        background: false,
        ..Default::default()
    };
    let before_graphs;
    let c_hits;
    {
        let db = Database::open_with(dir.path(), options.clone()).unwrap();
        let mut vectors = BTreeMap::new();
        vectors.insert("a".to_string(), VectorParams::new(8, Distance::Cosine));
        vectors.insert("c".to_string(), VectorParams::new(8, Distance::Euclid));
        let mut cfg = CollectionConfig::named(vectors);
        cfg.optimizer.indexing_threshold = 1; // graphs for every sealed segment
        cfg.hnsw.full_scan_threshold = 1;
        let coll = db.create_collection("v", cfg).unwrap();
        let pts: Vec<PointStruct> = (0..600)
            .map(|i| point(i, &[("a", rng.vector(8)), ("c", rng.vector(8))]))
            .collect();
        coll.upsert(pts, true).unwrap();
        coll.flush().unwrap();
        coll.build_indexes().unwrap();
        before_graphs = coll.info().indexing.indexed_vectors;
        assert_eq!(before_graphs, 1200, "both vectors of every point indexed");
        c_hits = search(&coll, "c", c_.clone(), 10);

        // "b" sorts between "a" and "c": c's graph files move one position on
        coll.create_vector("b", NewVector::Dense(VectorParams::new(4, Distance::Dot)))
            .unwrap();
        assert_eq!(
            coll.create_vector("b", NewVector::Dense(VectorParams::new(4, Distance::Dot)))
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArgument
        );
        assert_eq!(vector_names(&coll, 3), vec!["a", "c"], "old points lack b");
        assert!(search(&coll, "b", vec![1.0; 4], 10).is_empty());
        coll.upsert(
            vec![point(
                1000,
                &[("a", a.clone()), ("b", vec![1.0; 4]), ("c", c_.clone())],
            )],
            true,
        )
        .unwrap();
        assert_eq!(search(&coll, "b", vec![1.0; 4], 10), vec![1000]);
        // a and c keep their graphs; no sealed row has b, so b needs none there
        assert_eq!(coll.info().indexing.indexed_vectors, 1800, "graphs kept");
        coll.create_vector("s", NewVector::Sparse(SparseVectorParams::default()))
            .unwrap();
    }
    {
        let db = Database::open_with(dir.path(), options.clone()).unwrap();
        let coll = db.collection("v").unwrap();
        assert_eq!(
            coll.info().indexing.indexed_vectors,
            1800,
            "graphs reopened under their new positions, not rebuilt"
        );
        assert_eq!(
            search(&coll, "c", c_.clone(), 10)[..],
            {
                let mut want = c_hits.clone();
                want.insert(0, 1000);
                want.truncate(10);
                want
            }[..]
        );
        assert_eq!(search(&coll, "b", vec![1.0; 4], 10), vec![1000]);
        assert_eq!(vector_names(&coll, 3), vec!["a", "c"]);
        assert_eq!(vector_names(&coll, 1000), vec!["a", "b", "c"]);
        // the graphs walked under their new positions are their vectors' own
        for (name, dim) in [("a", 8), ("c", 8)] {
            let overlap = walk_overlap(&coll, name, dim, &mut rng);
            assert!(overlap >= 0.95, "{name}: {overlap}");
        }

        // delete b and c, then re-create b with the same shape: nothing of the old b is back
        coll.delete_vector("b").unwrap();
        coll.delete_vector("c").unwrap();
        assert_eq!(
            coll.delete_vector("c").unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert_eq!(vector_names(&coll, 1000), vec!["a"]);
        coll.create_vector("b", NewVector::Dense(VectorParams::new(4, Distance::Dot)))
            .unwrap();
        assert!(search(&coll, "b", vec![1.0; 4], 10).is_empty());
        let sparse = SearchRequest {
            query: QueryVector::Sparse(SparseVector {
                indices: vec![1],
                values: vec![1.0],
            }),
            using: "s".into(),
            ..SearchRequest::dense(vec![], 10)
        };
        assert!(coll.search(&sparse).unwrap().is_empty());
    }
    let db = Database::open_with(dir.path(), options).unwrap();
    let coll = db.collection("v").unwrap();
    assert!(
        search(&coll, "b", vec![1.0; 4], 10).is_empty(),
        "old b stays gone"
    );
    assert_eq!(vector_names(&coll, 1000), vec!["a"]);
    assert_eq!(coll.len(), 601);
    let overlap = walk_overlap(&coll, "a", 8, &mut rng);
    assert!(overlap >= 0.95, "a after deletes: {overlap}");
    // a's graph of the 600 rows was kept (the one-row segment is below the threshold), and
    // no sealed row has the new b
    assert_eq!(
        coll.info().indexing.indexed_vectors,
        1201,
        "a's graphs kept"
    );
    // the 600-row segment has a's graph and no row with the new b: nothing to build
    assert!(
        !coll.info().indexing.pending,
        "an empty vector needs no graph"
    );
}

#[test]
fn a_single_unnamed_vector_collection_takes_no_other_vectors() {
    let db = Database::in_memory();
    let c = db
        .create_collection("u", CollectionConfig::single(4, Distance::Cosine))
        .unwrap();
    let err = c
        .create_vector("x", NewVector::Dense(VectorParams::new(4, Distance::Dot)))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidArgument);
    assert_eq!(
        c.delete_vector("").unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn in_memory_collections_change_vectors_with_points_in_the_mutable_segment() {
    let db = Database::in_memory();
    let mut vectors = BTreeMap::new();
    vectors.insert("a".to_string(), VectorParams::new(2, Distance::Euclid));
    let c = db
        .create_collection("m", CollectionConfig::named(vectors))
        .unwrap();
    c.upsert(vec![point(1, &[("a", vec![0.0, 0.0])])], true)
        .unwrap();
    c.create_vector(
        "b",
        NewVector::Dense(VectorParams::new(2, Distance::Euclid)),
    )
    .unwrap();
    c.upsert(
        vec![point(2, &[("a", vec![1.0, 0.0]), ("b", vec![0.0, 1.0])])],
        true,
    )
    .unwrap();
    assert_eq!(search(&c, "a", vec![0.0, 0.0], 5), vec![1, 2]);
    assert_eq!(search(&c, "b", vec![0.0, 0.0], 5), vec![2]);
    c.delete_vector("a").unwrap();
    assert_eq!(vector_names(&c, 1), Vec::<String>::new());
    assert_eq!(c.len(), 2, "points stay when their vectors go");
}
