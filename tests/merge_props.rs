//! Randomized properties of the streamed k-way merge (seeded, so failures reproduce): it pairs exactly the rows that share a
//! key case-insensitively, so the differences it yields between two keyed sets are exactly the sets' differences, NULLs included,
//! whatever the batch boundaries; and a source out of order fails instead of producing groups.

use cellaudit::db::{Row, Value};
use cellaudit::merge::{BatchSource, Merge, Step, key_cmp};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Rows held in memory, handed out in the given batches (some empty).
struct Mem(VecDeque<Vec<Row>>);

impl BatchSource for Mem {
    async fn next_batch(&mut self) -> Option<Result<Vec<Row>, String>> {
        self.0.pop_front().map(Ok)
    }
}

fn batches(rng: &mut Rng, rows: Vec<Row>) -> Mem {
    let mut out = VecDeque::new();
    let mut it = rows.into_iter().peekable();
    while it.peek().is_some() {
        let n = rng.below(5) as usize;
        out.push_back(it.by_ref().take(n).collect());
    }
    Mem(out)
}

/// A key from a small alphabet (so keys collide across sets), each letter in random case.
fn key(rng: &mut Rng) -> String {
    let len = 1 + rng.below(4) as usize;
    (0..len)
        .map(|_| {
            let c = b"-0189abef"[rng.below(9) as usize] as char;
            if rng.below(2) == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn value(rng: &mut Rng) -> Value {
    match rng.below(4) {
        0 => Value::Null,
        1 => Value::Int(rng.below(3) as i64),
        2 => Value::Text(["x", "X", ""][rng.below(3) as usize].into()),
        _ => Value::Text("y".into()),
    }
}

/// A keyed set: folded key → (key as spelt, values); then as rows in key order.
fn keyed_set(rng: &mut Rng) -> BTreeMap<String, (String, Vec<Value>)> {
    let mut set = BTreeMap::new();
    for _ in 0..rng.below(60) {
        let k = key(rng);
        let vals = vec![value(rng), value(rng)];
        set.entry(k.to_ascii_lowercase()).or_insert((k, vals));
    }
    set
}

fn rows_of(set: &BTreeMap<String, (String, Vec<Value>)>) -> Vec<Row> {
    let mut rows: Vec<Row> = set
        .values()
        .map(|(k, v)| {
            let mut r = vec![Value::Text(k.clone())];
            r.extend(v.iter().cloned());
            r
        })
        .collect();
    rows.sort_by(|a, b| match (&a[0], &b[0]) {
        (Value::Text(x), Value::Text(y)) => key_cmp(x, y),
        _ => unreachable!(),
    });
    rows
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn two_random_keyed_sets_differ_exactly_where_the_merge_says() {
    for seed in 1..=400u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let a = keyed_set(&mut rng);
        let b = keyed_set(&mut rng);
        let sources = vec![
            batches(&mut rng, rows_of(&a)),
            batches(&mut rng, rows_of(&b)),
        ];
        let (only_a, only_b, differ, same) = block_on(async {
            let mut m = Merge::new(sources, 0);
            let (mut only_a, mut only_b, mut differ, mut same) = (
                BTreeSet::new(),
                BTreeSet::new(),
                BTreeSet::new(),
                BTreeSet::new(),
            );
            let mut last: Option<String> = None;
            while let Some(step) = m.next().await {
                let Step::Group(g) = step else {
                    panic!("seed {seed}: sorted sources failed: {step:?}")
                };
                if let Some(l) = &last {
                    assert_eq!(key_cmp(l, &g.key), std::cmp::Ordering::Less, "seed {seed}");
                }
                last = Some(g.key.clone());
                let k = g.key.to_ascii_lowercase();
                match (g.from_source(0), g.from_source(1)) {
                    (Some(_), None) => only_a.insert(k),
                    (None, Some(_)) => only_b.insert(k),
                    (Some(x), Some(y)) if x[1..] != y[1..] => differ.insert(k),
                    (Some(_), Some(_)) => same.insert(k),
                    (None, None) => panic!("seed {seed}: empty group"),
                };
            }
            (only_a, only_b, differ, same)
        });
        let want_a: BTreeSet<String> = a.keys().filter(|k| !b.contains_key(*k)).cloned().collect();
        let want_b: BTreeSet<String> = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
        let want_differ: BTreeSet<String> = a
            .iter()
            .filter(|(k, (_, v))| b.get(*k).is_some_and(|(_, w)| w != v))
            .map(|(k, _)| k.clone())
            .collect();
        let want_same: BTreeSet<String> = a
            .iter()
            .filter(|(k, (_, v))| b.get(*k).is_some_and(|(_, w)| w == v))
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(only_a, want_a, "seed {seed}");
        assert_eq!(only_b, want_b, "seed {seed}");
        assert_eq!(differ, want_differ, "seed {seed}");
        assert_eq!(same, want_same, "seed {seed}");
    }
}

#[test]
fn many_sources_group_every_row_once_under_its_key() {
    for seed in 1..=200u64 {
        let mut rng = Rng(seed ^ 0xDEAD_BEEF_CAFE);
        let sets: Vec<_> = (0..1 + rng.below(6)).map(|_| keyed_set(&mut rng)).collect();
        let sources: Vec<Mem> = sets.iter().map(|s| batches(&mut rng, rows_of(s))).collect();
        let seen = block_on(async {
            let mut m = Merge::new(sources, 0);
            let mut seen: BTreeMap<String, BTreeMap<usize, Row>> = BTreeMap::new();
            while let Some(step) = m.next().await {
                let Step::Group(g) = step else {
                    panic!("{step:?}")
                };
                let k = g.key.to_ascii_lowercase();
                assert!(!seen.contains_key(&k), "seed {seed}: key {k} grouped twice");
                seen.insert(k, g.rows.into_iter().collect());
            }
            seen
        });
        let mut want: BTreeMap<String, BTreeMap<usize, Row>> = BTreeMap::new();
        for (i, s) in sets.iter().enumerate() {
            for row in rows_of(s) {
                let Value::Text(k) = &row[0] else {
                    unreachable!()
                };
                want.entry(k.to_ascii_lowercase())
                    .or_default()
                    .insert(i, row);
            }
        }
        assert_eq!(seen, want, "seed {seed}");
    }
}

#[test]
fn a_source_out_of_order_or_with_a_repeated_key_fails_and_the_others_go_on() {
    for (rows, what) in [
        (vec!["a", "c", "B"], "not in key order"),
        (vec!["a", "b", "B"], "appears twice"),
    ] {
        let bad: Vec<Row> = rows
            .iter()
            .map(|k| vec![Value::Text(k.to_string())])
            .collect();
        let good: Vec<Row> = ["a", "b", "c", "d"]
            .iter()
            .map(|k| vec![Value::Text(k.to_string())])
            .collect();
        let steps = block_on(async {
            let mut m = Merge::new(vec![Mem(vec![good].into()), Mem(vec![bad].into())], 0);
            let mut steps = Vec::new();
            while let Some(s) = m.next().await {
                steps.push(s);
            }
            steps
        });
        let failed: Vec<_> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Failed { source, error } => Some((*source, error.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(failed.len(), 1, "{steps:?}");
        assert_eq!(failed[0].0, 1);
        assert!(failed[0].1.contains(what), "{}", failed[0].1);
        let keys: Vec<String> = steps
            .iter()
            .filter_map(|s| match s {
                Step::Group(g) => Some(g.key.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(keys, ["a", "b", "c", "d"]);
    }
}

#[test]
fn a_null_key_fails_the_source() {
    let steps = block_on(async {
        let rows = vec![vec![Value::Text("a".into())], vec![Value::Null]];
        let mut m = Merge::new(vec![Mem(vec![rows].into())], 0);
        let mut steps = Vec::new();
        while let Some(s) = m.next().await {
            steps.push(s);
        }
        steps
    });
    assert!(
        matches!(&steps[1], Step::Failed { source: 0, error } if error.contains("no text key"))
    );
}
