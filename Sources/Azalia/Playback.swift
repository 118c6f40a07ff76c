import Foundation
public import HDACodec
public import HDAController
public import HDAudio
import HDAudioBus
import Synchronization

/// The DDI version a function driver opens.
public enum DDIInterface: String, CaseIterable, Sendable, Codable {
    /// HDAUDIO_BUS_INTERFACE: AllocateDmaBuffer, the client keeps ahead of the position it
    /// reads through GetLinkPositionRegister.
    case base
    /// HDAUDIO_BUS_INTERFACE_V2: AllocateDmaBufferWithNotification with two notifications,
    /// the client refills on each.
    case v2
    /// HDAUDIO_BUS_INTERFACE_BDL: AllocateContiguousDmaBuffer, the client's own BDL,
    /// SetupDmaEngineWithBdl, the client refills in its ISR's wake.
    case bdl
}

/// A fault a caller can inject into the function driver, to see a path fail.
public enum ConverterFault: String, CaseIterable, Sendable, Codable {
    /// No fault.
    case none
    /// The DAC is programmed with a converter format other than the one the bus returned.
    case dacFormat = "dac-format"
    /// The ADC is programmed with a converter format other than the one the bus returned.
    case adcFormat = "adc-format"
}

/// How a function driver's codec verbs travel.
public enum VerbPath: String, CaseIterable, Sendable, Codable {
    /// Through the bus's TransferCodecVerbs: CORB out, RIRB back (what a driver does).
    case corb
    /// Straight to the codec's linkCommand, bypassing the command path.
    case direct
}

/// How a path runs.
public struct AudioPathOptions: Sendable {
    /// The DDI version (V2 by default).
    public var interface: DDIInterface = .v2
    /// Ask for the render stream to be striped over every SDO line.
    public var stripe = false
    /// The buffer size asked of the bus, in bytes.
    public var requestedBufferBytes = 16 * 1024
    /// The most link frames advanced between two looks at the position (the actual step
    /// is also at most a quarter of the buffer).
    public var maxChunkFrames: UInt64 = 480
    /// The codec's address (its SDI line).
    public var codecAddress: UInt8 = 0
    /// Where DDI calls, state changes, interrupts (every ISR run), notifications, refused
    /// packets and positions are traced.
    public var trace: TraceRecorder?
    /// A fault to inject.
    public var fault: ConverterFault = .none
    /// How codec verbs travel (CORB/RIRB by default).
    public var verbPath: VerbPath = .corb

    /// The defaults.
    public init() {}
}

/// Progress of a path, reported after every step of link time.
public struct AudioProgress: Sendable, Hashable {
    /// Bytes of the streams done (played, or recorded).
    public var done: Int
    /// Bytes to do.
    public var total: Int
    /// The link frame now.
    public var frame: UInt64
}

/// Why a path could not run.
public enum AudioPathError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The WAV file could not be used.
    case wav(WAVError)
    /// The samples' format cannot travel on the link.
    case unencodable(String)
    /// The system could not be built (unknown profile, bus did not start).
    case system(AzaliaSystemError)
    /// The function driver failed (a DDI refusal names its status).
    case driver(FunctionDriverError)
    /// The client fell behind the engine (an underrun or overrun of the cyclic buffer).
    case fellBehind(String)
    /// Link time ran far past what the stream needs without finishing.
    case stalled(String)

    /// The reason in words.
    public var description: String {
        switch self {
        case .wav(let e): "\(e)"
        case .unencodable(let s): s
        case .system(let e): "\(e)"
        case .driver(let e): "\(e)"
        case .fellBehind(let s): s
        case .stalled(let s): s
        }
    }
}

/// One engine a path used.
public struct EngineReport: Sendable, Hashable, Codable {
    /// "render" or "capture".
    public var direction: String
    /// "input", "output" or "bidirectional".
    public var kind: String
    /// The descriptor index.
    public var index: Int
    /// The stream tag (StreamId).
    public var tag: Int
    /// The stream format, RATE/BITS/CHANNELS.
    public var format: String
    /// The converter format the bus returned, 0xNNNN.
    public var converterFormat: String
    /// FifoSize (SDnFIFOS + 1) in bytes.
    public var fifoSize: Int
    /// The lines charged: "SDO0", "SDO0-SDO3" or "SDI0".
    public var lines: String
    /// Bits per frame charged to each of those lines.
    public var bitsPerLine: Int
}

/// One buffer a path used.
public struct BufferReport: Sendable, Hashable, Codable {
    /// The size asked for.
    public var requestedBytes: Int
    /// The size used (AllocatedBufferSize, or the BDL's total length).
    public var bytes: Int
    /// Pages of the buffer.
    public var pages: Int
    /// BDL entries.
    public var bdlEntries: Int
    /// IOC points per pass over the buffer.
    public var notificationsPerBuffer: Int
}

/// One stream of a path, after the run.
public struct StreamReport: Sendable, Hashable, Codable {
    /// Its engine.
    public var engine: EngineReport
    /// Its buffer.
    public var buffer: BufferReport
    /// Notification events signalled (V2).
    public var notifications: Int
    /// ISR calls (BDL).
    public var interrupts: Int
    /// The position register's last value before the stream stopped.
    public var finalPosition: Int
    /// Bytes moved by the engine in all.
    public var bytesMoved: Int
}

