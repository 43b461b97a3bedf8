import EtcdAPI
import Registry

/// The checks etcd's gRPC layer makes on a `Txn` before proposing it (`checkTxnRequest` and `checkIntervals`
/// in etcd 3.4's v3rpc/key.go), so Roster refuses exactly what etcd refuses, with the same error, whichever
/// branches would run.
enum EtcdTxnCheck {
    /// etcd's `checkTxnRequest`: operation counts (a nested transaction gets what its parent leaves), empty
    /// keys, and each operation's own checks, in etcd's order.
    static func check(_ request: TxnRequest, maxOperations: Int) -> EtcdError? {
        let widest = max(request.compare.count, request.success.count, request.failure.count)
        if widest > maxOperations { return .tooManyOps }
        if request.compare.contains(where: { $0.key.isEmpty }) { return .emptyKey }
        for operation in request.success + request.failure {
            if let error = check(operation, maxOperations: maxOperations - widest) { return error }
        }
        return nil
    }

    /// etcd's `checkRequestOp`; an operation with no request set is "key not found", as etcd answers it.
    static func check(_ operation: RequestOp, maxOperations: Int) -> EtcdError? {
        switch operation.request {
        case .requestRange(let range): return range.key.isEmpty ? .emptyKey : nil
        case .requestPut(let put):
            if put.key.isEmpty { return .emptyKey }
            if put.ignoreValue && !put.value.isEmpty { return .valueProvided }
            if put.ignoreLease && put.lease != 0 { return .leaseProvided }
            return nil
        case .requestDeleteRange(let delete): return delete.key.isEmpty ? .emptyKey : nil
        case .requestTxn(let nested): return check(nested, maxOperations: maxOperations)
        case nil: return .keyNotFound
        }
    }

    /// etcd's `checkIntervals` over one branch: a key may be put once on any path through the branch and its
    /// nested transactions, and not inside a range deleted on it. The then and else branches of one nested
    /// transaction may put the same key, since only one of them runs.
    /// - Returns: `.duplicateKey` on an overlap, nil otherwise.
    static func overlap(_ operations: [RequestOp]) -> EtcdError? {
        if case .failure = writes(operations) { return .duplicateKey }
        return nil
    }

    struct Overlap: Error {}

    /// The keys put and ranges deleted on any path through `operations`, or `Overlap`.
    static func writes(_ operations: [RequestOp]) -> Result<(puts: Set<[UInt8]>, deletes: [KeyRange]), Overlap> {
        var deletes: [KeyRange] = []
        for operation in operations {
            guard case .requestDeleteRange(let delete) = operation.request else { continue }
            deletes.append(EtcdKeys.range(key: delete.key, end: delete.rangeEnd))
        }
        var puts: Set<[UInt8]> = []
        for operation in operations {
            guard case .requestTxn(let nested) = operation.request else { continue }
            guard case .success(let then) = writes(nested.success), case .success(let otherwise) = writes(nested.failure)
            else { return .failure(Overlap()) }
            for key in then.puts {
                if puts.contains(key) || deletes.contains(where: { $0.contains(key) }) { return .failure(Overlap()) }
                puts.insert(key)
            }
            for key in otherwise.puts {
                if puts.contains(key) && !then.puts.contains(key) { return .failure(Overlap()) }
                if deletes.contains(where: { $0.contains(key) }) { return .failure(Overlap()) }
                puts.insert(key)
            }
            deletes += then.deletes + otherwise.deletes
        }
        for operation in operations {
            guard case .requestPut(let put) = operation.request else { continue }
            if puts.contains(put.key) || deletes.contains(where: { $0.contains(put.key) }) { return .failure(Overlap()) }
            puts.insert(put.key)
        }
        return .success((puts, deletes))
    }
}
