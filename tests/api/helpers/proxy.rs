//! A TCP proxy between dangan and PostgreSQL that loses the reply to one commit: the
//! connection that sent a marker (a title, say) is cut right after its `COMMIT` reached the
//! server, so the commit happens and the client only sees a broken connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The body of PostgreSQL's SSLRequest message (its request code 80877103).
const SSL_REQUEST: [u8; 4] = [0x04, 0xd2, 0x16, 0x2f];

pub struct CommitCutter {
    /// A URL for the proxied server (TLS off, so the proxy can read the messages).
    pub url: String,
    cuts: Arc<AtomicUsize>,
}

impl CommitCutter {
    /// Proxies `127.0.0.1:5432` for `database`; cuts connections whose messages held `marker`.
    pub async fn start(database: &str, marker: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let cuts = Arc::new(AtomicUsize::new(0));
        let counter = cuts.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, marker, counter.clone()));
            }
        });
        Self {
            url: format!("postgres://postgres@127.0.0.1:{port}/{database}?sslmode=disable"),
            cuts,
        }
    }

    /// How many commit replies were lost.
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

async fn relay(client: TcpStream, marker: &'static str, cuts: Arc<AtomicUsize>) {
    let Ok(server) = TcpStream::connect("127.0.0.1:5432").await else {
        return;
    };
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
            cuts.fetch_add(1, Ordering::SeqCst);
            let _ = server_write.write_all(&message).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            return;
        }
        if server_write.write_all(&message).await.is_err() {
            break;
        }
    }
    replies.abort();
}
