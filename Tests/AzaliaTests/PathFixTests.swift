import Foundation
import Testing
@testable import Azalia
import HDACodec
import HDAController
import HDAudio

/// The path's fixes for review findings 5, 7, 9, 10 and 11: refused packets, wide
/// containers, codec events and interrupts in the trace, and the loopback latency.
@Suite("Path fixes: refusals, wide containers, trace, latency")
struct PathFixTests {
    /// A 16-bit stereo signal with every byte odd (no block of it is silence).
    private func loudSignal(_ format: StreamFormat, blocks: Int) -> [UInt8] {
        var data = AudioPath.testSignal(format: format, blocks: blocks)
        for i in data.indices { data[i] |= 1 }
        return data
    }

    @Test("Wide containers (16in32, 8in16, 8in32) loop back bit-exact with no refusal, output in the client's layout",
          arguments: ["48000/16in32/2", "48000/8in16/2", "48000/8in32/3", "44100/16in32/1"])
    func wideContainersLoopBack(_ text: String) throws {
        let format = try #require(StreamFormat(compact: text))
        #expect(format.isValid)
        let signal = loudSignal(format, blocks: 2000)
        let result = try AudioPath.loopback(signal: signal, format: format)
        #expect(result.report.codecFormatMismatches == 0)
        #expect(result.report.bitExact)
        // The output is the signal as the link carries it, back in the wide layout.
        let masked = try SampleConversion.linkMasked(signal, stream: format)
        let expected = try SampleConversion.wavBytes(fromMemory: masked, stream: format)
        #expect(result.output.data == expected)
        // The engines moved the natural containers: half (or a quarter of) the client's bytes.
        let natural = format.dmaFormat.blockBytes
        #expect(natural < format.blockBytes)
        let render = try #require(result.report.streams.first { $0.engine.direction == "render" })
        #expect(render.bytesMoved >= 2000 * natural)
        #expect(render.bytesMoved < 2000 * format.blockBytes)
    }

    @Test("Packets the loopback itself refuses (format mismatch) are counted in codecFormatMismatches and break bit-exact")
    func loopbackRefusalsCounted() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        // A loopback that expects 32-bit containers, while the link carries 16-bit ones.
        let wrong = StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 32, numberOfChannels: 2)
        let delay = DelayLine(format: wrong, delayBlocks: 0)
        let codec = VirtualCodec(address: 0)
        codec.setSink(delay, dac: 0)
        codec.setSource(delay, adc: 0)
        let runner = try PathRunner(profile: .ich6, codec: codec, options: AudioPathOptions())
        runner.loopback = delay
        let signal = loudSignal(format, blocks: 960)
        let report = try runner.run(format: format, render: signal, captureBlocks: 960, progress: nil)
        #expect(delay.formatMismatches > 0)
        #expect(report.codecFormatMismatches == delay.formatMismatches)
        let skip = runner.latencyBlocks * format.blockBytes
        let result = try AudioPath.finish(report: report, stream: format, file: WAVFile(format: WAVFormat(format), data: []),
                                          outMemory: Array(runner.captured[skip...]), expectedMemory: signal, latency: runner.latencyBlocks)
        #expect(!result.report.bitExact)
    }

    @Test("Equal bytes with a refused packet are not bit-exact; the first different block is then 0")
    func equalBytesButRefused() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let silence = [UInt8](repeating: 0, count: 10 * format.blockBytes)
        let base = try AudioPath.loopback(signal: silence, format: format).report
        #expect(base.bitExact)
        var refused = base
        refused.codecFormatMismatches = 1
        let result = try AudioPath.finish(report: refused, stream: format, file: WAVFile(format: WAVFormat(format), data: []),
                                          outMemory: silence, expectedMemory: silence, latency: nil)
        #expect(!result.report.bitExact)
        #expect(result.report.firstDifferentBlock == 0)
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

    @Test("The loopback latency follows the real step (a quarter buffer), whatever maxChunkFrames says",
          arguments: [UInt64(1), 480, 100_000, .max])
    func latencyFromRealStep(_ maxChunk: UInt64) throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        var options = AudioPathOptions()
        options.maxChunkFrames = maxChunk
        let result = try AudioPath.loopback(signal: loudSignal(format, blocks: 1000), format: format, options: options)
        #expect(result.report.bitExact)
        let peak = try LinkCadence(format).peakBlocksPerFrame
        let quarter = result.report.streams.map { $0.buffer.bytes / format.blockBytes / peak / 4 }.min() ?? 1
        let step = Int(min(maxChunk, UInt64(max(1, quarter))))
        #expect(result.report.latencyBlocks == (step + 2) * peak)
    }
}
