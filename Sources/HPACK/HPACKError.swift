/// Why a header block could not be decoded, as a closed set so the HTTP/2 layer can pick the right reaction.
///
/// Every case except `headerListTooLarge` leaves the decoder's dynamic table out of step with the peer's
/// encoder, so HTTP/2 must treat it as a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3).
/// `headerListTooLarge` is raised only after the whole block was processed, so the table is still in step and
/// the connection may continue after refusing just that stream.
public enum HPACKError: Error, Equatable, Sendable {
    /// The block ended in the middle of a representation; the sender built or split the block wrongly.
    case truncatedBlock
    /// A prefix integer needs more than 32 bits or more continuation bytes than any valid encoder writes.
    case integerOverflow
    /// An index of 0 or past the end of the static plus dynamic table (RFC 7541 §2.3.3).
    case invalidIndex(Int)
    /// The Huffman data contains the EOS symbol, which RFC 7541 §5.2 forbids inside a string.
    case huffmanEndOfString
    /// The Huffman padding is longer than 7 bits or is not the most significant bits of EOS (RFC 7541 §5.2).
    case huffmanInvalidPadding
    /// A dynamic table size update came after a header field representation (RFC 7541 §4.2).
    case tableSizeUpdateNotAtBlockStart
    /// A dynamic table size update asked for more than the SETTINGS_HEADER_TABLE_SIZE we advertised.
    case tableSizeUpdateTooLarge(requested: Int, limit: Int)
    /// A name or value literal is longer than the decoder's `maxStringLength`; raise the limit if legitimate.
    case stringTooLong(length: Int, limit: Int)
    /// The decoded header list (name + value + 32 per field) exceeds `maxHeaderListSize`. The dynamic table is
    /// still consistent, so this is a stream-level refusal, not a connection failure.
    case headerListTooLarge(size: Int, limit: Int)

    /// True when the decoding context is lost and the whole connection must end with COMPRESSION_ERROR.
    public var isConnectionError: Bool {
        if case .headerListTooLarge = self { return false }
        return true
    }
}
