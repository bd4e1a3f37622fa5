//! Load generator for the server's SDK endpoints: requests per second and p50/p99/p999
//! latency, closed-loop (peak) or open-loop at a fixed rate (soak).
//!
//! ```text
//! server-load <server URL> <SDK key> [--mix assign=6,config=2,config304=1,events=1]
//!     [--seconds S] [--connections C] [--rate R] [--report-every S] [--pid P] [--batch N]
//!     [--assign-units U]
//! ```
//!
//! - Each request picks an endpoint by the mix's weights: `assign` (`POST /assign`, a random
//!   unit among a million, every running experiment), `config` (`GET /sdk/config`, the body),
//!   `config304` (the same with `If-None-Match: *`: 304), `events` (`POST /events`, a batch of N
//!   new events, 20 by default).
//! - Without `--rate`, C connections send back to back (the peak). With `--rate R`, requests are
//!   scheduled R per second over the C connections and each latency runs from the scheduled
//!   instant, so a stalled server shows as latency, not as fewer requests (no coordinated
//!   omission).
//! - Every `--report-every` seconds (and at the end) a line per endpoint: requests, req/s,
//!   errors, p50/p99/p999 in ms; with `--pid`, the server's resident memory (VmRSS). An error
//!   is any answer but 200 (304 for `config304`) or a broken connection. For `events`, a line
//!   `  events: <at>: N events/s in batches of B, p99 X ms` follows. Exits 1 when there
//!   were errors, so a soak fails on its first refusal.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use litmus_benches::{http, traffic};
use tokio::io::BufReader;
use tokio::net::TcpStream;

const ENDPOINTS: [&str; 4] = ["assign", "config", "config304", "events"];

struct Args {
    url: String,
    key: String,
    mix: [u32; 4],
    seconds: u64,
    connections: usize,
    rate: Option<f64>,
    report_every: u64,
    pid: Option<u32>,
    batch: usize,
    /// `/assign` draws its unit among this many (`--assign-units`; 1,000,000 by default).
    assign_units: u64,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        url: it.next().expect("the server URL"),
        key: it.next().expect("the SDK key"),
        mix: [6, 2, 1, 1],
        seconds: 10,
        connections: 16,
        rate: None,
        report_every: 0,
        pid: None,
        batch: 20,
        assign_units: 1_000_000,
    };
    while let Some(flag) = it.next() {
        let value = it.next().expect("a value after each flag");
        match flag.as_str() {
            "--mix" => {
                a.mix = [0; 4];
                for part in value.split(',') {
                    let (name, w) = part.split_once('=').expect("endpoint=weight");
                    let i = ENDPOINTS
                        .iter()
                        .position(|e| *e == name)
                        .expect("an endpoint");
                    a.mix[i] = w.parse().unwrap();
                }
            }
            "--seconds" => a.seconds = value.parse().unwrap(),
            "--connections" => a.connections = value.parse().unwrap(),
            "--rate" => a.rate = Some(value.parse().unwrap()),
            "--report-every" => a.report_every = value.parse().unwrap(),
            "--pid" => a.pid = Some(value.parse().unwrap()),
            "--batch" => a.batch = value.parse().unwrap(),
            "--assign-units" => a.assign_units = value.parse::<u64>().unwrap().max(1),
            other => panic!("unknown flag {other}"),
        }
    }
    assert!(a.mix.iter().sum::<u32>() > 0, "the mix is empty");
    a
}

/// Latencies (µs) and errors per endpoint since the last report.
#[derive(Default)]
struct Tally {
    latencies: [Vec<u32>; 4],
    errors: [u64; 4],
    first_errors: Vec<String>,
}

/// The server's resident memory in MiB.
fn rss_mib(pid: u32) -> Option<f64> {
    litmus_benches::rss_kib(pid).map(|kib| kib as f64 / 1024.0)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[i]) / 1e3
}

/// Prints one line per endpoint for `tally` over `seconds`; answers (requests, errors).
/// For `events`, a second line: events per second (requests times `batch`) and the p99 of
/// their acknowledgements.
fn report(
    label: &str,
    tally: &mut Tally,
    seconds: f64,
    pid: Option<u32>,
    batch: usize,
) -> (u64, u64) {
    let rss = pid
        .and_then(rss_mib)
        .map_or(String::new(), |m| format!("{m:.1}"));
    let (mut requests, mut errors) = (0, 0);
    for (i, name) in ENDPOINTS.iter().enumerate() {
        let lat = &mut tally.latencies[i];
        if lat.is_empty() && tally.errors[i] == 0 {
            continue;
        }
        lat.sort_unstable();
        let n = lat.len() as u64;
        println!(
            "| {label:>7} | {name:<9} | {n:>9} | {:>9.0} | {:>6} | {:>8.2} | {:>8.2} | {:>8.2} | {rss:>8} |",
            n as f64 / seconds,
            tally.errors[i],
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            percentile(lat, 0.999),
        );
        if *name == "events" {
            println!(
                "  events: {label}: {:.0} events/s in batches of {batch}, p99 {:.2} ms",
                (n * batch as u64) as f64 / seconds,
                percentile(lat, 0.99),
            );
        }
        requests += n;
        errors += tally.errors[i];
    }
    for e in tally.first_errors.drain(..) {
        println!("  error: {e}");
    }
    *tally = Tally::default();
    (requests, errors)
}