/// What a path did.
public struct AudioPathReport: Sendable, Hashable, Codable {
    /// The controller profile.
    public var profile: String
    /// The DDI version.
    public var interface: DDIInterface
    /// The stream format.
    public var format: String
    /// Sample blocks of real audio.
    public var blocks: Int
    /// The streams, render first.
    public var streams: [StreamReport]
    /// Link frames from RUN to stop.
    public var frames: UInt64
    /// Link time in seconds.
    public var linkSeconds: Double
    /// Wall time of the run in seconds.
    public var wallSeconds: Double
    /// Link seconds per wall second.
    public var speed: Double
    /// Codec verbs sent.
    public var verbs: Int
    /// How they travelled.
    public var verbPath: VerbPath
    /// Packets refused for a format mismatch: by a codec converter, or by the loopback
    /// between the DAC and the ADC.
    public var codecFormatMismatches: Int
    /// Loopback latency in blocks (loopback only).
    public var latencyBlocks: Int?
    /// Whether the output equals the input sample for sample (a real comparison) and no
    /// packet was refused on the way (`codecFormatMismatches` is 0).
    public var bitExact: Bool
    /// The first block that differs, when not bit-exact.
    public var firstDifferentBlock: Int?
}

/// The result of a path: its report and the audio that came out.
public struct AudioPathResult: Sendable {
    /// What happened.
    public var report: AudioPathReport
    /// The output as a WAV file in the input's layout: what the DAC's sink received (play),
    /// what the client recorded (record, loopback), trimmed to the input's length.
    public var output: WAVFile
}

/// The end-to-end audio path as a function driver runs it: play a WAV file through a DAC,
/// record one through an ADC, or loop a signal from a DAC back into an ADC.
///
/// Each call builds a system (a controller of the profile with one `VirtualCodec`), opens
/// an interface, allocates engines with the stream format, programs the codec's converters
/// with the converter format and stream id the bus returned (through a `CodecVerbSender`),
/// allocates the buffer the interface offers, moves samples between the WAV data and the
/// DMA pages in the HD Audio memory layout, runs the engines, advances link time in steps
/// while keeping ahead of them, pads the end with silence, stops once every real sample
/// has gone through, and then resets, frees and closes everything.
public enum AudioPath {
    /// Renders a WAV file: the DAC's sink receives it; `output` is what it received.
    public static func play(_ file: WAVFile, profile: ControllerProfile = .default, options: AudioPathOptions = .init(),
                            progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        let (stream, memory) = try prepare(file)
        let blocks = memory.count / stream.blockBytes
        let sink = RecordingSink(limit: blocks)
        let codec = VirtualCodec(address: options.codecAddress)
        codec.setSink(sink, dac: 0)
        let runner = try PathRunner(profile: profile, codec: codec, options: options)
        let report = try runner.run(format: stream, render: memory, captureBlocks: nil, progress: progress)
        // The DAC received the layout the engine moved (SDnFMT's natural containers).
        let out = PathRunner.clientLayout(sink.data, format: stream)
        return try finish(report: report, stream: stream, file: file, outMemory: out, expectedMemory: memory, latency: nil)
    }

    /// Records a WAV file: the ADC's source plays it, the client copies it out of the DMA
    /// buffer; `output` is what the client recorded.
    public static func record(from file: WAVFile, profile: ControllerProfile = .default, options: AudioPathOptions = .init(),
                              progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        let (stream, memory) = try prepare(file)
        let blocks = memory.count / stream.blockBytes
        let source: WAVFileSource
        do { source = try WAVFileSource(file: WAVFile(format: file.format, data: Array(file.data.prefix(blocks * file.format.blockAlign)))) }
        catch { throw .wav(error) }
        let codec = VirtualCodec(address: options.codecAddress)
        codec.setSource(source, adc: 0)
        let runner = try PathRunner(profile: profile, codec: codec, options: options)
        let report = try runner.run(format: stream, render: nil, captureBlocks: blocks, progress: progress)
        return try finish(report: report, stream: stream, file: file, outMemory: runner.captured, expectedMemory: memory, latency: nil)
    }

    /// Loops `signal` (memory layout of `format`, whole blocks) from a render engine through
    /// the codec's DAC, a fixed-latency loopback and its ADC into a capture engine, both
    /// started together; the captured audio, less the latency, is compared bit for bit
    /// with the signal as the link carries it.
    public static func loopback(signal: [UInt8], format: StreamFormat, profile: ControllerProfile = .default,
                                options: AudioPathOptions = .init(),
                                progress: ((AudioProgress) -> Void)? = nil) throws(AudioPathError) -> AudioPathResult {
        guard format.isValid else { throw .unencodable("format \(format.compact): \(format.problem ?? "invalid") (\(NTStatus.invalidParameter))") }
        let blocks = signal.count / format.blockBytes
        let memory = Array(signal.prefix(blocks * format.blockBytes))
        let expected: [UInt8]
        do { expected = try SampleConversion.linkMasked(memory, stream: format) } catch { throw .wav(error) }
        // The loopback carries what the link carries: the natural layout of the valid bits.
        // Its latency is set by the run once the buffers, and so the step, are known.
        let codec = VirtualCodec(address: options.codecAddress)
        let delay = DelayLine(format: format.dmaFormat, delayBlocks: 0)
        codec.setSink(delay, dac: 0)
        codec.setSource(delay, adc: 0)
        let runner = try PathRunner(profile: profile, codec: codec, options: options)
        runner.loopback = delay
        let report = try runner.run(format: format, render: memory, captureBlocks: blocks, progress: progress)
        let latency = runner.latencyBlocks
        let captured = runner.captured
        let skip = min(captured.count, latency * format.blockBytes)
        let wav = WAVFormat(format)
        return try finish(report: report, stream: format, file: WAVFile(format: wav, data: []),
                          outMemory: Array(captured[skip...]), expectedMemory: expected, latency: latency)
    }

