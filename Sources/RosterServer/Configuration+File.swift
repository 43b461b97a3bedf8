import Posix
import PosixStorage
import Storage

extension ServerConfiguration {
    /// Config files are a few dozen lines; anything larger is a wrong path (a log, a binary), not a config.
    public static let maxConfigFileBytes = 1 << 20

    /// Reads a config file as UTF-8, for `parse(arguments:configFile:)` in `main`:
    /// `try ServerConfiguration.parse(arguments: Array(CommandLine.arguments.dropFirst()),
    ///                                configFile: ServerConfiguration.readConfigFile)`.
    /// - Throws: `ConfigFileReadError` when the file is missing, too large or not UTF-8; the parser wraps it
    ///   into `ConfigurationError.configFileUnreadable` with the path.
    public static func readConfigFile(_ path: String) throws -> String {
        let bytes: [UInt8]
        do throws(StorageError) {
            bytes = try PosixFileSystem().readFile(path, limit: maxConfigFileBytes)
        } catch {
            switch error {
            case .corrupt:
                throw ConfigFileReadError(reason: "larger than \(maxConfigFileBytes) bytes; is this the right file?")
            case .io(let operation, _, let code):
                throw ConfigFileReadError(reason: SystemError(errno: code, operation: operation).description)
            default:
                throw ConfigFileReadError(reason: "\(error)")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigFileReadError(reason: "not UTF-8 text")
        }
        return text
    }
}

/// Why a config file could not be read; its description is the reason shown to the operator.
public struct ConfigFileReadError: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public var description: String { reason }
}