#[tokio::main]
async fn main() {
    let a = args();
    let host = a
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let conns = a.connections;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let total = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(a.seconds);
    let interval = a
        .rate
        .map(|r| Duration::from_secs_f64(a.connections as f64 / r));
    let weights: u32 = a.mix.iter().sum();
    println!(
        "server-load: {} connections, {}, mix assign={} config={} config304={} events={} (batches of {}), {} s",
        a.connections,
        a.rate.map_or("back to back (peak)".into(), |r| format!(
            "{r:.0} req/s open loop"
        )),
        a.mix[0],
        a.mix[1],
        a.mix[2],
        a.mix[3],
        a.batch,
        a.seconds
    );
    println!(
        "| {:>7} | {:<9} | {:>9} | {:>9} | {:>6} | {:>8} | {:>8} | {:>8} | {:>8} |",
        "at", "endpoint", "requests", "req/s", "errors", "p50 ms", "p99 ms", "p999 ms", "RSS MiB"
    );
    println!("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut tasks = Vec::new();
    for c in 0..a.connections {
        let (host, key, tally, total) = (
            host.clone(),
            a.key.clone(),
            Arc::clone(&tally),
            Arc::clone(&total),
        );
        let (mix, batch, assign_units) = (a.mix, a.batch, a.assign_units);
        tasks.push(tokio::spawn(async move {
            // Matches any current version: the 304 path of a client that has the config.
            let if_none_match = "If-None-Match: *\r\n";
            let mut conn = None;
            let mut rng = 0x9e37_79b9_7f4a_7c15_u64 ^ (c as u64).wrapping_mul(0x1234_5678_9abc);
            let mut next = Instant::now()
                + interval.map_or(Duration::ZERO, |i| i.mul_f64(c as f64 / conns as f64));
            let mut sent_events = 0u64;
            while Instant::now() < deadline {
                let scheduled = match interval {
                    Some(i) => {
                        tokio::time::sleep_until(next.into()).await;
                        let s = next;
                        next += i;
                        s
                    }
                    None => Instant::now(),
                };
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let mut pick = (rng % u64::from(weights)) as u32;
                let mut which = 0;
                while pick >= mix[which] {
                    pick -= mix[which];
                    which += 1;
                }
                if conn.is_none() {
                    conn = TcpStream::connect(&host).await.ok().map(|s| {
                        let _ = s.set_nodelay(true);
                        BufReader::new(s)
                    });
                }
                let outcome = match conn.as_mut() {
                    None => Err("connect failed".to_owned()),
                    Some(conn) => {
                        let answer = match which {
                            0 => {
                                let body = traffic::assign((rng >> 20) % assign_units);
                                http::request(conn, "POST", &host, "/assign", &key, &body).await
                            }
                            1 => http::request(conn, "GET", &host, "/sdk/config", &key, "").await,
                            2 => {
                                http::request_with(
                                    conn,
                                    "GET",
                                    &host,
                                    "/sdk/config",
                                    &key,
                                    "",
                                    if_none_match,
                                )
                                .await
                            }
                            _ => {
                                let body = traffic::batch(c, sent_events, batch, traffic::now_ms());
                                sent_events += batch as u64;
                                http::request(conn, "POST", &host, "/events", &key, &body).await
                            }
                        };
                        let expected = if which == 2 { 304 } else { 200 };
                        match answer {
                            Ok((status, _)) if status == expected => Ok(()),
                            Ok((status, body)) => Err(format!(
                                "{} answered {status}: {}",
                                ENDPOINTS[which],
                                body.chars().take(200).collect::<String>()
                            )),
                            Err(e) => Err(format!("{}: {e}", ENDPOINTS[which])),
                        }
                    }
                };
                let micros = u32::try_from(scheduled.elapsed().as_micros()).unwrap_or(u32::MAX);
                for t in [&tally, &total] {
                    let mut t = t.lock().unwrap();
                    match &outcome {
                        Ok(()) => t.latencies[which].push(micros),
                        Err(e) => {
                            t.errors[which] += 1;
                            if t.first_errors.len() < 3 {
                                t.first_errors.push(e.clone());
                            }
                        }
                    }
                }
                if outcome.is_err() {
                    conn = None; // a fresh connection for the next request
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }));
    }
    if a.report_every > 0 {
        let mut last = start;
        while Instant::now() + Duration::from_secs(a.report_every) <= deadline {
            tokio::time::sleep(Duration::from_secs(a.report_every)).await;
            let label = format!("{}s", start.elapsed().as_secs());
            let seconds = last.elapsed().as_secs_f64();
            last = Instant::now();
            let mut t = std::mem::take(&mut *tally.lock().unwrap());
            report(&label, &mut t, seconds, a.pid, a.batch);
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let mut t = std::mem::take(&mut *total.lock().unwrap());
    let (requests, errors) = report(
        "total",
        &mut t,
        start.elapsed().as_secs_f64(),
        a.pid,
        a.batch,
    );
    println!(
        "server-load: {requests} requests in {:.1} s, {errors} errors",
        start.elapsed().as_secs_f64()
    );
    if errors > 0 {
        std::process::exit(1);
    }
}