    /// A deterministic test signal: a sine per channel (channel c at 440 x (c + 1) Hz, half
    /// scale) for `blocks` blocks of `format`, in its memory layout.
    public static func testSignal(format: StreamFormat, blocks: Int) -> [UInt8] {
        guard format.isValid, blocks > 0 else { return [] }
        var data = [UInt8](repeating: 0, count: blocks * format.blockBytes)
        let tone = ToneGenerator(frequency: 440, amplitude: 0.5, spreadChannels: true)
        data.withUnsafeMutableBytes { _ = tone.produce(into: $0, blocks: blocks, format: format) }
        return data
    }

    /// The stream format of a WAV file and its samples in that format's memory layout.
    static func prepare(_ file: WAVFile) throws(AudioPathError) -> (StreamFormat, [UInt8]) {
        do { try file.format.validate() } catch { throw .wav(error) }
        guard let stream = file.format.streamFormat else {
            throw .unencodable("\(file.format.sampleRate) Hz cannot be encoded as an HD Audio rate (\(NTStatus.invalidParameter))")
        }
        let whole = file.blockCount * file.format.blockAlign
        do {
            return (stream, try SampleConversion.memoryBytes(fromWAV: Array(file.data.prefix(whole)), format: file.format, stream: stream))
        } catch {
            throw .wav(error)
        }
    }

    static func finish(report: AudioPathReport, stream: StreamFormat, file: WAVFile, outMemory: [UInt8],
                       expectedMemory: [UInt8], latency: Int?) throws(AudioPathError) -> AudioPathResult {
        var r = report
        let bb = stream.blockBytes
        // Bit-exact needs equal bytes AND no packet refused by a converter (or the loopback):
        // a refused packet's samples never reached the output, and equal bytes then only
        // mean that the signal was silence where it was refused (a one-block sine is).
        let sameBytes = outMemory == expectedMemory
        r.bitExact = sameBytes && r.codecFormatMismatches == 0
        if !sameBytes {
            let n = min(outMemory.count, expectedMemory.count)
            var first = n / bb
            for i in 0..<n where outMemory[i] != expectedMemory[i] { first = i / bb; break }
            r.firstDifferentBlock = first
        } else if !r.bitExact {
            // No byte differs, yet packets were refused: no block can be vouched for.
            r.firstDifferentBlock = 0
        }
        r.latencyBlocks = latency
        let wavData: [UInt8]
        do { wavData = try SampleConversion.wavBytes(fromMemory: Array(outMemory.prefix(outMemory.count / bb * bb)), stream: stream, format: file.format) }
        catch { throw .wav(error) }
        return AudioPathResult(report: r, output: WAVFile(format: file.format, data: wavData))
    }
}

// MARK: - The function driver's run

/// Counts verbs on their way to another sender.
struct CountingSender: CodecVerbSender {
    let inner: any CodecVerbSender
    let count = Counter()
    func send(_ verb: UInt32) throws(NTStatus) -> UInt32? {
        count.add(1)
        return try inner.send(verb)
    }
}

/// A counter shared with interrupt and notification callbacks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func add(_ n: Int) { value.add(n, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// The interface a function driver opened.
enum OpenInterface {
    case base(HDAudioBaseInterface)
    case v2(HDAudioV2Interface)
    case bdl(HDAudioBDLInterface)

    var common: any HDAudioBusInterface {
        switch self {
        case .base(let i): i
        case .v2(let i): i
        case .bdl(let i): i
        }
    }
}

/// Where a stream's DMA buffer lives: MDL pages, or one contiguous piece.
enum DmaRegion {
    case pages(MemoryDescriptorList)
    case contiguous(UInt64, Int)

    func pieces(_ range: Range<Int>) -> [(address: UInt64, count: Int)] {
        switch self {
        case .pages(let mdl): return mdl.segments(of: range)
        case .contiguous(let base, _): return [(base + UInt64(range.lowerBound), range.count)]
        }
    }
}

/// One stream of a run: its engine, its buffer, and where the client stands in it.
final class StreamRun {
    let direction: StreamDirection
    /// The format the client gave the DDI (its container may be wider than the natural one).
    let format: StreamFormat
    /// The layout of the bytes in the DMA buffer: `format.dmaFormat`.
    let dma: StreamFormat
    let allocation: DmaEngineAllocation
    let summary: EngineSummary
    var region: DmaRegion = .contiguous(0, 0)
    var size = 0
    var bufferReport = BufferReport(requestedBytes: 0, bytes: 0, pages: 0, bdlEntries: 0, notificationsPerBuffer: 0)
    var fifoSize = 0
    var streamId: UInt8 = 0
    var position: RegisterView?
    var lastRaw = 0
    /// Bytes the engine has moved (the position, unwrapped).
    var moved = 0
    /// Render: bytes written into the buffer; capture: bytes copied out.
    var client = 0
    /// Bytes of real audio (render) or bytes to record (capture).
    var target = 0
    let notifications = Counter()
    let interrupts = Counter()
    var seenInterrupts = 0
    var event: NotificationEvent?
    var node: UInt8 = 0
    var pin: UInt8?

