public import Foundation
import Synchronization
import HDAudio

/// Records events in the Chrome trace event format (opens in Perfetto or chrome://tracing).
///
/// Timestamps are link time: frame k is at k x 20.833 us. Each engine gets its own
/// timeline (a thread id), the DDI its own, the controller its own (every ISR run, and
/// unsolicited responses), and positions are counters.
public final class TraceRecorder: Sendable {
    /// One trace event as the format defines it.
    public struct Event: Sendable, Encodable, Equatable {
        /// Event name.
        public var name: String
        /// Category.
        public var cat: String
        /// Phase: "i" instant, "X" complete, "C" counter, "M" metadata.
        public var ph: String
        /// Timestamp in microseconds.
        public var ts: Double
        /// Duration in microseconds ("X" events).
        public var dur: Double?
        /// Process id (always 1: one bus).
        public var pid: Int
        /// Thread id: 0 for the DDI, 100 + n for engine n, 50 for the controller.
        public var tid: Int
        /// Instant scope ("t": thread).
        public var s: String?
        /// Arguments.
        public var args: [String: TraceValue]?
    }

    /// An argument value.
    public enum TraceValue: Sendable, Encodable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
        /// Text.
        case string(String)
        /// A number.
        case number(Double)

        public init(stringLiteral value: String) { self = .string(value) }
        public init(integerLiteral value: Int) { self = .number(Double(value)) }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let s): try container.encode(s)
            case .number(let n): try container.encode(n)
            }
        }
    }

    /// The DDI's timeline.
    public static let ddiThread = 0
    /// The controller's timeline (interrupts).
    public static let controllerThread = 50
    /// Engine n's timeline.
    public static func engineThread(_ index: Int) -> Int { 100 + index }

    private let events = PThreadMutex<[Event]>([])
    private let names = PThreadMutex<[Int: String]>([:])

    /// An empty recorder.
    public init() {}

    /// Microseconds of link time at `frame`.
    public static func timestamp(frame: UInt64) -> Double {
        Double(frame) * 1_000_000 / 48_000
    }

    /// Names a timeline (shown as the thread name).
    public func nameThread(_ tid: Int, _ name: String) {
        names.withLock { $0[tid] = name }
    }

    /// An instant event on a timeline.
    public func instant(_ name: String, category: String, frame: UInt64, tid: Int, args: [String: TraceValue] = [:]) {
        let event = Event(name: name, cat: category, ph: "i", ts: Self.timestamp(frame: frame), dur: nil,
                          pid: 1, tid: tid, s: "t", args: args.isEmpty ? nil : args)
        events.withLock { $0.append(event) }
    }

    /// A span from one frame to another.
    public func span(_ name: String, category: String, from start: UInt64, to end: UInt64, tid: Int, args: [String: TraceValue] = [:]) {
        let ts = Self.timestamp(frame: start)
        let event = Event(name: name, cat: category, ph: "X", ts: ts, dur: Self.timestamp(frame: end) - ts,
                          pid: 1, tid: tid, s: nil, args: args.isEmpty ? nil : args)
        events.withLock { $0.append(event) }
    }

    /// A counter sample (one series per name).
    public func counter(_ name: String, frame: UInt64, values: [String: Double]) {
        let event = Event(name: name, cat: "position", ph: "C", ts: Self.timestamp(frame: frame), dur: nil,
                          pid: 1, tid: 0, s: nil, args: values.mapValues { .number($0) })
        events.withLock { $0.append(event) }
    }

    /// All events recorded so far, in recording order.
    public var recorded: [Event] { events.withLock { $0 } }

    /// The trace as JSON: `{"traceEvents": [...], "displayTimeUnit": "ms"}`.
    public func jsonData() throws -> Data {
        struct File: Encodable {
            var traceEvents: [Event]
            var displayTimeUnit = "ms"
            var otherData: [String: String]
        }
        var all = names.withLock { table in
            table.sorted { $0.key < $1.key }.map { tid, name in
                Event(name: "thread_name", cat: "__metadata", ph: "M", ts: 0, dur: nil, pid: 1, tid: tid, s: nil,
                      args: ["name": .string(name)])
            }
        }
        all.append(Event(name: "process_name", cat: "__metadata", ph: "M", ts: 0, dur: nil, pid: 1, tid: 0, s: nil,
                         args: ["name": "Azalia HD Audio bus (link time)"]))
        all.append(contentsOf: recorded)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(File(traceEvents: all, otherData: ["clock": "link time, 48000 frames per second"]))
    }

    /// Writes the trace to a file.
    public func write(to url: URL) throws {
        try jsonData().write(to: url)
    }
}
