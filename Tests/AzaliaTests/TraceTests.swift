import Foundation
import Testing
@testable import Azalia
import HDACodec
import HDAController
import HDAudio
import HDAudioBus

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

@Suite("Traces of whole runs (--trace)")
struct RunTraceTests {


    @Test("--trace is written when the DDI refuses, holding the refused call and its status")
    func traceOnRefusal() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 192 kHz / 32-bit / 16 channels: the FIFO cannot hold one frame (STATUS_BUFFER_TOO_SMALL).
        let (input, _) = try writeNoise(dir, "big.wav", WAVFormat(sampleRate: 192000, channels: 16, bitsPerSample: 32), blocks: 10)
        let trace = dir.appendingPathComponent("t.json").path
        let run = try azalia("play", input, "--trace", trace)
        #expect(run.status == 1)
        let data = try Data(contentsOf: URL(fileURLWithPath: trace))
        let events = try #require(try jsonObject(String(decoding: data, as: UTF8.self))["traceEvents"] as? [[String: Any]])
        let refused = events.first { $0["name"] as? String == "AllocateRenderDmaEngine" }
        #expect((refused?["args"] as? [String: Any])?["status"] as? String == "STATUS_BUFFER_TOO_SMALL")
    }

    @Test("A converter format mismatch is visible in the --trace file (counted, and visible in traces)")
    func traceShowsMismatch() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.json").path
        let run = try azalia("demo", "--seconds", "0.05", "--fault", "dac-format", "--trace", trace)
        #expect(run.status == 1)
        let data = try Data(contentsOf: URL(fileURLWithPath: trace))
        let events = try #require(try jsonObject(String(decoding: data, as: UTF8.self))["traceEvents"] as? [[String: Any]])
        #expect(events.contains { (($0["name"] as? String ?? "") + ($0["cat"] as? String ?? "")).lowercased().contains("mismatch") })
    }

    @Test("The demo's (V2) trace shows the controller's interrupts, not only the notifications they signal")
    func v2TraceHasInterrupts() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("t.json").path
        let run = try azalia("demo", "--seconds", "0.2", "--trace", trace)
        #expect(run.status == 0)
        let data = try Data(contentsOf: URL(fileURLWithPath: trace))
        let events = try #require(try jsonObject(String(decoding: data, as: UTF8.self))["traceEvents"] as? [[String: Any]])
        #expect(events.contains { $0["cat"] as? String == "notification" })
        #expect(events.contains { $0["cat"] as? String == "interrupt" })
    }

    @Test("--trace to an unwritable path is one error line and exit 1, with --json's stdout left empty", arguments: ["play", "demo", "plan"])
    func traceUnwritable(_ command: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (input, _) = try writeNoise(dir, "in.wav", WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), blocks: 100)
        let bad = dir.appendingPathComponent("missing/dir/t.json").path
        let args: [String] = switch command {
        case "play": ["play", input, "--trace", bad, "--json"]
        case "demo": ["demo", "--seconds", "0.01", "--trace", bad, "--json"]
        default: ["plan", "--render", "48000/16/2", "--trace", bad, "--json"]
        }
        let run = try azalia(arguments: args)
        #expect(run.status == 1)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.hasPrefix("azalia: error:"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }

    @Test("A converter's refused packets are 'format mismatch' instants on their engine's timeline, one per refusal",
          arguments: [ConverterFault.dacFormat, .adcFormat])
    func mismatchOnEngineTimeline(_ fault: ConverterFault) throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        var options = AudioPathOptions()
        options.fault = fault
        let trace = TraceRecorder()
        options.trace = trace
        let result = try AudioPath.loopback(signal: loudSignal(format, blocks: 960), format: format, options: options)
        let events = trace.recorded.filter { $0.name == "format mismatch" }
        #expect(result.report.codecFormatMismatches > 0)
        #expect(events.count == result.report.codecFormatMismatches)
        let direction = fault == .dacFormat ? "render" : "capture"
        let engine = try #require(result.report.streams.first { $0.engine.direction == direction }).engine.index
        #expect(events.allSatisfy { $0.tid == TraceRecorder.engineThread(engine) })
        #expect(events.allSatisfy { $0.args?["converter"] == .string(fault == .dacFormat ? "DAC" : "ADC") })
    }

    @Test("Every interface's trace records each ISR run on the controller's timeline", arguments: DDIInterface.allCases)
    func interruptsOnEveryInterface(_ interface: DDIInterface) throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        var options = AudioPathOptions()
        options.interface = interface
        options.requestedBufferBytes = 4096
        let trace = TraceRecorder()
        options.trace = trace
        let result = try AudioPath.loopback(signal: loudSignal(format, blocks: 4800), format: format, options: options)
        #expect(result.report.bitExact)
        let interrupts = trace.recorded.filter { $0.cat == "interrupt" && $0.tid == TraceRecorder.controllerThread }
        #expect(!interrupts.isEmpty)
        // Each notification (V2) and each BDL ISR call comes from one ISR run of the controller.
        let signalled = result.report.streams.reduce(0) { $0 + $1.notifications + $1.interrupts }
        #expect(interrupts.count >= signalled)
        if interface != .base { #expect(signalled > 0) }
        // A stream interrupt shows its stream's bit in INTSTS.
        #expect(interface == .base || interrupts.contains { event in
            guard case .string(let text)? = event.args?["INTSTS"], let v = UInt32(text.dropFirst(2), radix: 16) else { return false }
            return v & 0x3FFF_FFFF != 0
        })
    }
}
