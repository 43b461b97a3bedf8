import RosterNode

extension APIResponse {
    /// `GET /v1/alarms`: `{"alarms":[{"member":"n1","alarm":"NOSPACE"}]}`, empty when none is raised.
    public static func encodeAlarms(_ alarms: [AlarmDirectory.Alarm], context: ResponseContext) -> EncodedResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("alarms")
        writer.beginArray()
        for alarm in alarms {
            writer.beginObject()
            writer.field("member", alarm.member)
            writer.field("alarm", alarm.kind)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return ok(writer, context: context)
    }
}
