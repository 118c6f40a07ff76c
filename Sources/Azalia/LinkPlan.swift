public import HDAController
public import HDAudio
public import HDAudioBus
public import HDACodec

/// One stream to ask the DDI for: a render stream (optionally striped) or a capture stream
/// from a codec address.
public struct StreamRequest: Sendable, Hashable {
    /// Render or capture.
    public var direction: StreamDirection
    /// The stream format.
    public var format: StreamFormat
    /// Render only: ask for striping over every SDO line.
    public var stripe: Bool
    /// Capture only: the codec address (SDI line).
    public var codecAddress: Int
    /// The request as the user wrote it (for reports).
    public var text: String

    /// A request.
    public init(direction: StreamDirection, format: StreamFormat, stripe: Bool = false, codecAddress: Int = 0, text: String? = nil) {
        self.direction = direction
        self.format = format
        self.stripe = stripe
        self.codecAddress = codecAddress
        self.text = text ?? format.compact
    }
}

/// What one request got from the DDI.
public struct PlannedStream: Sendable, Hashable {
    /// The request.
    public var request: StreamRequest
    /// The status the allocation routine returned.
    public var status: NTStatus
    /// The engine taken, when the status is SUCCESS.
    public var engine: EngineSummary?
    /// The converter format the bus returned, when the status is SUCCESS.
    public var converterFormat: ConverterFormat?
    /// The stream's FIFO use in 16-bit words per frame (0 when the format has none).
    public var fifoWords: Int
    /// The FIFO budget of the engine's direction (OUTSTRMPAY or INSTRMPAY).
    public var fifoBudget: Int
    /// With a real codec's dump at the stream's address: its converters (DACs for a render
    /// stream, ADCs for a capture stream) that take the format's rate and size, with their
    /// channel counts; nil when the codec there is Azalia's own.
    public var converters: [CodecConverter]?

    /// True when the dump's converters that take the format have channels for the whole
    /// stream (a stream wider than one converter is spread over several at channel offsets);
    /// nil without a dump.
    public var convertersCoverStream: Bool? {
        converters.map { $0.reduce(0) { $0 + $1.channels } >= Int(request.format.numberOfChannels) }
    }
}

/// A converter widget of a real codec that can carry a planned stream.
public struct CodecConverter: Sendable, Hashable {
    /// Its node id.
    public var node: UInt8
    /// Its channel count.
    public var channels: Int
}

/// The result of a plan: every request's outcome, in order, and what is left of the link.
public struct LinkPlan: Sendable, Hashable {
    /// The profile planned on.
    public var profile: ControllerProfile
    /// The outcomes, in request order.
    public var streams: [PlannedStream]
    /// The bus's resources after the last request.
    public var resources: BusResources
    /// The codec addresses that had a codec.
    public var codecAddresses: Set<Int>

    /// Asks a freshly started bus for every request in order, through AllocateRenderDmaEngine
    /// and AllocateCaptureDmaEngine of a V2 interface, with a virtual codec at each address in
    /// `codecAddresses` (those the profile has SDI lines for), or at address 0 the chip of
    /// `codecDump`, whose converters each stream is then matched against. A refusal is an
    /// outcome, not an error; an error is a system that cannot start or an interface the bus
    /// will not open.
    public static func make(profile: ControllerProfile, requests: [StreamRequest], codecAddresses: Set<Int>,
                            codecDump: CodecDump? = nil, trace: TraceRecorder? = nil) throws(AzaliaSystemError) -> LinkPlan {
        let addresses = codecAddresses.filter { (0..<profile.sdiLines).contains($0) }
        var codecs: [Int: any LinkCodec] = [:]
        for a in addresses { codecs[a] = VirtualCodec(address: UInt8(a)) }
        let dump = addresses.contains(0) ? codecDump : nil
        if let dump { codecs[0] = DumpCodec(dump: dump, address: 0) }
        let system = try AzaliaSystem(profile: profile, codecs: codecs)
        trace?.nameThread(TraceRecorder.ddiThread, "DDI (plan)")
        let iface: HDAudioV2Interface
        do { iface = try system.openInterface(codecAddress: 0, version: .v2) } catch { throw .busStart(error) }
        defer { iface.close() }
        func resources() throws(AzaliaSystemError) -> BusResources {
            do { return try system.bus.resources() } catch { throw .busStart(error) }
        }
        var outcomes: [PlannedStream] = []
        for r in requests {
            let start = system.frame
            let before = Set(try resources().engines.map(\.index))
            var status = NTStatus.success
            var allocation: DmaEngineAllocation?
            do throws(NTStatus) {
                allocation = r.direction == .render
                    ? try iface.allocateRenderDmaEngine(format: r.format, stripe: r.stripe)
                    : try iface.allocateCaptureDmaEngine(codecAddress: r.codecAddress, format: r.format)
            } catch {
                status = error
            }
            let engine = allocation == nil ? nil : try resources().engines.first { !before.contains($0.index) }
            let fifoBudget = Int(r.direction == .render ? profile.outstrmpay : profile.instrmpay)
            if let e = engine {
                trace?.nameThread(TraceRecorder.engineThread(e.index), "engine \(e.index) (\(e.kind.rawValue), \(r.direction.rawValue), tag \(e.tag))")
                trace?.instant("allocated", category: "state", frame: system.frame, tid: TraceRecorder.engineThread(e.index),
                               args: ["format": .string(r.format.compact), "state": "ResetState"])
            }
            let routine = r.direction == .render ? "AllocateRenderDmaEngine" : "AllocateCaptureDmaEngine"
            trace?.span(routine, category: "ddi", from: start, to: system.frame, tid: TraceRecorder.ddiThread,
                        args: ["format": .string(r.text), "status": .string(status.name ?? "NTSTATUS"), "value": .string(status.hexString)])
            let atDump = r.direction == .render || r.codecAddress == 0
            let converters = atDump ? dump?.converters(taking: r.format, output: r.direction == .render)
                .map { CodecConverter(node: $0.node, channels: $0.channels) } : nil
            outcomes.append(PlannedStream(request: r, status: status, engine: engine, converterFormat: allocation?.converterFormat,
                                          fifoWords: (try? LinkBudget.fifoWords(r.format)) ?? 0, fifoBudget: fifoBudget,
                                          converters: converters))
        }
        return LinkPlan(profile: profile, streams: outcomes, resources: try resources(), codecAddresses: addresses)
    }
}
