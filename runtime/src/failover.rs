//! Failover plans: given dead daemons, which spare takes which shard, which satellites need
//! new links, and which hosts stay unmonitored when spares run out.

use std::collections::{BTreeMap, BTreeSet};

use crate::shard::ShardSet;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailoverPlan {
    /// Dead scheduler → the spare that takes its shard.
    pub takeovers: BTreeMap<String, String>,
    /// Dead satellite (`kind/name`) → the spare that takes its place.
    pub satellite_takeovers: BTreeMap<String, String>,
    /// Satellite (`kind/name`) → (dead scheduler, its replacement) links to change.
    pub relinks: BTreeMap<String, Vec<(String, String)>>,
    /// Dead daemon without a live spare → the hosts left unmonitored (schedulers) or nothing.
    pub unmonitored: BTreeMap<String, Vec<String>>,
    /// Names given that are no daemon of the set.
    pub unknown: Vec<String>,
}

impl FailoverPlan {
    pub fn is_complete(&self) -> bool {
        self.unmonitored.is_empty() && self.unknown.is_empty()
    }
}

/// Plans the takeover of `dead` daemons (names of schedulers or satellites). Spares are
/// taken in the order the plan lists them, each at most once, and only while alive.
pub fn plan(set: &ShardSet, dead: &[String]) -> FailoverPlan {
    let mut out = FailoverPlan::default();
    let dead: BTreeSet<&str> = dead.iter().map(String::as_str).collect();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let satellites: BTreeMap<String, &crate::shard::SatelliteShard> = set
        .satellites
        .values()
        .map(|s| (format!("{}/{}", s.kind, s.name), s))
        .collect();
    for name in &dead {
        let is_scheduler = set.manifest.schedulers.contains_key(*name);
        let sat_key = satellites
            .keys()
            .find(|k| k.split_once('/').is_some_and(|(_, n)| n == *name))
            .cloned();
        if !is_scheduler && sat_key.is_none() {
            out.unknown.push(name.to_string());
            continue;
        }
        let key = if is_scheduler {
            format!("scheduler/{name}")
        } else {
            sat_key.clone().unwrap()
        };
        let spares = set.manifest.failover.get(&key).cloned().unwrap_or_default();
        let spare = spares
            .into_iter()
            .find(|s| !dead.contains(s.as_str()) && !taken.contains(s));
        match (is_scheduler, spare) {
            (true, Some(s)) => {
                taken.insert(s.clone());
                out.takeovers.insert(name.to_string(), s);
            }
            (true, None) => {
                // A spare scheduler's own shard is empty: losing it leaves nothing unmonitored.
                let hosts: Vec<String> = set
                    .manifest
                    .hosts
                    .iter()
                    .filter(|(_, s)| s.as_str() == *name)
                    .map(|(h, _)| h.clone())
                    .collect();
                if !hosts.is_empty() {
                    out.unmonitored.insert(name.to_string(), hosts);
                }
            }
            (false, Some(s)) => {
                taken.insert(s.clone());
                out.satellite_takeovers.insert(key, s);
            }
            (false, None) => {
                out.unmonitored.insert(key, Vec::new());
            }
        }
    }
    for (key, sat) in &satellites {
        if dead.contains(sat.name.as_str()) {
            continue;
        }
        let changes: Vec<(String, String)> = sat
            .schedulers
            .iter()
            .filter_map(|l| {
                out.takeovers
                    .get(&l.name)
                    .map(|s| (l.name.clone(), s.clone()))
            })
            .collect();
        if !changes.is_empty() {
            out.relinks.insert(key.clone(), changes);
        }
    }
    out
}
