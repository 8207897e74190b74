//! Writes rendered output to a file atomically, so a reader (node_exporter, a dashboard) never sees half a report.

use std::io::Write as _;
use std::path::Path;

/// Writes `text` to `path` through a temporary file in the same directory: written, flushed to
/// disk, made world-readable, then renamed over `path`, and the directory synced so the rename
/// survives a crash. A failure at any step leaves the previous file untouched.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let shown = path.display();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| format!("--output {shown} names no file"))?;
    // A leading dot keeps node_exporter from reading the temporary file: it only reads *.prom.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.path().display()))?;
    // tempfile creates 0600; the collector usually runs as another user than the audit job.
    set_readable(tmp.as_file())
        .map_err(|e| format!("cannot set permissions on {}: {e}", tmp.path().display()))?;
    tmp.persist(path)
        .map_err(|e| format!("cannot rename into {shown}: {}", e.error))?;
    if let Ok(d) = std::fs::File::open(dir) {
        // Some filesystems refuse fsync on a directory; the data itself is already on disk.
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn set_readable(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_readable(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cellaudit.prom");
        std::fs::write(&path, "old\n").unwrap();
        write_atomic(&path, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["cellaudit.prom".to_string()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }
    }

    #[test]
    fn a_missing_directory_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/x.prom");
        let err = write_atomic(&path, "x").unwrap_err();
        assert!(err.contains("cannot create a temporary file"), "{err}");
    }
}
