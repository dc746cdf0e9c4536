//! Delivery confirmation from Nagios' own log. After each batch of lines the feeder writes the
//! custom command `_MONITORC_FED;<shard>;<journal>;<offset>;<seq>`; Nagios does nothing with a
//! command whose name begins with `_` but log it (`EXTERNAL COMMAND: …`), and it does so only
//! once it has processed every line written before it. Following `nagios.log` therefore tells
//! how far the engine took the journal and, against the time of its last retention save, what
//! a crashed engine lost: everything after the last marker logged before that save.

use std::io::{Read as _, Seek as _, SeekFrom};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

/// The custom command that marks the end of a fed batch.
pub(crate) const MARKER: &str = "_MONITORC_FED";

/// How far `nagios.log` was read, and which file that was (it is rotated daily).
#[derive(Debug, Default)]
pub(crate) struct Follow {
    pos: u64,
    ino: u64,
}

/// A marker Nagios logged: when (its log's clock, whole seconds), the journal offset the
/// batch ended at, and the arbiter's number of its last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Marker {
    pub at: u64,
    pub offset: u64,
    pub seq: u64,
}

/// The markers of `shard`'s journal `journal` that `log` gained since the last call. A log
/// that was rotated or truncated is read again from its start.
pub(crate) fn follow(log: &Path, f: &mut Follow, shard: &str, journal: &str) -> Vec<Marker> {
    let Ok(mut file) = std::fs::File::open(log) else {
        return Vec::new();
    };
    let Ok(meta) = file.metadata() else {
        return Vec::new();
    };
    if meta.ino() != f.ino || meta.len() < f.pos {
        *f = Follow {
            pos: 0,
            ino: meta.ino(),
        };
    }
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(f.pos)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    // Only whole lines: the rest is read next time.
    let whole = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    f.pos += whole as u64;
    let prefix = format!("EXTERNAL COMMAND: {MARKER};{shard};{journal};");
    String::from_utf8_lossy(&bytes[..whole])
        .lines()
        .filter_map(|line| marker(line, &prefix))
        .collect()
}

/// `[1733390000] EXTERNAL COMMAND: _MONITORC_FED;scheduler/a;J;1234;57` with `prefix` up to
/// `J;`.
fn marker(line: &str, prefix: &str) -> Option<Marker> {
    let rest = line.find(prefix).map(|i| &line[i + prefix.len()..])?;
    let at = line.strip_prefix('[')?.split(']').next()?.parse().ok()?;
    let (offset, seq) = rest.trim_end().split_once(';')?;
    Some(Marker {
        at,
        offset: offset.parse().ok()?,
        seq: seq.parse().ok()?,
    })
}

/// When the retention file was written (`info { created=… }` at its start).
pub(crate) fn retention_created(path: &Path) -> Option<u64> {
    let mut head = vec![0; 4096];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    String::from_utf8_lossy(&head[..n])
        .lines()
        .find_map(|l| l.trim().strip_prefix("created="))?
        .trim()
        .parse()
        .ok()
}

/// How far into the journal a crashed engine's state is safe: the furthest batch end whose
/// marker was logged before the retention save it restarts from (`0`, the whole journal, when
/// there is no save or no such marker). Seconds are whole, so a marker logged in the second of
/// the save does not count.
pub(crate) fn safe_offset(markers: &[Marker], created: Option<u64>) -> u64 {
    let Some(created) = created else {
        return 0;
    };
    markers
        .iter()
        .filter(|m| m.at < created)
        .map(|m| m.offset)
        .max()
        .unwrap_or(0)
}

