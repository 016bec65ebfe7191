//! A TCP proxy between dangan and PostgreSQL that loses the reply to one commit: the
//! connection that sent a marker (a title, say) is cut right after its `COMMIT` reached the
//! server, so the commit happens and the client only sees a broken connection. With an
//! outage, the database then seems gone for a while: every other connection is cut too and
//! new ones are closed at once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// The body of PostgreSQL's SSLRequest message (its request code 80877103).
const SSL_REQUEST: [u8; 4] = [0x04, 0xd2, 0x16, 0x2f];

pub struct CommitCutter {
    /// A URL for the proxied server (TLS off, so the proxy can read the messages).
    pub url: String,
    shared: Arc<Shared>,
}

/// What the relays share: the cuts so far, and the outage that follows a cut.
struct Shared {
    marker: &'static str,
    cuts: AtomicUsize,
    outage: Duration,
    down_until: Mutex<Option<Instant>>,
    /// Bumped at a cut with an outage: every relay ends.
    cut_all: watch::Sender<u64>,
}

impl CommitCutter {
    /// Proxies `127.0.0.1:5432` for `database`; cuts connections whose messages held
    /// `marker`, and after the cut the server is unreachable for `outage` (none when zero).
    pub async fn start(database: &str, marker: &'static str, outage: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared {
            marker,
            cuts: AtomicUsize::new(0),
            outage,
            down_until: Mutex::new(None),
            cut_all: watch::channel(0).0,
        });
        let relays = shared.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let down = relays
                    .down_until
                    .lock()
                    .expect("lock")
                    .is_some_and(|until| Instant::now() < until);
                if !down {
                    tokio::spawn(relay(client, relays.clone()));
                }
            }
        });
        Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/{database}?sslmode=disable"),
            shared,
        }
    }

    /// How many commit replies were lost.
    pub fn cuts(&self) -> usize {
        self.shared.cuts.load(Ordering::SeqCst)
    }
}

async fn relay(client: TcpStream, shared: Arc<Shared>) {
    let mut cut_all = shared.cut_all.subscribe();
    tokio::select! {
        () = forward(client, &shared) => {}
        _ = cut_all.changed() => {}
    }
}

async fn forward(client: TcpStream, shared: &Shared) {
    let Ok(server) = TcpStream::connect("127.0.0.1:5432").await else {
        return;
    };
    let marker = shared.marker;
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let replies = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    });
    let mut seen_marker = false;
    let mut typed = false; // the startup message has no type byte
    loop {
        let mut message = Vec::new();
        if typed {
            let mut kind = [0u8; 1];
            if client_read.read_exact(&mut kind).await.is_err() {
                break;
            }
            message.push(kind[0]);
        }
        let mut length = [0u8; 4];
        if client_read.read_exact(&mut length).await.is_err() {
            break;
        }
        message.extend_from_slice(&length);
        let body_length = (u32::from_be_bytes(length) as usize).saturating_sub(4);
        let mut body = vec![0u8; body_length];
        if client_read.read_exact(&mut body).await.is_err() {
            break;
        }
        // an SSL request is followed by another untyped message, the startup; then types
        if !typed && body != SSL_REQUEST {
            typed = true;
        }
        message.extend_from_slice(&body);
        seen_marker |= body
            .windows(marker.len())
            .any(|window| window == marker.as_bytes());
        let commit = message.first() == Some(&b'Q') && body.starts_with(b"COMMIT");
        if commit && seen_marker {
            // nothing more reaches the client; the server gets the commit and does it
            replies.abort();
            shared.cuts.fetch_add(1, Ordering::SeqCst);
            let _ = server_write.write_all(&message).await;
            if !shared.outage.is_zero() {
                *shared.down_until.lock().expect("lock") = Some(Instant::now() + shared.outage);
                shared.cut_all.send_modify(|generation| *generation += 1);
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        if server_write.write_all(&message).await.is_err() {
            break;
        }
    }
    replies.abort();
}
