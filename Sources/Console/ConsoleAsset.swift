/// One file of the web console, as the node serves it under `/ui/`.
///
/// The console is compiled into the binary (no files to install next to it, nothing fetched from the
/// internet), so every asset is a string literal in this module and its validator is computed from its bytes.
public struct ConsoleAsset: Sendable {
    /// The file name under `/ui/` (`index.html`, `app.js`, …); never contains `/`.
    public let name: String
    /// The `Content-Type` to answer with, charset included for text.
    public let contentType: String
    /// The exact bytes of the file.
    public let bytes: [UInt8]
    /// A strong validator for `ETag` and `If-None-Match`: FNV-1a 64 of the bytes in hex, quoted.
    public let etag: String

    /// Creates an asset from its text; the content type follows from the name's extension.
    /// - Precondition: `name` has one of the extensions `ConsoleAsset.contentType(of:)` knows and no `/`.
    init(name: String, text: String) {
        precondition(!name.contains("/"), "console asset name \(name) must not contain /")
        guard let contentType = Self.contentType(of: name) else {
            preconditionFailure("console asset \(name) has an extension without a known content type")
        }
        self.name = name
        self.contentType = contentType
        self.bytes = Array(text.utf8)
        self.etag = Self.etag(bytes)
    }

    /// The content type for a file name's extension; nil for one the console does not use.
    static func contentType(of name: String) -> String? {
        guard let dot = name.lastIndex(of: ".") else { return nil }
        switch name[name.index(after: dot)...] {
        case "html": return "text/html; charset=utf-8"
        case "js": return "text/javascript; charset=utf-8"
        case "css": return "text/css; charset=utf-8"
        default: return nil
        }
    }

    /// FNV-1a 64 over `bytes`, as a quoted hex entity tag; any change to a file changes its tag.
    static func etag(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return "\"" + String(hash, radix: 16) + "\""
    }
}
