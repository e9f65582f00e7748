//! Collections and points through the public API: every operation, its errors, reopening.

use std::collections::BTreeMap;

use azimuth_engine::*;
use serde_json::json;

use crate::common::{payload, points, small_db, Rng};

fn ids(n: &[u64]) -> Vec<PointId> {
    n.iter().map(|&i| PointId::Num(i)).collect()
}

fn filter(v: serde_json::Value) -> Filter {
    Filter::from_json(&v).unwrap()
}

fn all_ids(c: &Collection) -> Vec<PointId> {
    let req = ScrollRequest {
        limit: 10_000,
        ..Default::default()
    };
    c.scroll(&req)
        .unwrap()
        .points
        .into_iter()
        .map(|r| r.id)
        .collect()
}

#[test]
fn collections_lifecycle_and_name_rules() {
    let db = Database::in_memory();
    let cfg = CollectionConfig::single(3, Distance::Dot);
    db.create_collection("b", cfg.clone()).unwrap();
    db.create_collection("a", cfg.clone()).unwrap();
    assert_eq!(db.list_collections(), vec!["a", "b"]);
    assert_eq!(
        db.create_collection("a", cfg.clone()).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    for bad in ["", "a/b", "x\0y", &"n".repeat(256)] {
        assert_eq!(
            db.create_collection(bad, cfg.clone()).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    for size in [0, MAX_DIM + 1] {
        let e = db
            .create_collection("z", CollectionConfig::single(size, Distance::Dot))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
    let a = db.collection("a").unwrap();
    assert!(db.delete_collection("a").unwrap());
    assert!(!db.delete_collection("a").unwrap());
    assert!(!db.collection_exists("a"));
    assert_eq!(
        db.collection("a").err().map(|e| e.kind()),
        Some(ErrorKind::NotFound)
    );
    let p = PointStruct::new(1, vec![1.0, 0.0, 0.0], Payload::new());
    assert_eq!(
        a.upsert(vec![p], true).unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn bad_points_are_rejected_and_nothing_is_written() {
    let (_db, c) = small_db();
    let bad_vectors = [
        vec![1.0, 2.0],
        vec![],
        vec![1.0, f32::NAN, 0.0, 0.0],
        vec![f32::INFINITY, 0.0, 0.0, 0.0],
    ];
    for v in bad_vectors {
        let good = PointStruct::new(1, vec![1.0; 4], Payload::new());
        let bad = PointStruct::new(2, v, Payload::new());
        assert_eq!(
            c.upsert(vec![good, bad], true).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
    let mut named = PointStruct::new(3, vec![1.0; 4], Payload::new());
    named
        .vectors
        .insert("other".into(), Vector::Dense(vec![1.0; 4]));
    assert_eq!(
        c.upsert(vec![named], true).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let no_vector = PointStruct {
        id: PointId::Num(4),
        vectors: NamedVectors::new(),
        payload: Payload::new(),
    };
    assert_eq!(
        c.upsert(vec![no_vector], true).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!({ "d": deep });
    }
    let p = PointStruct::new(5, vec![1.0; 4], payload(json!({ "x": deep })));
    assert_eq!(
        c.upsert(vec![p], true).unwrap_err().kind(),
        ErrorKind::ResourceExhausted
    );
    let big = "x".repeat(17 << 20);
    let p = PointStruct::new(6, vec![1.0; 4], payload(json!({ "x": big })));
    assert_eq!(
        c.upsert(vec![p], true).unwrap_err().kind(),
        ErrorKind::ResourceExhausted
    );
    let p = PointStruct::new(PointId::Str(String::new()), vec![1.0; 4], Payload::new());
    assert_eq!(
        c.upsert(vec![p], true).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    assert_eq!(c.len(), 0);
    assert!(PointId::parse_uuid("not-a-uuid").is_err());
}

#[test]
fn upsert_get_and_selectors() {
    let (_db, c) = small_db();
    let uuid = PointId::parse_uuid("{5C56C793-69F3-4FBF-87E6-C4BF54C28C26}").unwrap();
    let pts = vec![
        PointStruct::new(
            7,
            vec![3.0, 0.0, 4.0, 0.0],
            payload(json!({"a": {"b": 1, "c": 2}, "d": 3})),
        ),
        PointStruct::new(uuid.clone(), vec![0.0, 1.0, 0.0, 0.0], Payload::new()),
        PointStruct::new(
            PointId::Str("doc-1".into()),
            vec![0.0, 0.0, 1.0, 0.0],
            Payload::new(),
        ),
    ];
    c.upsert(pts, true).unwrap();
    assert_eq!(uuid.to_string(), "5c56c793-69f3-4fbf-87e6-c4bf54c28c26");
    let got = c
        .get(
            &[PointId::Num(7), PointId::Num(99)],
            &PayloadSelector::All,
            &VectorSelector::All,
        )
        .unwrap();
    assert_eq!(got.len(), 1);
    // Cosine vectors come back normalised.
    assert_eq!(
        got[0].vectors.as_ref().unwrap()[""],
        Vector::Dense(vec![0.6, 0.0, 0.8, 0.0])
    );
    let inc = PayloadSelector::Include(vec![JsonPath::parse("a.b").unwrap()]);
    let got = c
        .get(&[PointId::Num(7)], &inc, &VectorSelector::None)
        .unwrap();
    assert_eq!(got[0].payload, Some(payload(json!({"a": {"b": 1}}))));
    assert_eq!(got[0].vectors, None);
    let exc = PayloadSelector::Exclude(vec![JsonPath::parse("a").unwrap()]);
    assert_eq!(
        c.get(&[PointId::Num(7)], &exc, &VectorSelector::None)
            .unwrap()[0]
            .payload,
        Some(payload(json!({"d": 3})))
    );
    // Scroll order: integers, then UUIDs, then strings.
    assert_eq!(
        all_ids(&c),
        vec![PointId::Num(7), uuid, PointId::Str("doc-1".into())]
    );
}

#[test]
fn payload_operations() {
    let (_db, c) = small_db();
    let mut rng = Rng(1);
    c.upsert(points(&mut rng, 0..10, 4), true).unwrap();
    let sel = PointSelector::Ids(ids(&[1, 2]));
    c.set_payload(&sel, payload(json!({"new": true})), None, true)
        .unwrap();
    c.set_payload(&sel, payload(json!({"x": 1})), Some("nested.deep"), true)
        .unwrap();
    let p = c
        .get(&ids(&[1]), &PayloadSelector::All, &VectorSelector::None)
        .unwrap()[0]
        .payload
        .clone()
        .unwrap();
    assert_eq!(p["new"], json!(true));
    assert_eq!(p["nested"], json!({"deep": {"x": 1}}));
    assert_eq!(p["i"], json!(1));
    c.delete_payload(&sel, &["nested".into(), "i".into()], true)
        .unwrap();
    let p = c
        .get(&ids(&[2]), &PayloadSelector::All, &VectorSelector::None)
        .unwrap()[0]
        .payload
        .clone()
        .unwrap();
    assert!(!p.contains_key("nested") && !p.contains_key("i") && p.contains_key("tag"));
    c.overwrite_payload(
        &PointSelector::Filter(filter(
            json!({"must": [{"key": "tag", "match": {"value": "t3"}}]}),
        )),
        payload(json!({"o": 1})),
        true,
    )
    .unwrap();
    assert_eq!(
        c.count(Some(&filter(
            json!({"must": [{"key": "o", "match": {"value": 1}}]})
        )))
        .unwrap(),
        2
    );
    c.clear_payload(&PointSelector::Ids(ids(&[3])), true)
        .unwrap();
    assert_eq!(
        c.get(&ids(&[3]), &PayloadSelector::All, &VectorSelector::None)
            .unwrap()[0]
            .payload,
        Some(Payload::new())
    );
    c.delete(
        &PointSelector::Filter(filter(
            json!({"must": [{"key": "even", "match": {"value": true}}]}),
        )),
        true,
    )
    .unwrap();
    // 8 lost its "even" key to the overwrite above, so the filter no longer selects it.
    assert_eq!(all_ids(&c), ids(&[1, 3, 5, 7, 8, 9]));
    c.delete(&PointSelector::Ids(ids(&[1, 1000])), true)
        .unwrap();
    assert_eq!(c.len(), 5);
}

#[test]
fn named_and_sparse_vectors() {
    let db = Database::in_memory();
    let mut vectors = BTreeMap::new();
    vectors.insert("img".to_string(), VectorParams::new(2, Distance::Euclid));
    vectors.insert("txt".to_string(), VectorParams::new(3, Distance::Manhattan));
    let mut cfg = CollectionConfig::named(vectors);
    cfg.sparse_vectors
        .insert("bm25".into(), SparseVectorParams::default());
    let c = db.create_collection("n", cfg).unwrap();
    let mk = |id: u64, img: Option<Vec<f32>>, sparse: Option<(Vec<u32>, Vec<f32>)>| {
        let mut v = NamedVectors::new();
        if let Some(i) = img {
            v.insert("img".into(), Vector::Dense(i));
        }
        if let Some((indices, values)) = sparse {
            v.insert(
                "bm25".into(),
                Vector::Sparse(SparseVector { indices, values }),
            );
        }
        PointStruct {
            id: PointId::Num(id),
            vectors: v,
            payload: Payload::new(),
        }
    };
    c.upsert(
        vec![
            mk(1, Some(vec![0.0, 0.0]), Some((vec![5, 1], vec![1.0, 2.0]))),
            mk(2, Some(vec![3.0, 4.0]), None),
            mk(3, None, Some((vec![9], vec![1.0]))),
        ],
        true,
    )
    .unwrap();
    // Euclid returns the distance, ascending.
    let mut req = SearchRequest::dense(vec![0.0, 0.0], 10);
    req.using = "img".into();
    let hits = c.search(&req).unwrap();
    assert_eq!(
        hits.iter()
            .map(|h| (h.id.clone(), h.score))
            .collect::<Vec<_>>(),
        vec![(PointId::Num(1), 0.0), (PointId::Num(2), 5.0)]
    );
    req.score_threshold = Some(5.0);
    assert_eq!(c.search(&req).unwrap().len(), 1, "threshold is strict");
    // Sparse: dot over shared indices; points with no overlap are not returned.
    let sreq = SearchRequest {
        query: QueryVector::Sparse(SparseVector {
            indices: vec![1, 7],
            values: vec![0.5, 1.0],
        }),
        using: "bm25".into(),
        ..SearchRequest::dense(vec![], 10)
    };
    let hits = c.search(&sreq).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!((hits[0].id.clone(), hits[0].score), (PointId::Num(1), 1.0));
    // Duplicate sparse indices are an error.
    let bad = mk(4, None, Some((vec![1, 1], vec![1.0, 1.0])));
    assert_eq!(
        c.upsert(vec![bad], true).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    // has_vector, update and delete vectors.
    let has_img = filter(json!({"must": [{"has_vector": "img"}]}));
    assert_eq!(c.count(Some(&has_img)).unwrap(), 2);
    let mut upd = NamedVectors::new();
    upd.insert("img".into(), Vector::Dense(vec![1.0, 1.0]));
    c.update_vectors(vec![(PointId::Num(3), upd)], None, true)
        .unwrap();
    assert_eq!(c.count(Some(&has_img)).unwrap(), 3);
    let got = c
        .get(&ids(&[3]), &PayloadSelector::None, &VectorSelector::All)
        .unwrap();
    assert_eq!(
        got[0].vectors.as_ref().unwrap().len(),
        2,
        "update keeps the other vectors"
    );
    c.delete_vectors(&PointSelector::Ids(ids(&[1, 2])), &["img".into()], true)
        .unwrap();
    assert_eq!(c.count(Some(&has_img)).unwrap(), 1);
    assert_eq!(
        c.delete_vectors(&PointSelector::Ids(ids(&[1])), &["nope".into()], true)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn search_scores_threshold_offset_and_filters() {
    for (distance, expect) in [
        (Distance::Cosine, [1.0, 0.6]),
        (Distance::Dot, [5.0, 3.0]),
        (Distance::Manhattan, [3.0, 5.0]),
    ] {
        let db = Database::in_memory();
        let c = db
            .create_collection("s", CollectionConfig::single(2, distance))
            .unwrap();
        c.upsert(
            vec![
                PointStruct::new(1, vec![3.0, 4.0], Payload::new()),
                PointStruct::new(2, vec![3.0, 0.0], Payload::new()),
            ],
            true,
        )
        .unwrap();
        let q = if distance == Distance::Manhattan {
            vec![0.0, 0.0]
        } else {
            vec![3.0, 4.0]
        };
        let q = if distance == Distance::Dot {
            vec![1.0, 1.0]
        } else {
            q
        };
        let hits = c.search(&SearchRequest::dense(q.clone(), 10)).unwrap();
        let got: Vec<f32> = hits.iter().map(|h| h.score).collect();
        let want = if distance == Distance::Manhattan {
            vec![3.0, 7.0]
        } else if distance == Distance::Dot {
            vec![7.0, 3.0]
        } else {
            expect.to_vec()
        };
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{distance:?}: {got:?} vs {want:?}");
        }
        let mut req = SearchRequest::dense(q, 10);
        req.offset = 1;
        assert_eq!(c.search(&req).unwrap().len(), 1);
    }
    let (_db, c) = small_db();
    let mut rng = Rng(2);
    c.upsert(points(&mut rng, 0..200, 4), true).unwrap();
    let q = rng.vector(4);
    let mut req = SearchRequest::dense(q, 5);
    req.filter = Some(filter(
        json!({"must": [{"key": "tag", "match": {"any": ["t1", "t2"]}}]}),
    ));
    req.with_payload = PayloadSelector::All;
    let hits = c.search(&req).unwrap();
    assert_eq!(hits.len(), 5);
    assert!(hits
        .iter()
        .all(|h| ["t1", "t2"].contains(&h.payload.as_ref().unwrap()["tag"].as_str().unwrap())));
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    let batch = c
        .search_batch(&[
            req.clone(),
            SearchRequest::dense(vec![1.0, 0.0, 0.0, 0.0], 3),
        ])
        .unwrap();
    assert_eq!(batch[0], hits);
    assert_eq!(batch[1].len(), 3);
    let bad = SearchRequest::dense(vec![1.0, 0.0], 3);
    assert_eq!(
        c.search(&bad).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn scroll_pages_and_order_by() {
    let (_db, c) = small_db();
    let mut rng = Rng(3);
    c.upsert(points(&mut rng, 0..25, 4), true).unwrap();
    let mut seen = Vec::new();
    let mut offset = None;
    loop {
        let page = c
            .scroll(&ScrollRequest {
                offset: offset.clone(),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        seen.extend(page.points.into_iter().map(|r| r.id));
        offset = page.next_page_offset;
        if offset.is_none() {
            break;
        }
    }
    assert_eq!(seen, ids(&(0..25).collect::<Vec<_>>()));
    let key = JsonPath::parse("i").unwrap();
    let order = OrderBy {
        key: key.clone(),
        descending: true,
        start_from: Some(20.0),
    };
    let req = ScrollRequest {
        order_by: Some(order),
        limit: 3,
        ..Default::default()
    };
    assert_eq!(
        c.scroll(&req).unwrap_err().kind(),
        ErrorKind::InvalidArgument,
        "needs a range index"
    );
    c.create_payload_index("i", FieldSchema::Integer, true)
        .unwrap();
    let page = c.scroll(&req).unwrap();
    assert_eq!(
        page.points.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        ids(&[20, 19, 18])
    );
    assert_eq!(page.points[0].order_value, Some(OrderValue::Int(20)));
}

#[test]
fn upsert_modes_and_update_filter() {
    let (_db, c) = small_db();
    c.upsert(
        vec![PointStruct::new(1, vec![1.0; 4], payload(json!({"v": 1})))],
        true,
    )
    .unwrap();
    let p = |id: u64, v: i64| PointStruct::new(id, vec![1.0; 4], payload(json!({"v": v})));
    let opts = UpsertOptions {
        mode: UpsertMode::InsertOnly,
        update_filter: None,
    };
    c.upsert_with(vec![p(1, 2), p(2, 2)], &opts, true).unwrap();
    let opts = UpsertOptions {
        mode: UpsertMode::UpdateOnly,
        update_filter: None,
    };
    c.upsert_with(vec![p(3, 3)], &opts, true).unwrap();
    let v = |id: u64| {
        c.get(&ids(&[id]), &PayloadSelector::All, &VectorSelector::None)
            .unwrap()
            .first()
            .map(|r| r.payload.clone().unwrap()["v"].clone())
    };
    assert_eq!((v(1), v(2), v(3)), (Some(json!(1)), Some(json!(2)), None));
    let opts = UpsertOptions {
        mode: UpsertMode::Upsert,
        update_filter: Some(filter(
            json!({"must": [{"key": "v", "range": {"gt": 1.5}}]}),
        )),
    };
    c.upsert_with(vec![p(1, 10), p(2, 20), p(4, 40)], &opts, true)
        .unwrap();
    assert_eq!(
        (v(1), v(2), v(4)),
        (Some(json!(1)), Some(json!(20)), Some(json!(40)))
    );
}

#[test]
fn state_survives_reopen_flush_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(4);
    let expected;
    {
        let db = Database::open(dir.path()).unwrap();
        assert_eq!(
            Database::open(dir.path()).err().map(|e| e.kind()),
            Some(ErrorKind::Conflict),
            "second opener is locked out"
        );
        let c = db
            .create_collection("p", CollectionConfig::single(4, Distance::Cosine))
            .unwrap();
        c.create_payload_index("tag", FieldSchema::Keyword, true)
            .unwrap();
        for chunk in 0..12u64 {
            c.upsert(points(&mut rng, chunk * 50..chunk * 50 + 50, 4), true)
                .unwrap();
            c.flush().unwrap();
        }
        c.delete(
            &PointSelector::Filter(filter(
                json!({"must": [{"key": "i", "range": {"lt": 200}}]}),
            )),
            true,
        )
        .unwrap();
        c.set_payload(
            &PointSelector::Ids(ids(&[500])),
            payload(json!({"z": 1})),
            None,
            true,
        )
        .unwrap();
        c.flush().unwrap();
        while c.optimize().unwrap() {}
        assert!(c.info().segments_count <= 9);
        c.upsert(points(&mut rng, 1000..1010, 4), true).unwrap(); // only in the log
        expected = c
            .scroll(&ScrollRequest {
                limit: 10_000,
                with_vectors: VectorSelector::All,
                ..Default::default()
            })
            .unwrap();
    }
    let db = Database::open(dir.path()).unwrap();
    let c = db.collection("p").unwrap();
    let got = c
        .scroll(&ScrollRequest {
            limit: 10_000,
            with_vectors: VectorSelector::All,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(got, expected);
    assert_eq!(c.len(), 410);
    assert_eq!(c.info().payload_schema.len(), 1);
    assert_eq!(
        c.count(Some(&filter(
            json!({"must": [{"key": "tag", "match": {"value": "t1"}}]})
        )))
        .unwrap(),
        82
    );
}

#[test]
fn aliases_resolve_persist_and_follow_deletes() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open(dir.path()).unwrap();
        db.create_collection("real", CollectionConfig::single(2, Distance::Dot))
            .unwrap();
        let create = |a: &str, c: &str| AliasAction::Create {
            alias: a.into(),
            collection: c.into(),
        };
        db.update_aliases(&[create("a1", "real"), create("a2", "real")])
            .unwrap();
        assert_eq!(db.collection("a1").unwrap().name(), "real");
        // All or nothing: the failing second action leaves the table unchanged.
        let bad = [
            AliasAction::Delete { alias: "a1".into() },
            create("a3", "missing"),
        ];
        assert_eq!(
            db.update_aliases(&bad).unwrap_err().kind(),
            ErrorKind::NotFound
        );
        assert!(db.collection_exists("a1"));
        db.update_aliases(&[AliasAction::Rename {
            old: "a2".into(),
            new: "b2".into(),
        }])
        .unwrap();
        assert_eq!(
            db.create_collection("b2", CollectionConfig::single(2, Distance::Dot))
                .unwrap_err()
                .kind(),
            ErrorKind::AlreadyExists
        );
    }
    let db = Database::open(dir.path()).unwrap();
    assert_eq!(
        db.list_aliases(),
        vec![
            ("a1".to_string(), "real".to_string()),
            ("b2".to_string(), "real".to_string())
        ]
    );
    assert!(
        db.delete_collection("b2").unwrap(),
        "deleting through an alias deletes the collection"
    );
    assert!(db.list_aliases().is_empty() && db.list_collections().is_empty());
}

#[test]
fn facet_counts_points_per_value() {
    let (_db, c) = small_db();
    let mut rng = Rng(6);
    c.upsert(points(&mut rng, 0..23, 4), true).unwrap();
    let p = PointStruct::new(
        100,
        vec![1.0; 4],
        payload(json!({"tag": ["t0", "t0", "t9"], "even": true})),
    );
    c.upsert(vec![p], true).unwrap();
    let key = JsonPath::parse("tag").unwrap();
    assert_eq!(
        c.facet(&key, None, 10).unwrap_err().kind(),
        ErrorKind::InvalidArgument,
        "needs an index"
    );
    c.create_payload_index("tag", FieldSchema::Keyword, true)
        .unwrap();
    let hits = c.facet(&key, None, 3).unwrap();
    let got: Vec<(String, usize)> = hits
        .iter()
        .map(|h| (h.value.as_str().unwrap().to_string(), h.count))
        .collect();
    // t0: 0,5,10,15,20 + point 100 (counted once) = 6; t1, t2: 5 each (ties by value).
    assert_eq!(
        got,
        vec![("t0".into(), 6), ("t1".into(), 5), ("t2".into(), 5)]
    );
    let odd = filter(json!({"must": [{"key": "even", "match": {"value": false}}]}));
    assert_eq!(
        c.facet(&key, Some(&odd), 10)
            .unwrap()
            .iter()
            .map(|h| h.count)
            .sum::<usize>(),
        11
    );
}
