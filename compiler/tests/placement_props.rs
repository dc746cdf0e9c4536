//! Property tests of placement on random host graphs, realm trees and weights.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use monitorc_compiler::{check_timed, Checked, Options};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Case {
    /// Realm of each host (0 is the default, top realm; 1 and 2 are its members).
    hosts: Vec<usize>,
    /// Parent of each host, as an index of an earlier host, when it has one.
    parents: Vec<Option<usize>>,
    /// Weights of the schedulers of each realm.
    weights: Vec<Vec<u32>>,
    /// Services per host.
    services: Vec<usize>,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=3, 2usize..60).prop_flat_map(|(realms, n)| {
        (
            prop::collection::vec(0..realms, n),
            prop::collection::vec(prop::option::weighted(0.6, any::<prop::sample::Index>()), n),
            prop::collection::vec(prop::collection::vec(1u32..=4, 1..=3), realms),
            prop::collection::vec(0usize..4, n),
        )
            .prop_map(|(hosts, parent_picks, weights, services)| {
                // Parents only among earlier hosts of the same realm: a pack never spans realms.
                let parents = parent_picks
                    .iter()
                    .enumerate()
                    .map(|(i, pick)| {
                        let candidates: Vec<usize> =
                            (0..i).filter(|&j| hosts[j] == hosts[i]).collect();
                        pick.as_ref()
                            .filter(|_| !candidates.is_empty())
                            .map(|ix| candidates[ix.index(candidates.len())])
                    })
                    .collect();
                Case {
                    hosts,
                    parents,
                    weights,
                    services,
                }
            })
    })
}

fn write(dir: &Path, c: &Case, extra_host: bool) -> std::path::PathBuf {
    let realms = c.weights.len();
    let mut o = String::from(
        "define command {\n    command_name  check_x\n    command_line  /bin/true\n}\n\n",
    );
    for r in 0..realms {
        write!(o, "define realm {{\n    realm_name  R{r}\n").unwrap();
        if r == 0 {
            let members: Vec<String> = (1..realms).map(|m| format!("R{m}")).collect();
            writeln!(
                o,
                "    default  1\n    realm_members  {}",
                members.join(",")
            )
            .unwrap();
        }
        o.push_str("}\n\n");
        for (s, w) in c.weights[r].iter().enumerate() {
            writeln!(o, "define scheduler {{\n    scheduler_name  s{r}-{s}\n    realm  R{r}\n    weight  {w}\n}}\n").unwrap();
        }
        writeln!(
            o,
            "define poller {{\n    poller_name  p{r}\n    realm  R{r}\n}}\n"
        )
        .unwrap();
    }
    o.push_str("define broker {\n    broker_name  b\n    realm  R0\n}\n\ndefine reactionner {\n    reactionner_name  re\n    realm  R0\n}\n\ndefine receiver {\n    receiver_name  rc\n    realm  R0\n}\n\n");
    for (i, &r) in c.hosts.iter().enumerate() {
        write!(
            o,
            // Placement is what these trees are about: they notify no one, on purpose.
            "define host {{\n    host_name  h{i:03}\n    realm  R{r}\n    notifications_enabled  0\n"
        )
        .unwrap();
        if let Some(p) = c.parents[i] {
            writeln!(o, "    parents  h{p:03}").unwrap();
        }
        o.push_str("}\n\n");
        for s in 0..c.services[i] {
            writeln!(o, "define service {{\n    host_name  h{i:03}\n    service_description  S{s}\n    check_interval  5\n    retry_interval  1\n    check_command  check_x\n    notifications_enabled  0\n}}\n").unwrap();
        }
    }
    if extra_host {
        o.push_str("define host {\n    host_name  zz-unrelated\n    realm  R0\n}\n\n");
    }
    let path = dir.join(if extra_host {
        "grown.cfg"
    } else {
        "objects.cfg"
    });
    std::fs::write(&path, o).unwrap();
    path
}

fn run(path: &Path, threads: usize, previous: Option<BTreeMap<String, String>>) -> Checked {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        check_timed(
            path,
            &Options {
                previous,
                ..Default::default()
            },
        )
        .unwrap()
        .0
    })
}

/// Host name → scheduler name.
fn placement(c: &Checked) -> BTreeMap<String, String> {
    let p = &c.plan;
    (0..c.model.hosts.len())
        .map(|h| {
            let s = p.scheduler_of_host(h as u32).expect("every host is placed");
            (c.model.host_names[h].clone(), p.daemons[s].name.clone())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn placement_properties(c in case()) {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), &c, false);
        let checked = run(&path, 2, None);
        let errors: Vec<_> = checked.diagnostics.iter().map(|d| d.message.clone()).collect();
        prop_assert!(errors.is_empty(), "{:?}", errors);
        let plan = &checked.plan;
        let placed = placement(&checked);
        // Every host placed exactly once, on a scheduler of its realm.
        prop_assert_eq!(placed.len(), c.hosts.len());
        for (h, s) in &placed {
            let i: usize = h[1..].parse().unwrap();
            prop_assert!(s.starts_with(&format!("s{}-", c.hosts[i])), "{} in realm {} on {}", h, c.hosts[i], s);
        }
        // Packs never split: a host and its parent share a scheduler.
        for (i, p) in c.parents.iter().enumerate() {
            if let Some(p) = p {
                prop_assert_eq!(&placed[&format!("h{i:03}")], &placed[&format!("h{p:03}")]);
            }
        }
        // The balance bound holds.
        for b in &plan.balance {
            prop_assert!(b.ratio <= b.bound + 1e-9, "ratio {} > bound {}", b.ratio, b.bound);
        }
        // Same plan with one thread.
        prop_assert_eq!(&placement(&run(&path, 1, None)), &placed);
        // Stable with itself as the previous plan.
        let again = run(&path, 2, Some(placed.clone()));
        prop_assert!(again.plan.moves.is_empty(), "{:?}", again.plan.moves);
        // An unrelated new host moves nothing.
        let grown = write(dir.path(), &c, true);
        let g = run(&grown, 2, Some(placed.clone()));
        prop_assert!(g.plan.moves.is_empty(), "{:?}", g.plan.moves);
    }
}
