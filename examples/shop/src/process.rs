//! Process metrics read from `/proc/self` on each scrape (Linux only).
//!
//! prometheus-client has no process collector, so this module provides the
//! four series troubleshooting needs — the same names the Go and Python
//! clients use: `process_resident_memory_bytes`, `process_cpu_seconds_total`,
//! `process_start_time_seconds`, `process_open_fds`. On other systems, or when
//! a file cannot be read, the affected series are simply left out.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// A snapshot of the process's resource use; a field is `None` when unknown.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ProcessStats {
    /// Resident set size, in bytes.
    pub resident_memory_bytes: Option<u64>,
    /// User plus system CPU time, in seconds.
    pub cpu_seconds: Option<f64>,
    /// Start time since the Unix epoch, in seconds.
    pub start_time_seconds: Option<f64>,
    /// Open file descriptors.
    pub open_fds: Option<u64>,
}

impl ProcessStats {
    /// Reads the current process's stats; all `None` outside Linux.
    pub fn read() -> ProcessStats {
        #[cfg(target_os = "linux")]
        {
            linux::read()
        }
        #[cfg(not(target_os = "linux"))]
        {
            ProcessStats::default()
        }
    }
}

/// Adds the process series to every scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = ProcessStats::read();
        if let Some(v) = stats.resident_memory_bytes {
            let gauge = ConstGauge::new(v);
            gauge.encode(encoder.encode_descriptor(
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                None,
                gauge.metric_type(),
            )?)?;
        }
        if let Some(v) = stats.cpu_seconds {
            // Registered without `_total`: the encoder adds it to counters.
            let counter = ConstCounter::new(v);
            counter.encode(encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds",
                None,
                counter.metric_type(),
            )?)?;
        }
        if let Some(v) = stats.start_time_seconds {
            let gauge = ConstGauge::new(v);
            gauge.encode(encoder.encode_descriptor(
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch in seconds",
                None,
                gauge.metric_type(),
            )?)?;
        }
        if let Some(v) = stats.open_fds {
            let gauge = ConstGauge::new(v);
            gauge.encode(encoder.encode_descriptor(
                "process_open_fds",
                "Number of open file descriptors",
                None,
                gauge.metric_type(),
            )?)?;
        }
        Ok(())
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use super::ProcessStats;

    /// Clock ticks per second of the times in `/proc/self/stat`. The kernel
    /// reports them in USER_HZ, which is 100 on every mainstream Linux ABI
    /// (the Go and Python clients assume the same without calling sysconf).
    const USER_HZ: f64 = 100.0;

    pub(super) fn read() -> ProcessStats {
        let stat = std::fs::read_to_string("/proc/self/stat").ok();
        let fields = stat.as_deref().and_then(stat_fields);
        let ticks = |i: usize| fields.as_ref()?.get(i)?.parse::<u64>().ok();
        // Field numbers as in proc(5), counted from 1; `stat_fields` starts at field 3.
        let cpu_seconds = match (ticks(14 - 3), ticks(15 - 3)) {
            (Some(utime), Some(stime)) => Some((utime + stime) as f64 / USER_HZ),
            _ => None,
        };
        let boot_time = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| parse_boot_time(&s));
        let start_time_seconds = match (ticks(22 - 3), boot_time) {
            (Some(start), Some(boot)) => Some(boot as f64 + start as f64 / USER_HZ),
            _ => None,
        };
        let resident_memory_bytes = std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| parse_vm_rss(&s));
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            // The count includes the descriptor read_dir itself holds open, as other clients do.
            .map(|dir| dir.count() as u64);
        ProcessStats {
            resident_memory_bytes,
            cpu_seconds,
            start_time_seconds,
            open_fds,
        }
    }

    /// The fields of `/proc/self/stat` after the command name, which may itself
    /// contain spaces and parentheses — so split after the last `)`.
    pub(super) fn stat_fields(stat: &str) -> Option<Vec<&str>> {
        let rest = &stat[stat.rfind(')')? + 1..];
        Some(rest.split_whitespace().collect())
    }

    /// `VmRSS:  1234 kB` from `/proc/self/status`, in bytes.
    pub(super) fn parse_vm_rss(status: &str) -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// `btime 1700000000` from `/proc/stat`: boot time in seconds since the epoch.
    pub(super) fn parse_boot_time(stat: &str) -> Option<u64> {
        let line = stat.lines().find(|l| l.starts_with("btime "))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn parses_proc_files() {
            let stat =
                "4242 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 12345 100 200";
            let f = stat_fields(stat).expect("fields");
            assert_eq!(f[0], "S");
            assert_eq!(f[14 - 3], "250");
            assert_eq!(f[15 - 3], "50");
            assert_eq!(f[22 - 3], "12345");
            assert_eq!(
                parse_vm_rss("Name:\tx\nVmRSS:\t   2048 kB\n"),
                Some(2 * 1024 * 1024)
            );
            assert_eq!(
                parse_boot_time("cpu 1 2\nbtime 1700000000\n"),
                Some(1_700_000_000)
            );
        }

        #[test]
        fn reads_this_process() {
            let s = read();
            assert!(s.resident_memory_bytes.is_some_and(|b| b > 1024 * 1024));
            assert!(s.open_fds.is_some_and(|n| n >= 3));
            assert!(s.cpu_seconds.is_some());
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_secs_f64();
            let start = s.start_time_seconds.expect("start time");
            assert!(
                start <= now + 1.0 && start > now - 3600.0,
                "start {start} now {now}"
            );
        }
    }
}
