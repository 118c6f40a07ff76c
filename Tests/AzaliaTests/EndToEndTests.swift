import Foundation
import Testing
@testable import Azalia
import HDACodec
import HDAController
import HDAudio
import HDAudioBus

/// One end-to-end case: a format, a profile, an interface, striping.
struct PathCase: CustomTestStringConvertible, Sendable {
    var format: StreamFormat
    var profile: ControllerProfile = .ich6
    var interface: DDIInterface = .v2
    var stripe = false
    /// Whether a capture stream of the format fits the profile's input FIFO and SDI budgets.
    var captureFits: Bool {
        guard let words = try? LinkBudget.fifoWords(format), let bits = try? LinkBudget.inputCost(format) else { return false }
        return words <= Int(profile.instrmpay) && bits <= LinkBudget.sdiLineBudget(inpay: profile.inpay)
    }
    var testDescription: String {
        "\(format.compact) \(profile.name) \(interface.rawValue)\(stripe ? " striped" : "")"
    }
}

/// A deterministic, non-trivial WAV: every byte of every sample from a seeded generator,
/// so a single misplaced bit, block or channel shows.
func noiseWAV(_ format: WAVFormat, blocks: Int, seed: UInt64) -> WAVFile {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    var data = [UInt8](repeating: 0, count: blocks * format.blockAlign)
    for i in data.indices {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        data[i] = UInt8(truncatingIfNeeded: state)
    }
    return WAVFile(format: format, data: data)
}

/// Blocks of `seconds` of link time at `rate`.
func blocks(_ seconds: Double, rate: UInt32) -> Int { Int(seconds * Double(rate)) }

let pathCases: [PathCase] = [
    PathCase(format: StreamFormat(rate: 44100, bits: 16, channels: 2)),
    PathCase(format: StreamFormat(rate: 48000, bits: 16, channels: 2), interface: .base),
    PathCase(format: StreamFormat(rate: 48000, bits: 24, channels: 2), interface: .bdl),
    PathCase(format: StreamFormat(rate: 96000, bits: 32, channels: 2)),
    PathCase(format: StreamFormat(rate: 22050, bits: 8, channels: 1), interface: .base),
    PathCase(format: StreamFormat(rate: 8000, bits: 16, channels: 1), interface: .bdl),
    PathCase(format: StreamFormat(rate: 11025, bits: 8, channels: 3)),
    PathCase(format: StreamFormat(rate: 16000, bits: 32, channels: 6), interface: .bdl),
    PathCase(format: StreamFormat(rate: 48000, bits: 16, channels: 16), interface: .base),
    PathCase(format: StreamFormat(rate: 192000, bits: 16, channels: 2)),
    PathCase(format: StreamFormat(rate: 176400, bits: 24, channels: 2), profile: .bidirectional4SDO, stripe: true),
    PathCase(format: StreamFormat(rate: 96000, bits: 32, channels: 8), profile: .bidirectional4SDO, interface: .bdl, stripe: true),
    PathCase(format: StreamFormat(rate: 48000, bits: 16, channels: 16), profile: .bidirectional4SDO, interface: .base, stripe: true),
    PathCase(format: StreamFormat(rate: 88200, bits: 8, channels: 4), profile: .skylakePCH),
    PathCase(format: StreamFormat(rate: 32000, bits: 24, channels: 5), profile: .ich9, interface: .base),
]

