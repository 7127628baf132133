//! The open-files limit: every connection is a file descriptor, so the server raises its soft
//! `RLIMIT_NOFILE` to the hard limit at startup and keeps `--max-connections` within it.
//! Without that, a flood of idle connections made `accept` fail with `EMFILE` and the server
//! answered nothing, `/health` included.

/// Descriptors kept for everything but connections: the listener, the runtime's epoll and
/// eventfd, logs, the file watcher, plugin copies being staged, a build's pipes, Redis.
pub(crate) const OTHER_FDS: usize = 64;

/// The soft and hard `RLIMIT_NOFILE` before and after raising the soft one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoFile {
    /// The soft limit found at startup.
    pub(crate) before: u64,
    /// The soft limit now (the hard limit, unless raising it failed).
    pub(crate) soft: u64,
    /// The hard limit.
    pub(crate) hard: u64,
}

/// Raises the soft open-files limit to the hard one and logs both. `None` when the limits
/// cannot be read (then nothing is capped by them).
pub(crate) fn raise() -> Option<NoFile> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit through a valid, exclusive pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot read the open-files limit");
        return None;
    }
    let before = lim.rlim_cur;
    let mut soft = before;
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: setrlimit reads one rlimit through a valid pointer.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            soft = lim.rlim_max;
        } else {
            // An unlimited hard limit cannot be the soft one on Linux (above fs.nr_open) or
            // macOS (above kern.maxfilesperproc); the soft limit then stays.
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                soft = before,
                hard = lim.rlim_max,
                "cannot raise the open-files limit"
            );
        }
    }
    let hard = lim.rlim_max;
    tracing::info!(soft, hard, before, "open-files limit (RLIMIT_NOFILE)");
    Some(NoFile { before, soft, hard })
}

/// How many connections fit in `soft` descriptors once [`OTHER_FDS`] and `reserve` (the
/// connections kept for probes) are set aside: `wanted`, or less. At least 1.
pub(crate) fn fit(wanted: usize, soft: u64, reserve: usize) -> usize {
    let room = usize::try_from(soft)
        .unwrap_or(usize::MAX)
        .saturating_sub(OTHER_FDS + reserve);
    wanted.min(room).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_fit_in_the_limit() {
        assert_eq!(fit(1024, 1 << 20, 8), 1024);
        assert_eq!(fit(1024, 256, 8), 256 - OTHER_FDS - 8);
        assert_eq!(fit(1024, 10, 8), 1);
        assert_eq!(fit(1024, u64::MAX, 8), 1024);
    }

    #[test]
    fn raising_leaves_soft_at_most_hard() {
        let n = raise().expect("getrlimit works here");
        assert!(n.soft >= n.before && n.soft <= n.hard, "{n:?}");
    }
}
