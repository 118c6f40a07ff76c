import Foundation
import HDACodec
import HDAController
import HDAudio
import HDAudioBus
import Synchronization

/// Turns the codec's trace events into trace instants: a refused packet on the timeline
/// of the engine whose stream it belongs to (by direction and tag), at the packet's frame;
/// an unsolicited response on the controller's timeline.
///
/// Sendable: its state is a `Mutex` and an `Atomic`. The codec calls `record` inside the
/// controller's lock, so it never touches the platform; unsolicited responses carry no
/// frame and are stamped with `frame`, the frame at the start of the path's current step.
final class CodecTraceBridge: Sendable {
    private struct Key: Hashable { var output: Bool; var tag: UInt8 }
    private let engines = PThreadMutex<[Key: Int]>([:])
    private let lastFrame = Atomic<UInt64>(0)

    /// The frame at the start of the path's current step.
    var frame: UInt64 {
        get { lastFrame.load(ordering: .relaxed) }
        set { lastFrame.store(newValue, ordering: .relaxed) }
    }

    /// Notes which engine carries the stream of a direction and tag.
    func register(output: Bool, tag: UInt8, engine: Int) {
        engines.withLock { $0[Key(output: output, tag: tag)] = engine }
    }

    /// Records one codec event on `trace` (verbs are traced by the path itself).
    func record(_ event: CodecTraceEvent, to trace: TraceRecorder) {
        switch event {
        case .verb:
            break
        case .mismatch(let m):
            let engine = engines.withLock { $0[Key(output: m.isOutput, tag: m.tag)] }
            trace.instant("format mismatch", category: "codec",
                          frame: m.frame, tid: engine.map(TraceRecorder.engineThread) ?? TraceRecorder.controllerThread,
                          args: ["converter": .string(m.isOutput ? "DAC" : "ADC"), "node": .number(Double(m.node)),
                                 "tag": .number(Double(m.tag)), "blocks": .number(Double(m.blocks)),
                                 "converterFormat": .string(m.converterFormat.rawValue.hexLiteral),
                                 "streamFormat": .string(m.streamFormat.rawValue.hexLiteral), "fault": .string("\(m.fault)")])
        case .unsolicited(let node, let response):
            trace.instant("unsolicited response", category: "codec", frame: frame, tid: TraceRecorder.controllerThread,
                          args: ["node": .number(Double(node)), "response": .string(response.hexLiteral)])
        }
    }
}