@Suite("End to end: WAV through DMA, controller, link and codec")
struct EndToEndTests {
    @Test("Render: the DAC's sink receives the WAV sample for sample", arguments: pathCases)
    func renderIsBitExact(_ c: PathCase) throws {
        let wav = noiseWAV(WAVFormat(c.format), blocks: blocks(0.05, rate: c.format.sampleRate) + 7, seed: UInt64(c.format.sampleRate))
        var options = AudioPathOptions()
        options.interface = c.interface
        options.stripe = c.stripe
        let result = try AudioPath.play(wav, profile: c.profile, options: options)
        #expect(result.output.format == wav.format)
        #expect(result.output.data.count == wav.data.count)
        #expect(result.output.data == wav.data)
        #expect(result.report.bitExact)
        #expect(result.report.codecFormatMismatches == 0)
        let engine = try #require(result.report.streams.first?.engine)
        #expect(engine.direction == "render")
        if c.stripe { #expect(engine.lines == "SDO0-SDO\(c.profile.sdoLines - 1)") } else { #expect(engine.lines == "SDO0") }
    }

    @Test("Capture: the client records the ADC's source WAV sample for sample", arguments: pathCases.filter(\.captureFits))
    func captureIsBitExact(_ c: PathCase) throws {
        let wav = noiseWAV(WAVFormat(c.format), blocks: blocks(0.05, rate: c.format.sampleRate) + 3, seed: UInt64(c.format.numberOfChannels))
        var options = AudioPathOptions()
        options.interface = c.interface
        let result = try AudioPath.record(from: wav, profile: c.profile, options: options)
        #expect(result.output.data.count == wav.data.count)
        #expect(result.output.data == wav.data)
        #expect(result.report.bitExact)
        #expect(result.report.streams.first?.engine.direction == "capture")
    }

    @Test("Loopback: captured audio equals rendered audio after the loopback's latency", arguments: pathCases.filter(\.captureFits))
    func loopbackIsBitExact(_ c: PathCase) throws {
        let signal = AudioPath.testSignal(format: c.format, blocks: blocks(0.04, rate: c.format.sampleRate) + 5)
        var options = AudioPathOptions()
        options.interface = c.interface
        options.stripe = c.stripe
        let result = try AudioPath.loopback(signal: signal, format: c.format, profile: c.profile, options: options)
        #expect(result.report.bitExact)
        #expect(result.report.firstDifferentBlock == nil)
        #expect(result.report.streams.map(\.engine.direction) == ["render", "capture"])
        let masked = try SampleConversion.linkMasked(signal, stream: c.format)
        let expectedWAV = try SampleConversion.wavBytes(fromMemory: masked, stream: c.format)
        #expect(result.output.data == expectedWAV)
    }

    @Test("Tiny and large buffers: the client keeps ahead of the engine in every interface",
          arguments: DDIInterface.allCases, [256, 1000, 65536])
    func bufferSizes(_ interface: DDIInterface, _ bytes: Int) throws {
        let format = StreamFormat(rate: 192000, bits: 16, channels: 4)
        let signal = AudioPath.testSignal(format: format, blocks: 5000)
        var options = AudioPathOptions()
        options.interface = interface
        options.requestedBufferBytes = bytes
        let result = try AudioPath.loopback(signal: signal, format: format, options: options)
        #expect(result.report.bitExact)
        #expect(result.report.streams.allSatisfy { $0.buffer.bytes > 0 && $0.buffer.bytes % format.blockBytes == 0 })
    }

    @Test("Verbs through TransferCodecVerbs (CORB/RIRB) and straight to the codec program the same path")
    func verbPaths() throws {
        let format = StreamFormat(rate: 44100, bits: 16, channels: 2)
        let signal = AudioPath.testSignal(format: format, blocks: 2000)
        var options = AudioPathOptions()
        let recorder = TraceRecorder()
        options.trace = recorder
        let corb = try AudioPath.loopback(signal: signal, format: format, options: options)
        options.verbPath = .direct
        options.trace = nil
        let direct = try AudioPath.loopback(signal: signal, format: format, options: options)
        #expect(corb.report.bitExact && direct.report.bitExact)
        #expect(corb.report.verbs == direct.report.verbs)
        #expect(corb.report.verbPath == .corb)
        let transfers = recorder.recorded.filter { $0.cat == "verb" }
        #expect(transfers.count == corb.report.verbs)
        #expect(transfers.allSatisfy { $0.args?["valid"] == "true" })
        // The root node's subordinate node count (group 1, one group) came back through the RIRB.
        #expect(transfers.first?.args?["response"] == "0x00010001")
    }

    @Test("A WAV of 20 valid bits in 24 plays as a 20-bit stream: the valid bits arrive, the rest are zero", arguments: DDIInterface.allCases)
    func twentyBitWAV(_ interface: DDIInterface) throws {
        let format = WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 24, validBitsPerSample: 20)
        let wav = noiseWAV(format, blocks: 3000, seed: 20)
        var options = AudioPathOptions()
        options.interface = interface
        let result = try AudioPath.play(wav, options: options)
        #expect(result.report.format == "48000/20/2")   // 20 bits in a 32-bit container
        // Little-endian 24-bit samples: the low 4 bits of each sample's first byte are not valid.
        let expected = wav.data.enumerated().map { $0.offset % 3 == 0 ? $0.element & 0xF0 : $0.element }
        #expect(result.output.data == expected)
        #expect(result.output.format == format)
        let recorded = try AudioPath.record(from: wav, options: options)
        #expect(recorded.output.data == expected)
    }

