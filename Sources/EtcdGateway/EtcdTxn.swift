import EtcdAPI
import GRPC
import Registry
import RosterNode

/// What each operation of a transaction branch needs to encode its answer.
public indirect enum EtcdOperationShape: Equatable, Sendable {
    case range(EtcdRangeShape)
    case put
    case deleteRange
    /// A nested transaction (`request_txn`): both of its branches' shapes.
    case txn(EtcdTxnShape)
}

/// Both branches' shapes, to encode whichever ran.
public struct EtcdTxnShape: Equatable, Sendable {
    var success: [EtcdOperationShape]
    var failure: [EtcdOperationShape]
}

extension EtcdUnary {
    /// etcd's default `--max-txn-ops`, the registry's default `transactionOperations`.
    static let maxTransactionOperations = 128

    static func txn(_ request: TxnRequest) -> EtcdUnaryPlan {
        // etcd's kvServer.Txn checks the request, then put/delete overlaps in each branch, before it proposes.
        if let error = EtcdTxnCheck.check(request, maxOperations: maxTransactionOperations)
            ?? EtcdTxnCheck.overlap(request.success) ?? EtcdTxnCheck.overlap(request.failure)
        {
            return .fail(EtcdStatus.error(error))
        }
        switch transaction(request) {
        case .success(let (transaction, shape)):
            return .submit(.write(.transaction(transaction)), .txn(shape))
        case .failure(let status):
            return .fail(status.status)
        }
    }

    /// The registry transaction and the shape of its answer, nested transactions included.
    static func transaction(_ request: TxnRequest) -> Result<(TransactionRequest, EtcdTxnShape), GRPCStatusBox> {
        var compares: [Registry.Compare] = []
        for compare in request.compare {
            guard let mapped = Self.compare(compare) else {
                let message = "etcdserver: invalid compare \(compare.result)/\(compare.target)"
                return .failure(GRPCStatusBox(code: .invalidArgument, message: message))
            }
            compares.append(mapped)
        }
        let success: ([TransactionOperation], [EtcdOperationShape])
        let failure: ([TransactionOperation], [EtcdOperationShape])
        switch (branch(request.success), branch(request.failure)) {
        case (.success(let then), .success(let otherwise)):
            success = then
            failure = otherwise
        case (.failure(let status), _), (_, .failure(let status)):
            return .failure(status)
        }
        let transaction = TransactionRequest(compares: compares, success: success.0, failure: failure.0)
        return .success((transaction, EtcdTxnShape(success: success.1, failure: failure.1)))
    }

    /// Registry operations and their shapes.
    static func branch(_ operations: [RequestOp]) -> Result<([TransactionOperation], [EtcdOperationShape]), GRPCStatusBox> {
        var mapped: [TransactionOperation] = []
        var shapes: [EtcdOperationShape] = []
        for operation in operations {
            switch operation.request {
            case .requestRange(let range):
                let shape = EtcdRangeShape(range)
                mapped.append(.range(shape.registryRequest(EtcdKeys.range(key: range.key, end: range.rangeEnd))))
                shapes.append(.range(shape))
            case .requestPut(let put):
                mapped.append(.put(putRequest(put)))
                shapes.append(.put)
            case .requestDeleteRange(let delete):
                mapped.append(.deleteRange(deleteRequest(delete)))
                shapes.append(.deleteRange)
            case .requestTxn(let nested):
                switch transaction(nested) {
                case .success(let (transaction, shape)):
                    mapped.append(.transaction(transaction))
                    shapes.append(.txn(shape))
                case .failure(let status):
                    return .failure(status)
                }
            case nil:
                return .failure(GRPCStatusBox(EtcdStatus.error(.keyNotFound)))
            }
        }
        return .success((mapped, shapes))
    }

    static func compare(_ compare: EtcdAPI.Compare) -> Registry.Compare? {
        let relation: Registry.Compare.Relation
        switch compare.result {
        case .equal: relation = .equal
        case .greater: relation = .greater
        case .less: relation = .less
        case .notEqual: relation = .notEqual
        default: return nil
        }
        let target: Registry.Compare.Target
        switch (compare.target, compare.targetUnion) {
        case (.version, .version(let value)?): target = .version(value)
        case (.version, nil): target = .version(0)
        case (.create, .createRevision(let value)?): target = .createRevision(Revision(value))
        case (.create, nil): target = .createRevision(.zero)
        case (.mod, .modRevision(let value)?): target = .modRevision(Revision(value))
        case (.mod, nil): target = .modRevision(.zero)
        case (.value, .value(let value)?): target = .value(value)
        case (.value, nil): target = .value([])
        case (.lease, .lease(let value)?): target = .lease(EtcdKeys.lease(value))
        case (.lease, nil): target = .lease(nil)
        default: return nil
        }
        // A range compare (`range_end`, "\0" for every key from `key` on) holds when it holds for every key in it.
        if !compare.rangeEnd.isEmpty {
            return Registry.Compare(range: EtcdKeys.range(key: compare.key, end: compare.rangeEnd), target, relation)
        }
        return Registry.Compare(key: compare.key, target, relation)
    }
}

/// A `GRPCStatus` as a `Result` failure (`GRPCStatus` itself is not an `Error`).
struct GRPCStatusBox: Error {
    var status: GRPCStatus
    init(_ status: GRPCStatus) { self.status = status }
    init(code: GRPCStatusCode, message: String) { self.status = GRPCStatus(code: code, message: message) }
}
