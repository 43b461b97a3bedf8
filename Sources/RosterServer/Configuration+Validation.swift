import Posix
import Registry
import RosterNode

extension ServerConfiguration {
    /// Checks the settings one by one and against each other (reliability.md §9 "Config").
    ///
    /// Refused here rather than at run time: a cluster started with a heartbeat slower than its election
    /// timeout, or with two members on one address, would run and misbehave in ways that look like Raft bugs.
    /// - Throws: The first `ConfigurationError` found, in flag order.
    public func validate() throws(ConfigurationError) {
        try Self.checkName(name, setting: "--name")
        guard !dataDirectory.isEmpty else { throw .emptyValue(setting: "--data-dir") }
        for (flag, value) in numericSettings {
            guard let range = flag.numericRange, range.contains(value) else {
                throw .outOfRange(setting: flag.flag, value: value, range: flag.numericRange ?? 1...1)
            }
        }
        guard heartbeatMilliseconds * 2 <= electionMilliseconds else {
            throw .heartbeatNotBelowElection(heartbeatMilliseconds: heartbeatMilliseconds,
                                             electionMilliseconds: electionMilliseconds)
        }
        guard clientAddress != peerAddress else { throw .clientAddressEqualsPeerAddress(clientAddress.description) }
        try validateInitialCluster()
        do {
            try FrameworkLayout.validate(etcdLayouts)
        } catch {
            throw .invalidLayout(setting: "--etcd-layout", reason: error.description)
        }
        try validateTLS()
        // The core's own rules too, so production runs exactly the options the simulator checks.
        do {
            try raftOptions.validate()
        } catch {
            throw .invalidRaftOptions("\(error)")
        }
    }

    private var numericSettings: [(ConfigurationFlag, Int)] {
        [(.heartbeatMilliseconds, heartbeatMilliseconds), (.electionMilliseconds, electionMilliseconds),
         (.snapshotEntries, snapshotEntries), (.historyRevisions, historyRevisions), (.historyEvents, historyEvents),
         (.historyBytes, historyBytes), (.maxRequestBytes, maxRequestBytes),
         (.maxConnections, maxConnections), (.quotaBytes, quotaBytes), (.minFreeBytes, minFreeBytes),
         (.requestTimeoutMilliseconds, requestTimeoutMilliseconds), (.clientStallMilliseconds, clientStallMilliseconds),
         (.ioThreads, ioThreads),
         (.dnsTTLSeconds, dnsTTLSeconds), (.dnsMaxStalenessMilliseconds, dnsMaxStalenessMilliseconds)]
    }

    private func validateInitialCluster() throws(ConfigurationError) {
        let entries = resolvedInitialCluster
        var namesSeen = Set<String>()
        var addressOwners: [SocketAddress: String] = [:]
        var idOwners: [UInt64: String] = [:]
        for entry in entries {
            try Self.checkName(entry.name, setting: "--initial-cluster member")
            guard namesSeen.insert(entry.name).inserted else { throw .duplicateMemberName(entry.name) }
            if let owner = addressOwners[entry.peerAddress] {
                throw .duplicateMemberAddress(entry.peerAddress.description, names: [owner, entry.name])
            }
            addressOwners[entry.peerAddress] = entry.name
            let id = Member.id(forName: entry.name).rawValue
            if let owner = idOwners[id] { throw .memberIDCollision(owner, entry.name) }
            idOwners[id] = entry.name
        }
        if let own = entries.first(where: { $0.name == name }) {
            guard own.peerAddress == peerAddress else {
                throw .peerAddressMismatch(name: name, peerAddress: peerAddress.description,
                                           clusterAddress: own.peerAddress.description)
            }
        } else if !join {
            throw .nameNotInInitialCluster(name: name, members: entries.map(\.name))
        } else if let owner = addressOwners[peerAddress] {
            // Joining under a new name at an address a founder already uses.
            throw .duplicateMemberAddress(peerAddress.description, names: [owner, name])
        }
        if join && forceNewCluster { throw .forceNewClusterWithJoin }
        if join && joinAddress == nil && entries.allSatisfy({ $0.name == name }) {
            // A joiner needs at least one founder to learn the cluster ID from and to contact.
            throw .joinWithoutFounders(name: name)
        }
    }
}