    @Test("20-bit samples in 32-bit containers travel bit-exact through a loopback")
    func twentyBitLoopback() throws {
        let format = StreamFormat(sampleRate: 48000, validBitsPerSample: 20, containerSize: 32, numberOfChannels: 2)
        let signal = AudioPath.testSignal(format: format, blocks: 2000)
        let result = try AudioPath.loopback(signal: signal, format: format)
        #expect(result.report.bitExact)
    }

    @Test("V2 notifications: two per pass over the buffer are counted; BDL ISR calls likewise")
    func notificationsAreCounted() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let wav = noiseWAV(WAVFormat(format), blocks: 48000 / 5, seed: 9)   // 0.2 s
        var options = AudioPathOptions()
        options.requestedBufferBytes = 4096
        let v2 = try AudioPath.play(wav, options: options).report.streams[0]
        // 38400 bytes through a 4096-byte buffer: at least 9 midpoints and ends passed.
        #expect(v2.buffer.bytes == 4096)
        #expect(v2.notifications >= 2 * (38400 / 4096))
        #expect(v2.interrupts == 0)
        options.interface = .bdl
        let bdl = try AudioPath.play(wav, options: options).report.streams[0]
        #expect(bdl.interrupts >= 2 * (38400 / 4096))
        #expect(bdl.notifications == 0)
        options.interface = .base
        let base = try AudioPath.play(wav, options: options).report.streams[0]
        #expect(base.notifications == 0 && base.interrupts == 0)
    }

    @Test("Every engine, buffer and page is returned after a path: the next run gets the same engine")
    func nothingLeaks() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let signal = AudioPath.testSignal(format: format, blocks: 480)
        let a = try AudioPath.loopback(signal: signal, format: format)
        let b = try AudioPath.loopback(signal: signal, format: format)
        #expect(a.report.streams.map(\.engine.index) == b.report.streams.map(\.engine.index))
        #expect(a.report.streams.map(\.engine.tag) == [1, 1])
    }

    @Test("An ADC programmed with the wrong converter format breaks the loopback, and the comparison says so")
    func adcFormatFaultIsDetected() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let signal = AudioPath.testSignal(format: format, blocks: 2400)
        var options = AudioPathOptions()
        options.fault = .adcFormat
        let result = try AudioPath.loopback(signal: signal, format: format, options: options)
        #expect(!result.report.bitExact)
        #expect(result.report.firstDifferentBlock != nil)
        #expect(result.report.codecFormatMismatches > 0)
    }

    @Test("A DAC programmed with the wrong converter format plays nothing: the mismatch is detected")
    func dacFormatFaultIsDetected() throws {
        let format = StreamFormat(rate: 44100, bits: 16, channels: 2)
        let wav = noiseWAV(WAVFormat(format), blocks: 2000, seed: 4)
        var options = AudioPathOptions()
        options.fault = .dacFormat
        let result = try AudioPath.play(wav, options: options)
        #expect(!result.report.bitExact)
        #expect(result.report.codecFormatMismatches > 0)
        #expect(result.output.data.isEmpty)
    }

    @Test("A format beyond the link budget is refused by the DDI with its status")
    func overBudgetIsRefused() throws {
        // 192 kHz x 32-bit x 16 channels needs 2048 bits per frame: more than one SDO line.
        let format = StreamFormat(rate: 192000, bits: 32, channels: 16)
        let signal = AudioPath.testSignal(format: format, blocks: 10)
        #expect(throws: AudioPathError.driver(.ddi(routine: "AllocateRenderDmaEngine", status: .bufferTooSmall))) {
            try AudioPath.loopback(signal: signal, format: format)
        }
    }

    @Test("A capture format beyond the input FIFO is BUFFER_TOO_SMALL while the same render format plays")
    func captureOverFIFO() throws {
        let c = PathCase(format: StreamFormat(rate: 96000, bits: 32, channels: 8), profile: .bidirectional4SDO)
        #expect(!c.captureFits)
        let wav = noiseWAV(WAVFormat(c.format), blocks: 100, seed: 5)
        #expect(throws: AudioPathError.driver(.ddi(routine: "AllocateCaptureDmaEngine", status: .bufferTooSmall))) {
            try AudioPath.record(from: wav, profile: c.profile)
        }
        #expect(try AudioPath.play(wav, profile: c.profile).report.bitExact)
    }

    @Test("A WAV whose rate HD Audio cannot carry is refused before any DDI call")
    func unencodableRate() throws {
        let wav = noiseWAV(WAVFormat(sampleRate: 44000, channels: 2, bitsPerSample: 16), blocks: 10, seed: 1)
        #expect(throws: AudioPathError.self) { try AudioPath.play(wav) }
    }

    @Test("An empty WAV plays and records as an empty WAV")
    func emptyWAV() throws {
        let wav = WAVFile(format: WAVFormat(sampleRate: 48000, channels: 2, bitsPerSample: 16), data: [])
        #expect(try AudioPath.play(wav).output.data.isEmpty)
        #expect(try AudioPath.record(from: wav).output.data.isEmpty)
    }

    @Test("Progress is reported, increasing, up to the total")
    func progressIsReported() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let wav = noiseWAV(WAVFormat(format), blocks: 4800, seed: 2)
        let seen = PThreadMutex<[AudioProgress]>([])
        _ = try AudioPath.play(wav) { p in seen.withLock { $0.append(p) } }
        let all = seen.withLock { $0 }
        #expect(all.count > 2)
        #expect(zip(all, all.dropFirst()).allSatisfy { $0.done <= $1.done && $0.frame < $1.frame })
        #expect(all.last?.done == all.last?.total)
        #expect(all.last?.total == wav.data.count)
    }

    @Test("The trace holds DDI calls with statuses, state changes, notifications and positions")
    func traceHoldsEvents() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let recorder = TraceRecorder()
        var options = AudioPathOptions()
        options.trace = recorder
        options.requestedBufferBytes = 4096
        _ = try AudioPath.loopback(signal: AudioPath.testSignal(format: format, blocks: 4800), format: format, options: options)
        let events = recorder.recorded
        let ddi = events.filter { $0.cat == "ddi" }.map(\.name)
        for routine in ["AllocateRenderDmaEngine", "AllocateCaptureDmaEngine", "AllocateDmaBufferWithNotification",
                        "SetDmaEngineState", "FreeDmaBufferWithNotification", "FreeDmaEngine"] {
            #expect(ddi.contains(routine), "\(routine) missing")
        }
        #expect(events.filter { $0.cat == "ddi" }.allSatisfy { $0.args?["status"] == "STATUS_SUCCESS" })
        #expect(events.contains { $0.cat == "notification" })
        #expect(events.contains { $0.cat == "state" && $0.name == "RunState" })
        #expect(events.contains { $0.ph == "C" })
        let json = try JSONSerialization.jsonObject(with: recorder.jsonData()) as? [String: Any]
        #expect((json?["traceEvents"] as? [Any])?.isEmpty == false)
    }

    @Test("Speech from espeak-ng renders and records bit-exact")
    func speechIsBitExact() throws {
        guard let espeak = ["/usr/bin/espeak-ng", "/usr/local/bin/espeak-ng", "/opt/homebrew/bin/espeak-ng"]
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            print("espeak-ng is not installed: skipping the speech test")
            return
        }
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("speech.wav").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: espeak)
        process.arguments = ["-w", path, "Azalia plays this bit for bit."]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        let wav = try WAVFile.read(path: path)
        #expect(wav.blockCount > 1000)
        let played = try AudioPath.play(wav)
        #expect(played.output.data == Array(wav.data.prefix(wav.blockCount * wav.format.blockAlign)))
        let recorded = try AudioPath.record(from: wav)
        #expect(recorded.output.data == played.output.data)
    }

    @Test("Packets a loopback drops for a format mismatch are counted in the report, not hidden")
    func delayLineDropsReported() throws {
        let format = StreamFormat(sampleRate: 48000, validBitsPerSample: 16, containerSize: 32, numberOfChannels: 2)
        let result = try AudioPath.loopback(signal: AudioPath.testSignal(format: format, blocks: 960), format: format)
        #expect(result.report.bitExact || result.report.codecFormatMismatches > 0)
    }
}