    init(direction: StreamDirection, format: StreamFormat, allocation: DmaEngineAllocation, summary: EngineSummary) {
        self.direction = direction
        self.format = format
        dma = format.dmaFormat
        self.allocation = allocation
        self.summary = summary
    }

    var done: Bool { direction == .render ? moved >= target : client >= target }
}

/// Runs one path: builds the system, plays the function driver's part, and tears down.
final class PathRunner {
    let system: AzaliaSystem
    let options: AudioPathOptions
    let trace: TraceRecorder?
    private(set) var captured: [UInt8] = []
    /// Steps of link time (in frames) taken before the regular steps (for tests that need
    /// a particular batching).
    var leadingSteps: [UInt64] = []
    private var render: [UInt8] = []
    private var silence: [UInt8] = []
    /// A loopback between the codec's DAC and ADC: the run sets its latency from the real
    /// step once the buffers are allocated, records that much longer, and adds the packets
    /// it refused to the report's `codecFormatMismatches`.
    var loopback: DelayLine?
    /// The latency the run gave `loopback`, in blocks (0 without one).
    private(set) var latencyBlocks = 0
    /// Maps converter packets to engine timelines for the codec's trace events.
    private let codecTrace = CodecTraceBridge()

    init(profile: ControllerProfile, codec: sending VirtualCodec, options: AudioPathOptions) throws(AudioPathError) {
        self.options = options
        trace = options.trace
        if let trace = options.trace {
            // Refused packets (and unsolicited responses) appear on the trace: a refused packet
            // as an instant on its engine's timeline at the packet's frame.
            let bridge = codecTrace
            codec.trace = { event in bridge.record(event, to: trace) }
        }
        do {
            system = try AzaliaSystem(profile: profile, codecs: [Int(options.codecAddress): codec])
        } catch {
            throw .system(error)
        }
        if let trace = options.trace {
            // Every ISR run, whichever interface is open, on the controller's timeline.
            trace.nameThread(TraceRecorder.controllerThread, "controller (interrupts)")
            system.platform.observeInterrupts { d in
                trace.instant("interrupt", category: "interrupt", frame: d.frame, tid: TraceRecorder.controllerThread,
                              args: ["INTSTS": .string(d.intsts.hexLiteral), "claimed": .string(d.claimed ? "true" : "false")])
            }
        }
    }

    /// The loopback latency for a step of `stepFrames` link frames: at least the most
    /// blocks one step can carry, (step + 2) x the peak blocks per frame.
    ///
    /// Computed from the real step (after the buffers are allocated, the step is at most
    /// a quarter buffer), not from `maxChunkFrames`, which may be anything up to UInt64.max;
    /// the step is clamped all the same, so the product never overflows.
    static func loopbackLatency(format: StreamFormat, stepFrames: UInt64) -> Int {
        let peak = (try? LinkCadence(format).peakBlocksPerFrame) ?? 4
        // Clamped far above any real step (a quarter of at most 1 MiB), so no product overflows.
        let step = Int(min(max(1, stepFrames), 1 << 32))
        return (step + 2) * peak
    }

    /// Converts bytes in the DMA layout of `format` (`format.dmaFormat`) to `format`'s own
    /// memory layout (whole blocks; the same bytes when the two agree).
    static func clientLayout(_ data: [UInt8], format: StreamFormat) -> [UInt8] {
        guard format.dmaFormat != format, let from = PCMLayout.memory(format.dmaFormat), let to = PCMLayout.memory(format) else { return data }
        return PCMLayout.convert(data, from: from, to: to)
    }

    /// Converts bytes in `format`'s memory layout to its DMA layout (`format.dmaFormat`).
    static func dmaLayout(_ data: [UInt8], format: StreamFormat) -> [UInt8] {
        guard format.dmaFormat != format, let from = PCMLayout.memory(format), let to = PCMLayout.memory(format.dmaFormat) else { return data }
        return PCMLayout.convert(data, from: from, to: to)
    }

    // MARK: tracing

    private func status(_ s: NTStatus) -> [String: TraceRecorder.TraceValue] {
        ["status": .string(s.name ?? "NTSTATUS"), "value": .string(s.hexString)]
    }

    /// Runs one DDI routine, tracing it on the DDI timeline with its status.
    private func ddi<R>(_ routine: String, _ args: [String: TraceRecorder.TraceValue] = [:],
                        _ body: () throws(NTStatus) -> R) throws(AudioPathError) -> R {
        let start = system.frame
        do {
            let r = try body()
            trace?.span(routine, category: "ddi", from: start, to: system.frame, tid: TraceRecorder.ddiThread,
                        args: args.merging(status(.success)) { a, _ in a })
            return r
        } catch {
            trace?.span(routine, category: "ddi", from: start, to: system.frame, tid: TraceRecorder.ddiThread,
                        args: args.merging(status(error)) { a, _ in a })
            throw .driver(.ddi(routine: routine, status: error))
        }
    }

    private func codec<R>(_ body: () throws(FunctionDriverError) -> R) throws(AudioPathError) -> R {
        do { return try body() } catch { throw .driver(error) }
    }

    // MARK: the run

