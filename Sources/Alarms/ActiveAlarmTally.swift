/// The number of active alarms over all streams, kept up to date one input at a time.
///
/// ``AlarmEngine/activeAlarmCount`` visits every stream. Asked after every window, as the status line wants it,
/// that makes the alarm side's work grow with the square of the stream count: at 600 streams it was 2% of a
/// 2-core machine. An input changes one stream's alarms (a reload, every stream's priorities), so the tally
/// recounts that stream only and keeps the others' counts.
public struct ActiveAlarmTally: Sendable {
    private var perStream: [String: Int] = [:]
    private var streamTotal = 0

    /// A tally of an engine with no streams.
    public init() {}

    /// Recounts what `input`, just applied to `engine`, can have changed.
    ///
    /// - Complexity: O(the stream's classes) for a stream's input, O(all streams' classes) for a reload.
    public mutating func update(after input: AlarmInput, in engine: AlarmEngine) {
        switch input {
        case .classified(let stream, _, _, _, _, _), .faulty(let stream, _, _, _, _), .ended(let stream, _),
            .acknowledge(let stream, _):
            recount(stream, in: engine)
        case .reload:
            perStream = [:]
            streamTotal = 0
            for stream in engine.streams.keys {
                recount(stream, in: engine)
            }
        }
    }

    /// Active alarms, technical ones and those of streams that ended unexpectedly included: what
    /// ``AlarmEngine/activeAlarmCount`` would count.
    public func total(in engine: AlarmEngine) -> Int {
        streamTotal + engine.lostStreams.count
    }

    private mutating func recount(_ stream: String, in engine: AlarmEngine) {
        let count = engine.streams[stream]?.activeAlarmCount(rules: engine.rules) ?? 0
        streamTotal += count - (perStream[stream] ?? 0)
        perStream[stream] = count == 0 ? nil : count
    }
}
