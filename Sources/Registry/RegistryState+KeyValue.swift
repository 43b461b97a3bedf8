// MARK: - Reads

extension RegistryState {
    /// Reads keys at the current revision, etcd's `Range`.
    /// - Throws: `RegistryRejection` for a malformed range or a negative limit.
    /// - Complexity: O(log n + matches) (a count-only read still visits every match).
    public func range(_ request: RangeRequest) throws(RegistryRejection) -> RangeResult {
        if let rejection = validate(request) { throw rejection }
        return read(request)
    }

    func validate(_ request: RangeRequest) -> RegistryRejection? {
        if let rejection = request.range.validate(limits: limits) { return rejection }
        if request.limit < 0 { return .invalidLimit(request.limit) }
        return nil
    }

    /// A validated read.
    func read(_ request: RangeRequest) -> RangeResult {
        var result = RangeResult(keyValues: [], count: 0, more: false, revision: revision)
        let emit = { (result: inout RangeResult, record: KeyValue) in
            result.count += 1
            if request.countOnly { return }
            if request.limit > 0 && result.keyValues.count >= request.limit {
                result.more = true
                return
            }
            var record = record
            if request.keysOnly { record.value = [] }
            result.keyValues.append(record)
        }
        if case .key(let key) = request.range {
            if let record = entries[key] { emit(&result, record) }
            return result
        }
        index.forEach(from: request.range.lowerBound) { key in
            if request.range.isPast(key) { return false }
            if request.range.contains(key), let record = entries[key] { emit(&result, record) }
            return true
        }
        return result
    }
}

// MARK: - Writes

extension RegistryState {
    func validate(_ put: PutRequest) -> RegistryRejection? {
        if put.key.isEmpty { return .emptyKey }
        if put.key.count > limits.keyBytes { return .keyTooLong(bytes: put.key.count, limit: limits.keyBytes) }
        if put.value.count > limits.valueBytes {
            return .valueTooLong(bytes: put.value.count, limit: limits.valueBytes)
        }
        if let lease = put.lease {
            if lease.rawValue == 0 { return .invalidLeaseID }
            if leaseTable[lease] == nil { return .leaseNotFound(lease) }
        }
        if put.ignoreValue && !put.value.isEmpty { return .valueWithIgnoreValue }
        if put.ignoreLease && put.lease != nil { return .leaseWithIgnoreLease }
        if (put.ignoreValue || put.ignoreLease) && entries[put.key] == nil { return .keyNotFound(put.key) }
        return layoutPutOverfillsService(put)
    }

    func checkRequestSize(_ bytes: Int) -> RegistryRejection? {
        bytes > limits.requestBytes ? .requestTooLarge(bytes: bytes, limit: limits.requestBytes) : nil
    }

    mutating func applyPut(_ request: PutRequest, into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if let rejection = checkRequestSize(request.key.count + request.value.count) ?? validate(request) {
            return .failure(rejection)
        }
        return .success(.put(previous: executePut(request, into: &changes)))
    }

    /// A validated put. - Returns: the previous record if requested.
    mutating func executePut(_ request: PutRequest, into changes: inout ChangeSet) -> KeyValue? {
        let current = request.ignoreValue || request.ignoreLease ? entries[request.key] : nil
        let value = request.ignoreValue ? current?.value ?? [] : request.value
        let lease = request.ignoreLease ? current?.lease : request.lease
        let previous: KeyValue?
        if request.ignoreValue, current?.isInstance == true, let instance = current?.instance {
            // A lease change of an instance record keeps it an instance, with its renderings.
            previous = writeInstanceRecord(instance, value: value, lease: lease, cause: .put, into: &changes)
        } else {
            previous = writePlainPut(key: request.key, value: value, lease: lease, into: &changes)
        }
        return request.returnPrevious ? previous : nil
    }

    mutating func applyDeleteRange(_ request: DeleteRangeRequest, into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if let rejection = request.range.validate(limits: limits) { return .failure(rejection) }
        let (deleted, previous) = executeDeleteRange(request, into: &changes)
        return .success(.deleteRange(deleted: deleted, previous: previous))
    }

    /// A validated range delete, in key order.
    mutating func executeDeleteRange(_ request: DeleteRangeRequest, into changes: inout ChangeSet)
        -> (Int, [KeyValue])
    {
        let keys = keys(in: request.range)
        // Taken first: removing one member of a layout pair removes the others, which may lie later in the range.
        let previous = request.returnPrevious ? keys.map { entries[$0]! } : []
        for key in keys where entries[key] != nil {
            removeLinked(key: key, cause: .delete, into: &changes)
        }
        return (keys.count, previous)
    }
}
