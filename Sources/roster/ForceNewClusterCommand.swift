import RosterServer

/// `roster --force-new-cluster …`: rewrites the data directory (see `ForceNewCluster`) with loud warnings,
/// then the server starts as a one-member cluster.
enum ForceNewClusterCommand {
    static func run(_ configuration: ServerConfiguration, logger: Logger) throws {
        logger.warning(
            "FORCE-NEW-CLUSTER: making this member the only voter of its cluster, keeping all its data; use only when "
                + "a quorum of members is lost for good, on ONE surviving member, and remove the flag after this start",
            ["name": configuration.name, "dir": configuration.dataDirectory])
        let report = try ForceNewCluster.rewrite(configuration: configuration)
        logger.warning(
            "FORCE-NEW-CLUSTER: configuration rewritten; members that were in the cluster must not be restarted "
                + "with their old data: add new members with `rosterctl member add` and start them with --join",
            ["previous_voters": report.previousVoters.map(\.description).joined(separator: ","),
             "previous_learners": report.previousLearners.map(\.description).joined(separator: ","),
             "snapshot_index": "\(report.snapshotIndex)", "commit_index": "\(report.commitIndex)",
             "last_index": "\(report.lastIndex)", "membership_changes_dropped": "\(report.neutralizedMembershipChanges)"])
    }
}
