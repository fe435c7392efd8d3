//! One connection, after the platform layer admitted the peer: request lines read
//! into zeroizing buffers, one reply per request, until the peer closes or idles.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zeroize::Zeroizing;

use super::super::{codes, MAX_REQUEST_LINE};
use super::request::reply_err;
use super::Shared;

/// Serve requests from an admitted peer until it closes, sends an oversized line,
/// or stays silent for five minutes.
pub(super) async fn serve_peer<R, W>(r: R, mut w: W, peer: crate::access_log::Proc, sh: Arc<Shared>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = LineReader::new(r);
    loop {
        let read = tokio::time::timeout(Duration::from_secs(300), reader.next_line()).await;
        let line = match read {
            Ok(Ok(Got::Line(l))) => l,
            Ok(Ok(Got::Eof)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(Got::TooLarge)) => {
                let _ = w
                    .write_all(&reply_err(
                        codes::TOO_LARGE,
                        &format!("the request is larger than {MAX_REQUEST_LINE} bytes"),
                    ))
                    .await;
                return;
            }
        };
        let reply = super::ops::dispatch(&line, &sh, &peer).await;
        if w.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// What [`LineReader::next_line`] found.
enum Got {
    /// One request, with its newline (none if the peer closed after it).
    Line(Zeroizing<Vec<u8>>),
    Eof,
    /// More than [`MAX_REQUEST_LINE`] bytes without a newline.
    TooLarge,
}

/// Reads request lines into zeroizing buffers only. A tokio `BufReader` keeps its
/// own buffer, which it frees without zeroizing: an `unlock` request's passphrase
/// was left in the freed heap. Growing a `Zeroizing<Vec>` in place would leave the
/// same residue behind in the old allocation, so buffers are grown by copying into
/// a bigger zeroizing one.
struct LineReader<R> {
    r: R,
    /// Bytes read and not yet returned.
    buf: Zeroizing<Vec<u8>>,
}

const READ_CHUNK: usize = 8 * 1024;

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(r: R) -> LineReader<R> {
        LineReader {
            r,
            buf: Zeroizing::new(Vec::with_capacity(2 * READ_CHUNK)),
        }
    }

    async fn next_line(&mut self) -> std::io::Result<Got> {
        let mut searched = 0;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[searched..]) {
                let end = searched + i + 1;
                if end > MAX_REQUEST_LINE {
                    return Ok(Got::TooLarge);
                }
                return Ok(Got::Line(self.take(end)));
            }
            searched = self.buf.len();
            if self.buf.len() > MAX_REQUEST_LINE {
                return Ok(Got::TooLarge);
            }
            if self.buf.capacity() - self.buf.len() < READ_CHUNK {
                let mut bigger = Zeroizing::new(Vec::with_capacity(
                    (2 * self.buf.capacity()).max(self.buf.len() + READ_CHUNK),
                ));
                bigger.extend_from_slice(&self.buf);
                self.buf = bigger; // the old buffer is zeroized as it drops
            }
            // There is spare capacity, so `read_buf` fills it without reallocating.
            if self.r.read_buf(&mut *self.buf).await? == 0 {
                return Ok(if self.buf.is_empty() {
                    Got::Eof
                } else {
                    let n = self.buf.len();
                    Got::Line(self.take(n))
                });
            }
        }
    }

    /// The first `n` buffered bytes, moved into a buffer of their own.
    fn take(&mut self, n: usize) -> Zeroizing<Vec<u8>> {
        let mut line = Zeroizing::new(Vec::with_capacity(n));
        line.extend_from_slice(&self.buf[..n]);
        let rest = self.buf.len() - n;
        self.buf.copy_within(n.., 0);
        self.buf.truncate(rest);
        line
    }
}
