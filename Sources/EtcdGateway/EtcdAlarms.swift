import EtcdAPI
import GRPC

/// etcd's Maintenance.Alarm. Roster raises no alarms yet, so the list is empty: GET answers no alarms, and
/// DEACTIVATE answers as etcd does for an alarm that is not raised (no alarms, success). ACTIVATE is refused:
/// an alarm raised by request would have to be replicated and would stop writes, which Roster does not do.
enum EtcdAlarms {
    static func plan(_ request: AlarmRequest) -> EtcdUnaryPlan {
        switch request.action {
        case .activate:
            return .fail(GRPCStatus(
                code: .unimplemented,
                message: "etcdserver: Roster raises its alarms itself; activating one by request is not supported"))
        default:
            // GET, DEACTIVATE, and (as etcd's applier) any other action: the alarms matching, none.
            return .local(.alarmList)
        }
    }
}
