/// Every bound the connection enforces, in one place, so a hostile or broken client can cost at most a known
/// amount of memory and work (STYLE §3.7: a limit on everything).
///
/// The first group is advertised in our SETTINGS; the rest are local policies the client cannot see.
public struct HTTP2Limits: Sendable, Equatable {
    /// SETTINGS_MAX_CONCURRENT_STREAMS: open streams beyond this are refused with RST_STREAM(REFUSED_STREAM).
    public var maxConcurrentStreams = 100
    /// SETTINGS_INITIAL_WINDOW_SIZE: how much request body a client may send per stream before our
    /// WINDOW_UPDATE; at least 65,535 so a client that has not yet seen our SETTINGS cannot overrun it.
    public var initialStreamWindowSize = 1 << 20
    /// The connection receive window we open with a WINDOW_UPDATE right after our SETTINGS.
    public var connectionWindowSize = 4 << 20
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame payload we accept.
    public var maxFrameSize = HTTP2Constants.defaultMaxFrameSize
    /// SETTINGS_MAX_HEADER_LIST_SIZE: larger request header lists get a 431 response; also bounds one string.
    public var maxHeaderListSize = 16 << 10
    /// SETTINGS_HEADER_TABLE_SIZE: the HPACK table the client's encoder may use (4096 is the default and is
    /// not advertised).
    public var headerTableSize = 4096
    /// The largest HPACK table our encoder keeps, whatever the client allows.
    public var encoderTableSizeCeiling = 4096
    /// The largest compressed header block (HEADERS plus CONTINUATIONs) we assemble before decoding.
    public var maxHeaderBlockBytes = 64 << 10
    /// The most CONTINUATION frames after one HEADERS; more is a flood (ENHANCE_YOUR_CALM).
    public var maxContinuationFrames = 32
    /// Response octets queued on one stream for lack of window or socket space; `sendData` refuses more, so a
    /// slow reader (a stalled watch) shows up in `queuedBytes(on:)` and can be cut.
    public var maxQueuedBytesPerStream = 4 << 20
    /// Response octets queued on the whole connection.
    public var maxQueuedBytesPerConnection = 32 << 20
    /// Unwritten frames we owe the client in reply to its own frames (PING and SETTINGS acknowledgements,
    /// resets). Exceeding it means the client sends but does not read: ENHANCE_YOUR_CALM.
    public var maxPendingControlBytes = 256 << 10
    /// How many streams may be reset by the client or refused or reset by us beyond the number that completed
    /// normally (each normal completion earns one back, up to this value); exhausting it is a rapid-reset or
    /// HEADERS flood (ENHANCE_YOUR_CALM).
    public var streamResetBudget = 200
    /// How many empty DATA frames without END_STREAM a client may send over the connection's life.
    public var maxEmptyDataFrames = 1000
    /// How many recently reset (and, separately, recently completed) stream ids are remembered, so late frames on
    /// a reset stream are ignored rather than punished, and a late HEADERS on a completed one is STREAM_CLOSED.
    public var recentlyClosedStreams = 64

    /// Creates the defaults; adjust fields as needed.
    public init() {}

    /// Stops with a message if a combination is unusable (programmer error, not peer input).
    func check() {
        precondition(maxConcurrentStreams > 0 && maxHeaderListSize > 0 && maxHeaderBlockBytes > 0,
                     "HTTP/2 limits must be positive: \(self)")
        precondition(initialStreamWindowSize >= HTTP2Constants.defaultWindowSize
                     && initialStreamWindowSize <= HTTP2Constants.maximumWindowSize,
                     "initial stream window \(initialStreamWindowSize) outside 65535...2^31-1")
        precondition(connectionWindowSize >= HTTP2Constants.defaultWindowSize
                     && connectionWindowSize <= HTTP2Constants.maximumWindowSize,
                     "connection window \(connectionWindowSize) outside 65535...2^31-1")
        precondition((HTTP2Constants.defaultMaxFrameSize...HTTP2Constants.maximumMaxFrameSize).contains(maxFrameSize),
                     "max frame size \(maxFrameSize) outside 16384...16777215")
        precondition(maxQueuedBytesPerStream > 0 && maxQueuedBytesPerConnection > 0 && maxPendingControlBytes > 0
                     && streamResetBudget > 0 && maxContinuationFrames >= 0 && recentlyClosedStreams >= 0,
                     "HTTP/2 limits must be positive: \(self)")
    }
}