    /// Renders `render` (memory layout) and/or captures `captureBlocks` blocks of `format`.
    func run(format: StreamFormat, render: [UInt8]?, captureBlocks: Int?,
             progress: ((AudioProgress) -> Void)?) throws(AudioPathError) -> AudioPathReport {
        guard format.isValid else { throw .unencodable("format \(format.compact): \(format.problem ?? "invalid") (\(NTStatus.invalidParameter))") }
        // **Decision** (containers wider than the natural one, e.g. 16in32, 8in16, 8in32):
        // the DDI accepts them, but SDnFMT has no container field (BITS implies it: 8 in 8,
        // 16 in 16, 20/24/32 in 32), so the engine moves the natural containers of the valid
        // bits. The function driver therefore converts the client's samples to that natural
        // layout before writing the DMA buffer, and recorded samples back to the client's
        // layout after copying them out: such formats run bit-exact (only the valid bits
        // travel on the link either way). Positions and sizes below are DMA bytes.
        let dma = format.dmaFormat
        self.render = Self.dmaLayout(render ?? [], format: format)
        captured = []
        trace?.nameThread(TraceRecorder.ddiThread, "DDI (function driver)")
        let address = Int(options.codecAddress)
        let iface: OpenInterface
        switch options.interface {
        case .base: iface = .base(try ddi("OpenInterface", ["version": "BASE"]) { () throws(NTStatus) in try system.openInterface(codecAddress: address, version: .base) })
        case .v2: iface = .v2(try ddi("OpenInterface", ["version": "V2"]) { () throws(NTStatus) in try system.openInterface(codecAddress: address, version: .v2) })
        case .bdl: iface = .bdl(try ddi("OpenInterface", ["version": "BDL"]) { () throws(NTStatus) in try system.openInterface(codecAddress: address, version: .bdl) })
        }
        defer { iface.common.close() }
        let sender: any CodecVerbSender
        switch options.verbPath {
        case .direct:
            sender = DirectVerbSender(platform: system.platform)
        case .corb:
            let trace = self.trace, platform = system.platform
            sender = BusVerbSender(interface: iface.common) { t in
                trace?.instant("TransferCodecVerbs", category: "verb", frame: platform.frame, tid: TraceRecorder.ddiThread,
                               args: ["verb": .string(t.output.hexLiteral), "response": .string(t.input.response.hexLiteral),
                                      "valid": .string(t.input.isValid ? "true" : "false")])
            }
        }
        let verbs = CountingSender(inner: sender)
        let programmer = CodecProgrammer(sender: verbs, address: options.codecAddress)
        let topology = try codec { () throws(FunctionDriverError) in try programmer.discover() }
        guard let dac = topology.dacs.first else { throw .driver(.codecLacks("output converter")) }
        guard let adc = topology.adcs.first else { throw .driver(.codecLacks("input converter")) }

        var streams: [StreamRun] = []
        let bb = format.blockBytes
        if render != nil {
            let s = try allocate(.render, format: format, iface: iface)
            s.target = self.render.count
            s.node = dac
            s.pin = topology.outputPins[dac]
            streams.append(s)
        }
        if let captureBlocks {
            let s = try allocate(.capture, format: format, iface: iface)
            s.target = captureBlocks * dma.blockBytes
            s.node = adc
            s.pin = topology.inputPins[adc]
            streams.append(s)
        }
        for s in streams { try allocateBuffer(s, iface: iface) }
        for s in streams { codecTrace.register(output: s.direction == .render, tag: s.streamId, engine: s.summary.index) }

        // Program the converters with what the bus returned.
        for s in streams {
            var converter = s.allocation.converterFormat
            let faulty = (options.fault == .dacFormat && s.direction == .render) || (options.fault == .adcFormat && s.direction == .capture)
            if faulty { converter = ConverterFormat(rawValue: converter.rawValue ^ 0x0001) }
            try codec { () throws(FunctionDriverError) in
                try programmer.startConverter(s.node, format: converter, streamId: s.streamId, pin: s.pin, output: s.direction == .render)
            }
            trace?.instant("codec converter programmed", category: "codec", frame: system.frame,
                           tid: TraceRecorder.engineThread(s.summary.index),
                           args: ["node": .number(Double(s.node)), "format": .string(converter.rawValue.hexLiteral),
                                  "stream": .number(Double(s.streamId))])
        }

        // Prefill render buffers: the whole buffer ahead of the engine.
        for s in streams where s.direction == .render { try fill(s, upTo: s.size) }

        let chunk = chunkFrames(streams)
        if let loopback {
            // The latency covers the most blocks one step carries (from the real step, known
            // now that the buffers are); the capture records that much more.
            latencyBlocks = Self.loopbackLatency(format: dma, stepFrames: chunk)
            loopback.prime(delayBlocks: latencyBlocks)
            for s in streams where s.direction == .capture { s.target += latencyBlocks * dma.blockBytes }
        }

        try setState(.stop, streams, iface)
        try setState(.run, streams, iface)
        let runStart = system.frame
        let clock = ContinuousClock()
        let began = clock.now
        let limit = frameLimit(streams)
        let total = streams.reduce(0) { $0 + $1.target }
        while !streams.allSatisfy(\.done) {
            guard system.frame - runStart <= limit else {
                throw .stalled("the streams did not finish within \(limit) link frames")
            }
            codecTrace.frame = system.frame
            system.advance(frames: leadingSteps.isEmpty ? chunk : min(chunk, leadingSteps.removeFirst()))
            for s in streams { try service(s) }
            progress?(AudioProgress(done: streams.reduce(0) { $0 + min($1.target, $1.direction == .render ? $1.moved : $1.client) },
                                    total: total, frame: system.frame))
        }
        let frames = system.frame - runStart
        let wall = clock.now - began
        let finals = streams.map(\.lastRaw)
        try setState(.stop, streams, iface)
        for s in streams where s.direction == .capture { readPosition(s); try copyOut(s) }
        for s in streams { try codec { () throws(FunctionDriverError) in try programmer.stopConverter(s.node, pin: s.pin) } }
        try setState(.reset, streams, iface)
        for s in streams { try freeBuffer(s, iface: iface) }
        for s in streams {
            try ddi("FreeDmaEngine", engineArgs(s)) { () throws(NTStatus) in try iface.common.freeDmaEngine(s.allocation.handle) }
        }
        // Packets refused: by the codec's converters, and by the loopback between them.
        let mismatches = system.platform.withController { c -> Int in (c.codec(at: address) as? VirtualCodec)?.formatMismatchCount ?? 0 }
            + (loopback?.formatMismatches ?? 0)
        captured = Self.clientLayout(captured, format: format)
        let seconds = Double(frames) / Double(LinkTiming.framesPerSecond)
        let wallSeconds = max(1e-9, wall.seconds)
        let reports = zip(streams, finals).map { s, final in
            StreamReport(engine: engineReport(s), buffer: s.bufferReport, notifications: s.notifications.current,
                         interrupts: s.interrupts.current, finalPosition: final, bytesMoved: s.moved)
        }
        return AudioPathReport(profile: system.profile.name, interface: options.interface, format: format.compact,
                               blocks: (render?.count ?? captureBlocks.map { $0 * bb } ?? 0) / bb, streams: reports,
                               frames: frames, linkSeconds: seconds, wallSeconds: wallSeconds, speed: seconds / wallSeconds,
                               verbs: verbs.count.current, verbPath: options.verbPath, codecFormatMismatches: mismatches, latencyBlocks: nil,
                               bitExact: false, firstDifferentBlock: nil)
    }

