/// Strict UTF-8 validation that builds the `String` in the same pass.
///
/// Why not `String(validating:as:)`: in this toolchain it runs unspecialized (a generic transcoding loop
/// with runtime metadata lookups per call), which profiling showed at about a third of the server's
/// instructions on a 100-instance listing and a tenth on a registration. `String(decoding:as:)` on
/// contiguous bytes runs the standard library's fast native validator, but repairs invalid input with
/// U+FFFD instead of failing; its output is always valid UTF-8, so the input was valid exactly when the
/// output has the same bytes. ASCII input (nearly every name, endpoint and label) skips the comparison.
/// Both reject the same inputs: overlong forms, surrogates, code points past U+10FFFF, truncated sequences.
public enum UTF8Text {
    /// `bytes` as a string, or nil if they are not valid UTF-8.
    @inlinable
    public static func string(_ bytes: [UInt8]) -> String? {
        bytes.withUnsafeBufferPointer { string($0) }
    }

    /// `bytes` as a string, or nil if they are not valid UTF-8.
    @inlinable
    public static func string(_ bytes: ArraySlice<UInt8>) -> String? {
        bytes.withUnsafeBufferPointer { string($0) }
    }

    /// `bytes` as a string, or nil if they are not valid UTF-8.
    public static func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var text = String(decoding: bytes, as: UTF8.self)
        if isASCII(bytes) { return text }
        let unchanged = text.withUTF8 { decoded in decoded.elementsEqual(bytes) }
        return unchanged ? text : nil
    }

    /// Whether every byte is below 0x80, eight at a time.
    public static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        let raw = UnsafeRawPointer(base)
        while index + 8 <= count {
            if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < count {
            if base[index] >= 0x80 { return false }
            index += 1
        }
        return true
    }
}
