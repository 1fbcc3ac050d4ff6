//! Files that `attach` steps upload: read from the runner's `--files-dir` only (a path that
//! leaves it, by `..`, an absolute path or a symbolic link, is refused) or given inline, with
//! the name and media type a browser would send.

use std::path::{Component, Path, PathBuf};

/// Largest file an `attach` step uploads.
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// A file ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The name it is sent under.
    pub filename: String,
    /// Its media type.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Whether `path` stays inside the folder it is relative to, by its spelling: relative, and
/// made of plain names only (no `..`, no root, no drive prefix).
///
/// # Errors
///
/// A sentence saying what is wrong with it.
pub fn check_relative(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("must not be empty".to_owned());
    }
    for part in Path::new(path).components() {
        match part {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "`{path}` leaves the files folder by `..`; name a file inside --files-dir"
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("`{path}` is absolute; name a file relative to --files-dir"));
            }
        }
    }
    Ok(())
}

/// The media type browsers give a file of this name, for the common extensions.
pub fn guess_type(filename: &str) -> &'static str {
    let ext = Path::new(filename).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "txt" | "text" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// Where `attach` steps read files: `--files-dir`, or nowhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilesDir(Option<PathBuf>);

impl FilesDir {
    /// Files from `dir` (`None`: `attach` steps may only give inline content).
    pub fn new(dir: Option<PathBuf>) -> Self {
        Self(dir)
    }

    /// The real path of `relative` inside the folder, after symbolic links: it must exist,
    /// be a regular file and stay inside.
    ///
    /// # Errors
    ///
    /// A sentence for the job's failure reason.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, String> {
        let Some(dir) = &self.0 else {
            return Err(format!(
                "`attach` names the file `{relative}`, but the runner has no --files-dir to read it from; \
                 start it with --files-dir DIR, or give the content inline"
            ));
        };
        check_relative(relative)?;
        let root = dir.canonicalize().map_err(|e| format!("--files-dir {}: {e}", dir.display()))?;
        let path = root
            .join(relative)
            .canonicalize()
            .map_err(|e| format!("`{relative}` in --files-dir {}: {e}", dir.display()))?;
        if !path.starts_with(&root) {
            return Err(format!("`{relative}` leads out of --files-dir {} (a symbolic link)", dir.display()));
        }
        if !path.is_file() {
            return Err(format!("`{relative}` in --files-dir {} is not a file", dir.display()));
        }
        Ok(path)
    }

    /// The upload an `attach` step describes.
    ///
    /// # Errors
    ///
    /// A sentence for the job's failure reason: the file cannot be read, is too large, or
    /// neither a file nor content is given.
    pub fn upload(
        &self,
        file: Option<&str>,
        content: Option<&str>,
        filename: Option<&str>,
        content_type: Option<&str>,
    ) -> Result<Upload, String> {
        let (default_name, bytes) = match (file, content) {
            (Some(relative), _) => {
                let path = self.resolve(relative)?;
                let size = std::fs::metadata(&path).map_err(|e| format!("`{relative}`: {e}"))?.len();
                if size > MAX_UPLOAD_BYTES {
                    return Err(format!(
                        "`{relative}` has {size} bytes, more than the {MAX_UPLOAD_BYTES} an upload may"
                    ));
                }
                let bytes = std::fs::read(&path).map_err(|e| format!("cannot read `{relative}`: {e}"))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                (name, bytes)
            }
            (None, Some(text)) => ("upload.txt".to_owned(), text.as_bytes().to_vec()),
            (None, None) => return Err("`attach` needs `file` or `content`".to_owned()),
        };
        let filename = filename.map_or(default_name, str::to_owned);
        let content_type = content_type.map_or_else(|| guess_type(&filename).to_owned(), str::to_owned);
        Ok(Upload { filename, content_type, bytes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_must_stay_inside() {
        assert_eq!(check_relative("forms/cv.pdf"), Ok(()));
        assert_eq!(check_relative("./cv.pdf"), Ok(()));
        assert!(check_relative("../etc/passwd").unwrap_err().contains("by `..`"));
        assert!(check_relative("a/../../b").unwrap_err().contains("by `..`"));
        assert!(check_relative("/etc/passwd").unwrap_err().contains("is absolute"));
        assert!(check_relative("").is_err());
    }

    #[test]
    fn files_resolve_inside_the_folder_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cv.pdf"), b"%PDF-1").unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), b"no").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("link.txt")).unwrap();
        let files = FilesDir::new(Some(dir.path().to_owned()));
        let up = files.upload(Some("cv.pdf"), None, None, None).unwrap();
        assert_eq!(
            (up.filename.as_str(), up.content_type.as_str(), &up.bytes[..]),
            ("cv.pdf", "application/pdf", &b"%PDF-1"[..])
        );
        #[cfg(unix)]
        assert!(files.resolve("link.txt").unwrap_err().contains("leads out of --files-dir"));
        assert!(files.resolve("../secret.txt").unwrap_err().contains("by `..`"));
        assert!(files.resolve("missing.txt").is_err());
        let none = FilesDir::default();
        assert!(none.resolve("cv.pdf").unwrap_err().contains("no --files-dir"));
        let inline = none.upload(None, Some("a,b\n"), Some("rows.csv"), None).unwrap();
        assert_eq!((inline.filename.as_str(), inline.content_type.as_str()), ("rows.csv", "text/csv"));
        assert_eq!(none.upload(None, Some("x"), None, None).unwrap().filename, "upload.txt");
    }
}
