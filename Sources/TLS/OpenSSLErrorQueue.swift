import COpenSSL

/// OpenSSL reports failures on a per-thread error queue; these read it into text for `TLSError`s.
enum OpenSSLErrorQueue {
    /// Empties the queue and returns its reasons joined by "; " (or `fallback` when it was empty).
    static func drain(fallback: String = "unknown OpenSSL error") -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if reasons.count < 4 { reasons.append(reason(code)) }
        }
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }

    /// Whether the oldest queued error is OpenSSL's "http request" (plain HTTP on a TLS port); leaves the queue.
    static var isPlaintextHTTP: Bool {
        let code = ERR_peek_error()
        return code != 0 && ERR_GET_LIB(code) == ERR_LIB_SSL && ERR_GET_REASON(code) == SSL_R_HTTP_REQUEST
    }

    static func clear() { ERR_clear_error() }

    private static func reason(_ code: UInt) -> String {
        if let text = ERR_reason_error_string(code) { return String(cString: text) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