/// The `SEQ<TAB>LINE` records of the journal `log` between two offsets, each with the offset
/// after it.
pub(crate) fn read_lines(
    log: &Path,
    from: u64,
    to: u64,
) -> std::io::Result<Vec<(u64, String, u64)>> {
    let mut file = std::fs::File::open(log)?;
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::new();
    file.take(to.saturating_sub(from)).read_to_end(&mut bytes)?;
    let mut out = Vec::new();
    let mut end = from;
    for record in String::from_utf8_lossy(&bytes).split_inclusive('\n') {
        end += record.len() as u64;
        let Some((seq, line)) = record.trim_end_matches('\n').split_once('\t') else {
            continue;
        };
        if let Ok(seq) = seq.parse::<u64>() {
            out.push((seq, line.to_string(), end));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_from_the_log_as_it_grows_and_after_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("nagios.log");
        std::fs::write(
            &log,
            "[100] EXTERNAL COMMAND: _MONITORC_FED;scheduler/a;j1;40;3\n\
             [101] EXTERNAL COMMAND: _MONITORC_FED;scheduler/b;j1;50;4\n\
             [102] EXTERNAL COMMAND: _MONITORC_FED;scheduler/a;j0;60;5\n\
             [103] EXTERNAL COMMAND: ADD_HOST_COMMENT;h;1;x;_MONITORC_FED;scheduler/a;j1;9;9\n\
             [104] EXTERNAL COMMAND: _MONITORC_FED;scheduler/a;j1;80;7\n\
             [105] EXTERNAL COMMAND: _MONITORC_FED;scheduler/a;j1;9",
        )
        .unwrap();
        let mut f = Follow::default();
        let m = follow(&log, &mut f, "scheduler/a", "j1");
        assert_eq!(
            m,
            [
                Marker {
                    at: 100,
                    offset: 40,
                    seq: 3
                },
                Marker {
                    at: 104,
                    offset: 80,
                    seq: 7
                }
            ]
        );
        // The torn last line is read once it is whole.
        let mut text = std::fs::read_to_string(&log).unwrap();
        text.push_str("0;8\n");
        std::fs::write(&log, &text).unwrap();
        assert_eq!(
            follow(&log, &mut f, "scheduler/a", "j1"),
            [Marker {
                at: 105,
                offset: 90,
                seq: 8
            }]
        );
        assert!(follow(&log, &mut f, "scheduler/a", "j1").is_empty());
        // Rotated: a new file is read from its start.
        std::fs::remove_file(&log).unwrap();
        std::fs::write(
            &log,
            "[200] EXTERNAL COMMAND: _MONITORC_FED;scheduler/a;j1;95;9\n",
        )
        .unwrap();
        assert_eq!(
            follow(&log, &mut f, "scheduler/a", "j1"),
            [Marker {
                at: 200,
                offset: 95,
                seq: 9
            }]
        );
    }

    #[test]
    fn what_is_safe_is_what_was_logged_before_the_retention_save() {
        let m = |at, offset| Marker { at, offset, seq: 0 };
        let markers = [m(100, 40), m(104, 80), m(105, 90)];
        assert_eq!(safe_offset(&markers, None), 0);
        assert_eq!(safe_offset(&markers, Some(100)), 0);
        assert_eq!(safe_offset(&markers, Some(105)), 80);
        assert_eq!(safe_offset(&markers, Some(999)), 90);
    }

    #[test]
    fn retention_time_and_journal_records() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path().join("retention.dat");
        std::fs::write(&r, "####\n# NAGIOS STATE RETENTION FILE\ninfo {\n\tcreated=1733390000\n\tversion=4.4.6\n}\n").unwrap();
        assert_eq!(retention_created(&r), Some(1_733_390_000));
        assert_eq!(retention_created(&dir.path().join("none")), None);
        let log = dir.path().join("j.log");
        std::fs::write(&log, "journal\tj1\n1\tA;x\nepoch\te\t0\n2\tB;y\n3\tC;z\n").unwrap();
        let all = read_lines(&log, 0, 100).unwrap();
        assert_eq!(
            all,
            [
                (1, "A;x".to_string(), 17),
                (2, "B;y".to_string(), 33),
                (3, "C;z".to_string(), 39)
            ]
        );
        assert_eq!(
            read_lines(&log, 17, 33).unwrap(),
            [(2, "B;y".to_string(), 33)]
        );
    }
}
