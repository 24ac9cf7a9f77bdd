//! Mesh benchmark: cross-shard envelope throughput between two threads.
//! `crossbeam/single` sends one envelope per channel message (the baseline),
//! `crossbeam/batch64` sends batches of 64 as the mesh does, and
//! `glommio_shared/single` uses glommio's own shared_channel between two
//! executors. Throughput is reported in envelopes per second.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::time::{Duration, Instant};
use switchyard::realm::envelope::{BrokerMsg, Envelope};
use switchyard::wire::{Dict, Elem, Payload, PublicationId, Serializer, Text};

fn envelope(n: u64) -> Envelope {
    Envelope::Broker {
        realm: Text::from_static("realm1"),
        msg: BrokerMsg::Publish {
            topic: Text::from_static("com.bench.topic"),
            publication: PublicationId(n + 1),
            details: Dict::new(),
            payload: Payload {
                args: Some(Elem::Raw {
                    ser: Serializer::MsgPack,
                    bytes: Bytes::from_static(&[0x91, 0x01]),
                }),
                kwargs: None,
            },
            recipients: None,
        },
    }
}

fn crossbeam(iters: u64, batch: usize) -> Duration {
    let (tx, rx) = crossbeam_channel::bounded::<Vec<Envelope>>(1024);
    let consumer = std::thread::spawn(move || {
        let mut got = 0u64;
        while let Ok(b) = rx.recv() {
            got += b.len() as u64;
        }
        got
    });
    let start = Instant::now();
    let mut n = 0;
    while n < iters {
        let len = batch.min((iters - n) as usize);
        let b: Vec<Envelope> = (0..len as u64).map(|i| envelope(n + i)).collect();
        tx.send(b).unwrap();
        n += len as u64;
    }
    drop(tx);
    assert_eq!(consumer.join().unwrap(), iters);
    start.elapsed()
}

fn glommio_shared(iters: u64) -> Duration {
    use glommio::{LocalExecutorBuilder, Placement};
    let (tx, rx) = glommio::channels::shared_channel::new_bounded::<Envelope>(1024);
    let consumer = LocalExecutorBuilder::new(Placement::Unbound)
        .spawn(move || async move {
            let rx = rx.connect().await;
            let mut got = 0u64;
            while rx.recv().await.is_some() {
                got += 1;
            }
            got
        })
        .unwrap();
    let producer = LocalExecutorBuilder::new(Placement::Unbound)
        .spawn(move || async move {
            let tx = tx.connect().await;
            let start = Instant::now();
            for n in 0..iters {
                tx.send(envelope(n)).await.unwrap();
            }
            drop(tx);
            start
        })
        .unwrap();
    let start = producer.join().unwrap();
    assert_eq!(consumer.join().unwrap(), iters);
    start.elapsed()
}

/// Runs at least 1000 envelopes (thread start-up dominates below that), scaled to `iters`.
fn scaled(iters: u64, run: impl Fn(u64) -> Duration) -> Duration {
    let n = iters.max(1000);
    run(n).mul_f64(iters as f64 / n as f64)
}

fn mesh(c: &mut Criterion) {
    let mut g = c.benchmark_group("mesh");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(10);
    g.bench_function("crossbeam/single", |b| {
        b.iter_custom(|iters| scaled(iters, |n| crossbeam(n, 1)))
    });
    g.bench_function("crossbeam/batch64", |b| {
        b.iter_custom(|iters| scaled(iters, |n| crossbeam(n, 64)))
    });
    g.bench_function("glommio_shared/single", |b| {
        b.iter_custom(|iters| scaled(iters, glommio_shared))
    });
    g.finish();
}

criterion_group!(benches, mesh);
criterion_main!(benches);
