// MARK: - Transactions

extension RegistryState {
    /// Runs a transaction atomically, etcd's `Txn`: every compare, nested ones included, is evaluated against
    /// the state before the first operation runs (etcd's "txn path"); every operation on the chosen path is
    /// validated before the first one runs, and once validated none can fail, so it is all or nothing at
    /// exactly one revision.
    mutating func applyTransaction(_ request: TransactionRequest, into changes: inout ChangeSet)
        -> Result<CommandResponse, RegistryRejection>
    {
        if let rejection = request.shapeRejection(limits: limits) { return .failure(rejection) }
        let path = choosePath(request)
        if let rejection = validatePath(request, path) { return .failure(rejection) }
        var responses = execute(request, path, into: &changes)
        if !changes.events.isEmpty {
            // Reads inside a writing transaction answer for the transaction's revision, as in etcd.
            responses = Self.stampReads(responses, revision: changes.revision)
        }
        return .success(.transaction(succeeded: path.succeeded, responses: responses))
    }

    /// Which branch a transaction and each nested transaction on that branch take.
    struct TransactionPath {
        var succeeded: Bool
        /// One per nested transaction of the chosen branch, in operation order.
        var nested: [TransactionPath]
    }

    /// Decides every branch before anything runs, as etcd's `compareToPath` does on its read view.
    func choosePath(_ request: TransactionRequest) -> TransactionPath {
        let succeeded = request.compares.allSatisfy(holds)
        let branch = succeeded ? request.success : request.failure
        let nested = branch.compactMap { operation -> TransactionPath? in
            guard case .transaction(let inner) = operation else { return nil }
            return choosePath(inner)
        }
        return TransactionPath(succeeded: succeeded, nested: nested)
    }

    /// Validates each operation on the path and refuses two writes to one key anywhere on it (etcd's
    /// duplicate-key rule: a key may be put once, and not also be in a deleted range).
    func validatePath(_ request: TransactionRequest, _ path: TransactionPath) -> RegistryRejection? {
        var putKeys: Set<[UInt8]> = []
        var puts: [[UInt8]] = []
        var deletes: [KeyRange] = []
        if let rejection = collectWrites(request, path, putKeys: &putKeys, puts: &puts, deletes: &deletes) {
            return rejection
        }
        for key in puts where deletes.contains(where: { $0.contains(key) }) {
            return .duplicateKeyInTransaction(key: key)
        }
        return nil
    }

    private func collectWrites(
        _ request: TransactionRequest, _ path: TransactionPath, putKeys: inout Set<[UInt8]>, puts: inout [[UInt8]],
        deletes: inout [KeyRange]
    ) -> RegistryRejection? {
        var nested = path.nested.makeIterator()
        for operation in path.succeeded ? request.success : request.failure {
            switch operation {
            case .range(let range):
                if let rejection = validate(range) { return rejection }
            case .put(let put):
                if let rejection = validate(put) { return rejection }
                if !putKeys.insert(put.key).inserted { return .duplicateKeyInTransaction(key: put.key) }
                puts.append(put.key)
            case .deleteRange(let delete):
                if let rejection = delete.range.validate(limits: limits) { return rejection }
                deletes.append(delete.range)
            case .transaction(let inner):
                guard let innerPath = nested.next() else { preconditionFailure("transaction path lacks a nested branch") }
                if let rejection = collectWrites(inner, innerPath, putKeys: &putKeys, puts: &puts, deletes: &deletes) {
                    return rejection
                }
            }
        }
        return nil
    }

