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
    private mutating func executePut(_ request: PutRequest, into changes: inout ChangeSet) -> KeyValue? {
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
    private mutating func executeDeleteRange(_ request: DeleteRangeRequest, into changes: inout ChangeSet)
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

// MARK: - Transactions

extension RegistryState {
    /// Runs a transaction atomically: every operation of the chosen branch is validated before the first
    /// one runs, and once validated none can fail, so it is all or nothing at exactly one revision.
    mutating func applyTransaction(_ request: TransactionRequest, into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if let rejection = validateShape(request) { return .failure(rejection) }
        let succeeded = request.compares.allSatisfy(holds)
        let branch = succeeded ? request.success : request.failure
        if let rejection = validateBranch(branch) { return .failure(rejection) }
        var responses: [OperationResponse] = []
        responses.reserveCapacity(branch.count)
        for operation in branch {
            switch operation {
            case .range(let range): responses.append(.range(read(range)))
            case .put(let put): responses.append(.put(previous: executePut(put, into: &changes)))
            case .deleteRange(let delete):
                let (deleted, previous) = executeDeleteRange(delete, into: &changes)
                responses.append(.deleteRange(deleted: deleted, previous: previous))
            }
        }
        if !changes.events.isEmpty {
            // Reads inside a writing transaction answer for the transaction's revision, as in etcd.
            responses = responses.map { response in
                guard case .range(var result) = response else { return response }
                result.revision = changes.revision
                return .range(result)
            }
        }
        return .success(.transaction(succeeded: succeeded, responses: responses))
    }

    /// Limits that do not depend on which branch runs: sizes, counts and compare keys.
    private func validateShape(_ request: TransactionRequest) -> RegistryRejection? {
        let operations = request.compares.count + max(request.success.count, request.failure.count)
        if request.compares.count > limits.transactionOperations || request.success.count > limits.transactionOperations
            || request.failure.count > limits.transactionOperations
        {
            return .tooManyOperations(count: operations, limit: limits.transactionOperations)
        }
        var bytes = 0
        for compare in request.compares {
            if compare.key.isEmpty { return .emptyKey }
            if compare.key.count > limits.keyBytes {
                return .keyTooLong(bytes: compare.key.count, limit: limits.keyBytes)
            }
            bytes += compare.key.count
            if case .value(let value) = compare.target { bytes += value.count }
        }
        for operation in request.success + request.failure {
            switch operation {
            case .range(let range): bytes += range.range.payloadBytes
            case .put(let put): bytes += put.key.count + put.value.count
            case .deleteRange(let delete): bytes += delete.range.payloadBytes
            }
        }
        return checkRequestSize(bytes)
    }

    /// Validates each operation and refuses two writes to one key (etcd's duplicate-key rule).
    private func validateBranch(_ branch: [TransactionOperation]) -> RegistryRejection? {
        var putKeys: Set<[UInt8]> = []
        var deletes: [KeyRange] = []
        for operation in branch {
            switch operation {
            case .range(let range):
                if let rejection = validate(range) { return rejection }
            case .put(let put):
                if let rejection = validate(put) { return rejection }
                if !putKeys.insert(put.key).inserted { return .duplicateKeyInTransaction(key: put.key) }
            case .deleteRange(let delete):
                if let rejection = delete.range.validate(limits: limits) { return rejection }
                deletes.append(delete.range)
            }
        }
        for operation in branch {
            guard case .put(let put) = operation else { continue }
            if deletes.contains(where: { $0.contains(put.key) }) { return .duplicateKeyInTransaction(key: put.key) }
        }
        return nil
    }

    /// Evaluates one compare against the current state.
    private func holds(_ compare: Compare) -> Bool {
        let record = entries[compare.key]
        let order: Int
        switch compare.target {
        case .value(let value):
            guard let record else { return false }
            order = compareBytes(record.value, value)
        case .version(let version):
            order = Self.order(record?.version ?? 0, version)
        case .createRevision(let target):
            order = Self.order(record?.createRevision.rawValue ?? 0, target.rawValue)
        case .modRevision(let target):
            order = Self.order(record?.modRevision.rawValue ?? 0, target.rawValue)
        case .lease(let target):
            order = Self.order(record?.lease?.rawValue ?? 0, target?.rawValue ?? 0)
        }
        switch compare.relation {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .greater: return order > 0
        }
    }

    private static func order<T: Comparable>(_ lhs: T, _ rhs: T) -> Int { lhs < rhs ? -1 : (lhs == rhs ? 0 : 1) }
}
