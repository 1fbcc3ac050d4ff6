//! Reading a process's values from Linux's `/proc`, the files and arithmetic of Go's `procfs`.

use std::io::Read as _;
use std::sync::OnceLock;

use super::{ProcessError, Readings, at};

/// This platform exports every family.
pub(super) const SUPPORTED: bool = true;

/// Buffers reused from scrape to scrape, so that a collection reads files without allocating.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    /// A file's contents.
    buf: Vec<u8>,
    /// The path being read.
    path: String,
}

/// Reads every value of process `pid` (the current one when `None`) into `out`, skipping what
/// fails; returns the first failure with the position of a family it left out.
pub(super) fn read(pid: Option<u32>, s: &mut Scratch, out: &mut Readings) -> Option<(usize, ProcessError)> {
    let sys = system();
    let mut first = None;
    let mut fail = |at: usize, e: ProcessError| {
        first.get_or_insert((at, e));
    };

    match load(s, pid, "stat").and_then(|()| parse_stat(&s.buf).map_err(|what| parse_error(s, what))) {
        Ok(st) => {
            // As procfs: the sum in ticks, then one division, so the float is Go's to the bit.
            out[at::CPU] = Some((st.utime + st.stime) as f64 / sys.clock_ticks as f64);
            out[at::VIRTUAL] = Some(st.vsize as f64);
            out[at::RESIDENT] = Some(st.rss.saturating_mul(sys.page_size as i64) as f64);
            out[at::THREADS] = Some(st.num_threads as f64);
            match load_path(s, "/proc/stat")
                .and_then(|()| parse_btime(&s.buf).map_err(|what| parse_error(s, what)))
            {
                Ok(btime) => {
                    out[at::START_TIME] = Some(btime as f64 + st.starttime as f64 / sys.clock_ticks as f64);
                }
                Err(e) => fail(at::START_TIME, e),
            }
        }
        Err(e) => fail(at::CPU, e),
    }

    set_path(&mut s.path, pid, "fd");
    match count_fds(&s.path) {
        Ok(n) => out[at::OPEN_FDS] = Some(n as f64),
        Err(source) => fail(at::OPEN_FDS, ProcessError::Read { path: s.path.clone(), source }),
    }

    match load(s, pid, "limits").and_then(|()| parse_limits(&s.buf).map_err(|what| parse_error(s, what))) {
        Ok(limits) => {
            out[at::MAX_FDS] = Some(limits.open_files as f64);
            out[at::VIRTUAL_MAX] = Some(limits.address_space as f64);
        }
        Err(e) => fail(at::MAX_FDS, e),
    }

    match load(s, pid, "net/netstat")
        .and_then(|()| parse_netstat(&s.buf).map_err(|what| parse_error(s, what)))
    {
        Ok((received, sent)) => {
            out[at::NET_RECEIVE] = Some(received);
            out[at::NET_TRANSMIT] = Some(sent);
        }
        Err(e) => fail(at::NET_RECEIVE, e),
    }

    first
}

/// Writes `/proc/<pid>/<file>` (or `/proc/self/<file>`) into the reused path buffer.
fn set_path(path: &mut String, pid: Option<u32>, file: &str) {
    path.clear();
    path.push_str("/proc/");
    match pid {
        Some(pid) => path.push_str(itoa::Buffer::new().format(pid)),
        None => path.push_str("self"),
    }
    path.push('/');
    path.push_str(file);
}

/// Reads `/proc/<pid>/<file>` into the reused buffer.
fn load(s: &mut Scratch, pid: Option<u32>, file: &str) -> Result<(), ProcessError> {
    set_path(&mut s.path, pid, file);
    read_into(s)
}

/// Reads a fixed path (`/proc/stat`) into the reused buffer.
fn load_path(s: &mut Scratch, path: &str) -> Result<(), ProcessError> {
    s.path.clear();
    s.path.push_str(path);
    read_into(s)
}

fn read_into(s: &mut Scratch) -> Result<(), ProcessError> {
    s.buf.clear();
    // `/proc` files report size 0, so `read_to_end` grows the buffer by reading; once it has
    // held the largest file, later scrapes reuse its capacity.
    std::fs::File::open(&s.path)
        .and_then(|mut f| f.read_to_end(&mut s.buf))
        .map(drop)
        .map_err(|source| ProcessError::Read { path: s.path.clone(), source })
}

fn parse_error(s: &Scratch, what: &'static str) -> ProcessError {
    ProcessError::Parse { path: s.path.clone(), what }
}

/// Counts the open descriptors of the process whose `fd` directory is `path`.
fn count_fds(path: &str) -> std::io::Result<u64> {
    // Linux 6.2 and later report the descriptor count as the directory's size (procfs uses
    // it too); before, the size is 0 and the entries must be counted.
    let size = std::fs::metadata(path)?.len();
    if size > 0 {
        return Ok(size);
    }
    Ok(std::fs::read_dir(path)?.count() as u64)
}

