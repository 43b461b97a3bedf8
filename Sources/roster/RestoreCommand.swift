import Foundation
import RosterServer

/// `roster restore FILE [server flags]`: builds this member's data directory from a backup, then exits.
enum RestoreCommand {
    static let usage = """
        Usage: roster restore FILE --name N --data-dir D --initial-cluster N1=ADDR,N2=ADDR,… [other server flags]

        Builds the data directory of member N of a NEW cluster from a backup made by `rosterctl snapshot save`.
        Run it on every member of the new cluster with the same FILE and --initial-cluster, then start each
        member with the same flags (without `restore FILE`). The new cluster gets a new cluster ID, so members of
        the old cluster cannot join it by mistake. D must not exist or be empty.
        """

    static func run(_ arguments: [String]) -> Int32 {
        guard let path = arguments.first, !path.hasPrefix("-") else {
            FileHandle.standardError.write(Data("roster restore: missing FILE\n\n\(usage)\n".utf8))
            return 2
        }
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.parse(
                arguments: Array(arguments.dropFirst()),
                configFile: { path in try String(contentsOfFile: path, encoding: .utf8) })
        } catch .helpRequested {
            print(usage)
            return 0
        } catch {
            FileHandle.standardError.write(Data("roster restore: \(error)\n\n\(usage)\n".utf8))
            return 2
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            FileHandle.standardError.write(Data("roster restore: cannot read \(path): \(error.localizedDescription)\n".utf8))
            return 1
        }
        do {
            let report = try BackupRestore.restore(backupBytes: bytes, backupPath: path, configuration: configuration)
            print(report.description)
            return 0
        } catch {
            FileHandle.standardError.write(Data("roster restore: \(error)\n".utf8))
            return 1
        }
    }
}
