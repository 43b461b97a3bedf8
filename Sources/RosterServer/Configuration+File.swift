import Foundation

extension ServerConfiguration {
    /// Config files are a few dozen lines; anything larger is a wrong path (a log, a binary), not a config.
    public static let maxConfigFileBytes = 1 << 20

    /// Reads a config file as UTF-8, for `parse(arguments:configFile:)` in `main`:
    /// `try ServerConfiguration.parse(arguments: Array(CommandLine.arguments.dropFirst()),
    ///                                configFile: ServerConfiguration.readConfigFile)`.
    /// - Throws: `ConfigFileReadError` when the file is missing, too large or not UTF-8; the parser wraps it
    ///   into `ConfigurationError.configFileUnreadable` with the path.
    public static func readConfigFile(_ path: String) throws -> String {
        let data: Data
        do {
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            guard size <= maxConfigFileBytes else {
                throw ConfigFileReadError(reason: "larger than \(maxConfigFileBytes) bytes; is this the right file?")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as ConfigFileReadError {
            throw error
        } catch {
            throw ConfigFileReadError(reason: (error as NSError).localizedDescription)
        }
        guard data.count <= maxConfigFileBytes else {
            throw ConfigFileReadError(reason: "larger than \(maxConfigFileBytes) bytes; is this the right file?")
        }
        guard let text = String(data: data, encoding: .utf8) else {
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