/// The system constants the arithmetic needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct System {
    /// Bytes per page, for the resident set (counted in pages).
    page_size: u64,
    /// Clock ticks per second (`USER_HZ`), for CPU and start times (counted in ticks).
    clock_ticks: u64,
}

/// What every mainstream Linux uses: 4 KiB pages (x86_64, most aarch64), and the `USER_HZ`
/// of 100 that Go's procfs hard-codes.
const FALLBACK: System = System { page_size: 4096, clock_ticks: 100 };

/// The system constants, from the kernel's auxiliary vector (what `sysconf` reads), once.
fn system() -> System {
    static SYSTEM: OnceLock<System> = OnceLock::new();
    *SYSTEM.get_or_init(|| std::fs::read("/proc/self/auxv").map_or(FALLBACK, |bytes| parse_auxv(&bytes)))
}

/// Reads `AT_PAGESZ` and `AT_CLKTCK` from an auxiliary vector: pairs of native words, key
/// then value, ended by `AT_NULL`. A missing or zero entry keeps the fallback.
fn parse_auxv(bytes: &[u8]) -> System {
    const AT_NULL: usize = 0;
    const AT_PAGESZ: usize = 6;
    const AT_CLKTCK: usize = 17;
    const WORD: usize = size_of::<usize>();
    let mut words = bytes.chunks_exact(WORD).map(|w| {
        let mut word = [0; WORD];
        word.copy_from_slice(w);
        usize::from_ne_bytes(word)
    });
    let mut sys = FALLBACK;
    while let (Some(key), Some(value)) = (words.next(), words.next()) {
        match (key, value as u64) {
            (AT_NULL, _) => break,
            (_, 0) => {}
            (AT_PAGESZ, v) => sys.page_size = v,
            (AT_CLKTCK, v) => sys.clock_ticks = v,
            _ => {}
        }
    }
    sys
}

/// The fields of `/proc/<pid>/stat` the collector exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    /// User CPU time, in clock ticks (field 14).
    utime: u64,
    /// System CPU time, in clock ticks (field 15).
    stime: u64,
    /// Threads (field 20).
    num_threads: i64,
    /// Start time after boot, in clock ticks (field 22).
    starttime: u64,
    /// Virtual memory size in bytes (field 23).
    vsize: u64,
    /// Resident set size in pages (field 24).
    rss: i64,
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may itself hold
/// spaces and parentheses, so fields are counted from the last `)`, as procfs does.
fn parse_stat(bytes: &[u8]) -> Result<Stat, &'static str> {
    let open = bytes.iter().position(|&b| b == b'(').ok_or("no `(` before the command name")?;
    let close = bytes
        .iter()
        .rposition(|&b| b == b')')
        .filter(|&c| c > open)
        .ok_or("no `)` after the command name")?;
    let rest = std::str::from_utf8(&bytes[close + 1..])
        .map_err(|_| "the fields after the command name are not text")?;
    // Fields 3 (state) to 24 (rss).
    let mut field = [""; 22];
    let mut fields = rest.split_ascii_whitespace();
    for slot in &mut field {
        *slot = fields.next().ok_or("fewer than 24 fields")?;
    }
    let int = |n: usize| field[n - 3].parse::<i64>().map_err(|_| "a numeric field is not an integer");
    let uint =
        |n: usize| field[n - 3].parse::<u64>().map_err(|_| "a numeric field is not an unsigned integer");
    Ok(Stat {
        utime: uint(14)?,
        stime: uint(15)?,
        num_threads: int(20)?,
        starttime: uint(22)?,
        vsize: uint(23)?,
        rss: int(24)?,
    })
}

/// Reads the boot time, in seconds since the epoch, from the `btime` line of `/proc/stat`.
fn parse_btime(bytes: &[u8]) -> Result<u64, &'static str> {
    // Only the `btime` line matters; the `intr` line before it can be long, but is ASCII.
    let line =
        bytes.split(|&b| b == b'\n').find_map(|l| l.strip_prefix(b"btime ")).ok_or("no `btime` line")?;
    std::str::from_utf8(line)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .ok_or("the `btime` value is not an unsigned integer")
}

/// The soft limits of `/proc/<pid>/limits` the collector exports; `unlimited` is `u64::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    open_files: u64,
    address_space: u64,
}

