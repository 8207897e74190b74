//! Writes rendered output to `--output`: a regular file is replaced atomically (a reader such as node_exporter never sees half a report); a device or FIFO is written through.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// How many symlinks a path may pass through, as the kernel allows (MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// What is at an `--output` path, and so how it is written.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    /// A regular file, or nothing yet: replaced atomically at this path (the end of any symlinks),
    /// keeping the mode of the file it replaces (`None`: a new file, 0644).
    Replace { path: PathBuf, mode: Option<u32> },
    /// A FIFO, character or block device, socket, or a file descriptor link (`/dev/stdout`, `/dev/fd/N`):
    /// opened and written, never replaced; replacing `/dev/null` would turn it into a regular file.
    Direct(PathBuf),
}

/// Decides how `path` is written, following symlinks; a directory, a symlink loop or an unusable path is an error.
pub fn target(path: &Path) -> Result<Target, String> {
    let shown = path.display();
    let mut cur = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        // A link into /proc/<pid>/fd or /dev/fd names a descriptor the shell opened (a pipe, a
        // terminal, a file opened for append): replacing what it points at would defeat the
        // redirection, so it is written through like a device.
        if cur.starts_with("/proc") || cur.starts_with("/dev/fd") {
            return Ok(Target::Direct(cur));
        }
        let meta = match std::fs::symlink_metadata(&cur) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if cur.file_name().is_none() {
                    return Err(format!("--output {shown} names no file"));
                }
                return Ok(Target::Replace {
                    path: cur,
                    mode: None,
                });
            }
            Err(e) => return Err(format!("--output {shown}: {e}")),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let link = std::fs::read_link(&cur).map_err(|e| format!("--output {shown}: {e}"))?;
            cur = if link.is_absolute() {
                link
            } else {
                cur.parent().unwrap_or(Path::new(".")).join(link)
            };
            continue;
        }
        if kind.is_dir() {
            return Err(if cur == path {
                format!("--output {shown} is a directory; give a file name")
            } else {
                format!(
                    "--output {shown} leads to {}, which is a directory; give a file name",
                    cur.display()
                )
            });
        }
        if kind.is_file() {
            return Ok(Target::Replace {
                path: cur,
                mode: Some(mode_of(&meta)),
            });
        }
        return Ok(Target::Direct(cur));
    }
    Err(format!(
        "--output {shown}: too many levels of symbolic links"
    ))
}

/// The text of the file a report is about to replace, if it is a regular file (a FIFO would block a read).
pub fn previous_text(path: &Path) -> Option<String> {
    match target(path) {
        Ok(Target::Replace {
            path,
            mode: Some(_),
        }) => std::fs::read_to_string(path).ok(),
        _ => None,
    }
}

/// Writes `text` to `path` as [`target`] decides: a regular file (or none yet) through a temporary
/// file in the same directory (written, flushed to disk, given the old file's mode or 0644, renamed
/// over it, the directory synced so the rename survives a crash; a failure at any step leaves the
/// previous file untouched), a symlink's final target the same way in that target's directory, and
/// anything else (FIFO, device, `/dev/stdout`) opened and written directly.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    match target(path)? {
        Target::Replace { path, mode } => replace(&path, mode, text),
        Target::Direct(dev) => {
            // Append: a device ignores it, and a file behind /dev/stdout keeps what the shell put there.
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&dev)
                .map_err(|e| format!("cannot open --output {}: {e}", dev.display()))?;
            f.write_all(text.as_bytes())
                .and_then(|_| f.flush())
                .map_err(|e| format!("cannot write --output {}: {e}", dev.display()))
        }
    }
}

