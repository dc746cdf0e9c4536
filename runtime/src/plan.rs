//! The plan file: which hosts each scheduler runs, as written by `monitorc plan --format ron`
//! and read back by `--previous` so that placement is sticky.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::PLAN_VERSION;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanFile {
    pub format_version: u32,
    /// By scheduler name.
    pub schedulers: BTreeMap<String, PlannedScheduler>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlannedScheduler {
    pub realm: String,
    pub weight: u32,
    pub spare: bool,
    pub load: u64,
    /// In name order.
    pub hosts: Vec<String>,
}

impl PlanFile {
    pub fn new(schedulers: BTreeMap<String, PlannedScheduler>) -> PlanFile {
        PlanFile {
            format_version: PLAN_VERSION,
            schedulers,
        }
    }

    /// RON with one item per line, `\n` line endings and no struct names: diff-friendly.
    pub fn to_ron(&self) -> String {
        let config = ron::ser::PrettyConfig::new()
            .new_line("\n".to_string())
            .indentor("  ".to_string())
            .struct_names(false)
            .separate_tuple_members(true);
        let mut s = ron::ser::to_string_pretty(self, config).expect("plan files always serialize");
        s.push('\n');
        s
    }

    pub fn from_ron(text: &str) -> Result<PlanFile, String> {
        let plan: PlanFile = ron::from_str(text).map_err(|e| e.to_string())?;
        if plan.format_version != PLAN_VERSION {
            return Err(format!(
                "plan file format version {} is not supported (this monitorc reads version {PLAN_VERSION})",
                plan.format_version
            ));
        }
        Ok(plan)
    }

    /// Host name → scheduler name.
    pub fn host_index(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (s, p) in &self.schedulers {
            for h in &p.hosts {
                out.insert(h.clone(), s.clone());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_version_check() {
        let mut s = BTreeMap::new();
        s.insert(
            "sched-1".to_string(),
            PlannedScheduler {
                realm: "All".into(),
                weight: 2,
                spare: false,
                load: 12,
                hosts: vec!["a".into(), "b".into()],
            },
        );
        let plan = PlanFile::new(s);
        let text = plan.to_ron();
        assert!(!text.contains("PlanFile"), "no struct names: {text}");
        assert_eq!(PlanFile::from_ron(&text).unwrap(), plan);
        assert_eq!(plan.host_index()["b"], "sched-1");
        let old = text.replace("format_version: 1", "format_version: 99");
        assert!(PlanFile::from_ron(&old).unwrap_err().contains("version 99"));
        assert!(PlanFile::from_ron("(").is_err());
    }
}
