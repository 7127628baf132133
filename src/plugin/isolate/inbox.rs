//! Reads a child's frames on the host's tokio runtime instead of a thread of its own: the
//! socket is registered with the runtime's I/O driver, so a reply arriving is an event on the
//! thread that polls the driver, and the call it completes is woken there, with no reader
//! thread to wake and no hand-off between threads.
//!
//! The socket stays in blocking mode: the host writes its frames on a duplicate of the same
//! file description (`conn`), with blocking writes that time out. Reads here never block all
//! the same, because each one asks the kernel not to wait (`MSG_DONTWAIT`).

use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use super::wire;

/// The buffer's usual size; it grows for a bigger frame and shrinks back once that is read.
const BUFFER: usize = 64 * 1024;

/// Reads `stream`'s frames in a task on `runtime`, after the bytes already read (`read`),
/// handing each to `on_frame` (on a runtime thread: it must not block), until the stream ends
/// or breaks; then calls `on_end` once. `on_end` also runs if the task is dropped first (the
/// runtime shut down): the frames have no reader any more either way.
pub(crate) fn spawn(
    runtime: &tokio::runtime::Handle,
    stream: UnixStream,
    read: &[u8],
    mut on_frame: impl FnMut(u8, u64, &[u8]) + Send + 'static,
    on_end: impl FnOnce() + Send + 'static,
) -> io::Result<()> {
    let fd = {
        let _entered = runtime.enter();
        // SAFETY: the `UnixStream` owns its descriptor, which stays open (and the same) for
        // as long as the `AsyncFd` owns the stream.
        unsafe { AsyncFd::register_with_interest(stream, Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?
    };
    let mut buf = Buffer::new(read);
    runtime.spawn(async move {
        let _end = OnDrop(Some(on_end));
        let _ = read_frames(&fd, &mut buf, &mut on_frame).await;
    });
    Ok(())
}

/// Dispatches whole frames and reads more until the stream ends (`Ok`) or breaks.
async fn read_frames(
    fd: &AsyncFd<UnixStream>,
    buf: &mut Buffer,
    on_frame: &mut impl FnMut(u8, u64, &[u8]),
) -> io::Result<()> {
    loop {
        while let Some(frame) = buf.next_frame()? {
            let (kind, id, payload) = wire::split(frame);
            on_frame(kind, id, payload);
        }
        let mut ready = fd.readable().await?;
        let spare = buf.spare();
        let want = spare.len();
        match ready.try_io(|s| receive(s.get_ref(), spare)) {
            Ok(Ok(0)) => return Ok(()),
            Ok(Ok(n)) => {
                buf.filled(n);
                // A short read emptied the socket: the next read would only say so. Clearing
                // keeps any event that came since (tokio compares the driver's ticks).
                if n < want {
                    ready.clear_ready();
                }
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Ok(Err(e)) => return Err(e),
            // Nothing to read: the readiness is cleared, wait for the next event.
            Err(_would_block) => {}
        }
    }
}

/// One `recv` that does not wait.
fn receive(stream: &UnixStream, into: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `into` is valid for writes of its length, and the descriptor is open while
    // `stream` is borrowed.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            into.as_mut_ptr().cast(),
            into.len(),
            libc::MSG_DONTWAIT,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// The bytes read and not yet dispatched: `bytes[start..end]`.
struct Buffer {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buffer {
    fn new(read: &[u8]) -> Buffer {
        let mut bytes = vec![0; BUFFER.max(read.len())];
        bytes[..read.len()].copy_from_slice(read);
        Buffer {
            bytes,
            start: 0,
            end: read.len(),
        }
    }

    /// The next whole frame, if it is all here; else makes room for the rest of it.
    fn next_frame(&mut self) -> io::Result<Option<&[u8]>> {
        let here = &self.bytes[self.start..self.end];
        match wire::frame_len(here)? {
            Some(len) if here.len() >= len => {
                let frame = self.start..self.start + len;
                self.start += len;
                Ok(Some(&self.bytes[frame]))
            }
            len => {
                self.make_room(len.unwrap_or(4));
                Ok(None)
            }
        }
    }

    /// Moves what is left to the front, and sizes the buffer for a frame of `len` bytes.
    fn make_room(&mut self, len: usize) {
        let left = self.end - self.start;
        if left == 0 && self.bytes.len() > BUFFER {
            self.bytes = vec![0; BUFFER];
        }
        if left > 0 && self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
        }
        (self.start, self.end) = (0, left);
        if self.bytes.len() < len {
            self.bytes.resize(len, 0);
        }
    }

    /// Where the next read goes.
    fn spare(&mut self) -> &mut [u8] {
        &mut self.bytes[self.end..]
    }

    fn filled(&mut self, n: usize) {
        self.end += n;
    }
}

/// Runs its function when dropped.
struct OnDrop<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_reads_and_bigger_than_the_buffer_come_whole() {
        let big = vec![7u8; BUFFER * 2];
        let mut stream = wire::frame(wire::REPLY, 1, b"one");
        stream.extend(wire::frame(wire::NOTIFY, 2, &big));
        stream.extend(wire::frame(wire::REPLY, 3, b""));
        let mut buf = Buffer::new(&stream[..5]);
        let mut seen = Vec::new();
        let mut fed = 5;
        while seen.len() < 3 {
            while let Some(frame) = buf.next_frame().unwrap() {
                let (kind, id, payload) = wire::split(frame);
                seen.push((kind, id, payload.len()));
            }
            let spare = buf.spare();
            let n = spare.len().min(stream.len() - fed).min(1000);
            spare[..n].copy_from_slice(&stream[fed..fed + n]);
            buf.filled(n);
            fed += n;
        }
        assert_eq!(
            seen,
            [
                (wire::REPLY, 1, 3),
                (wire::NOTIFY, 2, big.len()),
                (wire::REPLY, 3, 0)
            ]
        );
        assert_eq!(buf.bytes.len(), BUFFER);
    }
}