    private func engineArgs(_ s: StreamRun) -> [String: TraceRecorder.TraceValue] {
        ["engine": .number(Double(s.summary.index)), "handle": .string(s.allocation.handle.description)]
    }

    private func engineReport(_ s: StreamRun) -> EngineReport {
        let e = s.summary
        let lines: String
        if s.direction == .capture {
            lines = "SDI\(e.sdiLine ?? 0)"
        } else {
            lines = e.stripeLines > 1 ? "SDO0-SDO\(e.stripeLines - 1)" : "SDO0"
        }
        return EngineReport(direction: s.direction.rawValue, kind: e.kind.rawValue, index: e.index, tag: Int(e.tag),
                            format: s.format.compact, converterFormat: s.allocation.converterFormat.rawValue.hexLiteral,
                            fifoSize: s.fifoSize, lines: lines, bitsPerLine: e.bitsPerLine)
    }

    private func allocate(_ direction: StreamDirection, format: StreamFormat, iface: OpenInterface) throws(AudioPathError) -> StreamRun {
        let before = Set(system.bus.resources().engines.map(\.index))
        let allocation: DmaEngineAllocation
        let address = Int(options.codecAddress)
        let stripe = options.stripe
        if direction == .render {
            allocation = try ddi("AllocateRenderDmaEngine", ["format": .string(format.compact), "stripe": .string(stripe ? "true" : "false")]) { () throws(NTStatus) in
                try iface.common.allocateRenderDmaEngine(format: format, stripe: stripe)
            }
        } else {
            allocation = try ddi("AllocateCaptureDmaEngine", ["format": .string(format.compact), "codecAddress": .number(Double(address))]) { () throws(NTStatus) in
                try iface.common.allocateCaptureDmaEngine(codecAddress: address, format: format)
            }
        }
        guard let summary = system.bus.resources().engines.first(where: { !before.contains($0.index) }) else {
            throw .stalled("the bus reported no new engine after an allocation")
        }
        let s = StreamRun(direction: direction, format: format, allocation: allocation, summary: summary)
        trace?.nameThread(TraceRecorder.engineThread(summary.index),
                          "engine \(summary.index) (\(summary.kind.rawValue), \(direction.rawValue), tag \(summary.tag))")
        return s
    }

