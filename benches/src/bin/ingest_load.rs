//! Sustained event ingestion through `POST /events`, against a raw COPY of the same rows.
//!
//! `ingest-load <server URL> <SDK key> [--seconds S] [--connections C] [--batch N]
//! [--rate R] [--copy <postgres URL>]`: C connections send batches of N new events stamped
//! with the current time, as the trackers send them (10% exposures, 90% metric events, 50,000
//! units, 4 experiments, 3 metrics) for S seconds, each waiting for its answer (the server
//! answers after the commit), and the accepted events per second are printed. With `--rate`,
//! the connections together send at most R events per second (a steady load, batches evenly
//! spaced) instead of as fast as the server answers. With `--copy`,
//! the same number of rows is then loaded by a binary COPY into a hypertable of the same
//! shape, and the ratio printed. Run by `benches/server/ingest.sh`.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::BufReader;
use tokio::net::TcpStream;

struct Args {
    url: String,
    key: String,
    seconds: u64,
    connections: usize,
    batch: usize,
    rate: Option<f64>,
    copy: Option<String>,
    properties: bool,
    dimensions: bool,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        url: it.next().expect("the server URL"),
        key: it.next().expect("the SDK key"),
        seconds: 10,
        connections: 4,
        batch: 500,
        rate: None,
        copy: None,
        properties: false,
        dimensions: false,
    };
    while let Some(flag) = it.next() {
        let value = it.next().expect("a value after each flag");
        match flag.as_str() {
            "--seconds" => a.seconds = value.parse().unwrap(),
            "--connections" => a.connections = value.parse().unwrap(),
            "--batch" => a.batch = value.parse().unwrap(),
            "--rate" => a.rate = Some(value.parse().unwrap()),
            "--copy" => a.copy = Some(value),
            "--properties" => a.properties = value == "on",
            "--dimensions" => a.dimensions = value == "on",
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

#[tokio::main]
async fn main() {
    let a = args();
    // The raw COPY first, on an idle database: the reference, the median of three runs.
    let copy = match &a.copy {
        Some(url) => {
            let mut runs = Vec::new();
            for _ in 0..3 {
                runs.push(raw_copy(url, 1_000_000, a.properties, a.dimensions).await);
            }
            println!(
                "raw binary COPY of 1,000,000 rows of the same shape into a hypertable, 3 runs: {:.0} / {:.0} / {:.0} rows/s",
                runs[0], runs[1], runs[2]
            );
            runs.sort_by(f64::total_cmp);
            Some(runs[1])
        }
        None => None,
    };
    let host = a
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let start = Instant::now();
    let a_connections = a.connections as f64;
    let mut tasks = Vec::new();
    // With a rate, each connection sends a batch every `gap`, starting at staggered times.
    let gap = a
        .rate
        .map(|r| Duration::from_secs_f64(a.batch as f64 * a.connections as f64 / r.max(1.0)));
    for c in 0..a.connections {
        let (host, key, accepted, refused, batch, properties, dimensions) = (
            host.clone(),
            a.key.clone(),
            Arc::clone(&accepted),
            Arc::clone(&refused),
            a.batch,
            a.properties,
            a.dimensions,
        );
        tasks.push(tokio::spawn(async move {
            let mut conn = BufReader::new(TcpStream::connect(&host).await.unwrap());
            let mut i = 0u64;
            let mut latencies = Vec::new();
            let mut next =
                start + gap.map_or(Duration::ZERO, |g| g.mul_f64(c as f64 / a_connections));
            while Instant::now() < deadline {
                if let Some(g) = gap {
                    tokio::time::sleep_until(next.into()).await;
                    next += g;
                }
                let body = litmus_benches::traffic::batch_with(
                    c,
                    i,
                    batch,
                    litmus_benches::traffic::now_ms(),
                    properties,
                    dimensions,
                );
                let t0 = Instant::now();
                let (status, reply) =
                    litmus_benches::http::request(&mut conn, "POST", &host, "/events", &key, &body)
                        .await
                        .unwrap();
                latencies.push(t0.elapsed());
                if status == 200 {
                    let n: u64 = reply
                        .split("\"accepted\":")
                        .nth(1)
                        .and_then(|r| r.split(|ch: char| !ch.is_ascii_digit()).next())
                        .and_then(|d| d.parse().ok())
                        .unwrap_or(0);
                    accepted.fetch_add(n, Ordering::Relaxed);
                    i += batch as u64;
                } else {
                    refused.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let n = accepted.load(Ordering::Relaxed);
    let rate = n as f64 / elapsed;
    println!(
        "HTTP /events: {n} events in {elapsed:.1} s = {rate:.0} events/s ({} connections, batches of {}{}, {} refused; batch latency p50 {:.1} ms, p99 {:.1} ms)",
        a.connections,
        a.batch,
        a.rate
            .map_or(String::new(), |r| format!(", paced at {r:.0} events/s")),
        refused.load(Ordering::Relaxed),
        pct(0.5),
        pct(0.99)
    );
    if let Some(copy) = copy {
        println!(
            "HTTP ingestion is {:.2} of the median raw COPY ({copy:.0} rows/s)",
            rate / copy
        );
    }
}

/// Loads `rows` rows of the events' shape by one binary COPY; answers rows per second.
/// Rows per second of a binary COPY of `rows` rows shaped as the load's events (with their
/// properties, or its exposures' dimension values, in the `jsonb` column when the load sends
/// some).
async fn raw_copy(url: &str, rows: u64, properties: bool, dimensions: bool) -> f64 {
    use futures_util::pin_mut;
    use tokio_postgres::binary_copy::BinaryCopyInWriter;
    use tokio_postgres::types::Type;
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(
            "DROP TABLE IF EXISTS copy_bench;
             CREATE TABLE copy_bench (time timestamptz NOT NULL, batch bigint, seq integer,
                 message_id text, received_at timestamptz, kind smallint, unit_id text,
                 experiment text, variant text, metric text, value double precision,
                 properties jsonb);
             SELECT create_hypertable('copy_bench', 'time', chunk_time_interval => interval '1 day');",
        )
        .await
        .unwrap();
    let start = Instant::now();
    let sink = client
        .copy_in("COPY copy_bench (time, batch, seq, message_id, received_at, kind, unit_id, experiment, variant, metric, value, properties) FROM STDIN BINARY")
        .await
        .unwrap();
    let types = [
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::INT4,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::INT2,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::FLOAT8,
        Type::JSONB,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    let now = std::time::SystemTime::now();
    for i in 0..rows {
        let id = format!("c0-{i}");
        let unit = format!("u{}", i % 50_000);
        let exposure = i % 10 == 0;
        let (experiment, variant, metric) = if exposure {
            (Some("exp-1"), Some("control"), None)
        } else {
            (None, None, Some("purchase"))
        };
        let value = (!exposure).then_some((i % 97) as f64);
        // The properties the load's metric events carry (`traffic::batch_with`).
        let props = if exposure && dimensions {
            let (country, platform, browser) = litmus_benches::traffic::dimension_values(i);
            Some(serde_json::json!({"country": country, "platform": platform, "browser": browser}))
        } else {
            (properties && !exposure)
                .then(|| serde_json::json!({"plan": "pro", "amount": i % 97, "country": "DE"}))
        };
        writer
            .as_mut()
            .write(&[
                &now,
                &1i64,
                &((i % 500) as i32),
                &id,
                &now,
                &i16::from(!exposure),
                &unit,
                &experiment,
                &variant,
                &metric,
                &value,
                &props,
            ])
            .await
            .unwrap();
    }
    writer.finish().await.unwrap();
    let rate = rows as f64 / start.elapsed().as_secs_f64();
    client.batch_execute("DROP TABLE copy_bench").await.unwrap();
    rate
}
