import Alarms
import Beats
import Stream
import Synchronization
import Systemd

/// WFDB records streamed through the alarm evaluator on worker threads, each record's output as
/// `ecg-monitor evaluate` prints it.
package struct RecordEvaluation: Sendable {
    /// The model, pipeline and rules every worker builds its evaluator from.
    package var setup: AlarmEvaluator.Setup
    /// Also give each window's heart rate, RR irregularity and QRS noise ratio.
    package var heartRates: Bool
    /// Applied to each record after reading it (a disturbance, for stress tests).
    package var prepare: @Sendable (WFDBRecord) -> WFDBRecord

    package init(
        setup: AlarmEvaluator.Setup,
        heartRates: Bool,
        prepare: @escaping @Sendable (WFDBRecord) -> WFDBRecord = { $0 }
    ) {
        self.setup = setup
        self.heartRates = heartRates
        self.prepare = prepare
    }

    /// Evaluates every record, `threads` at a time, each thread with its own evaluator.
    ///
    /// - Returns: each record's output lines (newline-terminated), in the order of `paths`.
    /// - Throws: the first error of any record (unreadable record, model that cannot be bound); the records
    ///   not yet started are then skipped.
    package func run(paths: [String], threads: Int) async throws -> [String] {
        let results = Mutex([String](repeating: "", count: paths.count))
        let next = Atomic<Int>(0)
        let failure = Mutex<(any Error)?>(nil)
        var workers: [WorkerThread] = []
        for index in 0..<min(max(threads, 1), paths.count) {
            workers.append(
                try WorkerThread(name: "evaluate-\(index)") {
                    do {
                        let evaluator = try AlarmEvaluator(setup)
                        while true {
                            let item = next.wrappingAdd(1, ordering: .relaxed).oldValue
                            guard item < paths.count, failure.withLock({ $0 == nil }) else { return }
                            let text = try lines(for: paths[item], with: evaluator)
                            results.withLock { $0[item] = text }
                        }
                    } catch {
                        failure.withLock { $0 = $0 ?? error }
                    }
                }
            )
        }
        for worker in workers { await worker.join() }
        if let error = failure.withLock({ $0 }) { throw error }
        return results.withLock { $0 }
    }

    /// One record's lines: its alarm events as JSON lines (time 0), with ``heartRates`` one line per window, and
    /// a summary line.
    package func lines(for path: String, with evaluator: AlarmEvaluator) throws -> String {
        let record = prepare(try WFDBRecord.read(path: path))
        let name = record.header.recordName
        let outcome = try evaluator.evaluate(record, streamID: name)
        var text = ""
        for event in outcome.events {
            text += event.jsonLine(timestampMicroseconds: 0) + "\n"
        }
        if heartRates {
            for (end, reading, noise) in outcome.heartRates {
                var members: [(String, JSONValue)] = [("stream", .string(name)), ("window_end", .number(end))]
                if let bpm = reading?.beatsPerMinute { members.append(("heart_rate", .number(bpm))) }
                if let irregularity = reading?.irregularity {
                    members.append(("rr_irregularity", .number(irregularity)))
                }
                if let noise { members.append(("qrs_noise_ratio", .number(noise))) }
                text += JSONValue.object(members).serialized + "\n"
            }
        }
        let summary = JSONValue.object([
            ("record", .string(path)), ("stream", .string(name)), ("windows", .number(Double(outcome.windows))),
            ("classified", .number(Double(outcome.classified))),
        ])
        return text + summary.serialized + "\n"
    }
}