import Synchronization

@Suite("Loopback and batching")
struct LoopbackBatchingTests {
    /// Bytes a capture handed out, kept.
    final class Kept { var bytes: [UInt8] = [] }

    /// Runs `runner` over `signal` (memory layout of `format`), keeping everything it captures.
    func runKeeping(_ runner: PathRunner, format: StreamFormat, signal: [UInt8], captureBlocks: Int) throws -> (AudioPathReport, [UInt8]) {
        let kept = Kept()
        runner.capture = { bytes in kept.bytes.append(contentsOf: bytes) }
        let report = try runner.run(format: format, render: MemorySignal(signal, layout: format, format: format.dmaFormat),
                                    captureBlocks: captureBlocks, progress: nil)
        return (report, kept.bytes)
    }

    /// HDACodec's `Loopback` hands out silence whenever its FIFO is empty. The controller
    /// once moved each batch input engines first (descriptor order), so a batch longer than
    /// every earlier one asked the ADC for samples the DAC had not played yet and put
    /// silence mid-stream (seen: block 0, then 479 silent blocks). It now runs output
    /// engines first in every batch, as in every stepped frame, so the capture is the
    /// render with one constant latency however time is batched.
    @Test("HDACodec Loopback: the capture is the render delayed by one constant latency, however time is batched")
    func codecLoopbackLatencyIsConstant() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let blocks = 4800
        // Noise with every byte odd: no block of it is silence.
        let signal = noiseWAV(WAVFormat(format), blocks: blocks, seed: 11).data.map { $0 | 1 }
        let codec = VirtualCodec(address: 0)
        codec.loopback(dac: 0, adc: 0)
        let runner = try PathRunner(profile: .ich6, codec: codec, options: AudioPathOptions())
        runner.leadingSteps = [1]   // one frame, then steps of 480 frames
        let (_, captured) = try runKeeping(runner, format: format, signal: signal, captureBlocks: blocks + 1000)
        let bb = format.blockBytes
        let firstSound = try #require(stride(from: 0, to: captured.count, by: bb).first { captured[$0] != 0 })
        let heard = Array(captured[firstSound..<min(captured.count, firstSound + signal.count)])
        let silentBlocks = stride(from: 0, to: heard.count, by: bb).filter { heard[$0] == 0 }.count
        let exact = heard == signal
        #expect(silentBlocks == 0)
        #expect(exact)
        // The same batching through DelayLine is exact.
        let delayed = try PathRunner(profile: .ich6, codec: {
            let c = VirtualCodec(address: 0)
            let d = DelayLine(format: format, delayBlocks: 500)
            c.setSink(d, dac: 0)
            c.setSource(d, adc: 0)
            return c
        }(), options: AudioPathOptions())
        delayed.leadingSteps = [1]
        let (_, delayedCapture) = try runKeeping(delayed, format: format, signal: signal, captureBlocks: blocks + 500)
        #expect(Array(delayedCapture[(500 * bb)...]) == signal)
    }

    @Test("A huge maxChunkFrames does not trap the loopback (the step is capped at a quarter buffer anyway)")
    func hugeChunk() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        var options = AudioPathOptions()
        options.maxChunkFrames = .max
        let result = try AudioPath.loopback(signal: AudioPath.testSignal(format: format, blocks: 480), format: format, options: options)
        #expect(result.report.bitExact)
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
        let (report, captured) = try runKeeping(runner, format: format, signal: signal, captureBlocks: 960)
        #expect(delay.formatMismatches > 0)
        #expect(report.codecFormatMismatches == delay.formatMismatches)
        let skip = runner.latencyBlocks * format.blockBytes
        let comparer = StreamComparer(expected: try MemorySignal(signal, layout: format, format: format))
        try Array(captured[skip...]).withUnsafeBytes { _ = try comparer.compare($0) }
        let result = AudioPath.finish(report, same: comparer.same, firstDifferentBlock: comparer.firstDifferentBlock, latency: runner.latencyBlocks)
        #expect(!result.bitExact)
    }

    @Test("Equal bytes with a refused packet are not bit-exact; the first different block is then 0")
    func equalBytesButRefused() throws {
        let format = StreamFormat(rate: 48000, bits: 16, channels: 2)
        let silence = [UInt8](repeating: 0, count: 10 * format.blockBytes)
        let base = try AudioPath.loopback(signal: silence, format: format).report
        #expect(base.bitExact)
        var refused = base
        refused.codecFormatMismatches = 1
        let result = AudioPath.finish(refused, same: true, firstDifferentBlock: nil, latency: nil)
        #expect(!result.bitExact)
        #expect(result.firstDifferentBlock == 0)
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
