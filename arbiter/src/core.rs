//! The arbiter's state machine, without any I/O: which daemon is alive, which daemon holds
//! which shard, which commands wait for which shard. Every event (a ping answered or not, a
//! request done or failed, command lines submitted) returns the requests to send next
//! ([`Effect`]s); the network side (`lib.rs`) sends them, one queue per daemon, in order, and
//! reports back. Keeping the decisions here makes them testable step by step.
//!
//! Vocabulary: a *unit* is one shard of the set, named `kind/name` after the daemon it was
//! built for (`scheduler/scheduler-paris-1`, `poller/poller-paris`). Its *owner* is that
//! daemon; its *holder* the daemon that runs it now (the owner, or a spare after a failover).
//! A daemon holds at most one unit, and a unit has at most one holder.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use monitorc_runtime::commands::{self, Target};
use monitorc_runtime::shard::{digest, to_ron, Liveness, SchedulerLink, ShardSet};
use serde::Serialize;

/// At most this many command lines go in one request.
const FORWARD_BATCH: usize = 5000;

/// A request for the network side to send to `daemon` (a `kind/name` key).
#[derive(Clone, Debug, PartialEq)]
pub struct Effect {
    pub op: u64,
    pub daemon: String,
    pub action: Action,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// `PUT /v1/shard` with this body.
    Push { unit: String, body: Arc<str> },
    /// `DELETE /v1/shard`.
    Drop,
    /// `POST /v1/commands`: these lines, numbered from `first_seq` within the unit.
    Forward {
        unit: String,
        first_seq: u64,
        lines: Vec<String>,
    },
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The daemon answered 2xx.
    Done,
    /// The daemon answered, but not 2xx: for a forward, it probably does not hold the shard.
    Refused,
    /// No answer (refused connection, timeout, connection lost).
    Failed,
}

/// What a ping found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ping {
    /// No 200 within the timeout.
    Failed,
    /// 200 without a report (a daemon of the first protocol): what it holds is unknown.
    Alive,
    /// 200 with a report: an id that changes at each start of the daemon, and the digest
    /// (blake3, hex) of the shard it holds, if any.
    Holding {
        running_id: String,
        digest: Option<String>,
    },
}

/// Where a daemon listens and how it is checked.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub key: String,
    pub address: String,
    pub port: u16,
    pub liveness: Liveness,
}

#[derive(Debug)]
struct Daemon {
    kind: String,
    name: String,
    spare: bool,
    address: String,
    port: u16,
    liveness: Liveness,
    alive: bool,
    failures: u32,
    holds: Option<String>,
    /// The id of its last report (a change: the daemon restarted).
    running_id: Option<String>,
    /// A drop it has not acknowledged yet.
    owed: Owed,
}

/// A `DELETE` a daemon owes the arbiter: kept until a 2xx, re-sent on each good ping,
/// forgotten when the daemon is given a shard (a push replaces what it held).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owed {
    Nothing,
    Drop,
    Dropping(u64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Load {
    /// The holder has not got the shard yet; it is sent on the holder's next good ping.
    Needed,
    Pushing(u64),
    Loaded,
    /// `--failback`: the spare is being told to drop before the owner gets the shard back.
    Releasing(u64),
}

#[derive(Debug)]
struct Unit {
    owner: String,
    spares: Vec<String>,
    holder: Option<String>,
    load: Load,
    /// Schedulers: the shard file as written by `build`. Satellites: rebuilt from the links.
    body: Arc<str>,
    /// The digest of `body`, as a daemon reports what it holds.
    digest: String,
    /// When the push that got the holder to `Loaded` was answered ([`Core::clock`]): a ping
    /// sent before says nothing about that push.
    loaded_by: u64,
    /// A forward was refused: the holder may have lost the shard (checked at its next ping).
    suspect: bool,
    /// Commands not yet delivered to a holder, with their sequence numbers.
    queue: VecDeque<(u64, String)>,
    next_seq: u64,
    in_flight: Option<u64>,
    /// A delivery failed: wait for the holder's next good ping (no busy retry).
    blocked: bool,
}

#[derive(Debug)]
enum Pending {
    Push {
        unit: String,
    },
    Drop {
        daemon: String,
        release: Option<String>,
    },
    Forward {
        unit: String,
        daemon: String,
        count: usize,
    },
}

/// A state change worth a log line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Dead {
        daemon: String,
        failures: u32,
    },
    Back {
        daemon: String,
    },
    Assigned {
        unit: String,
        daemon: String,
    },
    Loaded {
        unit: String,
        daemon: String,
    },
    Uncovered {
        unit: String,
        hosts: usize,
    },
    Released {
        unit: String,
        daemon: String,
    },
    /// A daemon's ping says it lost the shard it had loaded (it restarted, or dropped it).
    Lost {
        unit: String,
        daemon: String,
    },
    /// A daemon's running id changed: it restarted between two pings.
    Restarted {
        daemon: String,
    },
    /// A holder took a unit's lines up to `through` (for the arbiter's journal).
    Delivered {
        unit: String,
        through: u64,
    },
    /// A reload removed a shard that still had commands waiting.
    Discarded {
        unit: String,
        commands: usize,
    },
}

impl Unit {
    fn set_body(&mut self, body: String) {
        self.digest = digest(body.as_bytes());
        self.body = body.into();
    }
}

pub struct Core {
    set: ShardSet,
    failback: bool,
    daemons: BTreeMap<String, Daemon>,
    units: BTreeMap<String, Unit>,
    pending: BTreeMap<u64, Pending>,
    next_op: u64,
    /// Requests answered so far.
    answered: u64,
    changes: Vec<Change>,
    /// At start, the drops sent to the daemons that own no shard (spares), not answered yet:
    /// no shard is sent before they have all answered, so no shard ever has two holders,
    /// even when an earlier run had handed one to a spare.
    clearing: BTreeSet<u64>,
    /// The owners have been sent their shards.
    started: bool,
}

