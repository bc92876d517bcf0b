//! An incremental `text/event-stream` parser (the HTML standard's server-sent events), shared
//! by the chat and calling notification streams.

/// One dispatched server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `event:` (`message` when absent, as the SSE standard says).
    pub name: String,
    /// `data:` lines joined with `\n`.
    pub data: String,
    /// The last event ID when it was dispatched (`id:` of this event or an earlier one, as the
    /// standard keeps it); what a reconnect sends as `Last-Event-ID`.
    pub id: Option<String>,
}

/// An incremental `text/event-stream` parser: bytes in, complete events out.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    name: Option<String>,
    data: Option<String>,
    last_id: Option<String>,
}

impl SseParser {
    /// Feeds `bytes`; returns the events they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in bytes {
            if b != b'\n' {
                self.line.push(b);
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(event) = self.line_done(&String::from_utf8_lossy(&line)) {
                out.push(event);
            }
        }
        out
    }

    fn line_done(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            // A blank line dispatches; an event without data is dropped (SSE standard).
            let name = self.name.take();
            let data = self.data.take()?;
            return Some(SseEvent {
                name: name.unwrap_or_else(|| "message".to_owned()),
                data,
                id: self.last_id.clone(),
            });
        }
        if line.starts_with(':') {
            return None; // keep-alive comment
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.name = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            // The standard ignores an id containing NUL.
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            // `retry`: the clients choose their own reconnect delay.
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_event_id_carries_over_events_without_one() {
        let mut parser = SseParser::default();
        let events = parser.push(b"event: a\ndata: 1\n\nid: 7\nevent: b\ndata: 2\n\ndata: 3\n\n");
        let ids: Vec<_> = events.iter().map(|e| e.id.as_deref()).collect();
        assert_eq!(ids, [None, Some("7"), Some("7")]);
        assert_eq!(events[2].name, "message");
    }
}