fn replace(path: &Path, mode: Option<u32>, text: &str) -> Result<(), String> {
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
    // tempfile creates 0600; the collector usually runs as another user than the audit job, so a
    // new file is 0644, and a replaced one keeps the mode (and, as root, the owner) it had.
    set_mode(tmp.as_file(), mode.unwrap_or(0o644), path)
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
fn mode_of(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(_: &std::fs::Metadata) -> u32 {
    0o644
}

#[cfg(unix)]
fn set_mode(f: &std::fs::File, mode: u32, old: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    if let Ok(m) = std::fs::metadata(old) {
        // Only root may give a file away; for anyone else the owner is already theirs or cannot change.
        let _ = std::os::unix::fs::fchown(f, Some(m.uid()), Some(m.gid()));
    }
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_: &std::fs::File, _: u32, _: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cellaudit.prom");
        write_atomic(&path, "first\n").unwrap();
        assert_eq!(mode(&path), 0o644, "a new file is world-readable");
        write_atomic(&path, "new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(names(dir.path()), vec!["cellaudit.prom".to_string()]);
    }

    #[test]
    fn a_replaced_file_keeps_its_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write_atomic(&path, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, "newer").unwrap();
        assert_eq!(mode(&path), 0o640);
    }

    #[test]
    fn a_symlink_stays_and_its_target_is_replaced_in_the_targets_directory() {
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("real");
        let link_dir = dir.path().join("links");
        std::fs::create_dir_all(&real_dir).unwrap();
        std::fs::create_dir_all(&link_dir).unwrap();
        let real = real_dir.join("cellaudit.prom");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        // A relative link, through a second link: both are followed.
        let link1 = link_dir.join("one.prom");
        let link2 = link_dir.join("two.prom");
        std::os::unix::fs::symlink("../real/cellaudit.prom", &link1).unwrap();
        std::os::unix::fs::symlink(&link1, &link2).unwrap();
        write_atomic(&link2, "new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link2)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            std::fs::symlink_metadata(&link1)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(mode(&real), 0o640);
        assert_eq!(names(&real_dir), vec!["cellaudit.prom".to_string()]);
        assert_eq!(
            names(&link_dir),
            vec!["one.prom".to_string(), "two.prom".to_string()]
        );
        // A dangling link gets its target created.
        let dangling = link_dir.join("three.prom");
        std::os::unix::fs::symlink("../real/new.prom", &dangling).unwrap();
        write_atomic(&dangling, "x").unwrap();
        assert_eq!(
            std::fs::read_to_string(real_dir.join("new.prom")).unwrap(),
            "x"
        );
        assert!(
            std::fs::symlink_metadata(&dangling)
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_symlink_loop_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let err = write_atomic(&a, "x").unwrap_err();
        assert!(err.contains("too many levels of symbolic links"), "{err}");
    }

    #[test]
    fn a_fifo_is_written_through_and_stays_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("report.fifo");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(ok.success());
        // The read end is opened first, non-blocking, so a writer that replaced the FIFO instead
        // of writing into it fails the test rather than hanging it.
        let mut reader = {
            use std::os::unix::fs::OpenOptionsExt as _;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo)
                .unwrap()
        };
        write_atomic(&fifo, "through the pipe\n").unwrap();
        let mut got = String::new();
        std::io::Read::read_to_string(&mut reader, &mut got).unwrap();
        assert_eq!(got, "through the pipe\n");
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
        assert!(previous_text(&fifo).is_none(), "reading a FIFO would block");
        assert_eq!(names(dir.path()), vec!["report.fifo".to_string()]);
    }

    #[test]
    fn dev_null_and_a_link_to_it_stay_character_devices() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("null.prom");
        std::os::unix::fs::symlink("/dev/null", &link).unwrap();
        assert_eq!(
            target(&link).unwrap(),
            Target::Direct(PathBuf::from("/dev/null"))
        );
        write_atomic(&link, "gone\n").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        write_atomic(Path::new("/dev/null"), "gone\n").unwrap();
        assert!(
            std::fs::metadata("/dev/null")
                .unwrap()
                .file_type()
                .is_char_device()
        );
        // A device node of our own, where root may make one: it must survive as a device.
        let node = dir.path().join("mynull");
        let made = std::process::Command::new("mknod")
            .arg(&node)
            .args(["c", "1", "3"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if made {
            write_atomic(&node, "gone\n").unwrap();
            assert!(
                std::fs::symlink_metadata(&node)
                    .unwrap()
                    .file_type()
                    .is_char_device()
            );
        }
        assert!(matches!(
            target(Path::new("/dev/stdout")).unwrap(),
            Target::Direct(_)
        ));
    }

    #[test]
    fn a_directory_is_a_clear_error_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_atomic(dir.path(), "x").unwrap_err();
        assert_eq!(
            err,
            format!(
                "--output {} is a directory; give a file name",
                dir.path().display()
            )
        );
        let link = dir.path().join("to-dir");
        std::os::unix::fs::symlink(dir.path(), &link).unwrap();
        let err = write_atomic(&link, "x").unwrap_err();
        assert!(err.contains("which is a directory"), "{err}");
        assert_eq!(names(dir.path()), vec!["to-dir".to_string()]);
    }

    #[test]
    fn a_missing_directory_is_an_error_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/x.prom");
        let err = write_atomic(&path, "x").unwrap_err();
        assert!(err.contains("cannot create a temporary file"), "{err}");
    }
}
