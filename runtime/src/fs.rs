//! Reading files that must be regular files (#13). A FIFO named as a configuration file or a
//! shard hangs a reader forever, and a device such as `/dev/zero` is read until memory runs
//! out: both are refused before they are opened, with what they are. So is a file larger
//! than the cap (256 MiB, or `MONITORC_MAX_FILE_BYTES`): the largest real trees are tens of
//! MB spread over many files.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// The largest file read: `MONITORC_MAX_FILE_BYTES`, 256 MiB by default.
pub fn max_file_bytes() -> u64 {
    std::env::var("MONITORC_MAX_FILE_BYTES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(256 << 20)
}

/// Why `path` is not read: it is neither a regular file nor a directory (links followed), or
/// it is larger than [`max_file_bytes`].
pub fn special_kind(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let t = meta.file_type();
    if t.is_file() && meta.len() > max_file_bytes() {
        return Some(format!(
            "{} bytes, more than the {} bytes read from one file (MONITORC_MAX_FILE_BYTES)",
            meta.len(),
            max_file_bytes()
        ));
    }
    kind_of(t).map(str::to_string)
}

fn kind_of(t: std::fs::FileType) -> Option<&'static str> {
    if t.is_file() || t.is_dir() {
        None
    } else if t.is_fifo() {
        Some("a FIFO (named pipe)")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a regular file")
    }
}

/// The error a reader reports for such a path.
fn refused(path: &Path, kind: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{} is {}", path.display(), describe(kind)),
    )
}

/// `kind` from [`special_kind`] as the end of a sentence "`PATH` is …".
pub fn describe(kind: &str) -> String {
    if kind.ends_with("(MONITORC_MAX_FILE_BYTES)") {
        kind.to_string()
    } else {
        format!("{kind}, not a regular file")
    }
}

/// `std::fs::read`, for regular files only.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    match special_kind(path) {
        Some(kind) => Err(refused(path, &kind)),
        None => std::fs::read(path),
    }
}

/// `std::fs::read_to_string`, for regular files only.
pub fn read_to_string(path: &Path) -> io::Result<String> {
    match special_kind(path) {
        Some(kind) => Err(refused(path, &kind)),
        None => std::fs::read_to_string(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_fifos_are_refused_before_they_are_opened() {
        let err = read(Path::new("/dev/zero")).unwrap_err();
        assert!(err.to_string().contains("a character device"), "{err}");
        let dir = std::env::temp_dir().join(format!("monitorc-fifo-{}", std::process::id()));
        let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc_mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_to_string(&dir).unwrap_err();
        std::fs::remove_file(&dir).unwrap();
        assert!(err.to_string().contains("a FIFO"), "{err}");
        assert_eq!(special_kind(Path::new("/")), None);
    }

    extern "C" {
        #[link_name = "mkfifo"]
        fn libc_mkfifo(path: *const std::ffi::c_char, mode: u32) -> i32;
    }
}
