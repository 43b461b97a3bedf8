import Posix
import PosixStorage
import Storage

extension ServerConfiguration {
    /// This configuration with what `--join ADDR` learned from a running member: the cluster ID (recorded in
    /// the data directory's CLUSTER file the first time, so a restart checks it), and every member's peer
    /// address added to the initial members, so this node can reach them all without `--initial-cluster`.
    /// - Parameters:
    ///   - clusterID: The ID the member at `joinAddress` reports.
    ///   - members: Every member it lists, as (name, peer address).
    /// - Throws: `JoinError` when the directory belongs to another cluster or an address does not parse.
    public func joining(clusterID: UInt64, members: [(name: String, peerAddress: String)]) throws(JoinError) -> ServerConfiguration {
        let fileSystem = PosixFileSystem()
        var joined = self
        do {
            let assigned = try ClusterAssignment.read(directory: dataDirectory, fileSystem: fileSystem)
            if let assigned, assigned.clusterID != clusterID {
                throw JoinError.otherCluster(
                    directory: dataDirectory, directoryCluster: assigned.clusterID, address: joinAddress ?? "", cluster: clusterID)
            }
            // Recorded at the first join and refreshed at each restart that reached ADDR, so a restart that cannot
            // reach it still knows every member's peer address (`joiningFromRecord`).
            let isNewMember = try fileSystem.status(dataDirectory + "/IDENTITY") == nil
            if assigned != nil || isNewMember {
                if try fileSystem.status(dataDirectory) == nil { try fileSystem.createDirectory(dataDirectory) }
                try ClusterAssignment.write(
                    clusterID: clusterID, reason: assigned?.reason ?? "joined through \(joinAddress ?? "?")", members: members,
                    directory: dataDirectory, fileSystem: fileSystem)
            }
        } catch let error as JoinError {
            throw error
        } catch {
            throw .storage(error as? StorageError ?? .rejected(reason: "\(error)"))
        }
        joined.assignedClusterID = clusterID
        for member in members where member.name != name && !joined.initialCluster.contains(where: { $0.name == member.name }) {
            guard let address = SocketAddress(member.peerAddress) else {
                throw .badMemberList(address: joinAddress ?? "", reason: "member \(member.name) has peer address \(member.peerAddress)")
            }
            joined.initialCluster.append(ClusterEntry(name: member.name, peerAddress: address))
        }
        return joined
    }

    /// Whether the data directory has held a member before (its IDENTITY file exists): such a member restarts from
    /// its own data and needs `--join ADDR` only to refresh what it knows.
    public var dataDirectoryHoldsMember: Bool {
        ((try? PosixFileSystem().status(dataDirectory + "/IDENTITY")) ?? nil) != nil
    }

    /// This configuration with the members an earlier `--join ADDR` recorded in the data directory, for a restart
    /// that cannot reach ADDR. The cluster ID comes from the same file (`adoptingDataDirectoryAssignment`).
    public func joiningFromRecord() throws(JoinError) -> ServerConfiguration {
        let recorded: [(name: String, peerAddress: String)]
        do {
            recorded = try ClusterAssignment.recordedMembers(directory: dataDirectory, fileSystem: PosixFileSystem())
        } catch {
            throw .storage(error)
        }
        var joined = self
        for member in recorded where member.name != name && !joined.initialCluster.contains(where: { $0.name == member.name }) {
            guard let address = SocketAddress(member.peerAddress) else {
                throw .badMemberList(address: dataDirectory, reason: "member \(member.name) has peer address \(member.peerAddress)")
            }
            joined.initialCluster.append(ClusterEntry(name: member.name, peerAddress: address))
        }
        return joined
    }
}

/// Why `--join ADDR` could not use what the member told it.
public enum JoinError: Error, CustomStringConvertible {
    case otherCluster(directory: String, directoryCluster: UInt64, address: String, cluster: UInt64)
    case badMemberList(address: String, reason: String)
    case storage(StorageError)

    public var description: String {
        switch self {
        case .otherCluster(let directory, let directoryCluster, let address, let cluster):
            "\(directory) belongs to cluster \(String(directoryCluster, radix: 16)), but \(address) is a member of cluster "
                + "\(String(cluster, radix: 16)); point --join at a member of this node's cluster, or use an empty --data-dir"
        case .badMemberList(let address, let reason):
            "the member list from \(address) cannot be used: \(reason)"
        case .storage(let error):
            "\(error)"
        }
    }
}
