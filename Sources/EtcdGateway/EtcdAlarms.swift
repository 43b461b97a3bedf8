import EtcdAPI
import GRPC
import Registry
import RosterNode

/// etcd's Maintenance.Alarm on Roster's replicated alarms (`AlarmDirectory`; NOSPACE is the only one). GET
/// lists the alarms of the requested type (all for NONE) from this member's applied state; DEACTIVATE clears
/// one member's alarm with a replicated write and answers the alarm it cleared, or none when that member had
/// none (as etcd answers for an alarm that is not raised). ACTIVATE is refused: Roster members raise NOSPACE
/// themselves, from their own disk, and an alarm raised by request would stop writes for no measured reason.
enum EtcdAlarms {
    static func plan(_ request: AlarmRequest, members: [RosterNode.Member]) -> EtcdUnaryPlan {
        switch request.action {
        case .activate:
            return .fail(GRPCStatus(
                code: .unimplemented,
                message: "etcdserver: Roster raises its alarms itself; activating one by request is not supported"))
        case .deactivate:
            guard request.alarm == .noSpace, let member = members.first(where: { $0.id.rawValue == request.memberID })
            else { return .local(.alarmList) }
            let clear = Registry.DeleteRangeRequest(.key(AlarmDirectory.key(member: member.name)), returnPrevious: true)
            return .submit(.write(.deleteRange(clear)), .alarmDeactivate)
        default:
            // GET, and (as etcd's applier) any other action: the alarms of the type asked for.
            return .submit(.read(AlarmDirectory.query, ReadOptions(consistency: .serializable)), .alarms(request.alarm))
        }
    }

    /// The alarms among `records` (alarm directory entries) of `type` (all for NONE), as etcd lists them.
    static func members(_ records: [Registry.KeyValue], type: AlarmType) -> [AlarmMember] {
        records.compactMap { record in
            guard record.key.starts(with: AlarmDirectory.prefix), record.value == Array(AlarmDirectory.noSpace.utf8),
                type == .none || type == .noSpace
            else { return nil }
            let member = String(decoding: record.key.dropFirst(AlarmDirectory.prefix.count), as: UTF8.self)
            return AlarmMember(memberID: RosterNode.Member.id(forName: member).rawValue, alarm: .noSpace)
        }
    }
}
