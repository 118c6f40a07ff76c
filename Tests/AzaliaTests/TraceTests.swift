import Foundation
import Testing
import Azalia

@Suite("Chrome trace recorder")
struct TraceRecorderTests {
    @Test("A trace is JSON with traceEvents, named timelines and link-time timestamps")
    func traceShape() throws {
        let trace = TraceRecorder()
        trace.nameThread(TraceRecorder.engineThread(4), "output engine 4")
        trace.instant("IOC", category: "interrupt", frame: 480, tid: TraceRecorder.engineThread(4), args: ["lpib": 1920])
        trace.span("AllocateRenderDmaEngine", category: "ddi", from: 0, to: 48, tid: TraceRecorder.ddiThread,
                   args: ["status": "STATUS_SUCCESS"])
        trace.counter("position engine 4", frame: 480, values: ["bytes": 1920])
        let object = try JSONSerialization.jsonObject(with: trace.jsonData()) as? [String: Any]
        let events = try #require(object?["traceEvents"] as? [[String: Any]])
        let ioc = try #require(events.first { $0["name"] as? String == "IOC" })
        #expect(ioc["ph"] as? String == "i")
        #expect(ioc["ts"] as? Double == 10_000)  // 480 frames = 10 ms
        #expect(ioc["tid"] as? Int == 104)
        let span = try #require(events.first { $0["ph"] as? String == "X" })
        #expect(span["dur"] as? Double == 1000)
        #expect(events.contains { $0["ph"] as? String == "M" && ($0["args"] as? [String: Any])?["name"] as? String == "output engine 4" })
        #expect(events.contains { $0["ph"] as? String == "C" })
    }
}