    /// Runs the validated path in operation order; each operation sees the writes before it.
    private mutating func execute(_ request: TransactionRequest, _ path: TransactionPath, into changes: inout ChangeSet)
        -> [OperationResponse]
    {
        let branch = path.succeeded ? request.success : request.failure
        var nested = path.nested.makeIterator()
        var responses: [OperationResponse] = []
        responses.reserveCapacity(branch.count)
        for operation in branch {
            switch operation {
            case .range(let range): responses.append(.range(read(range)))
            case .put(let put): responses.append(.put(previous: executePut(put, into: &changes)))
            case .deleteRange(let delete):
                let (deleted, previous) = executeDeleteRange(delete, into: &changes)
                responses.append(.deleteRange(deleted: deleted, previous: previous))
            case .transaction(let inner):
                guard let innerPath = nested.next() else { preconditionFailure("transaction path lacks a nested branch") }
                let innerResponses = execute(inner, innerPath, into: &changes)
                responses.append(.transaction(succeeded: innerPath.succeeded, responses: innerResponses))
            }
        }
        return responses
    }

    private static func stampReads(_ responses: [OperationResponse], revision: Revision) -> [OperationResponse] {
        responses.map { response in
            switch response {
            case .range(var result):
                result.revision = revision
                return .range(result)
            case .transaction(let succeeded, let inner):
                return .transaction(succeeded: succeeded, responses: stampReads(inner, revision: revision))
            case .put, .deleteRange:
                return response
            }
        }
    }

    /// Evaluates one compare against the current state: on its key, or on every key of its range.
    func holds(_ compare: Compare) -> Bool {
        guard let range = compare.range else { return holds(compare, for: entries[compare.key]) }
        let keys = keys(in: range)
        guard !keys.isEmpty else { return holds(compare, for: nil) }
        return keys.allSatisfy { holds(compare, for: entries[$0]) }
    }

    private func holds(_ compare: Compare, for record: KeyValue?) -> Bool {
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

extension TransactionRequest {
    /// Why the transaction's shape is refused whichever branches run: too many operations, an empty or too
    /// long compare key, a malformed compare range, or too many bytes. The node checks it before proposing,
    /// so no committed entry can hold a transaction its peers would refuse to decode.
    ///
    /// Operations are counted as etcd's `checkTxnRequest` counts them: a transaction holds at most `limit`
    /// compares and at most `limit` operations per branch, and a nested one at most what its parent leaves
    /// (`limit` less the larger of the parent's compares and branches).
    public func shapeRejection(limits: RegistryLimits) -> RegistryRejection? {
        if let rejection = countRejection(budget: limits.transactionOperations, limit: limits.transactionOperations) {
            return rejection
        }
        var bytes = 0
        if let rejection = keyRejection(limits: limits, bytes: &bytes) { return rejection }
        return bytes > limits.requestBytes ? .requestTooLarge(bytes: bytes, limit: limits.requestBytes) : nil
    }

    private func countRejection(budget: Int, limit: Int) -> RegistryRejection? {
        let widest = max(compares.count, success.count, failure.count)
        if widest > budget {
            return .tooManyOperations(count: compares.count + max(success.count, failure.count), limit: limit)
        }
        for operation in success + failure {
            guard case .transaction(let inner) = operation else { continue }
            if let rejection = inner.countRejection(budget: budget - widest, limit: limit) { return rejection }
        }
        return nil
    }

    private func keyRejection(limits: RegistryLimits, bytes: inout Int) -> RegistryRejection? {
        for compare in compares {
            if compare.range == nil && compare.key.isEmpty { return .emptyKey }
            if compare.key.count > limits.keyBytes {
                return .keyTooLong(bytes: compare.key.count, limit: limits.keyBytes)
            }
            if let range = compare.range {
                if let rejection = range.validate(limits: limits) { return rejection }
                bytes += range.payloadBytes
            }
            bytes += compare.key.count
            if case .value(let value) = compare.target { bytes += value.count }
        }
        for operation in success + failure {
            switch operation {
            case .range(let range): bytes += range.range.payloadBytes
            case .put(let put): bytes += put.key.count + put.value.count
            case .deleteRange(let delete): bytes += delete.range.payloadBytes
            case .transaction(let inner):
                if let rejection = inner.keyRejection(limits: limits, bytes: &bytes) { return rejection }
            }
        }
        return nil
    }
}
