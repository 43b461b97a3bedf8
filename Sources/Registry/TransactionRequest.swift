/// One operation inside a transaction branch.
public enum TransactionOperation: Equatable, Sendable {
    /// A read; it sees the branch's earlier writes.
    case range(RangeRequest)
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
    /// A nested transaction (etcd's `request_txn`): its compares are evaluated, like every compare of the
    /// outermost transaction, against the state before any operation runs; its chosen branch then runs in
    /// place, seeing the writes before it. Everything still happens at one revision.
    indirect case transaction(TransactionRequest)
}

/// An etcd transaction: if every compare holds, run `success`, else `failure`; all at one revision.
public struct TransactionRequest: Equatable, Sendable {
    public var compares: [Compare]
    public var success: [TransactionOperation]
    public var failure: [TransactionOperation]

    public init(compares: [Compare], success: [TransactionOperation], failure: [TransactionOperation] = []) {
        self.compares = compares
        self.success = success
        self.failure = failure
    }
}

/// The answer to one transaction operation.
public enum OperationResponse: Equatable, Sendable {
    /// A read's answer, at the transaction's revision.
    case range(RangeResult)
    case put(previous: KeyValue?)
    case deleteRange(deleted: Int, previous: [KeyValue])
    /// A nested transaction's answer: which of its branches ran, and one response per operation of it.
    indirect case transaction(succeeded: Bool, responses: [OperationResponse])
}
