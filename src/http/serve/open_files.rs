//! The process's open-file limit. Every connection holds a file descriptor, and the usual soft
//! limit (1,024) is far below what the hard limit allows, so the server raises it at start.

/// Raises the open-file soft limit to the hard limit where the OS allows, logs the result and
/// returns the limit now in force (`None` when it could not be read or raised).
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => {
            tracing::info!(limit, "open-file limit");
            Some(limit)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot raise the open-file limit; keeping the current one");
            None
        }
    }
}