/// Parses `/proc/<pid>/limits`: a header, then one line per limit, its name padded to 26
/// columns, then the soft limit, the hard limit and the unit.
fn parse_limits(bytes: &[u8]) -> Result<Limits, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not text")?;
    let (mut open_files, mut address_space) = (None, None);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Max open files ") {
            open_files = Some(soft_limit(rest)?);
        } else if let Some(rest) = line.strip_prefix("Max address space ") {
            address_space = Some(soft_limit(rest)?);
        }
    }
    Ok(Limits {
        open_files: open_files.ok_or("no `Max open files` line")?,
        address_space: address_space.ok_or("no `Max address space` line")?,
    })
}

fn soft_limit(rest: &str) -> Result<u64, &'static str> {
    match rest.split_ascii_whitespace().next() {
        // As procfs: an unlimited limit is the largest u64.
        Some("unlimited") => Ok(u64::MAX),
        Some(v) => v.parse().map_err(|_| "a soft limit is neither a number nor `unlimited`"),
        None => Err("a limit has no soft limit"),
    }
}

/// Reads `InOctets` and `OutOctets` of the `IpExt` section of `/proc/<pid>/net/netstat`: pairs
/// of lines, names then values, each starting with the section name. Absent ones are 0, as in
/// procfs.
fn parse_netstat(bytes: &[u8]) -> Result<(f64, f64), &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not text")?;
    let mut lines = text.lines();
    while let Some(names) = lines.next() {
        let values = lines.next().ok_or("a line of names without its line of values")?;
        let Some(names) = names.strip_prefix("IpExt:") else { continue };
        let values = values.strip_prefix("IpExt:").ok_or("the `IpExt` names are not followed by values")?;
        let (mut names, mut values) = (names.split_ascii_whitespace(), values.split_ascii_whitespace());
        let (mut received, mut sent) = (0.0, 0.0);
        loop {
            match (names.next(), values.next()) {
                (Some(name), Some(value)) => {
                    let slot = match name {
                        "InOctets" => &mut received,
                        "OutOctets" => &mut sent,
                        _ => continue,
                    };
                    *slot = value.parse().map_err(|_| "an `IpExt` octet count is not a number")?;
                }
                (None, None) => return Ok((received, sent)),
                _ => return Err("the `IpExt` lines have different numbers of fields"),
            }
        }
    }
    Ok((0.0, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real `/proc/<pid>/stat` line with the command name replaced by a hostile one.
    const STAT: &[u8] = b"16778 (my (weird) proc) R 16776 16776 1934 0 -1 4194304 99 0 0 0 \
        1234 567 0 0 20 0 7 0 133827 3133440 382 18446744073709551615 94721445072896 \
        94721445092777 140731405116384 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94721445108784 \
        94721445110400 94722421932032 140731405118177 140731405118197 140731405118197 \
        140731405119467 0\n";

    #[test]
    fn stat_fields_count_from_the_last_parenthesis() {
        assert_eq!(
            parse_stat(STAT),
            Ok(Stat { utime: 1234, stime: 567, num_threads: 7, starttime: 133827, vsize: 3133440, rss: 382 })
        );
        // A command name of `) 1 2 3 (` and spaces, and one that is not UTF-8.
        let odd = b"1 () 1 2 3 ( x) S 0 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 9 100 2 0\n";
        let st = parse_stat(odd).unwrap();
        assert_eq!(
            (st.utime, st.stime, st.num_threads, st.starttime, st.vsize, st.rss),
            (5, 6, 1, 9, 100, 2)
        );
        let bytes = b"1 (\xff\xfe) S 0 1 1 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 9 100 2 0\n";
        assert_eq!(parse_stat(bytes).unwrap().utime, 5);
    }

    #[test]
    fn malformed_stat_is_an_error_naming_the_problem() {
        assert_eq!(parse_stat(b"1 (x S 0"), Err("no `)` after the command name"));
        assert_eq!(parse_stat(b"1 x) S 0"), Err("no `(` before the command name"));
        assert_eq!(parse_stat(b"1 (x) S 0 1 1\n"), Err("fewer than 24 fields"));
        assert_eq!(
            parse_stat(b"1 (x) S 0 1 1 0 -1 0 0 0 0 0 -5 6 0 0 20 0 1 0 9 100 2 0"),
            Err("a numeric field is not an unsigned integer")
        );
    }

    const LIMITS: &str = "\
Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max open files            1024                 1048576              files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max nice priority         0                    0                    
Max realtime timeout      unlimited            unlimited            us        
";

    #[test]
    fn limits_take_the_soft_limit_and_unlimited_is_u64_max() {
        assert_eq!(parse_limits(LIMITS.as_bytes()), Ok(Limits { open_files: 1024, address_space: u64::MAX }));
        let capped = LIMITS
            .replace("Max open files            1024 ", "Max open files            unlimited")
            .replace("Max address space         unlimited", "Max address space         8589934592");
        assert_eq!(
            parse_limits(capped.as_bytes()),
            Ok(Limits { open_files: u64::MAX, address_space: 8_589_934_592 })
        );
        let without = LIMITS.replace("Max address space", "Max other thing");
        assert_eq!(parse_limits(without.as_bytes()), Err("no `Max address space` line"));
        let bad = LIMITS.replace("1024 ", "many ");
        assert_eq!(parse_limits(bad.as_bytes()), Err("a soft limit is neither a number nor `unlimited`"));
    }

    #[test]
    fn unlimited_address_space_is_written_as_go_writes_it() {
        let mut out = Vec::new();
        crate::syntax::float::write_go_float(&mut out, u64::MAX as f64);
        assert_eq!(out, b"1.8446744073709552e+19");
    }

    #[test]
    fn btime_comes_from_its_line() {
        let stat = b"cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 123 0 0 1\nctxt 99\nbtime 1700000000\nprocesses 5\n";
        assert_eq!(parse_btime(stat), Ok(1_700_000_000));
        assert_eq!(parse_btime(b"cpu 1 2\n"), Err("no `btime` line"));
        assert_eq!(parse_btime(b"btime soon\n"), Err("the `btime` value is not an unsigned integer"));
    }

    const NETSTAT: &str = "\
TcpExt: SyncookiesSent SyncookiesRecv TW
TcpExt: 0 0 11
IpExt: InNoRoutes InTruncatedPkts InOctets OutOctets InMcastOctets
IpExt: 0 0 362677687 902164 0
MPTcpExt: MPCapableSYNRX
MPTcpExt: 0
";

    #[test]
    fn netstat_reads_ipext_octets() {
        assert_eq!(parse_netstat(NETSTAT.as_bytes()), Ok((362_677_687.0, 902_164.0)));
        // No IpExt section: zeros, as procfs reports.
        assert_eq!(parse_netstat(b"TcpExt: TW\nTcpExt: 11\n"), Ok((0.0, 0.0)));
        assert_eq!(parse_netstat(b"IpExt: InNoRoutes OutOctets\nIpExt: 0 17\n"), Ok((0.0, 17.0)));
        assert_eq!(
            parse_netstat(b"IpExt: InOctets OutOctets\nIpExt: 1\n"),
            Err("the `IpExt` lines have different numbers of fields")
        );
        assert_eq!(parse_netstat(b"IpExt: InOctets\n"), Err("a line of names without its line of values"));
        assert_eq!(
            parse_netstat(b"IpExt: InOctets\nIpExt: x\n"),
            Err("an `IpExt` octet count is not a number")
        );
    }

    #[test]
    fn auxv_gives_page_size_and_clock_ticks() {
        let words = |pairs: &[(usize, usize)]| -> Vec<u8> {
            pairs.iter().flat_map(|&(k, v)| [k.to_ne_bytes(), v.to_ne_bytes()]).flatten().collect()
        };
        assert_eq!(
            parse_auxv(&words(&[(33, 1), (6, 16384), (17, 250), (0, 0)])),
            System { page_size: 16384, clock_ticks: 250 }
        );
        // Entries after AT_NULL, zero values and a missing vector keep the fallback.
        assert_eq!(parse_auxv(&words(&[(6, 0), (0, 0), (17, 250)])), FALLBACK);
        assert_eq!(parse_auxv(&[]), FALLBACK);
    }

    #[test]
    fn page_size_of_this_system_matches_the_resident_set_in_status() {
        let sys = system();
        assert!(sys.page_size.is_power_of_two() && sys.page_size >= 4096, "{sys:?}");
        // /proc/self/statm counts resident pages, /proc/self/status the same memory in kB: a
        // wrong page size would be off by a factor of 4 or more.
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: u64 = statm.split(' ').nth(1).unwrap().parse().unwrap();
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().strip_suffix(" kB"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let ratio = (pages * sys.page_size) as f64 / (kb * 1024) as f64;
        assert!((0.5..2.0).contains(&ratio), "{pages} pages of {} bytes vs {kb} kB", sys.page_size);
    }

    #[test]
    fn reading_this_process_fills_every_value() {
        let mut s = Scratch::default();
        let mut out = [None; super::super::FAMILY_COUNT];
        let failure = read(None, &mut s, &mut out);
        assert!(failure.is_none(), "{:?}", failure.map(|(_, e)| e.to_string()));
        assert!(out.iter().all(Option::is_some), "{out:?}");
        // Another pid's files, through the same buffers.
        let mut other = [None; super::super::FAMILY_COUNT];
        assert!(read(Some(std::process::id()), &mut s, &mut other).is_none());
        assert_eq!(other[at::MAX_FDS], out[at::MAX_FDS]);
        assert_eq!(other[at::START_TIME], out[at::START_TIME]);
    }
}
