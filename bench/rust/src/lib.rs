//! Shared by the Rust contenders of `npm run bench` (`dmabuf-bench`, the
//! dmabuf core; `dmabuf-bench-peer`, the dma-buf and dma-heap crates):
//! arguments, the timing scheme, statistics and the JSON line they print.
//!
//! The timing scheme is the same in every contender (bench/c/bench.c,
//! bench/js/common.mjs): warm up for `--warmup-ms`; find a batch of K
//! operations lasting at least 5 ms (K = 1 for throughput cases); time
//! batches until `--time-ms` has passed (at least 5, at most 2000 samples).
//! One sample is the batch's time divided by K.

// Statistics turn integer timings into floats and back; every value is far below 2^52.
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]

use std::fmt::Write as _;
use std::os::fd::RawFd;
use std::time::{Duration, Instant};

/// A failure inside a measured operation.
pub type OpResult = Result<(), Box<dyn std::error::Error>>;

const BATCH: Duration = Duration::from_millis(5);
const MIN_SAMPLES: usize = 5;
const MAX_SAMPLES: usize = 2000;

/// Command line: `CASE [--size N] [--source udmabuf|heap] [--time-ms T] [--warmup-ms W]`.
#[derive(Debug, Clone)]
pub struct Args {
    /// Which contender prints the result (`Rust`, `Rust peer (dma-buf crate)`).
    pub contender: &'static str,
    /// sync, export, map, read, alloc, rw.
    pub case: String,
    /// Buffer size in bytes (for buffers allocated here; a borrowed buffer has its own).
    pub size: u64,
    /// `udmabuf` or `heap`.
    pub source: String,
    /// How long to take samples.
    pub time: Duration,
    /// How long to warm up first.
    pub warmup: Duration,
}

impl Args {
    /// Parses `std::env::args()`; exits with a message on bad input.
    pub fn parse(contender: &'static str) -> Args {
        let argv: Vec<String> = std::env::args().skip(1).collect();
        let mut a = Args {
            contender,
            case: argv.first().cloned().unwrap_or_default(),
            size: 4096,
            source: "udmabuf".into(),
            time: Duration::from_secs(2),
            warmup: Duration::from_millis(300),
        };
        if a.case.is_empty() {
            a.die("usage: CASE [--size N] [--source udmabuf|heap] [--time-ms T] [--warmup-ms W]");
        }
        let mut it = argv.iter().skip(1);
        while let Some(flag) = it.next() {
            let Some(value) = it.next() else { a.die(&format!("{flag} needs a value")) };
            let num = || value.parse::<u64>().unwrap_or_else(|_| a.die(&format!("{flag}: not a number: {value}")));
            match flag.as_str() {
                "--size" => a.size = num(),
                "--source" => a.source.clone_from(value),
                "--time-ms" => a.time = Duration::from_millis(num()),
                "--warmup-ms" => a.warmup = Duration::from_millis(num()),
                _ => a.die(&format!("unknown option {flag}")),
            }
        }
        a
    }

    /// Reports a failure (a failed check included) and exits 1.
    pub fn die(&self, msg: &str) -> ! {
        eprintln!("{} {}: {msg}", self.contender, self.case);
        std::process::exit(1)
    }

    /// Reports that this case cannot run here and exits 3.
    pub fn unavailable(&self, reason: &str) -> ! {
        println!(
            "{{\"contender\":{},\"case\":{},\"unavailable\":{}}}",
            json_str(self.contender),
            json_str(&self.case),
            json_str(reason)
        );
        std::process::exit(3)
    }

    /// Unwraps a setup result, dying with `what` on error.
    pub fn ok<T, E: std::fmt::Display>(&self, what: &str, r: Result<T, E>) -> T {
        r.unwrap_or_else(|e| self.die(&format!("{what}: {e}")))
    }
}

/// The buffer `npm run bench` or `cuda_exec` lends: `DMABUF_BENCH_FD=<fd>`.
pub fn bench_fd() -> Option<RawFd> {
    std::env::var("DMABUF_BENCH_FD").ok().and_then(|v| v.parse().ok())
}

/// Sums every byte. The same function serves every Rust contender, so the
/// read loops compile to the same code.
#[inline(never)]
pub fn sum_bytes(s: &[u8]) -> u64 {
    s.iter().map(|&b| u64::from(b)).sum()
}

/// The check every read case makes: the sum read back is the one expected.
///
/// # Errors
/// A message with both sums when they differ.
pub fn expect_sum(s: u64, expect: u64) -> OpResult {
    if s == expect {
        Ok(())
    } else {
        Err(format!("read back sum {s}, expected {expect}").into())
    }
}