    private func allocateBuffer(_ s: StreamRun, iface: OpenInterface) throws(AudioPathError) {
        let requested = options.requestedBufferBytes
        let bb = s.format.blockBytes
        let handle = s.allocation.handle
        let tid = TraceRecorder.engineThread(s.summary.index)
        let trace = self.trace
        let platform = system.platform
        switch iface {
        case .base(let i):
            let b = try ddi("AllocateDmaBuffer", engineArgs(s)) { () throws(NTStatus) in try i.allocateDmaBuffer(handle, requestedBufferSize: requested) }
            s.region = .pages(b.mdl)
            s.size = b.allocatedBufferSize
            s.streamId = b.streamId
            s.fifoSize = Int(b.fifoSize)
            s.bufferReport = BufferReport(requestedBytes: requested, bytes: s.size, pages: b.mdl.pages.count,
                                          bdlEntries: system.bus.bufferLayout.entries(size: s.size, blockBytes: bb, notifications: 0)?.count ?? 0,
                                          notificationsPerBuffer: 0)
        case .v2(let i):
            let b = try ddi("AllocateDmaBufferWithNotification", engineArgs(s).merging(["notificationCount": 2]) { a, _ in a }) { () throws(NTStatus) in
                try i.allocateDmaBufferWithNotification(handle, notificationCount: 2, requestedBufferSize: requested)
            }
            s.region = .pages(b.mdl)
            s.size = b.allocatedBufferSize
            s.streamId = b.streamId
            s.fifoSize = Int(b.fifoSize)
            s.bufferReport = BufferReport(requestedBytes: requested, bytes: s.size, pages: b.mdl.pages.count,
                                          bdlEntries: system.bus.bufferLayout.entries(size: s.size, blockBytes: bb, notifications: 2)?.count ?? 0,
                                          notificationsPerBuffer: 2)
            let counter = s.notifications
            let event = NotificationEvent(name: "engine \(s.summary.index)") { _ in
                counter.add(1)
                trace?.instant("notification", category: "notification", frame: platform.frame, tid: tid)
            }
            s.event = event
            try ddi("RegisterNotificationEvent", engineArgs(s)) { () throws(NTStatus) in try i.registerNotificationEvent(handle, event: event) }
        case .bdl(let i):
            let b = try ddi("AllocateContiguousDmaBuffer", engineArgs(s)) { () throws(NTStatus) in
                try i.allocateContiguousDmaBuffer(handle, requestedBufferSize: requested)
            }
            // The client's BDL: two halves, each cut into 128-byte aligned entries of at most
            // one page, IOC at the end of each half.
            let unit = DmaBufferLayout.unit(blockBytes: bb, notifications: 2)!
            let length = min(b.dataBuffer.length, system.bus.bufferLayout.maxBytes) / unit * unit
            guard length > 0 else { throw .driver(.ddi(routine: "AllocateContiguousDmaBuffer", status: .bufferTooSmall)) }
            var entries: [BDLEntry] = []
            for half in 0..<2 {
                var at = half * length / 2
                let end = (half + 1) * length / 2
                while at < end {
                    let n = min(system.bus.bufferLayout.pageSize, end - at)
                    entries.append(BDLEntry(address: b.dataBuffer.address + UInt64(at), length: UInt32(n), interruptOnCompletion: at + n == end))
                    at += n
                }
            }
            let table = entries.flatMap(\.bytes)
            guard system.platform.writeMemory(b.bdlBuffer.address, bytes: table) else {
                throw .driver(.ddi(routine: "AllocateContiguousDmaBuffer", status: .insufficientResources))
            }
            let counter = s.interrupts
            let isr: BdlInterruptHandler = { mask, _ in
                counter.add(1)
                trace?.instant("interrupt", category: "interrupt", frame: platform.frame, tid: tid,
                               args: ["InterruptBitMask": .number(Double(mask))])
            }
            let lvi = UInt16(entries.count - 1)
            let setup = try ddi("SetupDmaEngineWithBdl", engineArgs(s).merging(["bufferLength": .number(Double(length)), "lvi": .number(Double(lvi))]) { a, _ in a }) { () throws(NTStatus) in
                try i.setupDmaEngineWithBdl(handle, bufferLength: UInt32(length), lvi: lvi, isr: isr, context: UInt(s.summary.index))
            }
            s.region = .contiguous(b.dataBuffer.address, length)
            s.size = length
            s.streamId = setup.streamId
            s.fifoSize = Int(setup.fifoSize)
            s.bufferReport = BufferReport(requestedBytes: requested, bytes: length, pages: b.dataBuffer.length / system.bus.bufferLayout.pageSize,
                                          bdlEntries: entries.count, notificationsPerBuffer: 2)
        }
        s.position = try ddi("GetLinkPositionRegister", engineArgs(s)) { () throws(NTStatus) in try iface.common.getLinkPositionRegister(handle) }
    }

    private func freeBuffer(_ s: StreamRun, iface: OpenInterface) throws(AudioPathError) {
        let handle = s.allocation.handle
        switch (iface, s.region) {
        case (.base(let i), _):
            try ddi("FreeDmaBuffer", engineArgs(s)) { () throws(NTStatus) in try i.freeDmaBuffer(handle) }
        case (.v2(let i), .pages(let mdl)):
            if let event = s.event {
                try ddi("UnregisterNotificationEvent", engineArgs(s)) { () throws(NTStatus) in try i.unregisterNotificationEvent(handle, event: event) }
            }
            let size = s.size
            try ddi("FreeDmaBufferWithNotification", engineArgs(s)) { () throws(NTStatus) in
                try i.freeDmaBufferWithNotification(handle, bufferMdl: mdl, bufferSize: size)
            }
        case (.bdl(let i), _):
            try ddi("FreeContiguousDmaBuffer", engineArgs(s)) { () throws(NTStatus) in try i.freeContiguousDmaBuffer(handle) }
        default:
            break
        }
    }

    private func setState(_ state: StreamState, _ streams: [StreamRun], _ iface: OpenInterface) throws(AudioPathError) {
        let handles = streams.map(\.allocation.handle)
        try ddi("SetDmaEngineState", ["state": .string(state.description), "handles": .number(Double(handles.count))]) { () throws(NTStatus) in
            try iface.common.setDmaEngineState(state, handles: handles)
        }
        for s in streams {
            trace?.instant(state.description, category: "state", frame: system.frame, tid: TraceRecorder.engineThread(s.summary.index))
        }
    }

    /// A step of link time: at most a quarter of the smallest buffer, and `maxChunkFrames`.
    private func chunkFrames(_ streams: [StreamRun]) -> UInt64 {
        var chunk = max(1, options.maxChunkFrames)
        for s in streams {
            let peak = UInt64((try? LinkCadence(s.format).peakBlocksPerFrame) ?? 4)
            let blocks = UInt64(s.size / s.dma.blockBytes)
            chunk = min(chunk, max(1, blocks / peak / 4))
        }
        return chunk
    }