/// What `POST /v1/commands` answers for one line.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineResult {
    pub line: String,
    /// The shards the command is for (`scheduler/NAME`), or `arbiter`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<String>,
    /// The daemon holding each target now (`null` while none does: the line waits).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// RELOAD_CONFIG / RESTART_PROGRAM: the arbiter reloads its shard set.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reload: bool,
    /// The sequence number the line got in each target (for the arbiter's journal).
    #[serde(skip)]
    pub seqs: Vec<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    pub daemons: Vec<DaemonStatus>,
    pub shards: Vec<ShardStatus>,
    /// Shards no live daemon holds, with their hosts (left unmonitored).
    pub uncovered: BTreeMap<String, Vec<String>>,
    pub pending_commands: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DaemonStatus {
    pub daemon: String,
    pub address: String,
    pub port: u16,
    pub spare: bool,
    pub alive: bool,
    pub failed_pings: u32,
    pub holds: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShardStatus {
    pub shard: String,
    pub holder: Option<String>,
    pub loaded: bool,
    pub pending_commands: usize,
}

impl Core {
    /// Every daemon of the set is assumed alive until its pings say otherwise.
    pub fn new(set: ShardSet, failback: bool) -> Core {
        let daemon = |kind: &str, name: &str, spare, address: &str, port, liveness| Daemon {
            kind: kind.to_string(),
            name: name.to_string(),
            spare,
            address: address.to_string(),
            port,
            liveness,
            alive: true,
            failures: 0,
            holds: None,
            running_id: None,
            owed: Owed::Nothing,
        };
        let mut daemons = BTreeMap::new();
        for (name, s) in &set.manifest.schedulers {
            let d = daemon("scheduler", name, s.spare, &s.address, s.port, s.liveness);
            daemons.insert(format!("scheduler/{name}"), d);
        }
        for (key, s) in &set.manifest.satellites {
            let name = key.split_once('/').map_or(key.as_str(), |(_, n)| n);
            let d = daemon(&s.kind, name, s.spare, &s.address, s.port, s.liveness);
            daemons.insert(key.clone(), d);
        }
        let mut units = BTreeMap::new();
        for (key, d) in &daemons {
            if d.spare {
                continue;
            }
            let body: Arc<str> = if d.kind == "scheduler" {
                match set.schedulers.get(&d.name) {
                    Some(s) => to_ron(s).into(),
                    None => continue,
                }
            } else {
                "".into()
            };
            let spares = set
                .spares_of(key)
                .iter()
                .map(|n| format!("{}/{n}", d.kind))
                .filter(|k| daemons.contains_key(k))
                .collect();
            units.insert(
                key.clone(),
                Unit {
                    owner: key.clone(),
                    spares,
                    holder: None,
                    load: Load::Needed,
                    digest: digest(body.as_bytes()),
                    body,
                    loaded_by: 0,
                    suspect: false,
                    queue: VecDeque::new(),
                    next_seq: 1,
                    in_flight: None,
                    blocked: false,
                },
            );
        }
        Core {
            set,
            failback,
            daemons,
            units,
            pending: BTreeMap::new(),
            next_op: 1,
            answered: 0,
            changes: Vec::new(),
            clearing: BTreeSet::new(),
            started: false,
        }
    }

    pub fn endpoints(&self) -> Vec<Endpoint> {
        self.daemons
            .iter()
            .map(|(k, d)| Endpoint {
                key: k.clone(),
                address: d.address.clone(),
                port: d.port,
                liveness: d.liveness,
            })
            .collect()
    }

    /// The state changes since the last call, for the log.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// At start: the daemons that own no shard (spares) are told to drop whatever an earlier
    /// run left them; once they have all answered (or failed to), every non-spare scheduler,
    /// then every non-spare satellite, gets its own shard.
    pub fn start(&mut self) -> Vec<Effect> {
        let mut out = Vec::new();
        let spares: Vec<String> = self
            .daemons
            .keys()
            .filter(|k| !self.units.contains_key(*k))
            .cloned()
            .collect();
        for daemon in spares {
            let op = self.send_drop(&daemon, &mut out);
            self.clearing.insert(op);
        }
        if self.clearing.is_empty() {
            self.begin(&mut out);
        }
        out
    }

    /// The owners get their shards: schedulers first, so satellites get their links once.
    fn begin(&mut self, out: &mut Vec<Effect>) {
        self.started = true;
        let (schedulers, satellites): (Vec<String>, Vec<String>) = self
            .units
            .keys()
            .cloned()
            .partition(|k| k.starts_with("scheduler/"));
        for key in schedulers.into_iter().chain(satellites) {
            let d = &self.daemons[&key];
            if d.alive && d.holds.is_none() && self.units[&key].holder.is_none() {
                self.assign(&key, key.clone(), out);
            }
        }
        self.cover(out);
    }

    /// How many requests have been answered: a ping records it when it is sent, so that its
    /// answer is not taken as news about requests answered since.
    pub fn clock(&self) -> u64 {
        self.answered
    }

    /// A ping sent when [`Core::clock`] was `sent` has ended.
    pub fn on_ping(&mut self, daemon: &str, ping: Ping, sent: u64) -> Vec<Effect> {
        let mut out = Vec::new();
        let Some(d) = self.daemons.get_mut(daemon) else {
            return out;
        };
        if ping != Ping::Failed {
            d.failures = 0;
            let came_back = !d.alive;
            d.alive = true;
            if came_back {
                self.changes.push(Change::Back {
                    daemon: daemon.to_string(),
                });
            }
            let reported = match &ping {
                Ping::Holding { running_id, digest } => {
                    if d.running_id.as_ref().is_some_and(|old| old != running_id) {
                        self.changes.push(Change::Restarted {
                            daemon: daemon.to_string(),
                        });
                    }
                    d.running_id = Some(running_id.clone());
                    Some(digest.clone())
                }
                _ => None,
            };
            let holds = d.holds.clone();
            self.cover(&mut out);
            if let Some(unit) = holds {
                let u = self.units.get_mut(&unit).expect("held units exist");
                // Does the holder still have what it loaded? Its report says; without one, a
                // refused forward says it may not.
                let lost = u.load == Load::Loaded
                    && u.loaded_by <= sent
                    && match &reported {
                        Some(held) => held.as_deref() != Some(u.digest.as_str()),
                        None => u.suspect,
                    };
                u.blocked = false;
                u.suspect = false;
                if lost {
                    u.load = Load::Needed;
                    self.changes.push(Change::Lost {
                        unit: unit.clone(),
                        daemon: daemon.to_string(),
                    });
                }
                if self.units[&unit].load == Load::Needed {
                    self.push(&unit, &mut out);
                } else {
                    self.flush(&unit, &mut out);
                }
            }
            if self.failback {
                self.fail_back(daemon, &mut out);
            }
            let d = &self.daemons[daemon];
            if d.holds.is_none() {
                // Back from the dead, it may still run what it held; and it says it holds a
                // shard it was never given (or was told to drop).
                let stray = matches!(&reported, Some(Some(_)));
                let again = match d.owed {
                    Owed::Dropping(_) => false,
                    Owed::Drop => true,
                    Owed::Nothing => came_back || stray,
                };
                if again {
                    self.send_drop(daemon, &mut out);
                }
            }
        } else {
            d.failures = d.failures.saturating_add(1);
            if d.alive && d.failures >= d.liveness.max_check_attempts.max(1) {
                d.alive = false;
                self.changes.push(Change::Dead {
                    daemon: daemon.to_string(),
                    failures: d.failures,
                });
                if let Some(unit) = d.holds.take() {
                    let u = self.units.get_mut(&unit).expect("held units exist");
                    u.holder = None;
                    u.load = Load::Needed;
                    self.cover(&mut out);
                    if self.units[&unit].holder.is_none() {
                        let hosts = self.hosts_of(&unit).len();
                        self.changes.push(Change::Uncovered { unit, hosts });
                    }
                    self.refresh_satellites(&mut out);
                }
            }
        }
        out
    }

    /// Whether request `op` is still worth sending when its turn comes in its daemon's queue:
    /// not a push superseded since (the unit went to another daemon, or a newer push), nor a
    /// forward to a daemon that no longer holds the unit. A request not sent is reported as
    /// [`Outcome::Failed`].
    pub fn wanted(&self, op: u64) -> bool {
        match self.pending.get(&op) {
            Some(Pending::Push { unit }) => self
                .units
                .get(unit)
                .is_some_and(|u| u.load == Load::Pushing(op)),
            Some(Pending::Forward { unit, daemon, .. }) => {
                (self.units.get(unit)).is_some_and(|u| u.holder.as_ref() == Some(daemon))
            }
            Some(Pending::Drop { .. }) => true,
            None => false,
        }
    }

    /// Request `op` of an [`Effect`] has ended.
    pub fn on_done(&mut self, op: u64, outcome: Outcome) -> Vec<Effect> {
        let mut out = Vec::new();
        self.answered += 1;
        let ok = outcome == Outcome::Done;
        let Some(p) = self.pending.remove(&op) else {
            return out;
        };
        if let Pending::Drop { daemon, .. } = &p {
            if let Some(d) = self.daemons.get_mut(daemon) {
                if d.owed == Owed::Dropping(op) {
                    d.owed = if ok { Owed::Nothing } else { Owed::Drop };
                }
            }
        }
        if self.clearing.remove(&op) {
            if self.clearing.is_empty() && !self.started {
                self.begin(&mut out);
            }
            return out;
        }
        match p {
            Pending::Push { unit } => {
                let u = self
                    .units
                    .get_mut(&unit)
                    .expect("pending requests name existing units (a reload drops the others)");
                if u.load != Load::Pushing(op) {
                    return out; // superseded by a later push
                }
                if ok {
                    u.load = Load::Loaded;
                    u.loaded_by = self.answered;
                    u.blocked = false;
                    u.suspect = false;
                    let holder = u.holder.clone().unwrap_or_default();
                    self.changes.push(Change::Loaded {
                        unit: unit.clone(),
                        daemon: holder,
                    });
                    self.flush(&unit, &mut out);
                } else {
                    u.load = Load::Needed;
                }
            }
            Pending::Drop { daemon, release } => {
                let Some(unit) = release else { return out };
                let u = self
                    .units
                    .get_mut(&unit)
                    .expect("pending requests name existing units (a reload drops the others)");
                if u.load != Load::Releasing(op) {
                    return out;
                }
                if !ok {
                    // The spare may still run it: it keeps the shard; retried on the owner's
                    // next good ping.
                    u.load = Load::Loaded;
                    return out;
                }
                self.changes.push(Change::Released {
                    unit: unit.clone(),
                    daemon: daemon.clone(),
                });
                if let Some(d) = self.daemons.get_mut(&daemon) {
                    d.holds = None;
                }
                let owner = u.owner.clone();
                u.holder = None;
                self.assign(&unit, owner, &mut out);
                self.refresh_satellites(&mut out);
            }
            Pending::Forward {
                unit,
                daemon,
                count,
            } => {
                let u = self
                    .units
                    .get_mut(&unit)
                    .expect("pending requests name existing units (a reload drops the others)");
                u.in_flight = None;
                if ok {
                    let taken: Vec<(u64, String)> =
                        u.queue.drain(..count.min(u.queue.len())).collect();
                    if let Some((through, _)) = taken.last() {
                        self.changes.push(Change::Delivered {
                            unit: unit.clone(),
                            through: *through,
                        });
                    }
                } else if u.holder.as_deref() == Some(daemon.as_str()) {
                    // Retried on the holder's next good ping, or at once by a new holder. A
                    // refusal may mean the holder lost the shard: its ping tells.
                    u.blocked = true;
                    u.suspect |= outcome == Outcome::Refused;
                }
                self.flush(&unit, &mut out);
            }
        }
        out
    }

    /// External command lines (one per line): each is routed, queued for its shards, and
    /// sent to their holders in order.
    pub fn submit(&mut self, body: &str) -> (Vec<LineResult>, Vec<Effect>) {
        let mut results = Vec::new();
        let mut touched = BTreeSet::new();
        for line in body.lines() {
            if line.trim().is_empty() {
                continue;
            }
            let routed = commands::parse(line)
                .and_then(|c| Ok((c.spec.name, commands::route(&self.set, &c)?)));
            let mut r = LineResult {
                line: line.to_string(),
                targets: Vec::new(),
                holders: Vec::new(),
                error: None,
                reload: false,
                seqs: Vec::new(),
            };
            match routed {
                Err(e) => r.error = Some(e.to_string()),
                Ok((name, Target::Arbiter)) => {
                    r.targets.push("arbiter".into());
                    if matches!(name, "RELOAD_CONFIG" | "RESTART_PROGRAM") {
                        r.reload = true;
                    } else {
                        r.error = Some(
                            "daemons come from the shard set: define the daemon, rebuild the \
                             set and send RELOAD_CONFIG"
                                .into(),
                        );
                    }
                }
                Ok((_, Target::Schedulers(names))) => {
                    for name in names {
                        let key = format!("scheduler/{name}");
                        let Some(u) = self.units.get_mut(&key) else {
                            continue;
                        };
                        u.queue.push_back((u.next_seq, line.to_string()));
                        r.seqs.push(u.next_seq);
                        u.next_seq += 1;
                        r.holders.push(u.holder.clone());
                        r.targets.push(key.clone());
                        touched.insert(key);
                    }
                }
            }
            results.push(r);
        }
        let mut out = Vec::new();
        for unit in touched {
            self.flush(&unit, &mut out);
        }
        (results, out)
    }

    /// Takes a new shard set (after `monitorc build` rewrote it): daemons keep their liveness,
    /// shards keep their holder (when it is still the owner or one of its spares, and alive)
    /// and their waiting commands; a holder whose shard changed gets the new one, a holder
    /// whose shard is gone is told to drop it, new shards go to their owners. Returns the
    /// requests, the daemons to (re)start the pings and queues of (new, or moved to another
    /// address, port or liveness), and those that are gone.
    pub fn reload(&mut self, set: ShardSet) -> (Vec<Effect>, Vec<String>, Vec<String>) {
        let mut next = Core::new(set, self.failback);
        next.started = self.started;
        next.clearing = std::mem::take(&mut self.clearing);
        // Requests in flight keep their numbers; those for shards that are gone are forgotten.
        next.next_op = self.next_op;
        next.answered = self.answered;
        next.pending = std::mem::take(&mut self.pending)
            .into_iter()
            .filter_map(|(op, p)| match p {
                Pending::Push { ref unit } | Pending::Forward { ref unit, .. } => {
                    next.units.contains_key(unit).then_some((op, p))
                }
                Pending::Drop { daemon, release } => {
                    let release = release.filter(|u| next.units.contains_key(u));
                    Some((op, Pending::Drop { daemon, release }))
                }
            })
            .collect();
        let mut out = Vec::new();
        let mut restarted = Vec::new();
        for (key, d) in &mut next.daemons {
            match self.daemons.get(key) {
                Some(old) => {
                    d.alive = old.alive;
                    d.failures = old.failures;
                    d.running_id.clone_from(&old.running_id);
                    d.owed = old.owed;
                    if (&old.address, old.port, old.liveness) != (&d.address, d.port, d.liveness) {
                        restarted.push(key.clone());
                    }
                }
                None => restarted.push(key.clone()),
            }
        }
        let gone: Vec<String> = self
            .daemons
            .keys()
            .filter(|k| !next.daemons.contains_key(*k))
            .cloned()
            .collect();
        let keys: Vec<String> = next.units.keys().cloned().collect();
        for key in keys {
            let Some(old) = self.units.remove(&key) else {
                continue;
            };
            let u = next.units.get_mut(&key).expect("listed");
            u.queue = old.queue;
            u.next_seq = old.next_seq;
            u.in_flight = old.in_flight;
            u.blocked = old.blocked;
            let keep = old.holder.clone().filter(|h| {
                (*h == u.owner || u.spares.contains(h))
                    && next.daemons.get(h).is_some_and(|d| d.alive)
            });
            match keep {
                Some(h) => {
                    u.holder = Some(h.clone());
                    u.loaded_by = old.loaded_by;
                    u.suspect = old.suspect;
                    if key.starts_with("scheduler/") && old.body != u.body {
                        u.load = Load::Needed;
                    } else {
                        u.load = old.load;
                        u.body = old.body;
                        u.digest = old.digest;
                    }
                    next.daemons.get_mut(&h).expect("kept holders exist").holds = Some(key.clone());
                }
                None => {
                    if let Some(h) = old.holder.filter(|h| next.daemons.contains_key(h)) {
                        next.send_drop(&h, &mut out);
                    }
                }
            }
        }
        // Shards that are gone: their holders drop them; their waiting commands go with them.
        for (key, old) in std::mem::take(&mut self.units) {
            if let Some(h) = old.holder.filter(|h| next.daemons.contains_key(h)) {
                if next.daemons[&h].holds.is_none() {
                    next.send_drop(&h, &mut out);
                }
            }
            if !old.queue.is_empty() {
                next.changes.push(Change::Discarded {
                    unit: key,
                    commands: old.queue.len(),
                });
            }
        }
        // The queues of daemons that are gone or moved are replaced: what they had in flight
        // will never report back, and a moved holder gets its shard again at its new place.
        let lost: BTreeSet<&String> = gone.iter().chain(&restarted).collect();
        for u in next.units.values_mut() {
            if let Some(op) = u.in_flight {
                let stale = match next.pending.get(&op) {
                    Some(Pending::Forward { daemon, .. }) => lost.contains(daemon),
                    _ => true,
                };
                if stale {
                    u.in_flight = None;
                }
            }
            if u.holder.as_ref().is_some_and(|h| lost.contains(h)) {
                u.load = Load::Needed;
            }
        }
        // Drops in flight to daemons that moved will not answer: they are owed again.
        for (key, d) in &mut next.daemons {
            if lost.contains(key) && matches!(d.owed, Owed::Dropping(_)) {
                d.owed = Owed::Drop;
            }
        }
        // Start-time drops to daemons that are gone or moved will not answer.
        let clearing: Vec<u64> = next.clearing.iter().copied().collect();
        for op in clearing {
            if let Some(Pending::Drop { daemon, .. }) = next.pending.get(&op) {
                if lost.contains(daemon) {
                    next.clearing.remove(&op);
                    next.pending.remove(&op);
                }
            }
        }
        if !next.started && next.clearing.is_empty() {
            next.begin(&mut out);
        }
        let needed: Vec<String> = next
            .units
            .iter()
            .filter(|(_, u)| u.holder.is_some() && u.load == Load::Needed)
            .map(|(k, _)| k.clone())
            .collect();
        for key in needed {
            next.push(&key, &mut out);
        }
        next.cover(&mut out);
        next.refresh_satellites(&mut out);
        let changes = std::mem::take(&mut self.changes);
        *self = next;
        self.changes.splice(0..0, changes);
        (out, restarted, gone)
    }

    pub fn status(&self) -> Status {
        let daemons = self
            .daemons
            .iter()
            .map(|(k, d)| DaemonStatus {
                daemon: k.clone(),
                address: d.address.clone(),
                port: d.port,
                spare: d.spare,
                alive: d.alive,
                failed_pings: d.failures,
                holds: d.holds.clone(),
            })
            .collect();
        let shards = self
            .units
            .iter()
            .map(|(k, u)| ShardStatus {
                shard: k.clone(),
                holder: u.holder.clone(),
                loaded: u.load == Load::Loaded || matches!(u.load, Load::Releasing(_)),
                pending_commands: u.queue.len(),
            })
            .collect();
        let mut uncovered = BTreeMap::new();
        for (k, u) in &self.units {
            if u.holder.is_none() {
                uncovered.insert(k.clone(), self.hosts_of(k));
            }
        }
        Status {
            daemons,
            shards,
            uncovered,
            pending_commands: self.units.values().map(|u| u.queue.len()).sum(),
        }
    }

    fn hosts_of(&self, unit: &str) -> Vec<String> {
        let Some(name) = unit.strip_prefix("scheduler/") else {
            return Vec::new();
        };
        self.set
            .manifest
            .hosts
            .iter()
            .filter(|(_, s)| s.as_str() == name)
            .map(|(h, _)| h.clone())
            .collect()
    }

    fn request(&mut self, daemon: &str, action: Action, p: Pending, out: &mut Vec<Effect>) -> u64 {
        let op = self.next_op;
        self.next_op += 1;
        self.pending.insert(op, p);
        out.push(Effect {
            op,
            daemon: daemon.to_string(),
            action,
        });
        op
    }

    /// Tells `daemon` to drop what it holds; owed until it answers 2xx.
    fn send_drop(&mut self, daemon: &str, out: &mut Vec<Effect>) -> u64 {
        let p = Pending::Drop {
            daemon: daemon.to_string(),
            release: None,
        };
        let op = self.request(daemon, Action::Drop, p, out);
        if let Some(d) = self.daemons.get_mut(daemon) {
            d.owed = Owed::Dropping(op);
        }
        op
    }

    /// `daemon` becomes the holder of `unit` and is sent it (which replaces whatever it held:
    /// a drop it owed is forgotten).
    fn assign(&mut self, unit: &str, daemon: String, out: &mut Vec<Effect>) {
        if let Some(d) = self.daemons.get_mut(&daemon) {
            d.holds = Some(unit.to_string());
            d.owed = Owed::Nothing;
        }
        let u = self
            .units
            .get_mut(unit)
            .expect("pending requests name existing units (a reload drops the others)");
        u.holder = Some(daemon.clone());
        u.blocked = false;
        self.changes.push(Change::Assigned {
            unit: unit.to_string(),
            daemon,
        });
        self.push(unit, out);
    }

    /// Sends a unit to its holder; a satellite's shard is rebuilt first (its links follow
    /// the holders of the schedulers' shards).
    fn push(&mut self, unit: &str, out: &mut Vec<Effect>) {
        if !unit.starts_with("scheduler/") {
            let body = self.satellite_body(unit);
            self.units.get_mut(unit).expect("exists").set_body(body);
        }
        self.send_shard(unit, out);
    }

    /// Sends a unit's body as it is to its holder.
    fn send_shard(&mut self, unit: &str, out: &mut Vec<Effect>) {
        let body = self.units[unit].body.clone();
        let Some(holder) = self.units[unit].holder.clone() else {
            return;
        };
        let op = self.request(
            &holder,
            Action::Push {
                unit: unit.to_string(),
                body,
            },
            Pending::Push {
                unit: unit.to_string(),
            },
            out,
        );
        self.units.get_mut(unit).expect("exists").load = Load::Pushing(op);
    }

    /// Units without a holder go to their owner or first spare that is alive and free.
    fn cover(&mut self, out: &mut Vec<Effect>) {
        if !self.started {
            return;
        }
        let orphans: Vec<String> = self
            .units
            .iter()
            .filter(|(_, u)| u.holder.is_none())
            .map(|(k, _)| k.clone())
            .collect();
        let mut changed = false;
        for unit in orphans {
            let u = &self.units[&unit];
            let candidate = std::iter::once(&u.owner)
                .chain(u.spares.iter())
                .find(|k| {
                    self.daemons
                        .get(*k)
                        .is_some_and(|d| d.alive && d.holds.is_none())
                })
                .cloned();
            if let Some(d) = candidate {
                self.assign(&unit, d, out);
                changed = true;
            }
        }
        if changed {
            self.refresh_satellites(out);
        }
    }

    /// `--failback`: the owner is alive and free again; the spare holding its unit is told to
    /// drop it first, and the owner gets it once the spare has.
    fn fail_back(&mut self, owner: &str, out: &mut Vec<Effect>) {
        if self.daemons[owner].holds.is_some() || !self.units.contains_key(owner) {
            return;
        }
        let u = &self.units[owner];
        let Some(spare) = u.holder.clone() else {
            return;
        };
        if spare == owner || u.load != Load::Loaded {
            return;
        }
        let op = self.request(
            &spare,
            Action::Drop,
            Pending::Drop {
                daemon: spare.clone(),
                release: Some(owner.to_string()),
            },
            out,
        );
        self.units.get_mut(owner).expect("exists").load = Load::Releasing(op);
    }

    /// Sends the queued commands of a unit to its holder, one request at a time.
    fn flush(&mut self, unit: &str, out: &mut Vec<Effect>) {
        let u = &self.units[unit];
        if u.queue.is_empty() || u.in_flight.is_some() || u.blocked || u.load != Load::Loaded {
            return;
        }
        let Some(holder) = u.holder.clone() else {
            return;
        };
        let n = u.queue.len().min(FORWARD_BATCH);
        let first_seq = u.queue[0].0;
        let lines = u.queue.iter().take(n).map(|(_, l)| l.clone()).collect();
        let op = self.request(
            &holder,
            Action::Forward {
                unit: unit.to_string(),
                first_seq,
                lines,
            },
            Pending::Forward {
                unit: unit.to_string(),
                daemon: holder.clone(),
                count: n,
            },
            out,
        );
        self.units.get_mut(unit).expect("exists").in_flight = Some(op);
    }

    /// A satellite's shard with its links to the current holders of the schedulers' units
    /// (a link to a shard nobody holds is left out).
    fn satellite_body(&self, unit: &str) -> String {
        let (kind, name) = unit.split_once('/').expect("unit keys are kind/name");
        let file = format!(
            "{}/{name}.ron",
            monitorc_runtime::shard::satellite_dir(kind)
        );
        let mut shard = self.set.satellites[&file].clone();
        let mut links: Vec<SchedulerLink> = Vec::new();
        for l in &shard.schedulers {
            let link = match self.units.get(&format!("scheduler/{}", l.name)) {
                Some(u) => match &u.holder {
                    Some(h) => {
                        let d = &self.daemons[h];
                        SchedulerLink {
                            name: d.name.clone(),
                            address: d.address.clone(),
                            port: d.port,
                        }
                    }
                    None => continue,
                },
                None => l.clone(),
            };
            if !links.iter().any(|x| x.name == link.name) {
                links.push(link);
            }
        }
        shard.schedulers = links;
        // Receivers route commands directly: each host to the holder of its shard.
        shard.hosts.retain(
            |_, owner| match self.units.get(&format!("scheduler/{owner}")) {
                Some(u) => match &u.holder {
                    Some(h) => {
                        owner.clone_from(&self.daemons[h].name);
                        true
                    }
                    None => false,
                },
                None => true,
            },
        );
        to_ron(&shard)
    }

    /// Satellites whose links changed get their shard again.
    fn refresh_satellites(&mut self, out: &mut Vec<Effect>) {
        let sats: Vec<String> = self
            .units
            .keys()
            .filter(|k| !k.starts_with("scheduler/"))
            .cloned()
            .collect();
        for unit in sats {
            let u = &self.units[&unit];
            if u.holder.is_none() || u.load == Load::Needed {
                continue;
            }
            let body = self.satellite_body(&unit);
            if *body != *u.body {
                self.units.get_mut(&unit).expect("listed").set_body(body);
                self.send_shard(&unit, out);
            }
        }
    }

    /// At start, what an earlier run of the arbiter had accepted and not delivered: the lines
    /// of `unit` wait again with their numbers, and new lines are numbered from `next_seq`.
    /// False when the set has no such unit any more.
    pub fn restore(&mut self, unit: &str, next_seq: u64, lines: Vec<(u64, String)>) -> bool {
        let Some(u) = self.units.get_mut(unit) else {
            return false;
        };
        u.next_seq = u.next_seq.max(next_seq);
        u.queue.extend(lines);
        true
    }

    /// Every unit's next sequence number and waiting lines (to compact the journal).
    pub fn queues(&self) -> Vec<(String, u64, Vec<(u64, String)>)> {
        (self.units.iter())
            .map(|(k, u)| (k.clone(), u.next_seq, u.queue.iter().cloned().collect()))
            .collect()
    }

    /// How many shards and daemons, for the log at start.
    pub fn size(&self) -> (usize, usize) {
        (self.units.len(), self.daemons.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bundled example: paris-1 and paris-2 (spare: paris-spare), tokyo (no spare),
    /// checked with the default liveness (dead after 3 failed pings).
    fn example() -> Core {
        Core::new(example_set(), false)
    }

    const P1: &str = "scheduler/scheduler-paris-1";
    const SPARE: &str = "scheduler/scheduler-paris-spare";

    fn outcome(ok: bool) -> Outcome {
        if ok {
            Outcome::Done
        } else {
            Outcome::Failed
        }
    }

    /// Answers every effect with `ok`, and the effects those produce, until none is left.
    fn settle(core: &mut Core, mut effects: Vec<Effect>, ok: bool) -> Vec<Effect> {
        let mut all = Vec::new();
        while let Some(e) = effects.pop() {
            effects.extend(core.on_done(e.op, outcome(ok)));
            all.push(e);
        }
        all
    }

    fn pushes_to(effects: &[Effect], daemon: &str) -> Vec<String> {
        effects
            .iter()
            .filter(|e| e.daemon == daemon)
            .filter_map(|e| match &e.action {
                Action::Push { unit, .. } => Some(unit.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn start_tells_spares_to_drop_then_pushes_every_owner_its_shard() {
        let mut core = example();
        let clearing = core.start();
        // First only the spare, told to drop what an earlier run may have left it.
        assert_eq!(clearing.len(), 1, "{clearing:?}");
        assert_eq!(
            (clearing[0].daemon.as_str(), &clearing[0].action),
            (SPARE, &Action::Drop)
        );
        // Answered (here: unreachable, which is as good): the owners get their shards.
        let effects = core.on_done(clearing[0].op, outcome(false));
        assert_eq!(pushes_to(&effects, P1), [P1]);
        assert_eq!(
            pushes_to(&effects, "poller/poller-paris"),
            ["poller/poller-paris"]
        );
        assert!(!effects.iter().any(|e| e.daemon == SPARE));
        // Schedulers first, so satellites are sent their links once.
        assert_eq!(
            effects
                .iter()
                .filter(|e| e.daemon == "poller/poller-paris")
                .count(),
            1
        );
    }

    #[test]
    fn death_needs_max_check_attempts_failures_in_a_row() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, true);
        assert!(core.on_ping(P1, Ping::Failed, core.clock()).is_empty());
        assert!(core.on_ping(P1, Ping::Failed, core.clock()).is_empty());
        // A good ping resets the count.
        core.on_ping(P1, Ping::Alive, core.clock());
        assert!(core.on_ping(P1, Ping::Failed, core.clock()).is_empty());
        assert!(core.on_ping(P1, Ping::Failed, core.clock()).is_empty());
        let effects = core.on_ping(P1, Ping::Failed, core.clock());
        assert_eq!(pushes_to(&effects, SPARE), [P1]);
        // Satellites linked to paris-1 get new links.
        assert_eq!(
            pushes_to(&effects, "poller/poller-paris"),
            ["poller/poller-paris"]
        );
        assert!(pushes_to(&effects, "poller/poller-tokyo").is_empty());
    }

    #[test]
    fn commands_wait_for_the_next_holder_and_are_sent_once() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, true);
        let line = "ACKNOWLEDGE_HOST_PROBLEM;paris-core-sw;1;1;0;admin;down";
        // The owner fails the delivery: the line stays queued, not retried in a loop.
        let (_, effects) = core.submit(line);
        assert_eq!(effects.len(), 1);
        assert!(settle(&mut core, effects, false).len() == 1);
        assert_eq!(core.status().pending_commands, 1);
        core.on_ping(P1, Ping::Failed, core.clock());
        core.on_ping(P1, Ping::Failed, core.clock());
        // Dead: the spare is sent the shard; once loaded, the queued line.
        let effects = core.on_ping(P1, Ping::Failed, core.clock());
        let all = settle(&mut core, effects, true);
        let forwards: Vec<&Effect> = all
            .iter()
            .filter(|e| matches!(e.action, Action::Forward { .. }))
            .collect();
        assert_eq!(forwards.len(), 1, "{forwards:?}");
        assert_eq!(forwards[0].daemon, SPARE);
        assert_eq!(
            forwards[0].action,
            Action::Forward {
                unit: P1.into(),
                first_seq: 1,
                lines: vec![line.into()]
            }
        );
        assert_eq!(core.status().pending_commands, 0);
        // A later line gets the next number.
        let (_, effects) = core.submit(line);
        assert!(matches!(
            effects[0].action,
            Action::Forward { first_seq: 2, .. }
        ));
    }

    #[test]
    fn a_stale_result_does_not_change_the_new_holder() {
        let mut core = example();
        let clearing = core.start();
        let e = core.on_done(clearing[0].op, outcome(true));
        let first_push = e
            .iter()
            .find(|e| e.daemon == P1 && matches!(e.action, Action::Push { .. }))
            .unwrap()
            .op;
        for _ in 0..3 {
            core.on_ping(P1, Ping::Failed, core.clock());
        }
        // paris-1 answers its old push after being declared dead: ignored.
        assert!(core.on_done(first_push, outcome(true)).is_empty());
        let s = core.status();
        let shard = s.shards.iter().find(|s| s.shard == P1).unwrap();
        assert_eq!(shard.holder.as_deref(), Some(SPARE));
    }

    fn example_set() -> ShardSet {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/example-shards");
        ShardSet::open(&dir).unwrap()
    }

    #[test]
    fn reloading_the_same_set_changes_nothing() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, true);
        let before = core.status();
        let (effects, restarted, gone) = core.reload(example_set());
        assert!(effects.is_empty(), "{effects:?}");
        assert!(restarted.is_empty() && gone.is_empty());
        assert_eq!(core.status(), before);
    }

    #[test]
    fn a_reload_keeps_the_spare_and_the_waiting_commands() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, true);
        core.on_ping(P1, Ping::Failed, core.clock());
        core.on_ping(P1, Ping::Failed, core.clock());
        // Dead: the spare is being sent the shard; a command waits for it.
        let takeover = core.on_ping(P1, Ping::Failed, core.clock());
        let (_, effects) = core.submit("ACKNOWLEDGE_HOST_PROBLEM;paris-core-sw;1;1;0;a;b");
        assert!(effects.is_empty());
        let (effects, _, _) = core.reload(example_set());
        assert!(effects.is_empty(), "{effects:?}");
        let s = core.status();
        let shard = s.shards.iter().find(|s| s.shard == P1).unwrap();
        assert_eq!(shard.holder.as_deref(), Some(SPARE));
        assert_eq!(shard.pending_commands, 1);
        // The spare answers the push sent before the reload; then the command goes.
        let all = settle(&mut core, takeover, true);
        assert!(
            all.iter()
                .any(|e| e.daemon == SPARE && matches!(e.action, Action::Forward { .. })),
            "{all:?}"
        );
        assert_eq!(core.status().pending_commands, 0);
    }

    #[test]
    fn without_a_spare_the_hosts_are_uncovered_until_the_owner_returns() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, true);
        let tokyo = "scheduler/scheduler-tokyo";
        for _ in 0..3 {
            core.on_ping(tokyo, Ping::Failed, core.clock());
        }
        let s = core.status();
        let hosts: Vec<String> = core
            .set
            .manifest
            .hosts
            .iter()
            .filter(|(_, s)| *s == "scheduler-tokyo")
            .map(|(h, _)| h.clone())
            .collect();
        assert!(!hosts.is_empty());
        assert_eq!(s.uncovered[tokyo], hosts);
        let effects = core.on_ping(tokyo, Ping::Alive, core.clock());
        assert_eq!(pushes_to(&effects, tokyo), [tokyo]);
        // Given its shard back, it is not told to drop it.
        assert!(!effects
            .iter()
            .any(|e| e.daemon == tokyo && e.action == Action::Drop));
    }

    fn drops_to(effects: &[Effect], daemon: &str) -> usize {
        effects
            .iter()
            .filter(|e| e.daemon == daemon && e.action == Action::Drop)
            .count()
    }

    fn holding(run: &str, digest: Option<&str>) -> Ping {
        Ping::Holding {
            running_id: run.into(),
            digest: digest.map(str::to_string),
        }
    }

    /// Issue #16, first hole: a daemon that restarts between two pings answers every ping;
    /// its report says it holds nothing, so it is sent its shard again.
    #[test]
    fn a_daemon_that_restarted_between_pings_gets_its_shard_again() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, true);
        let digest = core.units[P1].digest.clone();
        let e = core.on_ping(P1, holding("run-1", Some(&digest)), core.clock());
        assert!(e.is_empty(), "{e:?}");
        core.take_changes();
        let e = core.on_ping(P1, holding("run-2", None), core.clock());
        assert_eq!(pushes_to(&e, P1), [P1]);
        assert_eq!(
            core.take_changes(),
            [
                Change::Restarted { daemon: P1.into() },
                Change::Lost {
                    unit: P1.into(),
                    daemon: P1.into()
                }
            ]
        );
        // While the push is under way, nor is a ping answered since taken as news.
        let sent = core.clock();
        let all = settle(&mut core, e, true);
        assert_eq!(all.len(), 1);
        assert!(core.on_ping(P1, holding("run-2", None), sent).is_empty());
        assert!(core
            .on_ping(P1, holding("run-2", Some(&digest)), core.clock())
            .is_empty());
        // A satellite too: its shard is rebuilt from the links.
        let poller = "poller/poller-paris";
        let e = core.on_ping(poller, holding("p", None), core.clock());
        assert_eq!(pushes_to(&e, poller), [poller]);
    }

    /// Without a report, a refused forward is the sign: the shard goes again at the next ping,
    /// then the line. With a report that matches, only the line goes again.
    #[test]
    fn a_refused_forward_sends_the_shard_again_unless_the_report_says_it_is_held() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, true);
        let line = "ACKNOWLEDGE_HOST_PROBLEM;paris-core-sw;1;1;0;admin;down";
        let (_, e) = core.submit(line);
        assert!(core.on_done(e[0].op, Outcome::Refused).is_empty());
        let e = core.on_ping(P1, Ping::Alive, core.clock());
        assert_eq!(pushes_to(&e, P1), [P1]);
        let all = settle(&mut core, e, true);
        assert!(all.iter().any(|e| matches!(
            &e.action,
            Action::Forward { first_seq: 1, lines, .. } if lines == &[line.to_string()]
        )));
        assert_eq!(core.status().pending_commands, 0);
        // A daemon that reports holding it: the refusal was something else.
        let digest = core.units[P1].digest.clone();
        let (_, e) = core.submit(line);
        assert!(core.on_done(e[0].op, Outcome::Refused).is_empty());
        let e = core.on_ping(P1, holding("r", Some(&digest)), core.clock());
        assert!(pushes_to(&e, P1).is_empty());
        assert!(matches!(e[0].action, Action::Forward { first_seq: 2, .. }));
        // A forward that got no answer proves nothing: no push either.
        assert!(core.on_done(e[0].op, Outcome::Failed).is_empty());
        let e = core.on_ping(P1, Ping::Alive, core.clock());
        assert!(pushes_to(&e, P1).is_empty());
        assert_eq!(e.len(), 1);
    }

    /// Issue #16, second hole: a dead daemon that answers again is told to drop its shard; a
    /// failed drop is sent again at each good ping until one is acknowledged.
    #[test]
    fn a_failed_drop_is_sent_again_until_acknowledged() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, true);
        for _ in 0..3 {
            let e = core.on_ping(P1, Ping::Failed, core.clock());
            settle(&mut core, e, true);
        }
        let e = core.on_ping(P1, Ping::Alive, core.clock());
        assert_eq!(drops_to(&e, P1), 1);
        // While it is under way, no second one.
        assert!(core.on_ping(P1, Ping::Alive, core.clock()).is_empty());
        settle(&mut core, e, false);
        for _ in 0..2 {
            let e = core.on_ping(P1, Ping::Alive, core.clock());
            assert_eq!(drops_to(&e, P1), 1, "{e:?}");
            settle(&mut core, e, false);
        }
        let e = core.on_ping(P1, Ping::Alive, core.clock());
        settle(&mut core, e, true);
        assert!(core.on_ping(P1, Ping::Alive, core.clock()).is_empty());
        // A report of a shard it was never given (or told to drop) is a drop owed too.
        let e = core.on_ping(P1, holding("x", Some("0123")), core.clock());
        assert_eq!(drops_to(&e, P1), 1);
        settle(&mut core, e, true);
        assert!(core
            .on_ping(P1, holding("x", None), core.clock())
            .is_empty());
        // The spare kept the shard throughout.
        let s = core.status();
        let shard = s.shards.iter().find(|s| s.shard == P1).unwrap();
        assert_eq!(shard.holder.as_deref(), Some(SPARE));
    }

    /// A spare that did not answer the drop sent at start is sent it again once it answers.
    #[test]
    fn a_start_drop_that_failed_is_owed() {
        let mut core = example();
        let e = core.start();
        settle(&mut core, e, false);
        let e = core.on_ping(SPARE, Ping::Alive, core.clock());
        assert_eq!(drops_to(&e, SPARE), 1);
        settle(&mut core, e, true);
        assert!(core.on_ping(SPARE, Ping::Alive, core.clock()).is_empty());
    }

    /// A push queued behind a request that hangs is not sent once the unit has gone to
    /// another daemon: the dead daemon would load it late, a second holder.
    #[test]
    fn a_superseded_push_is_not_sent() {
        let mut core = example();
        let clearing = core.start();
        let e = core.on_done(clearing[0].op, Outcome::Done);
        let push = e
            .iter()
            .find(|e| e.daemon == P1 && matches!(e.action, Action::Push { .. }))
            .unwrap()
            .op;
        assert!(core.wanted(push));
        for _ in 0..3 {
            core.on_ping(P1, Ping::Failed, core.clock());
        }
        assert!(!core.wanted(push));
        assert!(core.on_done(push, Outcome::Failed).is_empty());
    }
}
