import Foundation
import HDACodec
import HDAController
import HDAudio
import HDAudioBus
import Synchronization

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
    let value = Atomic<Int>(0)
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
    var path: CodecGraph.Path?

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
    /// Where the capture stream's bytes go as they are copied out of the DMA buffer (DMA
    /// layout, in stream order, in pieces of any length).
    var capture: ((UnsafeRawBufferPointer) throws(AudioPathError) -> Void)?
    /// Steps of link time (in frames) taken before the regular steps (for tests that need
    /// a particular batching).
    var leadingSteps: [UInt64] = []
    /// The render stream's real audio, read as the buffer is refilled.
    var render: SignalBytes?
    /// The bytes on their way between a signal (or a capture) and the DMA buffer: at most
    /// one buffer's worth.
    var scratch: [UInt8] = []
    /// A loopback between the codec's DAC and ADC: the run sets its latency from the real
    /// step once the buffers are allocated, records that much longer, and adds the packets
    /// it refused to the report's `codecFormatMismatches`.
    var loopback: DelayLine?
    /// The latency the run gave `loopback`, in blocks (0 without one).
    var latencyBlocks = 0
    /// Maps converter packets to engine timelines for the codec's trace events.
    let codecTrace: CodecTraceBridge

    /// A runner for Azalia's virtual codec, wired by the caller (its trace set here).
    convenience init(profile: ControllerProfile, codec: sending VirtualCodec, options: AudioPathOptions) throws(AudioPathError) {
        let bridge = CodecTraceBridge()
        if let trace = options.trace { codec.trace = { event in bridge.record(event, to: trace) } }
        try self.init(profile: profile, codec: .virtual(codec), codecTrace: bridge, options: options)
    }

    /// A runner for a codec (at `options.codecAddress`) made by `options.makeCodec(tracingTo:)` with this `codecTrace`.
    init(profile: ControllerProfile, codec: sending PathCodecChoice, codecTrace: CodecTraceBridge, options: AudioPathOptions) throws(AudioPathError) {
        let address = Int(options.codecAddress)
        do {
            // Concrete types: the region checker lets a concrete codec be sent to the system.
            switch codec {
            case .virtual(let c): system = try AzaliaSystem(profile: profile, codecs: [address: c])
            case .dump(let c): system = try AzaliaSystem(profile: profile, codecs: [address: c])
            }
        } catch {
            throw .system(error)
        }
        self.options = options
        self.codecTrace = codecTrace
        trace = options.trace
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

    // MARK: tracing

    func status(_ s: NTStatus) -> [String: TraceRecorder.TraceValue] {
        ["status": .string(s.name ?? "NTSTATUS"), "value": .string(s.hexString)]
    }

    /// Runs one DDI routine, tracing it on the DDI timeline with its status.
    func ddi<R>(_ routine: String, _ args: [String: TraceRecorder.TraceValue] = [:],
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

    /// The bus's resources (the run is at PASSIVE_LEVEL, where they are never refused).
    func busResources() throws(AudioPathError) -> BusResources {
        do { return try system.bus.resources() } catch { throw .driver(.ddi(routine: "resources", status: error)) }
    }

    func codec<R>(_ body: () throws(FunctionDriverError) -> R) throws(AudioPathError) -> R {
        do { return try body() } catch { throw .driver(error) }
    }

    // MARK: the run

    /// Renders `render` (blocks in the DMA layout, `format.dmaFormat`, read as the buffer is
    /// refilled) and/or captures `captureBlocks` blocks of `format`, handing them to `capture`
    /// as they are copied out. The render signal is not read before the DDI has allocated
    /// every engine and buffer.
    func run(format: StreamFormat, render signal: (any PathSignal)?, captureBlocks: Int?,
             progress: ((AudioProgress) -> Void)?) throws(AudioPathError) -> AudioPathReport {
        guard format.isValid else { throw .invalidFormat(format) }
        // **Decision** (containers wider than the natural one, e.g. 16in32, 8in16, 8in32):
        // the DDI accepts them, but SDnFMT has no container field (BITS implies it: 8 in 8,
        // 16 in 16, 20/24/32 in 32), so the engine moves the natural containers of the valid
        // bits. The function driver therefore converts the client's samples to that natural
        // layout before writing the DMA buffer, and recorded samples back to the client's
        // layout after copying them out: such formats run bit-exact (only the valid bits
        // travel on the link either way). Positions and sizes below are DMA bytes.
        let dma = format.dmaFormat
        if let signal, signal.format != dma { throw .unencodable("a render signal of \(signal.format.compact) for a stream of \(dma.compact)") }
        render = signal.map(SignalBytes.init)
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
        // The paths the driver found walking the graph: DAC to the first line-out or speaker
        // pin, an input pin to an ADC (see CodecGraph); a converter with no path is a lack.
        func dac() throws(AudioPathError) -> CodecGraph.Path {
            guard let p = topology.output else { throw .driver(.codecLacks("output path (a DAC reaching an output pin)")) }
            return p
        }
        func adc() throws(AudioPathError) -> CodecGraph.Path {
            guard let p = topology.input else { throw .driver(.codecLacks("input path (an input pin reaching an ADC)")) }
            return p
        }

        var streams: [StreamRun] = []
        if let render {
            let s = try allocate(.render, format: format, iface: iface)
            s.target = render.total
            s.path = try dac()
            s.node = s.path!.converter
            streams.append(s)
        }
        if let captureBlocks {
            let s = try allocate(.capture, format: format, iface: iface)
            s.target = captureBlocks * dma.blockBytes
            s.path = try adc()
            s.node = s.path!.converter
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
                try programmer.startConverter(s.node, format: converter, streamId: s.streamId, path: s.path, in: topology.graph,
                                              output: s.direction == .render)
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
        for s in streams { try codec { () throws(FunctionDriverError) in try programmer.stopConverter(s.node, pin: s.path?.pin) } }
        try setState(.reset, streams, iface)
        for s in streams { try freeBuffer(s, iface: iface) }
        for s in streams {
            try ddi("FreeDmaEngine", engineArgs(s)) { () throws(NTStatus) in try iface.common.freeDmaEngine(s.allocation.handle) }
        }
        // Packets refused: by the codec's converters, and by the loopback between them.
        let mismatches = system.platform.withController { c -> Int in (c.codec(at: address) as? any PathCodec)?.formatMismatchCount ?? 0 }
            + (loopback?.formatMismatches ?? 0)
        let seconds = Double(frames) / Double(LinkTiming.framesPerSecond)
        let wallSeconds = max(1e-9, wall.seconds)
        let reports = zip(streams, finals).map { s, final in
            StreamReport(engine: engineReport(s), buffer: s.bufferReport, notifications: s.notifications.current,
                         interrupts: s.interrupts.current, finalPosition: final, bytesMoved: s.moved)
        }
        return AudioPathReport(profile: system.profile.name, interface: options.interface, format: format.compact,
                               blocks: signal?.blocks ?? captureBlocks ?? 0, streams: reports,
                               frames: frames, linkSeconds: seconds, wallSeconds: wallSeconds, speed: seconds / wallSeconds,
                               verbs: verbs.count.current, verbPath: options.verbPath, codecFormatMismatches: mismatches, latencyBlocks: nil,
                               bitExact: false, firstDifferentBlock: nil)
    }

    func engineArgs(_ s: StreamRun) -> [String: TraceRecorder.TraceValue] {
        ["engine": .number(Double(s.summary.index)), "handle": .string(s.allocation.handle.description)]
    }

    func engineReport(_ s: StreamRun) -> EngineReport {
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
}
