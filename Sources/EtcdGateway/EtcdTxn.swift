import EtcdAPI
import Registry
import RosterNode

/// What each operation of a transaction branch needs to encode its answer.
public enum EtcdOperationShape: Equatable, Sendable {
    case range(EtcdRangeShape)
    case put
    case deleteRange
}

/// Both branches' shapes, to encode whichever ran.
public struct EtcdTxnShape: Equatable, Sendable {
    var success: [EtcdOperationShape]
    var failure: [EtcdOperationShape]
}

extension EtcdUnary {
    static func txn(_ request: TxnRequest) -> EtcdUnaryPlan {
        var compares: [Registry.Compare] = []
        // etcd's checkTxnRequest: every compare and every operation of both branches needs a key.
        guard request.compare.allSatisfy({ !$0.key.isEmpty }) else { return .fail(EtcdStatus.error(.emptyKey)) }
        for compare in request.compare {
            guard compare.rangeEnd.isEmpty else {
                return .fail(.init(code: .unimplemented, message: "etcdserver: Roster compares single keys only (range_end set)"))
            }
            guard let mapped = Self.compare(compare) else {
                return .fail(.init(code: .invalidArgument, message: "etcdserver: invalid compare \(compare.result)/\(compare.target)"))
            }
            compares.append(mapped)
        }
        guard let (success, successShape) = branch(request.success), let (failure, failureShape) = branch(request.failure)
        else {
            return .fail(.init(code: .unimplemented, message: "etcdserver: Roster does not run nested transactions"))
        }
        for operation in request.success + request.failure where operation.key?.isEmpty == true {
            return .fail(EtcdStatus.error(.emptyKey))
        }
        let transaction = TransactionRequest(compares: compares, success: success, failure: failure)
        return .submit(.write(.transaction(transaction)), .txn(EtcdTxnShape(success: successShape, failure: failureShape)))
    }

    /// Registry operations and their shapes; nil when an operation is a nested transaction.
    static func branch(_ operations: [RequestOp]) -> ([TransactionOperation], [EtcdOperationShape])? {
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
            case .requestTxn, nil:
                return nil
            }
        }
        return (mapped, shapes)
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
        return Registry.Compare(key: compare.key, target, relation)
    }
}


extension RequestOp {
    /// The key the operation names; nil for a nested transaction or an empty operation.
    var key: [UInt8]? {
        switch request {
        case .requestRange(let range): range.key
        case .requestPut(let put): put.key
        case .requestDeleteRange(let delete): delete.key
        case .requestTxn, nil: nil
        }
    }
}
