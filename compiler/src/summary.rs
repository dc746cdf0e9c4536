//! Object counts, the way `nagios4 -v` counts them: real objects, one per name; services,
//! escalations and dependencies once per host (and service) they expand to.

use crate::expand::Model;
use crate::ir::Ir;
use crate::resolve::Resolved;
use crate::schema::ObjectKind;

/// Counts per object type, in the order `nagios4 -v` prints them, then the Shinken types.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub counts: Vec<(&'static str, usize)>,
}

impl Summary {
    pub fn get(&self, key: &str) -> usize {
        self.counts
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }
}

pub fn summarize(ir: &Ir, res: &Resolved, model: &Model) -> Summary {
    // Groups created from the member side count as the engine that creates them counts them.
    let named = |kind| {
        model.named.get(&kind).map_or(0, |m| m.len())
            + model.implicit_groups.get(&kind).map_or(0, |s| s.len())
    };
    let count = |kind| res.of_kind(kind).count();
    let host_deps: usize = model
        .host_dependencies
        .iter()
        .map(|d| criteria_objects(ObjectKind::Hostdependency, res, d.def, model))
        .sum();
    let service_deps: usize = model
        .service_dependencies
        .iter()
        .map(|d| match ir.objects[d.def].kind {
            ObjectKind::Servicedependency => {
                criteria_objects(ObjectKind::Servicedependency, res, d.def, model)
            }
            // The service-side `service_dependencies` form sets notification criteria only.
            _ => 1,
        })
        .sum();
    let host_deps = host_deps
        + model
            .host_dependency_rules
            .iter()
            .map(|r| {
                r.masters.len()
                    * r.dependents.len()
                    * criteria_objects(ObjectKind::Hostdependency, res, r.def, model)
            })
            .sum::<usize>();
    // Group-to-group rules are counted by arithmetic, never expanded.
    let service_deps = service_deps
        + model
            .service_dependency_rules
            .iter()
            .map(|r| {
                r.masters.len()
                    * r.dependents.len()
                    * criteria_objects(ObjectKind::Servicedependency, res, r.def, model)
            })
            .sum::<usize>();
    Summary {
        counts: vec![
            ("services", model.services.len()),
            ("hosts", model.hosts.len()),
            ("hostgroups", named(ObjectKind::Hostgroup)),
            ("servicegroups", named(ObjectKind::Servicegroup)),
            ("contacts", named(ObjectKind::Contact)),
            ("contactgroups", named(ObjectKind::Contactgroup)),
            ("commands", named(ObjectKind::Command)),
            ("timeperiods", named(ObjectKind::Timeperiod)),
            ("hostescalations", model.host_escalations.len()),
            ("serviceescalations", model.service_escalations.len()),
            ("hostdependencies", host_deps),
            ("servicedependencies", service_deps),
            ("escalations", named(ObjectKind::Escalation)),
            ("notificationways", named(ObjectKind::Notificationway)),
            ("hostextinfos", count(ObjectKind::Hostextinfo)),
            ("serviceextinfos", count(ObjectKind::Serviceextinfo)),
            ("realms", named(ObjectKind::Realm)),
            ("arbiters", named(ObjectKind::Arbiter)),
            ("schedulers", named(ObjectKind::Scheduler)),
            ("pollers", named(ObjectKind::Poller)),
            ("reactionners", named(ObjectKind::Reactionner)),
            ("brokers", named(ObjectKind::Broker)),
            ("receivers", named(ObjectKind::Receiver)),
            ("modules", named(ObjectKind::Module)),
        ],
    }
}

/// How many dependency objects `nagios4 -v` counts for one expanded pair: Nagios registers
/// one per failure-criteria attribute (notification, execution), none without criteria.
/// Observed with Nagios 4.4: a service dependency criterion of `n` registers nothing; a host
/// dependency criterion of `n` registers nothing alone but counts beside the other one.
fn criteria_objects(kind: ObjectKind, res: &Resolved, def: usize, model: &Model) -> usize {
    // A7: Shinken and Alignak make one object per dependency, criteria or not.
    if !model.sem.lame_dependencies_dropped {
        return 1;
    }
    let o = &res.objects[def];
    let set: Vec<&str> = [
        "notification_failure_criteria",
        "execution_failure_criteria",
    ]
    .iter()
    .filter_map(|k| o.get_str(k))
    .collect();
    match kind {
        ObjectKind::Hostdependency if set.len() == 2 => 2,
        _ => set.iter().filter(|v| v.trim() != "n").count(),
    }
}