    /// Twice the link time the longest stream needs, plus a second.
    private func frameLimit(_ streams: [StreamRun]) -> UInt64 {
        var need: UInt64 = 0
        for s in streams {
            let blocks = UInt64((s.target + s.size) / s.dma.blockBytes + 1)
            need = max(need, blocks * LinkTiming.framesPerSecond / UInt64(s.format.sampleRate) + 1)
        }
        return 2 * need + LinkTiming.framesPerSecond
    }

    /// Reads the position register and unwraps it into bytes moved.
    private func readPosition(_ s: StreamRun) {
        guard let view = s.position, s.size > 0 else { return }
        let raw = Int(view.value)
        let delta = ((raw - s.lastRaw) % s.size + s.size) % s.size
        s.moved += delta
        s.lastRaw = raw
    }

    /// After a step: read the position, then refill (render) or copy out (capture) when
    /// the interface's trigger says so: every step with BASE, on a notification with V2,
    /// after an ISR call with BDL.
    private func service(_ s: StreamRun) throws(AudioPathError) {
        readPosition(s)
        trace?.counter("engine \(s.summary.index) position", frame: system.frame, values: ["bytes": Double(s.lastRaw)])
        var triggered: Bool
        switch options.interface {
        case .base: triggered = true
        case .v2:
            triggered = false
            while s.event?.tryWait() == true { triggered = true }
        case .bdl:
            triggered = s.interrupts.current != s.seenInterrupts
            s.seenInterrupts = s.interrupts.current
        }
        if s.direction == .render {
            guard s.moved <= s.client else {
                throw .fellBehind("engine \(s.summary.index) played past the data written (underrun at byte \(s.client))")
            }
            if triggered { try fill(s, upTo: s.moved + s.size) }
        } else {
            guard s.moved - s.client <= s.size else {
                throw .fellBehind("engine \(s.summary.index) recorded over data not yet copied (overrun at byte \(s.client))")
            }
            // At the end of the stream a driver reads what is there without waiting.
            if triggered || s.moved >= s.target { try copyOut(s) }
        }
    }

    /// Writes the render data (then silence) into the cyclic buffer up to stream byte `end`.
    private func fill(_ s: StreamRun, upTo end: Int) throws(AudioPathError) {
        let platform = system.platform
        while s.client < end {
            let offset = s.client % s.size
            let n = min(end - s.client, s.size - offset)
            var bytes: [UInt8]
            if s.client >= render.count {
                bytes = silenceBytes(s.dma, count: n)
            } else if s.client + n <= render.count {
                bytes = Array(render[s.client..<(s.client + n)])
            } else {
                bytes = Array(render[s.client...])
                bytes += silenceBytes(s.dma, count: n - bytes.count)
            }
            var at = 0
            for piece in s.region.pieces(offset..<(offset + n)) {
                let ok = bytes.withUnsafeBytes { platform.writeMemory(piece.address, from: UnsafeRawBufferPointer(rebasing: $0[at..<(at + piece.count)])) }
                guard ok else { throw .fellBehind("the DMA buffer of engine \(s.summary.index) is not RAM") }
                at += piece.count
            }
            s.client += n
        }
    }

    private func silenceBytes(_ format: StreamFormat, count: Int) -> [UInt8] {
        if silence.count < count, let layout = PCMLayout.memory(format) {
            let blocks = (count + format.blockBytes - 1) / format.blockBytes
            silence = [UInt8](repeating: 0, count: blocks * format.blockBytes)
            silence.withUnsafeMutableBytes { layout.fillSilence($0, blocks: blocks) }
        }
        return Array(silence.prefix(count))
    }

    /// Copies what the engine recorded behind its position out of the cyclic buffer.
    private func copyOut(_ s: StreamRun) throws(AudioPathError) {
        let platform = system.platform
        let end = min(s.moved, s.target)
        while s.client < end {
            let offset = s.client % s.size
            let n = min(end - s.client, s.size - offset)
            for piece in s.region.pieces(offset..<(offset + n)) {
                guard let bytes = platform.readMemory(piece.address, count: piece.count) else {
                    throw .fellBehind("the DMA buffer of engine \(s.summary.index) is not RAM")
                }
                captured += bytes
            }
            s.client += n
        }
    }
}


extension StreamFormat {
    /// The layout the engine moves for this format: the same rate, valid bits and channels
    /// in the natural container of the valid bits (SDnFMT's BITS implies the container:
    /// 8 in 8, 16 in 16, 20, 24 and 32 in 32).
    var dmaFormat: StreamFormat {
        var f = self
        f.containerSize = StreamFormat.container(forBits: validBitsPerSample)
        return f
    }
}

/// Turns the codec's trace events into trace instants: a refused packet on the timeline
/// of the engine whose stream it belongs to (by direction and tag), at the packet's frame;
/// an unsolicited response on the controller's timeline.
///
/// Sendable: its state is a `Mutex` and an `Atomic`. The codec calls `record` inside the
/// controller's lock, so it never touches the platform; unsolicited responses carry no
/// frame and are stamped with `frame`, the frame at the start of the path's current step.
final class CodecTraceBridge: Sendable {
    private struct Key: Hashable { var output: Bool; var tag: UInt8 }
    private let engines = Mutex<[Key: Int]>([:])
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
