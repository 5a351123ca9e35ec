//! This process's memory, threads and open files, from `/proc/self` (Linux;
//! elsewhere they are left out).

/// What `/proc/self` says, each `None` when it cannot be read.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Process {
    /// Resident memory, all of it (`VmRSS`).
    pub resident_bytes: Option<u64>,
    /// Resident anonymous memory (`RssAnon`): the heap and stacks.
    pub anonymous_bytes: Option<u64>,
    /// Resident file-backed memory (`RssFile`): mapped files, such as the
    /// search index and SQLite's memory map; the kernel can drop it.
    pub file_bytes: Option<u64>,
    pub threads: Option<u64>,
    pub open_fds: Option<u64>,
}

/// Reads `/proc/self` now.
pub fn read() -> Process {
    let mut p = Process::default();
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        p = parse_status(&status);
    }
    p.open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64);
    p
}

fn parse_status(status: &str) -> Process {
    let mut p = Process::default();
    for line in status.lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let mut words = value.split_whitespace();
        let number = words.next().and_then(|n| n.parse::<u64>().ok());
        let kib = number.map(|n| n * 1024);
        match name {
            "VmRSS" => p.resident_bytes = kib,
            "RssAnon" => p.anonymous_bytes = kib,
            "RssFile" => p.file_bytes = kib,
            "Threads" => p.threads = number,
            _ => {}
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_fields() {
        let p = parse_status(
            "Name:\tjobboard\nVmRSS:\t   51200 kB\nRssAnon:\t   20480 kB\n\
             RssFile:\t   30720 kB\nThreads:\t9\n",
        );
        assert_eq!(p.resident_bytes, Some(51200 * 1024));
        assert_eq!(p.anonymous_bytes, Some(20480 * 1024));
        assert_eq!(p.file_bytes, Some(30720 * 1024));
        assert_eq!(p.threads, Some(9));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_memory_and_files() {
        let p = read();
        assert!(p.resident_bytes.is_some_and(|b| b > 0));
        assert!(p.open_fds.is_some_and(|n| n >= 3));
    }
}
