//! Everything the process logs, kept for the leak tests: one process-wide TRACE
//! subscriber writing into a buffer (every event and every span, opened,
//! entered, exited and closed, with its fields; no timestamps, whose
//! microseconds could match a six-digit passcode by chance).

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

/// A `MakeWriter` that keeps everything written.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The process-wide TRACE subscriber, installed on first use; panics if
/// another subscriber was installed first.
pub fn capture() -> Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED
        .get_or_init(|| {
            use tracing_subscriber::util::SubscriberInitExt as _;
            let captured = Captured::default();
            tracing_subscriber::fmt()
                .with_max_level(tracing_subscriber::filter::LevelFilter::TRACE)
                .with_writer(captured.clone())
                .with_ansi(false)
                .without_time()
                .with_target(true)
                .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
                .finish()
                .try_init()
                .expect("the first subscriber of this process");
            captured
        })
        .clone()
}
