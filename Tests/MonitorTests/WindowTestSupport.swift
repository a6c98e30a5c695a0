import Alarms
import Foundation
import Logging
import NIOCore
import NIOPosix
import Stream
import Synchronization
import Testing

@testable import Monitor

/// Makes real ``StreamWindow``s: one lead at 100 Hz, windows of 10 samples every 10, so each frame of 10
/// equal samples completes one window holding those samples.
final class WindowFactory {
    let pipeline: StreamPipeline
    private let decoder: FrameDecoder
    private var index: UInt32 = 0

    init(streamID: String) throws {
        let header = try StreamHeader(streamID: streamID, sampleRateHz: 100, leads: [.i], format: .float32)
        pipeline = try StreamPipeline(
            header: header,
            configuration: try PipelineConfiguration(
                sampleRateHz: 100,
                windowSamples: 10,
                hopSamples: 10,
                leadNames: ["I"],
                // Constant windows are the point here: no lead counts as flat (masked to zero).
                quality: SignalQualityThresholds(flatLinePeakToPeakMillivolts: 0, saturationMillivolts: 10)
            )
        )
        decoder = try FrameDecoder()
        _ = Array(header.jsonLine.utf8).withUnsafeBytes { decoder.append($0) }
        _ = try decoder.next()
    }

    /// Completes one window of `value`s and publishes it.
    func publish(_ value: Float, to publisher: WindowQueue.Publisher) throws {
        try complete(value) { window in publisher.publish(window) }
    }

    /// Completes one window of `value`s and hands it to `body` (valid during the call only).
    func complete(_ value: Float, _ body: (StreamWindow) -> Void) throws {
        var bytes: [UInt8] = []
        SampleFrame.appendFloat32Frame(
            Array(repeating: value, count: 10),
            leadCount: 1,
            firstSampleIndex: index,
            to: &bytes
        )
        index += 10
        _ = bytes.withUnsafeBytes { decoder.append($0) }
        let item = try decoder.next()
        guard case .frame(let frame) = item else {
            Issue.record("expected a frame, decoded \(String(describing: item))")
            return
        }
        try pipeline.append(frame, onWindow: body)
    }
}

/// Pops windows and stream endings on a thread of its own, as an inference worker does, until stopped.
final class WindowCollector: Sendable {
    struct Window: Sendable {
        var tag: WindowQueue.Tag
        var samples: [Float]
    }

    let windows = Mutex<[Window]>([])
    /// Stream endings in the order taken, each after its stream's last window.
    let endings = Mutex<[(streamID: String, ending: StreamEnding)]>([])
    private let finished = Mutex<Bool>(false)
    private let done: AsyncStream<Void>
    private let doneContinuation: AsyncStream<Void>.Continuation

    init(queue: WindowQueue, shard: Int, maxBatch: Int = 8) {
        (done, doneContinuation) = AsyncStream.makeStream()
        let thread = Thread { [self] in
            let batch = UnsafeMutablePointer<Float>.allocate(capacity: maxBatch * queue.windowValueCount)
            defer { batch.deallocate() }
            var tags = Array(repeating: WindowQueue.Tag.empty, count: maxBatch)
            while !finished.withLock({ $0 }) {
                let count = queue.popBatch(
                    shard: shard,
                    maxBatch: maxBatch,
                    into: batch,
                    tags: &tags,
                    timeout: .milliseconds(50)
                )
                for tag in tags[0..<count] {
                    if let window = tag.batchIndex {
                        let samples = Array(
                            UnsafeBufferPointer(
                                start: batch + window * queue.windowValueCount,
                                count: queue.windowValueCount
                            )
                        )
                        windows.withLock { $0.append(Window(tag: tag, samples: samples)) }
                    }
                    if let ending = tag.ending {
                        endings.withLock { $0.append((tag.info.streamID, ending)) }
                    }
                }
            }
            doneContinuation.finish()
        }
        thread.start()
    }

    /// Stops the thread and waits for it.
    func stop() async {
        finished.withLock { $0 = true }
        for await _ in done {}
    }
}