/// Sets every byte to `v`.
#[inline(never)]
pub fn fill(s: &mut [u8], v: u8) {
    s.fill(v);
}

/// The byte pattern of the read case: byte k holds k mod 256.
pub fn fill_pattern(s: &mut [u8]) {
    for (k, b) in s.iter_mut().enumerate() {
        *b = k as u8;
    }
}

/// The sum of [`fill_pattern`] over `len` bytes.
pub fn pattern_sum(len: u64) -> u64 {
    (len / 256) * (255 * 256 / 2) + (0..len % 256).sum::<u64>()
}

/// Measured statistics.
#[derive(Debug, Clone)]
pub struct Stats {
    /// `ns` per operation, or `MiB/s` for throughput.
    pub unit: &'static str,
    /// Median sample.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Number of samples.
    pub n: usize,
    /// Operations per sample.
    pub batch: u64,
    /// Operations run in all (warm-up included).
    pub ops: u64,
    /// Every sample, sorted (the orchestrator merges rounds).
    pub samples: Vec<f64>,
}

fn quantile(s: &[f64], q: f64) -> f64 {
    let pos = q * (s.len() - 1) as f64;
    let lo = pos as usize;
    let hi = (lo + 1).min(s.len() - 1);
    s[lo] + (s[hi] - s[lo]) * (pos - lo as f64)
}

/// Runs `op(i)` under the timing scheme. With `throughput = Some(bytes)`
/// each operation is one pass over `bytes` and samples are MiB/s.
pub fn measure(args: &Args, throughput: Option<u64>, mut op: impl FnMut(u64) -> OpResult) -> Stats {
    let mut i = 0u64;
    let mut run = |k: u64, i: &mut u64| -> Duration {
        let s = Instant::now();
        for _ in 0..k {
            if let Err(e) = op(*i) {
                args.die(&e.to_string());
            }
            *i += 1;
        }
        s.elapsed()
    };
    // DMABUF_BENCH_ITERS=N (profiling): exactly N operations, one sample, no warm-up.
    let fixed: Option<u64> = std::env::var("DMABUF_BENCH_ITERS").ok().and_then(|v| v.parse().ok());
    let t0 = Instant::now();
    while fixed.is_none() {
        run(1, &mut i);
        if t0.elapsed() >= args.warmup {
            break;
        }
    }
    let mut k = fixed.unwrap_or(1);
    if throughput.is_none() && fixed.is_none() {
        // From the fastest time per operation seen, so that one slow batch
        // (preemption, a page fault storm) does not leave K too small.
        let mut fastest = f64::INFINITY;
        loop {
            fastest = fastest.min(run(k, &mut i).as_nanos() as f64 / k as f64);
            if fastest * k as f64 >= BATCH.as_nanos() as f64 || k >= (1 << 24) {
                break;
            }
            k *= 2;
        }
    }
    let mut samples = Vec::with_capacity(MAX_SAMPLES);
    let start = Instant::now();
    let more = |n: usize| match fixed {
        Some(_) => n < 1,
        None => n < MAX_SAMPLES && (n < MIN_SAMPLES || start.elapsed() < args.time),
    };
    while more(samples.len()) {
        let ns = run(k, &mut i).as_nanos() as f64 / k as f64;
        samples.push(match throughput {
            Some(bytes) => bytes as f64 / (1024.0 * 1024.0) / (ns / 1e9),
            None => ns,
        });
    }
    samples.sort_by(f64::total_cmp);
    Stats {
        unit: if throughput.is_some() { "MiB/s" } else { "ns" },
        median: quantile(&samples, 0.5),
        p10: quantile(&samples, 0.1),
        p90: quantile(&samples, 0.9),
        n: samples.len(),
        batch: k,
        ops: i,
        samples,
    }
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prints the result line.
pub fn report(args: &Args, size: u64, st: &Stats, check: &str, sink: u64) {
    println!(
        "{{\"contender\":{},\"case\":{},\"size\":{size},\"unit\":\"{}\",\"median\":{},\"p10\":{},\"p90\":{},\"n\":{},\"batch\":{},\"ops\":{},\"check\":{},\"sink\":{sink},\"samples\":[{}]}}",
        json_str(args.contender),
        json_str(&args.case),
        st.unit,
        st.median,
        st.p10,
        st.p90,
        st.n,
        st.batch,
        st.ops,
        json_str(check),
        st.samples.iter().map(|v| format!("{v}")).collect::<Vec<_>>().join(","),
    );
}
