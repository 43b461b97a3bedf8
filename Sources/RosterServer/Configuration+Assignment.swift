import Storage

extension ServerConfiguration {
    /// This configuration with the cluster ID its data directory's CLUSTER file assigns (written by
    /// `roster restore` or `--force-new-cluster`), or unchanged when the directory has none.
    /// - Throws: `StorageError` when the file is damaged (naming it and the offset).
    public func adoptingDataDirectoryAssignment() throws(StorageError) -> ServerConfiguration {
        guard let assignment = try ClusterAssignment.read(directory: dataDirectory, fileSystem: PosixFileSystem()) else {
            return self
        }
        var adopted = self
        adopted.assignedClusterID = assignment.clusterID
        return adopted
    }
}
