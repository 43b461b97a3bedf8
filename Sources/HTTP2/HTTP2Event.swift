import HPACK

/// What the connection tells the application after `receive(_:)`.
public enum HTTP2Event: Hashable, Sendable {
    /// A new request: its validated header list, and whether the client already ended its side (no body).
    case requestHeaders(StreamID, [HeaderField], endStream: Bool)
    /// Request trailers; they always end the client's side of the stream.
    case trailers(StreamID, [HeaderField])
    /// Request body octets; `endStream` marks the client's last frame (the payload may then be empty).
    case data(StreamID, [UInt8], endStream: Bool)
    /// The client reset a stream the application knew about; drop its state, send nothing more on it.
    case streamReset(StreamID, HTTP2ErrorCode)
    /// We reset a stream the application knew about because the client broke a stream-level rule.
    case streamAborted(StreamID, HTTP2Error)
    /// A WINDOW_UPDATE or SETTINGS change lifted a send window from zero or below to positive: queued data
    /// can move again, so the shell should call `takeOutbound`. `.connection` names the connection window.
    case windowOpened(StreamID)
    /// The client sent GOAWAY: it opens no streams after `lastStream`; existing streams may finish.
    case goAway(lastStream: StreamID, code: HTTP2ErrorCode, debugData: [UInt8])
    /// We ended the connection with GOAWAY for this error; write the remaining outbound octets, then close.
    case connectionFailed(HTTP2Error)
}

/// Why an application call on the connection was refused. Nothing was queued or written.
public enum HTTP2SendError: Error, Hashable, Sendable {
    /// The connection failed or was shut down; drop the response.
    case connectionClosed
    /// The stream is not open: never opened, already finished, or reset (check for `.streamReset` events).
    case unknownStream(StreamID)
    /// Response headers were already sent; use `sendData` or `sendTrailers`.
    case headersAlreadySent(StreamID)
    /// Data or trailers before response headers; call `sendHeaders` first.
    case headersNotSent(StreamID)
    /// END_STREAM was already sent or queued on this stream.
    case streamEnded(StreamID)
    /// Queuing `adding` more octets would pass a queue limit (`limit`, with `queued` already queued); the
    /// client reads too slowly, so consider `resetStream`.
    case queueFull(StreamID, queued: Int, adding: Int, limit: Int)
}
